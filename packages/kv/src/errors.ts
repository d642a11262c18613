/**
 * The errors of the KV store, one class per etcd error. etcd's clients match on the message
 * text, so each class carries etcd 3.4's exact gRPC message (`etcdMessage`) and gRPC status code
 * (`grpcStatus`) beside Pontoon's stable `code`; the table ETCD_ERRORS holds them in one place.
 */
import { PontoonError } from '@pontoon/raft';

/** gRPC status codes used by etcd's KV, lease and maintenance errors (google.golang.org/grpc/codes). */
export const GrpcStatus = {
  Canceled: 1,
  InvalidArgument: 3,
  NotFound: 5,
  FailedPrecondition: 9,
  OutOfRange: 11,
  ResourceExhausted: 8,
  Unavailable: 14,
  DataLoss: 15,
} as const;

/** One row of etcd 3.4's error table (etcdserver/api/v3rpc/rpctypes/error.go). */
export interface EtcdErrorSpec {
  /** Pontoon's stable code. */
  readonly code: string;
  /** The exact message etcd's gRPC server sends. */
  readonly etcdMessage: string;
  /** The gRPC status code etcd sends with it. */
  readonly grpcStatus: number;
}

/** etcd's errors that this store raises, keyed by Pontoon code. */
export const ETCD_ERRORS = {
  ERR_COMPACTED: { code: 'ERR_COMPACTED', etcdMessage: 'etcdserver: mvcc: required revision has been compacted', grpcStatus: GrpcStatus.OutOfRange },
  ERR_FUTURE_REVISION: { code: 'ERR_FUTURE_REVISION', etcdMessage: 'etcdserver: mvcc: required revision is a future revision', grpcStatus: GrpcStatus.OutOfRange },
  ERR_KEY_NOT_PROVIDED: { code: 'ERR_KEY_NOT_PROVIDED', etcdMessage: 'etcdserver: key is not provided', grpcStatus: GrpcStatus.InvalidArgument },
  ERR_KEY_NOT_FOUND: { code: 'ERR_KEY_NOT_FOUND', etcdMessage: 'etcdserver: key not found', grpcStatus: GrpcStatus.InvalidArgument },
  ERR_VALUE_PROVIDED: { code: 'ERR_VALUE_PROVIDED', etcdMessage: 'etcdserver: value is provided', grpcStatus: GrpcStatus.InvalidArgument },
  ERR_LEASE_PROVIDED: { code: 'ERR_LEASE_PROVIDED', etcdMessage: 'etcdserver: lease is provided', grpcStatus: GrpcStatus.InvalidArgument },
  ERR_TOO_MANY_OPERATIONS: { code: 'ERR_TOO_MANY_OPERATIONS', etcdMessage: 'etcdserver: too many operations in txn request', grpcStatus: GrpcStatus.InvalidArgument },
  ERR_DUPLICATE_KEY: { code: 'ERR_DUPLICATE_KEY', etcdMessage: 'etcdserver: duplicate key given in txn request', grpcStatus: GrpcStatus.InvalidArgument },
  ERR_SPACE_EXCEEDED: { code: 'ERR_SPACE_EXCEEDED', etcdMessage: 'etcdserver: mvcc: database space exceeded', grpcStatus: GrpcStatus.ResourceExhausted },
  ERR_LEASE_NOT_FOUND: { code: 'ERR_LEASE_NOT_FOUND', etcdMessage: 'etcdserver: requested lease not found', grpcStatus: GrpcStatus.NotFound },
  ERR_LEASE_EXISTS: { code: 'ERR_LEASE_EXISTS', etcdMessage: 'etcdserver: lease already exists', grpcStatus: GrpcStatus.FailedPrecondition },
  ERR_LEASE_TTL_TOO_LARGE: { code: 'ERR_LEASE_TTL_TOO_LARGE', etcdMessage: 'etcdserver: too large lease TTL', grpcStatus: GrpcStatus.OutOfRange },
  ERR_REQUEST_TOO_LARGE: { code: 'ERR_REQUEST_TOO_LARGE', etcdMessage: 'etcdserver: request is too large', grpcStatus: GrpcStatus.InvalidArgument },
  ERR_CORRUPT: { code: 'ERR_CORRUPT', etcdMessage: 'etcdserver: corrupt cluster', grpcStatus: GrpcStatus.DataLoss },
  ERR_NO_LEADER: { code: 'ERR_NO_LEADER', etcdMessage: 'etcdserver: no leader', grpcStatus: GrpcStatus.Unavailable },
  ERR_TIMEOUT: { code: 'ERR_TIMEOUT', etcdMessage: 'etcdserver: request timed out', grpcStatus: GrpcStatus.Unavailable },
  ERR_STOPPED: { code: 'ERR_STOPPED', etcdMessage: 'etcdserver: server stopped', grpcStatus: GrpcStatus.Unavailable },
} as const satisfies Record<string, EtcdErrorSpec>;

/** An error that etcd also raises: it knows etcd's message and gRPC status. */
export abstract class EtcdError extends PontoonError {
  /** etcd's exact gRPC message, for the gRPC server to send. */
  readonly etcdMessage: string;
  /** etcd's gRPC status code. */
  readonly grpcStatus: number;
  constructor(spec: EtcdErrorSpec, detail?: string, options?: { cause?: unknown }) {
    super(spec.code, detail === undefined ? spec.etcdMessage : `${spec.etcdMessage} (${detail})`, options);
    this.etcdMessage = spec.etcdMessage;
    this.grpcStatus = spec.grpcStatus;
  }
}

/** The revision asked for is below the compact revision (its history is gone). */
export class CompactedError extends EtcdError {
  /** The store's compact revision, where a watcher or reader can resume. */
  readonly compactRevision: number;
  constructor(compactRevision: number, requested: number) {
    super(ETCD_ERRORS.ERR_COMPACTED, `requested ${requested}, compacted at ${compactRevision}`);
    this.compactRevision = compactRevision;
  }
}

/** The revision asked for is above the store's current revision. */
export class FutureRevisionError extends EtcdError {
  readonly currentRevision: number;
  constructor(currentRevision: number, requested: number) {
    super(ETCD_ERRORS.ERR_FUTURE_REVISION, `requested ${requested}, current ${currentRevision}`);
    this.currentRevision = currentRevision;
  }
}

/** A request without a key (etcd: an empty key). */
export class KeyNotProvidedError extends EtcdError {
  constructor() {
    super(ETCD_ERRORS.ERR_KEY_NOT_PROVIDED);
  }
}

/** A put with ignore_value or ignore_lease on a key that does not exist. */
export class KeyNotFoundError extends EtcdError {
  constructor() {
    super(ETCD_ERRORS.ERR_KEY_NOT_FOUND);
  }
}

/** A put with ignore_value that also carries a value. */
export class ValueProvidedError extends EtcdError {
  constructor() {
    super(ETCD_ERRORS.ERR_VALUE_PROVIDED);
  }
}

/** A put with ignore_lease that also carries a lease. */
export class LeaseProvidedError extends EtcdError {
  constructor() {
    super(ETCD_ERRORS.ERR_LEASE_PROVIDED);
  }
}

/** A txn with more compares or operations on one level than the limit (etcd: --max-txn-ops, 128). */
export class TooManyOperationsError extends EtcdError {
  readonly limit: number;
  constructor(limit: number) {
    super(ETCD_ERRORS.ERR_TOO_MANY_OPERATIONS, `limit ${limit}`);
    this.limit = limit;
  }
}

/** A txn that writes one key twice (two puts, or a put and a delete covering it). */
export class DuplicateKeyError extends EtcdError {
  constructor() {
    super(ETCD_ERRORS.ERR_DUPLICATE_KEY);
  }
}

/** The database reached its quota: writes are refused until space is freed (compact and defragment). */
export class SpaceExceededError extends EtcdError {
  readonly quotaBytes: number;
  constructor(quotaBytes: number, sizeBytes: number) {
    super(ETCD_ERRORS.ERR_SPACE_EXCEEDED, `database ${sizeBytes} bytes, quota ${quotaBytes} bytes`);
    this.quotaBytes = quotaBytes;
  }
}

/** The lease named does not exist (never granted, revoked, or expired). */
export class LeaseNotFoundError extends EtcdError {
  readonly leaseId: bigint;
  constructor(leaseId: bigint) {
    super(ETCD_ERRORS.ERR_LEASE_NOT_FOUND, `lease ${leaseId}`);
    this.leaseId = leaseId;
  }
}

/** A grant with an id that is already granted. */
export class LeaseExistsError extends EtcdError {
  readonly leaseId: bigint;
  constructor(leaseId: bigint) {
    super(ETCD_ERRORS.ERR_LEASE_EXISTS, `lease ${leaseId}`);
    this.leaseId = leaseId;
  }
}

/** A grant with a TTL above etcd's MaxLeaseTTL (9,000,000,000 seconds). */
export class LeaseTtlTooLargeError extends EtcdError {
  constructor(ttl: number) {
    super(ETCD_ERRORS.ERR_LEASE_TTL_TOO_LARGE, `ttl ${ttl}`);
  }
}

/** A request larger than the limit (etcd: --max-request-bytes, 1.5 MiB). */
export class RequestTooLargeError extends EtcdError {
  readonly limitBytes: number;
  constructor(sizeBytes: number, limitBytes: number) {
    super(ETCD_ERRORS.ERR_REQUEST_TOO_LARGE, `${sizeBytes} bytes, limit ${limitBytes}`);
    this.limitBytes = limitBytes;
  }
}

/**
 * Bad input that etcd would not see in this form (a range end below the key, a negative limit,
 * a revision that is not a non-negative safe integer, an unknown operation). gRPC status:
 * InvalidArgument. `field` names the offending field.
 */
export class InvalidRequestError extends PontoonError {
  readonly field: string;
  readonly grpcStatus: number = GrpcStatus.InvalidArgument;
  constructor(field: string, message: string) {
    super('ERR_INVALID_REQUEST', `invalid request: ${field}: ${message}`);
    this.field = field;
  }
}

/**
 * The database file is not what the store wrote: SQLite's integrity check or the meta row's
 * checksum failed, or the file is truncated. Nothing is served from it. `file` names it.
 */
export class KvCorruptionError extends EtcdError {
  readonly file: string;
  constructor(file: string, detail: string, options?: { cause?: unknown }) {
    super(ETCD_ERRORS.ERR_CORRUPT, `${file}: ${detail}`, options);
    this.file = file;
  }
}

/** The store was closed. */
export class StoreClosedError extends PontoonError {
  constructor() {
    super('ERR_KV_CLOSED', 'kv store is closed');
  }
}

/**
 * No leader is known (an election is under way, or this member is cut off from a quorum), so a
 * write or a linearizable read cannot be served now. Nothing was proposed; retrying is safe.
 */
export class NoLeaderError extends EtcdError {
  constructor(options?: { cause?: unknown }) {
    super(ETCD_ERRORS.ERR_NO_LEADER, undefined, options);
  }
}

/**
 * The request did not finish in time. For a write, its outcome is unknown: it may have been
 * applied (or may be applied later), exactly as etcd's "request timed out". `cause` is the
 * Raft-level reason.
 */
export class RequestTimeoutError extends EtcdError {
  constructor(detail?: string, options?: { cause?: unknown }) {
    super(ETCD_ERRORS.ERR_TIMEOUT, detail, options);
  }
}

/** The member is stopped (closed, or stopped itself after an unrecoverable error). */
export class MemberStoppedError extends EtcdError {
  constructor(options?: { cause?: unknown }) {
    super(ETCD_ERRORS.ERR_STOPPED, undefined, options);
  }
}

/**
 * The store file was written by a version of Pontoon KV whose layout this one cannot read (a
 * newer schema, or an unknown one). Nothing was changed in the file.
 */
export class KvSchemaVersionError extends PontoonError {
  readonly file: string;
  /** The file's schema version (SQLite's user_version). */
  readonly found: number;
  /** The newest schema version this code reads (older known ones are migrated). */
  readonly supported: number;
  constructor(file: string, found: number, supported: number) {
    super('ERR_KV_SCHEMA_VERSION', `${file}: store schema version ${found} is not readable by this version (reads ${supported} and migrates older ones)`);
    this.file = file;
    this.found = found;
    this.supported = supported;
  }
}
