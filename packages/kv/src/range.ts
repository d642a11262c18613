/**
 * A Range request as etcd's applier serves it: the store's range, then the min/max revision
 * filters, sorting and the limit, with `more` and `count` as etcd computes them.
 */
import { compareBytes } from './bytes.js';
import type { StoreTxn } from './store-txn.js';
import type { KeyValue, RangeRequest, RangeResponse, SortTarget } from './types.js';
import { rangeEndOf } from './validate.js';

function compareTarget(target: SortTarget, a: KeyValue, b: KeyValue): number {
  switch (target) {
    case 'key':
      return compareBytes(a.key, b.key);
    case 'version':
      return a.version - b.version;
    case 'create':
      return a.createRevision - b.createRevision;
    case 'mod':
      return a.modRevision - b.modRevision;
    case 'value':
      return compareBytes(a.value, b.value);
  }
}

/**
 * Serves `r` from `txn`. Sorting is stable over the key order the store returns, so ties keep
 * ascending key order in both directions (etcd's Go sort leaves the order of ties unspecified).
 */
export function applyRange(txn: StoreTxn, r: RangeRequest): RangeResponse {
  const reqLimit = r.limit ?? 0;
  const sortOrder = r.sortOrder ?? 'none';
  const sortTarget = r.sortTarget ?? 'key';
  const minMod = r.minModRevision ?? 0;
  const maxMod = r.maxModRevision ?? 0;
  const minCreate = r.minCreateRevision ?? 0;
  const maxCreate = r.maxCreateRevision ?? 0;
  let limit = reqLimit;
  // Sorting and filtering need every kv; else one extra tells whether there are more.
  if (sortOrder !== 'none' || minMod !== 0 || maxMod !== 0 || minCreate !== 0 || maxCreate !== 0) limit = 0;
  if (limit > 0) limit += 1;
  const rr = txn.range(r.key, rangeEndOf(r.rangeEnd), { limit, rev: r.revision ?? 0, count: r.countOnly === true });
  let kvs = rr.kvs;
  if (maxMod !== 0) kvs = kvs.filter((kv) => kv.modRevision <= maxMod);
  if (minMod !== 0) kvs = kvs.filter((kv) => kv.modRevision >= minMod);
  if (maxCreate !== 0) kvs = kvs.filter((kv) => kv.createRevision <= maxCreate);
  if (minCreate !== 0) kvs = kvs.filter((kv) => kv.createRevision >= minCreate);
  // etcd sorts ascending by default when the target is not the key (the store's order already is).
  const order = sortTarget !== 'key' && sortOrder === 'none' ? 'ascend' : sortOrder;
  if (order === 'ascend') kvs.sort((a, b) => compareTarget(sortTarget, a, b));
  else if (order === 'descend') kvs.sort((a, b) => compareTarget(sortTarget, b, a));
  let more = false;
  if (reqLimit > 0 && kvs.length > reqLimit) {
    kvs = kvs.slice(0, reqLimit);
    more = true;
  }
  if (r.keysOnly === true) kvs = kvs.map((kv) => ({ ...kv, value: new Uint8Array(0) }));
  return { header: { revision: rr.rev }, kvs, more, count: rr.count };
}
