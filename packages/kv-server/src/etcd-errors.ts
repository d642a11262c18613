import { Metadata, status as GrpcStatus, type StatusObject } from '@grpc/grpc-js';
import { PontoonError } from '@pontoon/raft';

/** Shared by a gRPC error and a watch cancel reason. */
const ETCD_ERRORS_TEXT_PERMISSION_DENIED = 'etcdserver: permission denied';

/**
 * The errors etcd 3.4 returns to gRPC clients: status code and exact message. Clients match on
 * the message text (clientv3 maps it back to its error values, the etcd3 npm package matches
 * substrings), so every message here is etcd 3.4.23's byte for byte: `ErrGRPC*` in etcd's
 * `etcdserver/api/v3rpc/rpctypes/error.go`, plus the errors the v3election service returns
 * unwrapped (gRPC sends those as UNKNOWN). Names are etcd's without the `ErrGRPC` prefix.
 * `test/etcd-errors.etcd.test.ts` compares many of them with a real etcd 3.4.
 */
export const ETCD_ERRORS = {
  EmptyKey: [GrpcStatus.INVALID_ARGUMENT, 'etcdserver: key is not provided'],
  KeyNotFound: [GrpcStatus.INVALID_ARGUMENT, 'etcdserver: key not found'],
  ValueProvided: [GrpcStatus.INVALID_ARGUMENT, 'etcdserver: value is provided'],
  LeaseProvided: [GrpcStatus.INVALID_ARGUMENT, 'etcdserver: lease is provided'],
  TooManyOps: [GrpcStatus.INVALID_ARGUMENT, 'etcdserver: too many operations in txn request'],
  DuplicateKey: [GrpcStatus.INVALID_ARGUMENT, 'etcdserver: duplicate key given in txn request'],
  Compacted: [GrpcStatus.OUT_OF_RANGE, 'etcdserver: mvcc: required revision has been compacted'],
  FutureRev: [GrpcStatus.OUT_OF_RANGE, 'etcdserver: mvcc: required revision is a future revision'],
  NoSpace: [GrpcStatus.RESOURCE_EXHAUSTED, 'etcdserver: mvcc: database space exceeded'],

  LeaseNotFound: [GrpcStatus.NOT_FOUND, 'etcdserver: requested lease not found'],
  LeaseExist: [GrpcStatus.FAILED_PRECONDITION, 'etcdserver: lease already exists'],
  LeaseTTLTooLarge: [GrpcStatus.OUT_OF_RANGE, 'etcdserver: too large lease TTL'],

  WatchCanceled: [GrpcStatus.CANCELLED, 'etcdserver: watch canceled'],

  MemberExist: [GrpcStatus.FAILED_PRECONDITION, 'etcdserver: member ID already exist'],
  PeerURLExist: [GrpcStatus.FAILED_PRECONDITION, 'etcdserver: Peer URLs already exists'],
  // error.go gives it FAILED_PRECONDITION, but etcd 3.4's togRPCError maps the server's error to
  // rpctypes.ErrMemberNotEnoughStarted, the client-side value, which is no gRPC status: it goes
  // out as UNKNOWN with this text (seen from a real etcd 3.4.23, reconfig-check.etcd.test.ts).
  MemberNotEnoughStarted: [
    GrpcStatus.UNKNOWN,
    'etcdserver: re-configuration failed due to not enough started members',
  ],
  MemberBadURLs: [GrpcStatus.INVALID_ARGUMENT, 'etcdserver: given member URLs are invalid'],
  MemberNotFound: [GrpcStatus.NOT_FOUND, 'etcdserver: member not found'],
  MemberNotLearner: [GrpcStatus.FAILED_PRECONDITION, 'etcdserver: can only promote a learner member'],
  LearnerNotReady: [
    GrpcStatus.FAILED_PRECONDITION,
    'etcdserver: can only promote a learner member which is in sync with leader',
  ],
  TooManyLearners: [GrpcStatus.FAILED_PRECONDITION, 'etcdserver: too many learner members in cluster'],

  RequestTooLarge: [GrpcStatus.INVALID_ARGUMENT, 'etcdserver: request is too large'],
  RequestTooManyRequests: [GrpcStatus.RESOURCE_EXHAUSTED, 'etcdserver: too many requests'],

  RootUserNotExist: [GrpcStatus.FAILED_PRECONDITION, 'etcdserver: root user does not exist'],
  RootRoleNotExist: [GrpcStatus.FAILED_PRECONDITION, 'etcdserver: root user does not have root role'],
  UserAlreadyExist: [GrpcStatus.FAILED_PRECONDITION, 'etcdserver: user name already exists'],
  UserEmpty: [GrpcStatus.INVALID_ARGUMENT, 'etcdserver: user name is empty'],
  UserNotFound: [GrpcStatus.FAILED_PRECONDITION, 'etcdserver: user name not found'],
  RoleAlreadyExist: [GrpcStatus.FAILED_PRECONDITION, 'etcdserver: role name already exists'],
  RoleNotFound: [GrpcStatus.FAILED_PRECONDITION, 'etcdserver: role name not found'],
  RoleEmpty: [GrpcStatus.INVALID_ARGUMENT, 'etcdserver: role name is empty'],
  AuthFailed: [GrpcStatus.INVALID_ARGUMENT, 'etcdserver: authentication failed, invalid user ID or password'],
  PermissionDenied: [GrpcStatus.PERMISSION_DENIED, ETCD_ERRORS_TEXT_PERMISSION_DENIED],
  RoleNotGranted: [GrpcStatus.FAILED_PRECONDITION, 'etcdserver: role is not granted to the user'],
  PermissionNotGranted: [GrpcStatus.FAILED_PRECONDITION, 'etcdserver: permission is not granted to the role'],
  AuthNotEnabled: [GrpcStatus.FAILED_PRECONDITION, 'etcdserver: authentication is not enabled'],
  InvalidAuthToken: [GrpcStatus.UNAUTHENTICATED, 'etcdserver: invalid auth token'],
  InvalidAuthMgmt: [GrpcStatus.INVALID_ARGUMENT, 'etcdserver: invalid auth management'],
  AuthOldRevision: [GrpcStatus.INVALID_ARGUMENT, 'etcdserver: revision of auth store is old'],

  NoLeader: [GrpcStatus.UNAVAILABLE, 'etcdserver: no leader'],
  NotLeader: [GrpcStatus.FAILED_PRECONDITION, 'etcdserver: not leader'],
  LeaderChanged: [GrpcStatus.UNAVAILABLE, 'etcdserver: leader changed'],
  NotCapable: [GrpcStatus.UNAVAILABLE, 'etcdserver: not capable'],
  Stopped: [GrpcStatus.UNAVAILABLE, 'etcdserver: server stopped'],
  Timeout: [GrpcStatus.UNAVAILABLE, 'etcdserver: request timed out'],
  TimeoutDueToLeaderFail: [
    GrpcStatus.UNAVAILABLE,
    'etcdserver: request timed out, possibly due to previous leader failure',
  ],
  TimeoutDueToConnectionLost: [GrpcStatus.UNAVAILABLE, 'etcdserver: request timed out, possibly due to connection lost'],
  TimeoutWaitAppliedIndex: [
    GrpcStatus.UNAVAILABLE,
    'etcdserver: request timed out, waiting for the applied index took too long',
  ],
  Unhealthy: [GrpcStatus.UNAVAILABLE, 'etcdserver: unhealthy cluster'],
  Corrupt: [GrpcStatus.DATA_LOSS, 'etcdserver: corrupt cluster'],
  // etcd's Go name is misspelt (ErrGPRCNotSupportedForLearner); the text is what matters.
  NotSupportedForLearner: [GrpcStatus.UNAVAILABLE, 'etcdserver: rpc not supported for learner'],
  BadLeaderTransferee: [GrpcStatus.FAILED_PRECONDITION, 'etcdserver: bad leader transferee'],

  // v3election returns clientv3/concurrency's errors as they are: gRPC makes them UNKNOWN.
  ElectionNotLeader: [GrpcStatus.UNKNOWN, 'election: not leader'],
  ElectionNoLeader: [GrpcStatus.UNKNOWN, 'election: no leader'],
  ElectionMissingLeaderKey: [GrpcStatus.UNKNOWN, '"leader" field must be provided'],
} as const satisfies Record<string, readonly [GrpcStatus, string]>;

/**
 * The `cancel_reason` texts of a WatchResponse that refuses a watch create request (etcd 3.4
 * answers `created: true, canceled: true, watch_id: -1` with one of these, on the open stream,
 * not as a gRPC error). A watch whose start revision is compacted is different: it is created,
 * then canceled with `compact_revision` set and no reason.
 */
export const ETCD_WATCH_CANCEL_REASONS = {
  /** `range_end` at or before `key` (etcd's mvcc.ErrEmptyWatcherRange). */
  EmptyWatcherRange: 'mvcc: watcher range is empty',
  /** A client-chosen `watch_id` already in use on the stream (mvcc.ErrWatcherDuplicateID). */
  DuplicateWatchId: 'mvcc: duplicate watch ID provided on the WatchStream',
  /** With auth on, a watch the user may not read (and unknown auth failures). */
  PermissionDenied: ETCD_ERRORS_TEXT_PERMISSION_DENIED,
} as const;

/** The name of one of etcd's errors (`Compacted`, `LeaseNotFound`, `NoLeader`, ...). */
export type EtcdErrorName = keyof typeof ETCD_ERRORS;

/**
 * The gRPC metadata key etcd's clients set to ask that a call fail with NoLeader, rather than
 * wait, when the member has no leader (clientv3's `WithRequireLeader`), and its value.
 */
export const REQUIRE_LEADER_METADATA = { key: 'hasleader', value: 'true' } as const;

/**
 * One of etcd's errors, raised by the server's handlers and turned into the gRPC status etcd
 * would send with toStatus(). `code` is Pontoon's stable code (`ERR_ETCD_COMPACTED`);
 * `grpcCode` and `message` are what goes on the wire.
 */
export class EtcdError extends PontoonError {
  readonly etcdName: EtcdErrorName;
  readonly grpcCode: GrpcStatus;
  constructor(name: EtcdErrorName, options?: { cause?: unknown }) {
    const [grpcCode, message] = ETCD_ERRORS[name];
    super(`ERR_ETCD_${snakeCase(name)}`, message, options);
    this.etcdName = name;
    this.grpcCode = grpcCode;
  }

  /** The status for a grpc-js server callback or `call.emit('error', ...)`: etcd's code and text. */
  toStatus(): StatusObject {
    return { code: this.grpcCode, details: this.message, metadata: new Metadata() };
  }
}

const byMessage = new Map<string, EtcdErrorName>(
  Object.entries(ETCD_ERRORS).map(([name, [, message]]) => [message, name as EtcdErrorName]),
);

/**
 * Which of etcd's errors a gRPC status is (code and message both), or `undefined`: for tests
 * and clients that compare what two servers answered.
 */
export function etcdErrorOf(status: { code: number; details: string }): EtcdErrorName | undefined {
  const name = byMessage.get(status.details);
  return name !== undefined && ETCD_ERRORS[name][0] === status.code ? name : undefined;
}

/** `LeaseTTLTooLarge` -> `LEASE_TTL_TOO_LARGE`. */
function snakeCase(name: string): string {
  return name
    .replace(/([a-z])([A-Z])/g, '$1_$2')
    .replace(/([A-Z])([A-Z][a-z])/g, '$1_$2')
    .toUpperCase();
}
