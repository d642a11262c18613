// @ts-check
/**
 * The worker-thread writer of the replicator's log (durable-log.ts): it owns the SQLite
 * connection so that the fsync of each commit happens off the replica's event loop, which keeps
 * reading the network meanwhile. Group commit: every batch queued while the previous commit was
 * syncing goes into the next transaction, under one fsync.
 *
 * Plain JavaScript so that it runs in a worker without a TypeScript loader, as entry-table.js,
 * which holds the table and the append it shares with the main-thread writer.
 */
import { parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import { batchAppender, openEntryTable } from './entry-table.js';

if (parentPort === null) throw new Error('sqlite-writer-worker.js must run as a worker thread');
const port = parentPort;
const db = openEntryTable(/** @type {{ dir: string }} */ (workerData).dir);
const append = batchAppender(db);

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
