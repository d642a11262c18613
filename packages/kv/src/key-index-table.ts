/**
 * The key index on disk (etcd's treeIndex): one row per key, holding its generations. Range reads
 * visit the rows of [key, end) in byte order; writes rewrite the row of the key they change.
 */
import type Database from 'better-sqlite3';
import { pack, unpack } from 'msgpackr';
import { crc32 } from 'node:zlib';
import { KvCorruptionError } from './errors.js';
import { KeyIndex, decodeGenerations, encodeGenerations } from './key-index.js';

interface Row {
  key: Buffer;
  generations: Buffer;
  crc: number;
}

function rowCrc(key: Uint8Array, generations: Uint8Array): number {
  return crc32(generations, crc32(key));
}

export class KeyIndexTable {
  private readonly getRow: Database.Statement<[Uint8Array], Row>;
  private readonly putRow: Database.Statement<[Uint8Array, Buffer, number]>;
  private readonly deleteRow: Database.Statement<[Uint8Array]>;
  private readonly rangeRows: Database.Statement<[Uint8Array, Uint8Array], Row>;
  private readonly fromRows: Database.Statement<[Uint8Array], Row>;
  private readonly allRows: Database.Statement<[], Row>;

  constructor(
    db: Database.Database,
    private readonly file: string,
  ) {
    this.getRow = db.prepare('SELECT key, generations, crc FROM key_index WHERE key = ?');
    this.putRow = db.prepare('INSERT OR REPLACE INTO key_index (key, generations, crc) VALUES (?, ?, ?)');
    this.deleteRow = db.prepare('DELETE FROM key_index WHERE key = ?');
    this.rangeRows = db.prepare('SELECT key, generations, crc FROM key_index WHERE key >= ? AND key < ? ORDER BY key');
    this.fromRows = db.prepare('SELECT key, generations, crc FROM key_index WHERE key >= ? ORDER BY key');
    this.allRows = db.prepare('SELECT key, generations, crc FROM key_index ORDER BY key');
  }

  private decode(row: Row): KeyIndex {
    if (rowCrc(row.key, row.generations) !== row.crc) {
      throw new KvCorruptionError(this.file, `key_index row of key ${Buffer.from(row.key).toString('hex')}: checksum mismatch`);
    }
    return decodeGenerations(new Uint8Array(row.key), unpack(row.generations) as number[]);
  }

  get(key: Uint8Array): KeyIndex | undefined {
    const row = this.getRow.get(key);
    return row === undefined ? undefined : this.decode(row);
  }

  save(ki: KeyIndex): void {
    const generations = pack(encodeGenerations(ki));
    this.putRow.run(ki.key, generations, rowCrc(ki.key, generations));
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
      if (!visit(this.decode(row))) return;
    }
  }

  /** Every key index, in key order (compaction and HashKV walk them all, as etcd does). */
  all(): KeyIndex[] {
    return this.allRows.all().map((row) => this.decode(row));
  }
}
