// Original file: etcd/etcdserver/etcdserverpb/rpc.proto


export interface AuthRoleListRequest {
}

export interface AuthRoleListRequest__Output {
}
