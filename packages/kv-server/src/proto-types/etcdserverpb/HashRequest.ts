// Original file: etcd/etcdserver/etcdserverpb/rpc.proto


export interface HashRequest {
}

export interface HashRequest__Output {
}
