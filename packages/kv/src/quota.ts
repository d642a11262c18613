/**
 * The database size quota (etcd's backendQuota). A put, a txn with puts or a lease grant is
 * refused with "database space exceeded" when the database size plus its cost would reach the
 * quota; deletes, compactions and revokes still go through, so space can be reclaimed.
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

/** Throws SpaceExceededError when `command` may not be applied to a database of `sizeBytes`. */
export function checkQuota(command: KvCommand, sizeBytes: number, quotaBytes: number): void {
  const cost = quotaCost(command);
  if (cost === 0) return;
  if (sizeBytes + cost >= quotaBytes) throw new SpaceExceededError(quotaBytes, sizeBytes);
}
