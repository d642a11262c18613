/**
 * etcd's Lease service (v3rpc/lease.go): Grant, Revoke, KeepAlive (a stream), TimeToLive and
 * Leases. A keepalive of a lease that is gone answers TTL 0 (etcd's answer), not an error; the
 * keepalives of one stream are answered in order.
 */
import { LeaseNotFoundError } from '@pontoon/kv';
import type * as grpc from '@grpc/grpc-js';
import type { LeaseHandlers } from '../proto-types/etcdserverpb/Lease.js';
import type { LeaseKeepAliveRequest__Output } from '../proto-types/etcdserverpb/LeaseKeepAliveRequest.js';
import type { LeaseKeepAliveResponse } from '../proto-types/etcdserverpb/LeaseKeepAliveResponse.js';
import { type ServerContext, streamAllowed, unary } from './call-context.js';
import { toGrpcStatus } from './grpc-status.js';
import { spending } from './kv-service.js';
import { int, leaseId, wireHeader } from './wire.js';

export function leaseService(ctx: ServerContext): LeaseHandlers {
  const { member, header } = ctx;
  return {
    LeaseGrant: unary(ctx, 'LeaseGrant', async (r, signal) => {
      const id = leaseId(r.ID);
      const ttl = int('lease.TTL', r.TTL);
      const res = await spending(ctx, () => member.leaseGrant(ttl, { signal, ...(id === 0n ? {} : { id }) }), signal);
      return { header: wireHeader(header, res.header), ID: res.id.toString(), TTL: res.ttl, error: '' };
    }),
    LeaseRevoke: unary(ctx, 'LeaseRevoke', async (r, signal) => {
      const res = await member.leaseRevoke(leaseId(r.ID), { signal });
      return { header: wireHeader(header, res.header) };
    }),
    LeaseTimeToLive: unary(ctx, 'LeaseTimeToLive', async (r, signal) => {
      const res = await member.leaseTimeToLive(leaseId(r.ID), { signal, keys: r.keys });
      return {
        header: wireHeader(header, res.header),
        ID: res.id.toString(),
        TTL: res.ttl,
        grantedTTL: res.grantedTtl,
        keys: res.keys.map((k) => Buffer.from(k)),
      };
    }),
    LeaseLeases: unary(ctx, 'LeaseLeases', async () => {
      const res = await member.leases();
      return { header: wireHeader(header, res.header), leases: res.leases.map((l) => ({ ID: l.id.toString() })) };
    }),
    LeaseKeepAlive: (call) => keepAliveStream(ctx, call),
  };
}

function keepAliveStream(ctx: ServerContext, call: grpc.ServerDuplexStream<LeaseKeepAliveRequest__Output, LeaseKeepAliveResponse>): void {
  if (!streamAllowed(ctx, 'LeaseKeepAlive', call)) return;
  const controller = new AbortController();
  const stop = (): void => controller.abort();
  ctx.closed.addEventListener('abort', stop, { once: true });
  call.once('cancelled', stop);
  call.once('error', stop);
  // One keepalive at a time per stream, in the order they came: a chain of promises.
  let chain = Promise.resolve();
  call.on('data', (request: LeaseKeepAliveRequest__Output) => {
    chain = chain.then(async () => {
      if (controller.signal.aborted) return;
      const id = leaseId(request.ID);
      let ttl: number;
      try {
        ttl = (await ctx.member.leaseKeepAliveOnce(id, { signal: controller.signal })).ttl;
      } catch (err) {
        if (controller.signal.aborted) return;
        if (!(err instanceof LeaseNotFoundError)) {
          controller.abort();
          call.emit('error', toGrpcStatus(err));
          return;
        }
        ttl = 0;
      }
      if (!controller.signal.aborted) call.write({ header: wireHeader(ctx.header, { revision: ctx.member.revision, raftTerm: ctx.member.raft.term }), ID: id.toString(), TTL: ttl });
    });
  });
  call.once('end', () => {
    void chain.then(() => {
      ctx.closed.removeEventListener('abort', stop);
      if (!controller.signal.aborted) call.end();
      controller.abort();
    });
  });
}
