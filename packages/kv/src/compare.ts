/** A txn's compares (etcd's applyCompare / compareKV). */
import { compareBytes } from './bytes.js';
import type { StoreTxn } from './store-txn.js';
import type { Compare, KeyValue } from './types.js';
import { rangeEndOf } from './validate.js';

const ABSENT: KeyValue = { key: new Uint8Array(0), createRevision: 0, modRevision: 0, version: 0, value: new Uint8Array(0), lease: 0n };

function sign(n: number | bigint): number {
  return n > 0 ? 1 : n < 0 ? -1 : 0;
}

function compareKV(c: Compare, kv: KeyValue): boolean {
  let result: number;
  switch (c.target) {
    case 'value':
      result = compareBytes(kv.value, c.value);
      break;
    case 'create':
      result = sign(kv.createRevision - c.createRevision);
      break;
    case 'mod':
      result = sign(kv.modRevision - c.modRevision);
      break;
    case 'version':
      result = sign(kv.version - c.version);
      break;
    case 'lease':
      result = sign(kv.lease - c.lease);
      break;
  }
  switch (c.result) {
    case 'equal':
      return result === 0;
    case 'notEqual':
      return result !== 0;
    case 'greater':
      return result > 0;
    case 'less':
      return result < 0;
  }
}

/**
 * Whether `c` holds for every key of its range. A missing key compares as zeroes (version 0,
 * create 0, ...), except that a value compare on a missing key always fails, as in etcd.
 */
export function applyCompare(txn: StoreTxn, c: Compare): boolean {
  const { kvs } = txn.range(c.key, rangeEndOf(c.rangeEnd), { limit: 0, rev: 0, count: false });
  if (kvs.length === 0) return c.target === 'value' ? false : compareKV(c, ABSENT);
  return kvs.every((kv) => compareKV(c, kv));
}

export function applyCompares(txn: StoreTxn, cmps: readonly Compare[]): boolean {
  return cmps.every((c) => applyCompare(txn, c));
}
