/**
 * The key index on disk (etcd's treeIndex): the `kv_key` index over the revision store's rows,
 * ordered by (key, main, sub), so that a key's history is a run of entries of its own. A put adds
 * one entry whatever the key's history (a B-tree insert); a read at a revision seeks the key's
 * last entry at or below it; compaction and HashKV restore each key's generations from its run.
 */
import type Database from 'better-sqlite3';
import { crc32 } from 'node:zlib';
import { KvCorruptionError } from './errors.js';
import { type IndexedRevision, KeyIndex } from './key-index.js';

/** One entry of the key index: a change to `key` at (main, sub). */
export interface IndexEntry extends IndexedRevision {
  key: Buffer;
}

/** A raw entry: key, main, sub, tombstone, create_revision, version, key_crc. */
type RawEntry = [Buffer, number, number, number, number, number, number];

const header = Buffer.alloc(40);

/** The CRC-32 stored with an index entry (the `key_crc` column of its row). */
export function indexEntryCrc(key: Uint8Array, main: number, sub: number, tombstone: number, createRevision: number, version: number): number {
  header.writeDoubleBE(main, 0);
  header.writeDoubleBE(sub, 8);
  header.writeDoubleBE(tombstone, 16);
  header.writeDoubleBE(createRevision, 24);
  header.writeDoubleBE(version, 32);
  let crc = crc32(header);
  // zlib.crc32 of a zero-length BLOB without a backing store returns 0 on Node 20, not `crc`.
  if (key.length > 0) crc = crc32(key, crc);
  return crc;
}

const COLUMNS = 'key, main, sub, tombstone, create_revision, version, key_crc';

export class KeyIndexTable {
  private readonly lastOf: Database.Statement<[Uint8Array, number], RawEntry>;
  private readonly rangeRows: Database.Statement<[Uint8Array, Uint8Array, number], RawEntry>;
  private readonly fromRows: Database.Statement<[Uint8Array, number], RawEntry>;
  private readonly allRows: Database.Statement<[], RawEntry>;

  constructor(
    db: Database.Database,
    private readonly file: string,
  ) {
    // INDEXED BY: a plan that scanned the table instead would be correct but cost O(history).
    this.lastOf = db.prepare<[Uint8Array, number], RawEntry>(`SELECT ${COLUMNS} FROM kv INDEXED BY kv_key WHERE key = ? AND main <= ? ORDER BY main DESC, sub DESC LIMIT 1`).raw();
    this.rangeRows = db.prepare<[Uint8Array, Uint8Array, number], RawEntry>(`SELECT ${COLUMNS} FROM kv INDEXED BY kv_key WHERE key >= ? AND key < ? AND main <= ? ORDER BY key, main, sub`).raw();
    this.fromRows = db.prepare<[Uint8Array, number], RawEntry>(`SELECT ${COLUMNS} FROM kv INDEXED BY kv_key WHERE key >= ? AND main <= ? ORDER BY key, main, sub`).raw();
    this.allRows = db.prepare<[], RawEntry>(`SELECT ${COLUMNS} FROM kv INDEXED BY kv_key ORDER BY key, main, sub`).raw();
  }

  private checked(raw: RawEntry): IndexEntry {
    const [key, main, sub, tombstone, createRevision, version, crc] = raw;
    if (indexEntryCrc(key, main, sub, tombstone, createRevision, version) !== crc) {
      throw new KvCorruptionError(this.file, `key index entry of key ${key.toString('hex')} at ${main}.${sub}: checksum mismatch`);
    }
    return { key, main, sub, tombstone: tombstone !== 0, createRevision, version };
  }

  /** The key's last change at or below `rev` (a tombstone when it was deleted), or undefined. */
  last(key: Uint8Array, rev: number): IndexEntry | undefined {
    const raw = this.lastOf.get(key, rev);
    return raw === undefined ? undefined : this.checked(raw);
  }

  /**
   * Visits, in byte order, each key of a range that has a change at or below `rev`, with its last
   * such change (a tombstone when the key was deleted then), until `visit` returns false. `end`
   * undefined: the single key; empty: every key from `key` on.
   */
  visit(key: Uint8Array, end: Uint8Array | undefined, rev: number, visit: (entry: IndexEntry) => boolean): void {
    if (end === undefined) {
      const entry = this.last(key, rev);
      if (entry !== undefined) visit(entry);
      return;
    }
    // all(), not iterate(): the visitor reads other tables, and better-sqlite3 refuses other
    // statements on a connection while an iterator is open.
    const rows = end.length === 0 ? this.fromRows.all(key, rev) : this.rangeRows.all(key, end, rev);
    // Entries come in (key, main, sub) order: a key's last one is followed by another key's.
    for (let i = 0; i < rows.length; i++) {
      const next = rows[i + 1];
      if (next !== undefined && next[0].equals(rows[i]![0])) continue;
      if (!visit(this.checked(rows[i]!))) return;
    }
  }

  /** Every key's index with its generations, in key order (compaction and HashKV walk them all, as etcd does). */
  all(): KeyIndex[] {
    const out: KeyIndex[] = [];
    let key: Buffer | undefined;
    let run: IndexEntry[] = [];
    for (const raw of this.allRows.iterate()) {
      const entry = this.checked(raw);
      if (key !== undefined && !entry.key.equals(key)) {
        out.push(KeyIndex.restore(new Uint8Array(key), run));
        run = [];
      }
      key = entry.key;
      run.push(entry);
    }
    if (key !== undefined) out.push(KeyIndex.restore(new Uint8Array(key), run));
    return out;
  }
}
