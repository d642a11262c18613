/**
 * @pontoon/kv: etcd 3.4's data model (MVCC revisions, txn, leases, compaction, HashKV) as a
 * store on SQLite. See the package README.
 */
export { MvccStore, MAX_LEASE_TTL, DEFAULT_MIN_LEASE_TTL } from './mvcc-store.js';
export type { ImportedHistory, ImportedRevision } from './store-import.js';
export { Crc32c, appendVarint, droppedByEtcd34Compaction, marshalKeyValue } from './hash.js';
export type { MvccStoreOptions, ChangesListener, Change } from './mvcc-store.js';
export { KvStateMachine, StagedSnapshotMissingError } from './kv-state-machine.js';
export type { KvApplyResult, KvResponse, KvLogPosition, KvSnapshotSource, KvSnapshotSink, KvStateMachineOptions } from './kv-state-machine.js';
export { KvMember, KvLease, openKvMember, minLeaseTtlFor } from './kv-member.js';
export type { KvMemberOptions, KvRaftOptions, ReadOptions, KeyInput, KeyRangeOptions, GetOptions, PutOptions, DeleteOptions, WatchOptions } from './kv-member.js';
export { MemberStateMachine } from './member-state-machine.js';
export { Lessor, NotPrimaryError } from './lessor.js';
export type { LessorOptions } from './lessor.js';
export { LocalPeerNetwork, PeerUnreachableError } from './peer-link.js';
export type { KvPeerLink, PeerRequest, PeerResponse, PeerResponses, PeerHandler } from './peer-link.js';
export { encodeCommand, decodeCommand } from './command.js';
export type { KvCommand } from './command.js';
export { DEFAULT_QUOTA_BYTES, quotaCost } from './quota.js';
export { WatchHub } from './watch-hub.js';
export type { WatchHubOptions } from './watch-hub.js';
export { Watcher, DEFAULT_WATCHER_BUFFER } from './watcher.js';
export type { WatchRequest, WatchResponse, WatchEvent, WatchFilters } from './watcher.js';
export { prefixEnd, compareBytes, utf8 } from './bytes.js';
export { DEFAULT_MAX_TXN_OPS, DEFAULT_MAX_REQUEST_BYTES } from './validate.js';
export {
  ETCD_ERRORS,
  GrpcStatus,
  EtcdError,
  CompactedError,
  FutureRevisionError,
  KeyNotProvidedError,
  KeyNotFoundError,
  ValueProvidedError,
  LeaseProvidedError,
  TooManyOperationsError,
  DuplicateKeyError,
  SpaceExceededError,
  LeaseNotFoundError,
  LeaseExistsError,
  LeaseTtlTooLargeError,
  RequestTooLargeError,
  InvalidRequestError,
  KvCorruptionError,
  KvSchemaVersionError,
  StoreClosedError,
  NoLeaderError,
  RequestTimeoutError,
  MemberStoppedError,
} from './errors.js';
export type { EtcdErrorSpec } from './errors.js';
export type * from './types.js';
