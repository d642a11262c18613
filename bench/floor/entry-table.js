// @ts-check
/**
 * The replicator's log in SQLite: one row per entry, as a Raft store keeps it (the index as the
 * primary key, the term, the payload), in WAL mode at synchronous=FULL: a commit returns once
 * the WAL is on stable storage. Shared by the main-thread writer and the worker-thread writer
 * (sqlite-writer-worker.js), hence plain JavaScript (checked by tsc): a worker runs without a
 * TypeScript loader.
 */
import path from 'node:path';
import Database from 'better-sqlite3';

/** The term every entry carries: the replicator has no elections, so one term. */
export const TERM = 1;

/**
 * @param {string} dir
 * @returns {Database.Database}
 */
export function openEntryTable(dir) {
  const db = new Database(path.join(dir, 'log.sqlite'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec('CREATE TABLE IF NOT EXISTS entries (idx INTEGER PRIMARY KEY, term INTEGER NOT NULL, data BLOB NOT NULL)');
  return db;
}

/**
 * A function that commits batch bodies (`[f64 firstIndex][entry frames...]`, wire.ts) in one
 * transaction and returns the last index written.
 * @param {Database.Database} db
 * @returns {(bodies: readonly Uint8Array[]) => number}
 */
export function batchAppender(db) {
  const insert = db.prepare('INSERT INTO entries (idx, term, data) VALUES (?, ?, ?)');
  return db.transaction(
    /** @param {readonly Uint8Array[]} bodies */
    (bodies) => {
      let last = 0;
      for (const u of bodies) {
        // Bodies posted to the worker arrive as plain Uint8Arrays: read them through a Buffer view.
        const body = Buffer.isBuffer(u) ? u : Buffer.from(u.buffer, u.byteOffset, u.byteLength);
        let idx = body.readDoubleBE(0);
        let off = 8;
        while (off < body.length) {
          const len = body.readUInt32BE(off);
          insert.run(idx, TERM, body.subarray(off + 4, off + 4 + len));
          last = idx++;
          off += 4 + len;
        }
      }
      return last;
    },
  );
}
