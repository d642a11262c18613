/**
 * Requests and responses of the KV store, shaped after etcd 3.4's `etcdserverpb` messages
 * (camelCase fields). Keys and values are bytes; revisions are safe integers; lease ids are int64
 * and so bigint (etcd hands out ids above 2^53).
 */

/** etcd's mvccpb.KeyValue. */
export interface KeyValue {
  key: Uint8Array;
  /** The revision of the key's last creation (the first put after it did not exist). */
  createRevision: number;
  /** The revision of the key's last modification. */
  modRevision: number;
  /** 1 at creation, +1 per put; a delete resets it. */
  version: number;
  value: Uint8Array;
  /** The lease attached, 0n for none. */
  lease: bigint;
}

/** The header of every response: the store's revision when the response was made. */
export interface ResponseHeader {
  revision: number;
  /** The Raft term of the member that answered (filled by a replicated member, not the bare store). */
  raftTerm?: number;
  /** The answering member's etcd member id (filled by a server that derives etcd's ids). */
  memberId?: bigint;
  /** The cluster's etcd cluster id (filled by a server that derives etcd's ids). */
  clusterId?: bigint;
}

export type SortOrder = 'none' | 'ascend' | 'descend';
export type SortTarget = 'key' | 'version' | 'create' | 'mod' | 'value';

/**
 * etcd's RangeRequest. `rangeEnd` absent (or empty): the single key; `[0]` (the byte 0): every key
 * from `key` on; otherwise the keys in [key, rangeEnd). Use `prefixEnd(key)` for a prefix.
 */
export interface RangeRequest {
  key: Uint8Array;
  rangeEnd?: Uint8Array;
  /** At most this many kvs (0: no limit); `more` says whether some were left out. */
  limit?: number;
  /** Read at this past revision (0: the current one). */
  revision?: number;
  sortOrder?: SortOrder;
  sortTarget?: SortTarget;
  keysOnly?: boolean;
  countOnly?: boolean;
  minModRevision?: number;
  maxModRevision?: number;
  minCreateRevision?: number;
  maxCreateRevision?: number;
}

export interface RangeResponse {
  header: ResponseHeader;
  kvs: KeyValue[];
  more: boolean;
  /** Keys in the range at the revision read, before limit and before the min/max filters (as etcd). */
  count: number;
}

export interface PutRequest {
  key: Uint8Array;
  value: Uint8Array;
  /** Attach this lease (0n or absent: none). */
  lease?: bigint;
  prevKv?: boolean;
  /** Keep the key's current value (the key must exist; `value` must be empty). */
  ignoreValue?: boolean;
  /** Keep the key's current lease (the key must exist; `lease` must be 0n). */
  ignoreLease?: boolean;
}

export interface PutResponse {
  header: ResponseHeader;
  prevKv?: KeyValue;
}

export interface DeleteRangeRequest {
  key: Uint8Array;
  /** As RangeRequest.rangeEnd. */
  rangeEnd?: Uint8Array;
  prevKv?: boolean;
}

export interface DeleteRangeResponse {
  header: ResponseHeader;
  deleted: number;
  prevKvs: KeyValue[];
}

export type CompareResult = 'equal' | 'notEqual' | 'greater' | 'less';

interface CompareBase {
  key: Uint8Array;
  /** As RangeRequest.rangeEnd: the compare must hold for every key in the range. */
  rangeEnd?: Uint8Array;
  result: CompareResult;
}

/** etcd's Compare: one target and the operand to compare it with. */
export type Compare =
  | (CompareBase & { target: 'version'; version: number })
  | (CompareBase & { target: 'create'; createRevision: number })
  | (CompareBase & { target: 'mod'; modRevision: number })
  | (CompareBase & { target: 'value'; value: Uint8Array })
  | (CompareBase & { target: 'lease'; lease: bigint });

export type RequestOp =
  | { range: RangeRequest }
  | { put: PutRequest }
  | { deleteRange: DeleteRangeRequest }
  | { txn: TxnRequest };

export type ResponseOp =
  | { range: RangeResponse }
  | { put: PutResponse }
  | { deleteRange: DeleteRangeResponse }
  | { txn: TxnResponse };

export interface TxnRequest {
  compare: Compare[];
  success: RequestOp[];
  failure: RequestOp[];
}

export interface TxnResponse {
  header: ResponseHeader;
  succeeded: boolean;
  responses: ResponseOp[];
}

export interface CompactionRequest {
  revision: number;
  /**
   * etcd waits for the physical removal before answering when set. This store removes the
   * compacted history inside the same transaction, so both settings answer after it is gone.
   */
  physical?: boolean;
}

export interface CompactionResponse {
  header: ResponseHeader;
}

export interface LeaseGrantRequest {
  /** The id to grant (0n or absent: the store picks one). */
  id?: bigint;
  /** Seconds; raised to the store's minimum TTL as etcd does. */
  ttl: number;
}

export interface LeaseGrantResponse {
  header: ResponseHeader;
  id: bigint;
  ttl: number;
}

export interface LeaseRevokeRequest {
  id: bigint;
}

export interface LeaseRevokeResponse {
  header: ResponseHeader;
}

/** A granted lease as the store keeps it (expiry is decided outside, by the leader's clock). */
export interface Lease {
  id: bigint;
  /** The granted TTL in seconds. */
  ttl: number;
  /** Keys attached, in byte order. */
  keys: Uint8Array[];
}

export interface HashKVResponse {
  header: ResponseHeader;
  hash: number;
  compactRevision: number;
}

export interface LeaseKeepAliveResponse {
  header: ResponseHeader;
  id: bigint;
  /** The lease's TTL, in seconds, counted again from now. */
  ttl: number;
}

export interface LeaseTimeToLiveRequest {
  id: bigint;
  /** Also list the keys attached. */
  keys?: boolean;
}

export interface LeaseTimeToLiveResponse {
  header: ResponseHeader;
  id: bigint;
  /** Seconds left, on the leader's clock; -1 when the lease is not granted (expired or unknown), as etcd. */
  ttl: number;
  /** The TTL it was granted with (0 when not granted). */
  grantedTtl: number;
  keys: Uint8Array[];
}

/**
 * Sets (or, without `value`, deletes) one entry of the cluster's metadata: a small replicated
 * table beside the keyspace, for what a server keeps about its cluster (etcd keeps its members'
 * names and URLs this way, outside the keys clients see). It does not change the revision.
 */
export interface ClusterMetaRequest {
  name: string;
  value?: Uint8Array;
}

export interface ClusterMetaResponse {
  header: ResponseHeader;
}

export interface LeaseLeasesResponse {
  header: ResponseHeader;
  leases: { id: bigint }[];
}
