// Original file: etcd/etcdserver/etcdserverpb/rpc.proto


export interface AuthUserListRequest {
}

export interface AuthUserListRequest__Output {
}
