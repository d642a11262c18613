/**
 * etcd's v3election service: Campaign, Proclaim, Leader, Observe (a stream) and Resign, with
 * clientv3/concurrency's Election semantics (concurrency-recipes.ts). Its errors are
 * concurrency's, which etcd's gRPC server sends as UNKNOWN with their text.
 */
import type * as grpc from '@grpc/grpc-js';
import type { KvMember } from '@pontoon/kv';
import { EtcdError } from '../etcd-errors.js';
import type { ElectionHandlers } from '../proto-types/v3electionpb/Election.js';
import type { LeaderKey__Output } from '../proto-types/v3electionpb/LeaderKey.js';
import type { LeaderRequest__Output } from '../proto-types/v3electionpb/LeaderRequest.js';
import type { LeaderResponse } from '../proto-types/v3electionpb/LeaderResponse.js';
import { type ServerContext, streamAllowed, unary } from './call-context.js';
import { campaign, electionLeader, type LeaderKey, observe, proclaim, resign, sessionLease, throughEmbeddedClient } from './concurrency-recipes.js';
import { toGrpcStatus } from './grpc-status.js';
import { int, leaseId, wireHeader, wireKeyValue } from './wire.js';

function leaderKey(k: LeaderKey__Output | null): LeaderKey {
  if (k === null) throw new EtcdError('ElectionMissingLeaderKey');
  return { name: k.name, key: k.key, rev: int('leader.rev', k.rev), lease: leaseId(k.lease) };
}

export function electionService(ctx: ServerContext): ElectionHandlers {
  const { member, header } = ctx;
  return {
    Campaign: unary(ctx, 'Campaign', throughEmbeddedClient(async (r, signal) => {
      const lease = await sessionLease(member, leaseId(r.lease), signal);
      const won = await campaign(member, r.name, lease, r.value, signal);
      return {
        header: wireHeader(header, won.header),
        leader: { name: r.name, key: Buffer.from(won.leader.key), rev: won.leader.rev, lease: lease.toString() },
      };
    })),
    Proclaim: unary(ctx, 'Proclaim', throughEmbeddedClient(async (r, signal) => {
      const h = await proclaim(member, leaderKey(r.leader), r.value, signal);
      return { header: wireHeader(header, h) };
    })),
    Resign: unary(ctx, 'Resign', throughEmbeddedClient(async (r, signal) => {
      const h = await resign(member, leaderKey(r.leader), signal);
      return { header: wireHeader(header, h) };
    })),
    Leader: unary(ctx, 'Leader', throughEmbeddedClient(async (r, signal) => {
      const l = await electionLeader(member, r.name, signal);
      return { header: wireHeader(header, l.header), kv: wireKeyValue(l.kv) };
    })),
    Observe: (call) => observeStream(ctx, member, call),
  };
}

function observeStream(ctx: ServerContext, member: KvMember, call: grpc.ServerWritableStream<LeaderRequest__Output, LeaderResponse>): void {
  if (!streamAllowed(ctx, 'Observe', call)) return;
  const controller = new AbortController();
  const stop = (): void => controller.abort();
  ctx.closed.addEventListener('abort', stop, { once: true });
  call.once('cancelled', stop);
  call.once('close', stop);
  observe(member, call.request.name, controller.signal, (kv, h) => {
    if (!controller.signal.aborted) call.write({ header: wireHeader(ctx.header, h), kv: wireKeyValue(kv) });
  }).then(
    () => {
      if (!controller.signal.aborted) call.end();
    },
    (err: unknown) => {
      if (!controller.signal.aborted) call.emit('error', toGrpcStatus(err));
    },
  ).finally(() => {
    ctx.closed.removeEventListener('abort', stop);
    controller.abort();
  });
}
