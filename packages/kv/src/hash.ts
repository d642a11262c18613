/**
 * HashKV as etcd 3.4 computes it (mvcc store.HashByRev): CRC-32C (Castagnoli) over the bucket
 * name "key", then, in revision order, each stored change's revision bytes and its KeyValue in
 * protobuf encoding; changes at or below the compact revision count only if a compaction at the
 * hashed revision would keep them. Members with the same history hash the same, and the same as
 * an etcd 3.4 with that history.
 */
import type { KeyIndex } from './key-index.js';
import { revisionBytes, revisionId } from './revision.js';
import type { RevisionRow } from './revision-store.js';
import type { KeyValue } from './types.js';

const CASTAGNOLI = 0x82f63b78;
const TABLE = new Uint32Array(256);
for (let n = 0; n < 256; n++) {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? CASTAGNOLI ^ (c >>> 1) : c >>> 1;
  TABLE[n] = c >>> 0;
}

/** An incremental CRC-32C, as Go's hash/crc32 with the Castagnoli table. */
export class Crc32c {
  private crc = 0xffffffff;
  update(bytes: Uint8Array): this {
    let c = this.crc;
    for (let i = 0; i < bytes.length; i++) c = TABLE[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
    this.crc = c;
    return this;
  }
  digest(): number {
    return (this.crc ^ 0xffffffff) >>> 0;
  }
}

/** Appends `value` to `out` as a protobuf varint (an int64 field's encoding). */
export function appendVarint(out: number[], value: bigint): void {
  // int64 fields encode negatives as their 64-bit two's complement.
  let v = BigInt.asUintN(64, value);
  while (v >= 0x80n) {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
}

function pushBytes(out: number[], tag: number, bytes: Uint8Array): void {
  if (bytes.length === 0) return;
  out.push(tag);
  appendVarint(out, BigInt(bytes.length));
  for (const b of bytes) out.push(b);
}

function pushInt(out: number[], tag: number, value: bigint): void {
  if (value === 0n) return;
  out.push(tag);
  appendVarint(out, value);
}

/** mvccpb.KeyValue in protobuf encoding (fields in number order, zero values left out). */
export function marshalKeyValue(kv: KeyValue): Uint8Array {
  const out: number[] = [];
  pushBytes(out, 0x0a, kv.key);
  pushInt(out, 0x10, BigInt(kv.createRevision));
  pushInt(out, 0x18, BigInt(kv.modRevision));
  pushInt(out, 0x20, BigInt(kv.version));
  pushBytes(out, 0x2a, kv.value);
  pushInt(out, 0x30, kv.lease);
  return Uint8Array.from(out);
}

/**
 * Whether etcd 3.4 would no longer store this change: a delete at exactly the compact revision.
 * The store's compaction keeps it (as etcd 3.5 does, so that a watch from the compact revision
 * still gets the delete); what must equal etcd 3.4 (HashKV, snapshots in etcd's format) leaves
 * it out.
 */
export function droppedByEtcd34Compaction(change: { readonly main: number; readonly tombstone: boolean }, compactRevision: number): boolean {
  return change.tombstone && change.main === compactRevision;
}

/** The hash of the store at `rev` given its key indexes and its rows up to `rev`. */
export function hashByRev(rev: number, compactRev: number, keyIndexes: readonly KeyIndex[], rows: Iterable<RevisionRow>): number {
  const keep = new Set<string>();
  for (const ki of keyIndexes) ki.keep(rev, keep);
  const lower = compactRev + 1;
  const h = new Crc32c().update(Buffer.from('key'));
  for (const row of rows) {
    if (row.main > rev) continue;
    if (droppedByEtcd34Compaction(row, compactRev)) continue;
    if (row.main < lower && keep.size > 0 && !keep.has(revisionId(row))) continue;
    // A tombstone is stored as a KeyValue with the key alone.
    const kv: KeyValue = row.tombstone ? { key: row.kv.key, createRevision: 0, modRevision: 0, version: 0, value: new Uint8Array(0), lease: 0n } : row.kv;
    h.update(revisionBytes(row, row.tombstone));
    h.update(marshalKeyValue(kv));
  }
  return h.digest();
}
