/**
 * What every handler shares: the member, the ids for headers, the request limits, and the
 * wrappers that turn an async handler into a grpc-js one (a signal that aborts when the client
 * goes away, errors as etcd's statuses, etcd's interceptor checks: `hasleader` metadata and
 * learners).
 */
import type * as grpc from '@grpc/grpc-js';
import type { KvMember } from '@pontoon/kv';
import { EtcdError } from '../etcd-errors.js';
import { REQUIRE_LEADER_METADATA } from '../etcd-errors.js';
import type { Alarms } from './alarms.js';
import type { EtcdIds } from './etcd-ids.js';
import type { ContactViewSource } from './contact-view.js';
import type { LeaderProgressSource } from './learner-readiness.js';
import { toGrpcStatus } from './grpc-status.js';
import type { HeaderIds } from './wire.js';

export interface ServerContext {
  readonly member: KvMember;
  readonly ids: EtcdIds;
  readonly header: HeaderIds;
  /** etcd's alarms (NOSPACE), replicated. */
  readonly alarms: Alarms;
  /** etcd's --max-request-bytes: a write whose encoded request is larger is refused. */
  readonly maxRequestBytes: number;
  /** Settles when the server closes: streams end then. */
  readonly closed: AbortSignal;
  /** The leader's replication progress, for MemberPromote's readiness check. */
  readonly leaderProgress: LeaderProgressSource;
  /** etcd's --strict-reconfig-check: whether the Cluster service runs reconfig-check.ts. */
  readonly strictReconfigCheck: boolean;
  /** Which members the strict reconfiguration check sees as up. */
  readonly contactView: ContactViewSource;
}

/**
 * etcd's interceptor checks (v3rpc/interceptor.go): a learner serves Status and serializable
 * Range only (isRPCSupportedForLearner), and no stream at all; `hasleader` metadata asks for
 * NoLeader rather than a wait when no leader is known.
 */
function checkInterceptors(ctx: ServerContext, method: string, metadata: grpc.Metadata, serializable: boolean): void {
  const m = ctx.member.raft.membership();
  if (m.learners.includes(ctx.member.id) && method !== 'Status' && !(method === 'Range' && serializable)) {
    throw new EtcdError('NotSupportedForLearner');
  }
  const want = metadata.get(REQUIRE_LEADER_METADATA.key);
  if (want.some((v) => String(v) === REQUIRE_LEADER_METADATA.value) && ctx.member.raft.leaderId === undefined) {
    throw new EtcdError('NoLeader');
  }
}

/** A grpc-js unary handler from an async function of the request and a signal. */
export function unary<Req, Res>(
  ctx: ServerContext,
  method: string,
  fn: (request: Req, signal: AbortSignal) => Promise<Res>,
  isSerializable: (request: Req) => boolean = () => false,
): grpc.handleUnaryCall<Req, Res> {
  return (call, callback) => {
    const controller = new AbortController();
    const onCancel = (): void => controller.abort(new CallCancelledError());
    call.once('cancelled', onCancel);
    let run: Promise<Res>;
    try {
      checkInterceptors(ctx, method, call.metadata, isSerializable(call.request));
      run = fn(call.request, controller.signal);
    } catch (err) {
      run = Promise.reject(err);
    }
    run.then(
      (response) => callback(null, response),
      (err: unknown) => {
        // A client that left gets nothing; grpc-js drops what is sent to a cancelled call.
        callback(toGrpcStatus(err));
      },
    ).finally(() => call.removeListener('cancelled', onCancel));
  };
}

/** Checks the interceptor rules for a stream as it opens; false (with the status sent) when refused. */
export function streamAllowed(ctx: ServerContext, method: string, call: grpc.ServerDuplexStream<unknown, unknown> | grpc.ServerWritableStream<unknown, unknown>): boolean {
  try {
    checkInterceptors(ctx, method, call.metadata, false);
    return true;
  } catch (err) {
    call.emit('error', toGrpcStatus(err));
    return false;
  }
}

/** The client cancelled the call (or its deadline passed). */
export class CallCancelledError extends Error {
  constructor() {
    super('context canceled');
    this.name = 'AbortError';
  }
}
