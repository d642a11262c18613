/**
 * The store's tables. The split mirrors etcd's mvcc: `kv` is the revision-keyed store (etcd's key
 * bucket: one row per change, tombstones included) and its index `kv_key` orders the same rows
 * by (key, main, sub), which makes it the key index (etcd's treeIndex, which etcd keeps in memory
 * and rebuilds by scanning history on start; here it is on disk, so opening reads nothing but the
 * meta row). `lease` and `lease_key` are the lessor's state, and `meta` holds the revision, the
 * compact revision and the Raft position, written by the same transaction as the data (etcd's
 * consistent index).
 *
 * Rows of `kv` carry a CRC-32 of their contents and entries of `kv_key` one of theirs
 * (`key_crc`), checked on every read: SQLite's own checks find a broken page but not a flipped
 * byte inside a value.
 *
 * Schema versions (SQLite's user_version): 1 kept each key's whole history in one `key_index`
 * row, rewritten by every put (a put cost grew with the key's version); 2 is the index above, one
 * entry per change. A version 1 file is migrated on open; a newer one is refused.
 */
import type Database from 'better-sqlite3';
import { KvSchemaVersionError } from './errors.js';
import { indexEntryCrc } from './key-index-table.js';

/** 'PKV1' as SQLite's application_id: a file that is not a Pontoon KV store is refused. */
export const APPLICATION_ID = 0x504b5631;
export const SCHEMA_VERSION = 2;

/**
 * The key index. It holds every column a range needs to decide which keys exist at a revision,
 * their versions and generations, so that counting and compaction read the index alone.
 */
const KEY_INDEX = `
CREATE INDEX IF NOT EXISTS kv_key ON kv (key, main, sub, tombstone, create_revision, version, key_crc);
`;

const TABLES = `
CREATE TABLE IF NOT EXISTS meta (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  revision INTEGER NOT NULL,
  compact_revision INTEGER NOT NULL,
  applied_index INTEGER NOT NULL,
  applied_term INTEGER NOT NULL,
  next_lease_id INTEGER NOT NULL,
  checksum INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS kv (
  main INTEGER NOT NULL,
  sub INTEGER NOT NULL,
  tombstone INTEGER NOT NULL,
  key BLOB NOT NULL,
  value BLOB NOT NULL,
  create_revision INTEGER NOT NULL,
  version INTEGER NOT NULL,
  lease INTEGER NOT NULL,
  crc INTEGER NOT NULL,
  key_crc INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (main, sub)
) WITHOUT ROWID;
${KEY_INDEX}
CREATE TABLE IF NOT EXISTS lease (
  id INTEGER PRIMARY KEY,
  ttl INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS lease_key (
  lease INTEGER NOT NULL,
  key BLOB NOT NULL,
  PRIMARY KEY (lease, key)
) WITHOUT ROWID;
`;

/** Creates the tables in an empty database and stamps it as ours. */
export function createSchema(db: Database.Database): void {
  db.exec(TABLES);
  db.pragma(`application_id = ${APPLICATION_ID}`);
  db.pragma(`user_version = ${SCHEMA_VERSION}`);
}

/**
 * Brings a verified store file to SCHEMA_VERSION, in one transaction (a crash leaves the old
 * layout whole). Version 1: the index is built from the `kv` rows, which hold every revision the
 * old `key_index` rows listed (compaction removed both together), and `key_index` is dropped.
 * A version this code does not know is refused with KvSchemaVersionError, the file untouched.
 */
export function migrateSchema(db: Database.Database, file: string): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version === SCHEMA_VERSION) return;
  if (version !== 1) throw new KvSchemaVersionError(file, version, SCHEMA_VERSION);
  db.function('pontoon_index_entry_crc', { deterministic: true }, (key: unknown, main: unknown, sub: unknown, tombstone: unknown, create: unknown, ver: unknown) =>
    indexEntryCrc(key as Buffer, Number(main), Number(sub), Number(tombstone), Number(create), Number(ver)),
  );
  db.transaction(() => {
    db.exec('ALTER TABLE kv ADD COLUMN key_crc INTEGER NOT NULL DEFAULT 0');
    db.exec('UPDATE kv SET key_crc = pontoon_index_entry_crc(key, main, sub, tombstone, create_revision, version)');
    db.exec(KEY_INDEX);
    db.exec('DROP TABLE key_index');
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
  })();
}

/** Makes a statement return INTEGER columns as bigint (lease ids are int64). */
export function withBigInts<S extends Database.Statement<never[], unknown>>(stmt: S): S {
  stmt.safeIntegers(true);
  return stmt;
}
