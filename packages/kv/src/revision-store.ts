/**
 * The revision-keyed store (etcd's key bucket): one row per change at (main, sub), with the key's
 * value and metadata as of that change. A delete writes a tombstone row (the key only). Reads at
 * a past revision find their rows through the key index.
 */
import type Database from 'better-sqlite3';
import { withBigInts } from './schema.js';
import { AssertionError } from 'node:assert';
import { crc32 } from 'node:zlib';
import { KvCorruptionError } from './errors.js';
import { indexEntryCrc } from './key-index-table.js';
import type { Revision } from './revision.js';
import type { KeyValue } from './types.js';

/** One change as stored. */
export interface RevisionRow {
  main: number;
  sub: number;
  tombstone: boolean;
  kv: KeyValue;
}

interface RawRow {
  main: bigint;
  sub: bigint;
  tombstone: bigint;
  key: Buffer;
  value: Buffer;
  create_revision: bigint;
  version: bigint;
  lease: bigint;
  crc: bigint;
}

const COLUMNS = 'main, sub, tombstone, key, value, create_revision, version, lease, crc';

const header = Buffer.alloc(56);

/** Writes a safe integer as an int64 big-endian without going through BigInt (a put hashes six). */
function writeInt64(buf: Buffer, value: number, offset: number): void {
  const high = Math.floor(value / 0x1_0000_0000);
  buf.writeInt32BE(high, offset);
  buf.writeUInt32BE(value - high * 0x1_0000_0000, offset + 4);
}

function rowCrc(main: number, sub: number, tombstone: number, key: Uint8Array, value: Uint8Array, createRevision: number, version: number, lease: bigint): number {
  writeInt64(header, main, 0);
  writeInt64(header, sub, 8);
  writeInt64(header, tombstone, 16);
  writeInt64(header, createRevision, 24);
  writeInt64(header, version, 32);
  header.writeBigInt64BE(lease, 40);
  // The key's length keeps a byte moved from the key to the value from passing.
  writeInt64(header, key.length, 48);
  let crc = crc32(header);
  if (key.length > 0) crc = crc32(key, crc);
  // zlib.crc32 of a zero-length BLOB without a backing store returns 0 on Node 20, not `crc`.
  if (value.length > 0) crc = crc32(value, crc);
  return crc;
}

function toRow(raw: RawRow): RevisionRow {
  return {
    main: Number(raw.main),
    sub: Number(raw.sub),
    tombstone: raw.tombstone !== 0n,
    kv: {
      key: new Uint8Array(raw.key),
      value: new Uint8Array(raw.value),
      createRevision: Number(raw.create_revision),
      modRevision: raw.tombstone !== 0n ? 0 : Number(raw.main),
      version: Number(raw.version),
      lease: raw.lease,
    },
  };
}

export class RevisionStore {
  private readonly insert: Database.Statement<[number, number, number, Uint8Array, Uint8Array, number, number, bigint, number, number]>;
  private readonly getOne: Database.Statement<[number, number], RawRow>;
  private readonly lastOf: Database.Statement<[Uint8Array, number], RawRow>;
  private readonly allRows: Database.Statement<[number], RawRow>;
  private readonly sinceRows: Database.Statement<[number, number], RawRow>;
  private readonly belowRows: Database.Statement<[number], { main: number; sub: number }>;
  private readonly deleteOne: Database.Statement<[number, number]>;

  constructor(
    db: Database.Database,
    private readonly file: string,
  ) {
    this.insert = db.prepare(
      'INSERT INTO kv (main, sub, tombstone, key, value, create_revision, version, lease, crc, key_crc) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
    );
    this.getOne = withBigInts(db.prepare(`SELECT ${COLUMNS} FROM kv WHERE main = ? AND sub = ?`));
    // Through the key index (see KeyIndexTable): one seek, whatever the key's history.
    this.lastOf = withBigInts(db.prepare(`SELECT ${COLUMNS} FROM kv INDEXED BY kv_key WHERE key = ? AND main <= ? ORDER BY main DESC, sub DESC LIMIT 1`));
    this.allRows = withBigInts(db.prepare(`SELECT ${COLUMNS} FROM kv WHERE main <= ? ORDER BY main, sub`));
    this.sinceRows = withBigInts(db.prepare(`SELECT ${COLUMNS} FROM kv WHERE main >= ? AND main <= ? ORDER BY main, sub`));
    this.belowRows = db.prepare('SELECT main, sub FROM kv WHERE main <= ? ORDER BY main, sub');
    this.deleteOne = db.prepare('DELETE FROM kv WHERE main = ? AND sub = ?');
  }

  put(rev: Revision, kv: KeyValue): void {
    const crc = rowCrc(rev.main, rev.sub, 0, kv.key, kv.value, kv.createRevision, kv.version, kv.lease);
    const keyCrc = indexEntryCrc(kv.key, rev.main, rev.sub, 0, kv.createRevision, kv.version);
    this.insert.run(rev.main, rev.sub, 0, kv.key, kv.value, kv.createRevision, kv.version, kv.lease, crc, keyCrc);
  }

  /** etcd writes a tombstone as a KeyValue with only the key set. */
  putTombstone(rev: Revision, key: Uint8Array): void {
    const empty = new Uint8Array(0);
    this.insert.run(rev.main, rev.sub, 1, key, empty, 0, 0, 0n, rowCrc(rev.main, rev.sub, 1, key, empty, 0, 0, 0n), indexEntryCrc(key, rev.main, rev.sub, 1, 0, 0));
  }

  /** The key's last change at or below main revision `rev` (a tombstone when deleted then), or undefined. */
  last(key: Uint8Array, rev: number): RevisionRow | undefined {
    const raw = this.lastOf.get(key, rev);
    return raw === undefined ? undefined : this.checked(raw);
  }

  /** The row at `rev`; its absence means the key index and this store disagree, a bug. */
  get(rev: Revision): RevisionRow {
    const raw = this.getOne.get(rev.main, rev.sub);
    if (raw === undefined) {
      throw new AssertionError({ message: `revision store: no row at ${rev.main}.${rev.sub} although the key index points there` });
    }
    return this.checked(raw);
  }

  /** Every row at or below `main`, in revision order. */
  *upTo(main: number): IterableIterator<RevisionRow> {
    // Only the caller's hashing runs while this iterator is open; it issues no statements.
    for (const raw of this.allRows.iterate(main)) yield this.checked(raw);
  }

  /** The rows of main revisions in [from, to], in revision order (watchers catching up). */
  between(from: number, to: number): RevisionRow[] {
    return this.sinceRows.all(from, to).map((raw) => this.checked(raw));
  }

  private checked(raw: RawRow): RevisionRow {
    const row = toRow(raw);
    const crc = rowCrc(row.main, row.sub, Number(raw.tombstone), raw.key, raw.value, Number(raw.create_revision), Number(raw.version), raw.lease);
    if (BigInt(crc) !== raw.crc) throw new KvCorruptionError(this.file, `kv row at revision ${row.main}.${row.sub}: checksum mismatch`);
    return row;
  }

  /** Deletes the rows at or below `main` that `keep` (revision ids) does not list; returns how many. */
  deleteBelow(main: number, keep: Set<string>): number {
    let deleted = 0;
    for (const row of this.belowRows.all(main)) {
      if (keep.has(`${row.main}_${row.sub}`)) continue;
      this.deleteOne.run(row.main, row.sub);
      deleted++;
    }
    return deleted;
  }
}
