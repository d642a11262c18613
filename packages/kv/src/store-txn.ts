/**
 * One transaction on the MVCC store (etcd's storeTxnRead / storeTxnWrite). Writes go to revision
 * beginRev + 1 with increasing sub-revisions; reads inside the transaction see its own earlier
 * writes (they read at beginRev + 1 once something changed). The caller runs it inside one SQLite
 * transaction and, when `changes` is not empty, raises the store revision by one.
 */
import { AssertionError } from 'node:assert';
import { CompactedError, FutureRevisionError } from './errors.js';
import type { IndexEntry, KeyIndexTable } from './key-index-table.js';
import type { LeaseTable } from './lease-table.js';
import type { RevisionStore } from './revision-store.js';
import type { KeyValue } from './types.js';

/** One change made by a transaction: a put (the new kv) or a delete (the key, tombstone). */
export interface Change {
  kv: KeyValue;
  tombstone: boolean;
}

/** The tables a transaction works on. */
export interface StoreTables {
  readonly keyIndex: KeyIndexTable;
  readonly revisions: RevisionStore;
  readonly leases: LeaseTable;
}

/** What the store's key index returns for a range (etcd's RangeResult). */
export interface RangeResult {
  kvs: KeyValue[];
  /** Keys in the range at the revision read (all of them, whatever the limit). */
  count: number;
  /** The revision the transaction reads at (its header revision). */
  rev: number;
}

export interface RangeOptions {
  /** Maximum kvs to return, 0 for all. */
  limit: number;
  /** Revision to read at, 0 for the transaction's. */
  rev: number;
  /** Count only, return no kvs. */
  count: boolean;
}

export class StoreTxn {
  readonly changes: Change[] = [];

  constructor(
    private readonly tables: StoreTables,
    /** The store revision when the transaction began; writes go to beginRev + 1. */
    readonly beginRev: number,
    /** The store's compact revision (etcd's compactMainRev). */
    readonly compactRev: number,
  ) {}

  /** The revision the transaction's reads see. */
  rev(): number {
    return this.changes.length > 0 ? this.beginRev + 1 : this.beginRev;
  }

  /** The kvs of [key, end) (end undefined: the key alone; empty: to the last key). */
  range(key: Uint8Array, end: Uint8Array | undefined, ro: RangeOptions): RangeResult {
    const curRev = this.rev();
    if (ro.rev > curRev) throw new FutureRevisionError(curRev, ro.rev);
    const rev = ro.rev <= 0 ? curRev : ro.rev;
    // etcd's check is strict: a read at exactly the compact revision is served.
    if (rev < this.compactRev) throw new CompactedError(this.compactRev, rev);
    const kvs: KeyValue[] = [];
    let count = 0;
    if (end === undefined) {
      // One statement: the key's last change through the key index, with its row.
      const row = this.tables.revisions.last(key, rev);
      if (row !== undefined && !row.tombstone) {
        count = 1;
        if (!ro.count) kvs.push(row.kv);
      }
      return { kvs, count, rev: curRev };
    }
    this.tables.keyIndex.visit(key, end, rev, (entry) => {
      if (entry.tombstone) return true;
      count++;
      if (!ro.count && (ro.limit <= 0 || kvs.length < ro.limit)) kvs.push(this.tables.revisions.get(entry).kv);
      return true;
    });
    return { kvs, count, rev: curRev };
  }

  /** Writes `value` under `key` with `lease`; returns the revision of the write. */
  put(key: Uint8Array, value: Uint8Array, lease: bigint): number {
    const rev = this.beginRev + 1;
    const idxRev = { main: rev, sub: this.changes.length };
    const prev = this.tables.revisions.last(key, rev);
    let createRevision = rev;
    let oldLease = 0n;
    let version = 1;
    if (prev !== undefined) {
      if (prev.main > rev || (prev.main === rev && prev.sub >= idxRev.sub)) {
        throw new AssertionError({ message: `store txn: put at ${rev}.${idxRev.sub} not above the key's last change ${prev.main}.${prev.sub}` });
      }
      if (!prev.tombstone) {
        createRevision = prev.kv.createRevision;
        oldLease = prev.kv.lease;
        version = prev.kv.version + 1;
      }
    }
    const kv: KeyValue = { key: Uint8Array.from(key), createRevision, modRevision: rev, version, value: Uint8Array.from(value), lease };
    this.tables.revisions.put(idxRev, kv);
    this.changes.push({ kv, tombstone: false });
    if (oldLease !== 0n) this.tables.leases.detach(oldLease, key);
    if (lease !== 0n) this.tables.leases.attach(lease, key);
    return rev;
  }

  /** Deletes the keys of [key, end) that exist; returns how many and the revision of the write. */
  deleteRange(key: Uint8Array, end: Uint8Array | undefined): { deleted: number; rev: number } {
    const rrev = this.rev();
    const keys: IndexEntry[] = [];
    this.tables.keyIndex.visit(key, end, rrev, (entry) => {
      if (!entry.tombstone) keys.push(entry);
      return true;
    });
    for (const entry of keys) this.delete(entry);
    if (keys.length !== 0 || this.changes.length > 0) return { deleted: keys.length, rev: this.beginRev + 1 };
    return { deleted: 0, rev: this.beginRev };
  }

  private delete(entry: IndexEntry): void {
    const lease = this.tables.revisions.get(entry).kv.lease;
    const idxRev = { main: this.beginRev + 1, sub: this.changes.length };
    const key = new Uint8Array(entry.key);
    this.tables.revisions.putTombstone(idxRev, key);
    this.changes.push({
      kv: { key, createRevision: 0, modRevision: idxRev.main, version: 0, value: new Uint8Array(0), lease: 0n },
      tombstone: true,
    });
    if (lease !== 0n) this.tables.leases.detach(lease, key);
  }
}
