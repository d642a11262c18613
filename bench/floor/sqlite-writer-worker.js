// @ts-check
/**
 * The worker-thread writer of the replicator's log (durable-log.ts): it owns the SQLite
 * connection so that the fsync of each commit happens off the replica's event loop, which keeps
 * reading the network meanwhile. Group commit: every batch queued while the previous commit was
 * syncing goes into the next transaction, under one fsync.
 *
 * Plain JavaScript so that it runs in a worker without a TypeScript loader; it mirrors
 * entry-table.ts.
 */
import path from 'node:path';
import { parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';

if (parentPort === null) throw new Error('sqlite-writer-worker.js must run as a worker thread');
const port = parentPort;
const TERM = 1;

const db = new Database(path.join(/** @type {{ dir: string }} */ (workerData).dir, 'log.sqlite'));
db.pragma('journal_mode = WAL');
db.pragma('synchronous = FULL');
db.exec('CREATE TABLE IF NOT EXISTS entries (idx INTEGER PRIMARY KEY, term INTEGER NOT NULL, data BLOB NOT NULL)');
const insert = db.prepare('INSERT INTO entries (idx, term, data) VALUES (?, ?, ?)');

const append = db.transaction(
  /** @param {Uint8Array[]} bodies */
  (bodies) => {
    let last = 0;
    for (const u of bodies) {
      const body = Buffer.from(u.buffer, u.byteOffset, u.byteLength);
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

port.on('message', (/** @type {Uint8Array | 'close'} */ first) => {
  if (first === 'close') {
    db.close();
    port.postMessage('closed');
    return;
  }
  /** @type {Uint8Array[]} */
  const bodies = [first];
  let closing = false;
  for (let m = receiveMessageOnPort(port); m !== undefined; m = receiveMessageOnPort(port)) {
    if (m.message === 'close') closing = true;
    else bodies.push(m.message);
  }
  port.postMessage(append(bodies));
  if (closing) {
    db.close();
    port.postMessage('closed');
  }
});
