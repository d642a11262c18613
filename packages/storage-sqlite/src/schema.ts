/**
 * The database layout, its version, and the checks made on the file before anything is read.
 *
 * Tables (every row carries a CRC-32 over its key and value, see checksum.js):
 * - `entries`: the log after `log_start`, one row per entry, keyed by index.
 * - `log_start`: the index and term of the entry just before the first one kept (etcd's dummy
 *   entry), so that term(firstIndex() - 1) survives compaction.
 * - `hard_state`: term, vote, commit.
 * - `snapshot`: the latest snapshot: index, term, its ConfState (the store's conf state, what
 *   initialState() returns) and its payload, in the database so that installing a snapshot is
 *   part of the same transaction as the rest of a Ready.
 *
 * The schema version is SQLite's `user_version`; `application_id` marks the file as ours.
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { emptyConfState } from '@pontoon/raft/core';
import { numbersChecksum, snapshotChecksum } from './checksum.js';
import { CorruptionError, SchemaVersionError } from './errors.js';
import { SCHEMA_VERSION } from './schema-version.js';
/** "Pont" in ASCII: SQLite's application_id for our files. */
export const APPLICATION_ID = 0x506f6e74;

/** The file names inside a store's directory. */
export const DB_FILE = 'raft-log.sqlite';
export const LOCK_FILE = 'LOCK';

const DDL = `
CREATE TABLE entries (
  idx INTEGER PRIMARY KEY,
  term INTEGER NOT NULL,
  type INTEGER NOT NULL,
  data BLOB NOT NULL,
  crc INTEGER NOT NULL
);
CREATE TABLE log_start (
  id INTEGER PRIMARY KEY CHECK (id = 0),
  idx INTEGER NOT NULL,
  term INTEGER NOT NULL,
  crc INTEGER NOT NULL
);
CREATE TABLE hard_state (
  id INTEGER PRIMARY KEY CHECK (id = 0),
  term INTEGER NOT NULL,
  vote INTEGER NOT NULL,
  commit_index INTEGER NOT NULL,
  crc INTEGER NOT NULL
);
CREATE TABLE snapshot (
  id INTEGER PRIMARY KEY CHECK (id = 0),
  idx INTEGER NOT NULL,
  term INTEGER NOT NULL,
  conf_state TEXT NOT NULL,
  data BLOB NOT NULL,
  crc INTEGER NOT NULL
);
`;

/**
 * Creates an empty store at `dbPath`, atomically: it is built under a temporary name, synced,
 * renamed into place and the directory synced. So a database file that exists was fully
 * initialised, and one that is empty or headless is corrupt, never "new".
 */
export function createDatabase(dbPath: string): void {
  const tmp = `${dbPath}.creating`;
  fs.rmSync(tmp, { force: true });
  const db = new Database(tmp);
  try {
    // journal_mode=WAL is persistent: it is recorded in the file header.
    db.pragma('journal_mode = WAL');
    db.pragma(`application_id = ${APPLICATION_ID}`);
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
    const cs = JSON.stringify(emptyConfState());
    const empty = Buffer.alloc(0);
    db.transaction(() => {
      db.exec(DDL);
      db.prepare('INSERT INTO log_start VALUES (0, 0, 0, ?)').run(numbersChecksum('log_start', [0, 0]));
      db.prepare('INSERT INTO hard_state VALUES (0, 0, 0, 0, ?)').run(numbersChecksum('hard_state', [0, 0, 0]));
      db.prepare('INSERT INTO snapshot VALUES (0, 0, 0, ?, ?, ?)').run(cs, empty, snapshotChecksum(0, 0, cs, empty));
    })();
    // Fold the WAL into the main file so that the rename below moves everything.
    db.pragma('wal_checkpoint(TRUNCATE)');
  } finally {
    db.close();
  }
  fsyncPath(tmp);
  fs.renameSync(tmp, dbPath);
  fsyncPath(path.dirname(dbPath));
}

/** fsync of a file or directory by path. */
export function fsyncPath(p: string): void {
  const fd = fs.openSync(p, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Refuses a main database file shorter than its header says, before SQLite reads it (SQLite
 * would read the missing pages as zeros or report a generic "malformed" later). Only checked when
 * the WAL is empty: with frames in the WAL, a checkpoint may have been cut short by a crash, and
 * SQLite's WAL recovery, then the checksums, judge the file.
 */
export function checkFileHeader(dbPath: string): void {
  const size = fs.statSync(dbPath).size;
  const walPath = `${dbPath}-wal`;
  const walBytes = fs.existsSync(walPath) ? fs.statSync(walPath).size : 0;
  if (walBytes > 0) return;
  if (size < 100) throw new CorruptionError('database file', `${dbPath} is ${size} bytes, shorter than an SQLite header: truncated`);
  const header = Buffer.alloc(100);
  const fd = fs.openSync(dbPath, 'r');
  try {
    fs.readSync(fd, header, 0, 100, 0);
  } finally {
    fs.closeSync(fd);
  }
  if (header.toString('latin1', 0, 16) !== 'SQLite format 3\0') {
    throw new CorruptionError('database file', `${dbPath} does not start with an SQLite header`);
  }
  const rawPageSize = header.readUInt16BE(16);
  const pageSize = rawPageSize === 1 ? 65536 : rawPageSize;
  const changeCounter = header.readUInt32BE(24);
  const pageCount = header.readUInt32BE(28);
  const versionValidFor = header.readUInt32BE(92);
  // The in-header page count is only meaningful when written by the same change as the counter.
  if (changeCounter === versionValidFor && pageCount > 0 && size < pageCount * pageSize) {
    throw new CorruptionError(
      'database file',
      `${dbPath} is ${size} bytes but its header says ${pageCount} pages of ${pageSize} bytes: truncated`,
    );
  }
}

/** Refuses a database of another schema version, or not made by this package. */
export function checkSchema(db: Database.Database, dbPath: string): void {
  const appId = db.pragma('application_id', { simple: true }) as number;
  if (appId !== APPLICATION_ID) throw new SchemaVersionError(dbPath, undefined, SCHEMA_VERSION);
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version !== SCHEMA_VERSION) throw new SchemaVersionError(dbPath, version, SCHEMA_VERSION);
}
