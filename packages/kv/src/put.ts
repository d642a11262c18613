/** A Put as etcd's applier serves it: prev_kv, ignore_value and ignore_lease. */
import { KeyNotFoundError } from './errors.js';
import type { StoreTxn } from './store-txn.js';
import type { PutRequest, PutResponse } from './types.js';

/** Applies `p` in `txn`. The caller has checked that the lease exists. */
export function applyPut(txn: StoreTxn, p: PutRequest): PutResponse {
  let value = p.value;
  let lease = p.lease ?? 0n;
  const needPrev = p.ignoreValue === true || p.ignoreLease === true || p.prevKv === true;
  const prev = needPrev ? txn.range(p.key, undefined, { limit: 0, rev: 0, count: false }).kvs[0] : undefined;
  if ((p.ignoreValue === true || p.ignoreLease === true) && prev === undefined) throw new KeyNotFoundError();
  if (p.ignoreValue === true) value = prev!.value;
  if (p.ignoreLease === true) lease = prev!.lease;
  const revision = txn.put(p.key, value, lease);
  const resp: PutResponse = { header: { revision } };
  if (p.prevKv === true && prev !== undefined) resp.prevKv = prev;
  return resp;
}
