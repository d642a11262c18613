/** etcd's v3lock service: Lock (concurrency.Mutex on an orphaned session) and Unlock (a delete). */
import type { LockHandlers } from '../proto-types/v3lockpb/Lock.js';
import { type ServerContext, unary } from './call-context.js';
import { lock, sessionLease, throughEmbeddedClient } from './concurrency-recipes.js';
import { leaseId, wireHeader } from './wire.js';

export function lockService(ctx: ServerContext): LockHandlers {
  const { member, header } = ctx;
  return {
    Lock: unary(
      ctx,
      'Lock',
      throughEmbeddedClient(async (r, signal) => {
        const lease = await sessionLease(member, leaseId(r.lease), signal);
        const held = await lock(member, r.name, lease, signal);
        return { header: wireHeader(header, held.header), key: Buffer.from(held.key) };
      }),
    ),
    Unlock: unary(
      ctx,
      'Unlock',
      throughEmbeddedClient(async (r, signal) => {
        const res = await member.deleteRange({ key: r.key }, { signal });
        return { header: wireHeader(header, res.header) };
      }),
    ),
  };
}
