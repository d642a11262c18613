// Original file: etcd/etcdserver/etcdserverpb/rpc.proto


export interface AuthDisableRequest {
}

export interface AuthDisableRequest__Output {
}
