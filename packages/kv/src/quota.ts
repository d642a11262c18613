/**
 * The database size quota (etcd's backendQuota). A put, a txn with puts or a lease grant does not
 * fit when the database size plus its cost would reach the quota; deletes, compactions and
 * revokes always do, so space can be reclaimed. As in etcd, the member that serves a write
 * refuses it before proposing when it does not fit there (KvMember), and the apply layer
 * applies every committed write whatever the size and only answers "database space exceeded"
 * for one that did not fit (KvStateMachine): each member's file has its own size (a member
 * restored from a snapshot has a compacted one), so refusing at apply time would make members
 * differ.
 */
import { SpaceExceededError } from './errors.js';
import type { KvCommand } from './command.js';
import type { PutRequest, RequestOp } from './types.js';

/** etcd's default --quota-backend-bytes (2 GiB). */
export const DEFAULT_QUOTA_BYTES = 2 * 1024 * 1024 * 1024;
const KV_OVERHEAD = 256;
const LEASE_OVERHEAD = 64;

function costPut(p: PutRequest): number {
  return KV_OVERHEAD + p.key.length + p.value.length;
}

function costOps(ops: readonly RequestOp[]): number {
  let cost = 0;
  // As etcd, only the branch's own puts count (not those of nested txns).
  for (const op of ops) if ('put' in op) cost += costPut(op.put);
  return cost;
}

/** etcd's quota cost of a command (0: not subject to the quota). */
export function quotaCost(command: KvCommand): number {
  switch (command.op) {
    case 'put':
      return costPut(command.request);
    case 'txn':
      return Math.max(costOps(command.request.success), costOps(command.request.failure));
    case 'leaseGrant':
      return LEASE_OVERHEAD;
    default:
      return 0;
  }
}

/**
 * The error that answers `command` when it does not fit a database of the size `sizeBytes()`
 * gives (read only for a command the quota applies to); undefined when it fits.
 */
export function quotaExceeded(command: KvCommand, sizeBytes: () => number, quotaBytes: number): SpaceExceededError | undefined {
  const cost = quotaCost(command);
  if (cost === 0) return undefined;
  const size = sizeBytes();
  return size + cost < quotaBytes ? undefined : new SpaceExceededError(quotaBytes, size);
}
