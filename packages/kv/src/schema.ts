/**
 * The store's tables. The split mirrors etcd's mvcc: `key_index` maps a key to its generations of
 * revisions (etcd keeps this tree in memory and rebuilds it by scanning history on start; here it
 * is a table so that opening reads nothing but the meta row), `kv` is the revision-keyed store
 * (etcd's key bucket: one row per change, tombstones included), `lease` and `lease_key` are the
 * lessor's state, and `meta` holds the revision, the compact revision and the Raft position,
 * written by the same transaction as the data (etcd's consistent index).
 *
 * Rows of `kv` and `key_index` carry a CRC-32 of their contents, checked on every read: SQLite's
 * own checks find a broken page but not a flipped byte inside a value.
 */
import type Database from 'better-sqlite3';

/** 'PKV1' as SQLite's application_id: a file that is not a Pontoon KV store is refused. */
export const APPLICATION_ID = 0x504b5631;
export const SCHEMA_VERSION = 1;

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
CREATE TABLE IF NOT EXISTS key_index (
  key BLOB PRIMARY KEY,
  generations BLOB NOT NULL,
  crc INTEGER NOT NULL
) WITHOUT ROWID;
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
  PRIMARY KEY (main, sub)
) WITHOUT ROWID;
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

/** Makes a statement return INTEGER columns as bigint (lease ids are int64). */
export function withBigInts<S extends Database.Statement<never[], unknown>>(stmt: S): S {
  stmt.safeIntegers(true);
  return stmt;
}
