/**
 * The meta row: the store revision, the compact revision, the Raft position of the last applied
 * entry (etcd's consistent index) and the next generated lease id. Every write transaction
 * rewrites it, so the data and the position always agree, and opening the store reads only this
 * row. A CRC-32 over the fields catches a flipped byte that SQLite's page checks do not.
 */
import type Database from 'better-sqlite3';
import { withBigInts } from './schema.js';
import { crc32 } from 'node:zlib';
import { KvCorruptionError } from './errors.js';

export interface Meta {
  revision: number;
  /** -1 until the first compaction (etcd's initial compactMainRev). */
  compactRevision: number;
  appliedIndex: number;
  appliedTerm: number;
  nextLeaseId: bigint;
}

interface MetaRow {
  revision: bigint;
  compact_revision: bigint;
  applied_index: bigint;
  applied_term: bigint;
  next_lease_id: bigint;
  checksum: bigint;
}

/** An empty store: revision 1 (etcd starts there), never compacted, nothing applied. */
export const INITIAL_META: Meta = { revision: 1, compactRevision: -1, appliedIndex: 0, appliedTerm: 0, nextLeaseId: 1n };

function checksum(m: Meta): number {
  const buf = Buffer.alloc(40);
  buf.writeBigInt64BE(BigInt(m.revision), 0);
  buf.writeBigInt64BE(BigInt(m.compactRevision), 8);
  buf.writeBigInt64BE(BigInt(m.appliedIndex), 16);
  buf.writeBigInt64BE(BigInt(m.appliedTerm), 24);
  buf.writeBigInt64BE(m.nextLeaseId, 32);
  return crc32(buf);
}

export class MetaTable {
  private readonly readRow: Database.Statement<[], MetaRow>;
  private readonly writeRow: Database.Statement<[number, number, number, number, bigint, number]>;

  constructor(db: Database.Database, private readonly file: string) {
    this.readRow = withBigInts(db.prepare('SELECT * FROM meta WHERE id = 1'));
    this.writeRow = db.prepare(
      'INSERT OR REPLACE INTO meta (id, revision, compact_revision, applied_index, applied_term, next_lease_id, checksum) VALUES (1, ?, ?, ?, ?, ?, ?)',
    );
  }

  /** The meta row, checked; undefined in a new database. */
  read(): Meta | undefined {
    const row = this.readRow.get();
    if (row === undefined) return undefined;
    const meta: Meta = {
      revision: Number(row.revision),
      compactRevision: Number(row.compact_revision),
      appliedIndex: Number(row.applied_index),
      appliedTerm: Number(row.applied_term),
      nextLeaseId: row.next_lease_id,
    };
    if (checksum(meta) !== Number(row.checksum)) {
      throw new KvCorruptionError(this.file, `meta row checksum mismatch (revision ${meta.revision}, applied index ${meta.appliedIndex})`);
    }
    return meta;
  }

  write(m: Meta): void {
    this.writeRow.run(m.revision, m.compactRevision, m.appliedIndex, m.appliedTerm, m.nextLeaseId, checksum(m));
  }
}
