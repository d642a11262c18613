/**
 * A Txn as etcd's applier serves it. All compares, the nested ones included, are evaluated first
 * against the store as it was before the txn (the "txn path"); then the chosen branch's puts and
 * ranges are checked (missing key for ignore_value/ignore_lease, missing lease, compacted or
 * future range revisions) so that a txn that would fail changes nothing; then the branch runs,
 * its reads seeing its own earlier writes, all at one revision.
 */
import { AssertionError } from 'node:assert';
import { applyCompares } from './compare.js';
import { applyDeleteRange } from './delete-range.js';
import { CompactedError, FutureRevisionError, KeyNotFoundError, LeaseNotFoundError } from './errors.js';
import { applyPut } from './put.js';
import { applyRange } from './range.js';
import type { StoreTxn } from './store-txn.js';
import type { RequestOp, ResponseOp, TxnRequest, TxnResponse } from './types.js';

/** Looks a lease up (the lessor): whether it is granted. */
export type LeaseExists = (id: bigint) => boolean;

function compareToPath(txn: StoreTxn, rt: TxnRequest): boolean[] {
  const succeeded = applyCompares(txn, rt.compare);
  const path = [succeeded];
  for (const op of succeeded ? rt.success : rt.failure) {
    if ('txn' in op) path.push(...compareToPath(txn, op.txn));
  }
  return path;
}

/** Runs `check` on the operations of the chosen branches; returns how many nested txns it passed. */
function checkRequests(rt: TxnRequest, path: boolean[], check: (op: RequestOp) => void): number {
  let txnCount = 0;
  let rest = path;
  for (const op of rest[0] ? rt.success : rt.failure) {
    if ('txn' in op) {
      const txns = checkRequests(op.txn, rest.slice(1), check);
      txnCount += txns + 1;
      rest = rest.slice(txns + 1);
      continue;
    }
    check(op);
  }
  return txnCount;
}

function isReadOnly(rt: TxnRequest): boolean {
  return rt.success.every((op) => 'range' in op) && rt.failure.every((op) => 'range' in op);
}

/** Runs the chosen branch; returns how many nested txns it went through. */
function runBranch(txn: StoreTxn, rt: TxnRequest, path: boolean[], resp: TxnResponse): number {
  let txns = 0;
  let rest = path;
  for (const op of rest[0] ? rt.success : rt.failure) {
    let r: ResponseOp;
    if ('range' in op) r = { range: applyRange(txn, op.range) };
    else if ('put' in op) r = { put: applyPut(txn, op.put) };
    else if ('deleteRange' in op) r = { deleteRange: applyDeleteRange(txn, op.deleteRange) };
    else {
      // etcd leaves a nested txn's header revision unset (0): only the outer one gets it.
      const nested: TxnResponse = { header: { revision: 0 }, succeeded: rest[1]!, responses: [] };
      const applied = runBranch(txn, op.txn, rest.slice(1), nested);
      txns += applied + 1;
      rest = rest.slice(applied + 1);
      r = { txn: nested };
    }
    resp.responses.push(r);
  }
  return txns;
}

/** Applies `rt` in `txn` (a fresh transaction: no changes yet). */
export function applyTxn(txn: StoreTxn, rt: TxnRequest, leaseExists: LeaseExists): TxnResponse {
  if (txn.changes.length !== 0) {
    throw new AssertionError({ message: `txn: began on a transaction that already holds ${txn.changes.length} changes` });
  }
  const path = compareToPath(txn, rt);
  if (!isReadOnly(rt)) {
    checkRequests(rt, path, (op) => {
      if (!('put' in op)) return;
      const p = op.put;
      if (p.ignoreValue === true || p.ignoreLease === true) {
        if (txn.range(p.key, undefined, { limit: 0, rev: 0, count: false }).kvs.length === 0) throw new KeyNotFoundError();
      }
      const lease = p.lease ?? 0n;
      if (lease !== 0n && !leaseExists(lease)) throw new LeaseNotFoundError(lease);
    });
  }
  checkRequests(rt, path, (op) => {
    if (!('range' in op)) return;
    const rev = op.range.revision ?? 0;
    if (rev === 0) return;
    if (rev > txn.rev()) throw new FutureRevisionError(txn.rev(), rev);
    if (rev < txn.compactRev) throw new CompactedError(txn.compactRev, rev);
  });
  const resp: TxnResponse = { header: { revision: 0 }, succeeded: path[0]!, responses: [] };
  runBranch(txn, rt, path, resp);
  resp.header.revision = txn.rev();
  return resp;
}
