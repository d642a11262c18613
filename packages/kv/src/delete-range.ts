/** A DeleteRange as etcd's applier serves it: prev_kv and the deleted count. */
import type { StoreTxn } from './store-txn.js';
import type { DeleteRangeRequest, DeleteRangeResponse, KeyValue } from './types.js';
import { rangeEndOf } from './validate.js';

export function applyDeleteRange(txn: StoreTxn, d: DeleteRangeRequest): DeleteRangeResponse {
  const end = rangeEndOf(d.rangeEnd);
  let prevKvs: KeyValue[] = [];
  if (d.prevKv === true) prevKvs = txn.range(d.key, end, { limit: 0, rev: 0, count: false }).kvs;
  const { deleted, rev } = txn.deleteRange(d.key, end);
  return { header: { revision: rev }, deleted, prevKvs };
}
