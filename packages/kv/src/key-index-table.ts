/**
 * The key index on disk (etcd's treeIndex): one row per key, holding its generations. Range reads
 * visit the rows of [key, end) in byte order; writes rewrite the row of the key they change.
 */
import type Database from 'better-sqlite3';
import { pack, unpack } from 'msgpackr';
import { KeyIndex, decodeGenerations, encodeGenerations } from './key-index.js';

export class KeyIndexTable {
  private readonly getRow: Database.Statement<[Uint8Array], { generations: Buffer }>;
  private readonly putRow: Database.Statement<[Uint8Array, Buffer]>;
  private readonly deleteRow: Database.Statement<[Uint8Array]>;
  private readonly rangeRows: Database.Statement<[Uint8Array, Uint8Array], { key: Buffer; generations: Buffer }>;
  private readonly fromRows: Database.Statement<[Uint8Array], { key: Buffer; generations: Buffer }>;
  private readonly allRows: Database.Statement<[], { key: Buffer; generations: Buffer }>;

  constructor(db: Database.Database) {
    this.getRow = db.prepare('SELECT generations FROM key_index WHERE key = ?');
    this.putRow = db.prepare('INSERT OR REPLACE INTO key_index (key, generations) VALUES (?, ?)');
    this.deleteRow = db.prepare('DELETE FROM key_index WHERE key = ?');
    this.rangeRows = db.prepare('SELECT key, generations FROM key_index WHERE key >= ? AND key < ? ORDER BY key');
    this.fromRows = db.prepare('SELECT key, generations FROM key_index WHERE key >= ? ORDER BY key');
    this.allRows = db.prepare('SELECT key, generations FROM key_index ORDER BY key');
  }

  get(key: Uint8Array): KeyIndex | undefined {
    const row = this.getRow.get(key);
    return row === undefined ? undefined : decodeGenerations(key, unpack(row.generations) as number[]);
  }

  save(ki: KeyIndex): void {
    this.putRow.run(ki.key, pack(encodeGenerations(ki)));
  }

  delete(key: Uint8Array): void {
    this.deleteRow.run(key);
  }

  /**
   * Visits the keys of a range in byte order until `visit` returns false. `end` undefined: the
   * single key; empty: every key from `key` on.
   */
  visit(key: Uint8Array, end: Uint8Array | undefined, visit: (ki: KeyIndex) => boolean): void {
    if (end === undefined) {
      const ki = this.get(key);
      if (ki !== undefined) visit(ki);
      return;
    }
    // all(), not iterate(): the visitor reads other tables, and better-sqlite3 refuses other
    // statements on a connection while an iterator is open.
    const rows = end.length === 0 ? this.fromRows.all(key) : this.rangeRows.all(key, end);
    for (const row of rows) {
      if (!visit(decodeGenerations(row.key, unpack(row.generations) as number[]))) return;
    }
  }

  /** Every key index, in key order (compaction and HashKV walk them all, as etcd does). */
  all(): KeyIndex[] {
    return this.allRows.all().map((row) => decodeGenerations(row.key, unpack(row.generations) as number[]));
  }
}
