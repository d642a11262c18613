// @ts-check
/**
 * The writer: a worker thread that owns the store's only write connection, so that the fsync of
 * every commit happens off the main thread and never stalls its event loop.
 *
 * Group commit: when a message arrives, every message already queued behind it is drained too
 * (receiveMessageOnPort) and the whole batch is written in one transaction, so one fsync covers
 * as many Readys as arrived while the previous commit was syncing. Writes are applied in the
 * order they were sent; each is validated against the state left by the ones before it, the way
 * the main thread's view will apply it, and refused whole if invalid. One answer per batch goes
 * back, after COMMIT has returned: with synchronous=FULL, after the WAL is on stable storage.
 *
 * Plain JavaScript (checked by tsc) so that it runs the same from source and from dist, without
 * a TypeScript loader in the worker.
 */
import { parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { entryChecksum, numbersChecksum, snapshotChecksum } from './checksum.js';
import { forEachPackedEntry } from './write-codec.js';

/** @typedef {import('./writer-protocol.js').WriterRequest} WriterRequest */
/** @typedef {import('./writer-protocol.js').WriterResult} WriterResult */
/** @typedef {import('./writer-protocol.js').WriterInit} WriterInit */

if (parentPort === null) throw new Error('writer-worker.js must run as a worker thread');
const port = parentPort;
const init = /** @type {WriterInit} */ (workerData);

const db = new Database(init.dbPath);
db.pragma(`synchronous = ${init.synchronous.toUpperCase()}`);
// The WAL file is reused after each checkpoint; cap what it keeps so the disk footprint stays
// bounded after a burst.
db.pragma('journal_size_limit = 67108864');

const stmt = {
  insertEntry: db.prepare('INSERT INTO entries (idx, term, type, data, crc) VALUES (?, ?, ?, ?, ?)'),
  deleteFrom: db.prepare('DELETE FROM entries WHERE idx >= ?'),
  deleteThrough: db.prepare('DELETE FROM entries WHERE idx <= ?'),
  deleteAll: db.prepare('DELETE FROM entries'),
  termAt: db.prepare('SELECT term FROM entries WHERE idx = ?').pluck(),
  setHardState: db.prepare('UPDATE hard_state SET term = ?, vote = ?, commit_index = ?, crc = ? WHERE id = 0'),
  setSnapshot: db.prepare('UPDATE snapshot SET idx = ?, term = ?, conf_state = ?, data = ?, crc = ? WHERE id = 0'),
  setLogStart: db.prepare('UPDATE log_start SET idx = ?, term = ?, crc = ? WHERE id = 0'),
};

/** The log as the writes so far left it (mirrors the main thread's view once they are durable). */
const state = { ...init.state };
/** Set once a transaction failed: the disk's state is unknown, every later write is refused. */
/** @type {string | undefined} */
let fatal;

/**
 * @param {Uint8Array} u
 * @returns {Buffer}
 */
function asBuffer(u) {
  return Buffer.from(u.buffer, u.byteOffset, u.byteLength);
}

/**
 * @param {number} index
 * @param {number} term
 */
function setLogStart(index, term) {
  stmt.setLogStart.run(index, term, numbersChecksum('log_start', [index, term]));
  state.logStart = index;
  state.logStartTerm = term;
}

/**
 * The term of entry `index`, which must be in [logStart, lastIndex].
 * @param {number} index
 * @returns {number}
 */
function termAt(index) {
  if (index === state.logStart) return state.logStartTerm;
  const t = stmt.termAt.get(index);
  if (typeof t !== 'number') throw new Error(`entry ${index} missing from the database`);
  return t;
}

/**
 * Validates and applies one request inside the open transaction.
 * @param {WriterRequest} req
 * @returns {WriterResult}
 */
function apply(req) {
  switch (req.kind) {
    case 'append': {
      // Validate all of it first against the state it will see, then write: a refused write
      // leaves nothing behind.
      let logStart = state.logStart;
      let lastIndex = state.lastIndex;
      let snapshotIndex = state.snapshotIndex;
      const snap = req.snapshot;
      if (snap !== undefined) {
        if (state.snapshotIndex !== 0 && snap.index <= state.snapshotIndex) {
          return { seq: req.seq, error: 'SNAP_OUT_OF_DATE', message: `snapshot ${snap.index} is not newer than ${state.snapshotIndex}` };
        }
        logStart = snap.index;
        lastIndex = snap.index;
        snapshotIndex = snap.index;
      }
      let skipTo = 0;
      if (req.count > 0) {
        const last = req.firstIndex + req.count - 1;
        const first = Math.max(req.firstIndex, logStart + 1);
        if (last >= first) {
          if (first > lastIndex + 1) {
            return { seq: req.seq, error: 'INVARIANT', message: `missing log entry [last: ${lastIndex}, append at: ${first}]` };
          }
          if (first <= snapshotIndex) {
            return {
              seq: req.seq,
              error: 'INVARIANT',
              message: `append at ${first} would replace entries covered by the snapshot at ${snapshotIndex}`,
            };
          }
          skipTo = first;
        }
      }
      if (snap !== undefined) {
        stmt.deleteAll.run();
        const data = asBuffer(snap.data);
        stmt.setSnapshot.run(snap.index, snap.term, snap.confState, data, snapshotChecksum(snap.index, snap.term, snap.confState, data));
        setLogStart(snap.index, snap.term);
        state.lastIndex = snap.index;
        state.snapshotIndex = snap.index;
      }
      if (skipTo !== 0) {
        if (skipTo <= state.lastIndex) stmt.deleteFrom.run(skipTo);
        forEachPackedEntry(req.entries, (index, term, type, data) => {
          if (index < skipTo) return;
          const buf = asBuffer(data);
          stmt.insertEntry.run(index, term, type, buf, entryChecksum(index, term, type, buf));
        });
        state.lastIndex = req.firstIndex + req.count - 1;
      }
      const hs = req.hardState;
      if (hs !== undefined) stmt.setHardState.run(hs[0], hs[1], hs[2], numbersChecksum('hard_state', hs));
      return { seq: req.seq };
    }
    case 'snapshot': {
      if (req.index <= state.snapshotIndex) {
        return { seq: req.seq, error: 'SNAP_OUT_OF_DATE', message: `snapshot ${req.index} is not newer than ${state.snapshotIndex}` };
      }
      if (req.index > state.lastIndex) {
        return { seq: req.seq, error: 'INVARIANT', message: `snapshot ${req.index} is out of bound lastindex(${state.lastIndex})` };
      }
      if (req.index < state.logStart) {
        return { seq: req.seq, error: 'COMPACTED', message: `snapshot ${req.index} is before the log start ${state.logStart}` };
      }
      const term = termAt(req.index);
      const data = asBuffer(req.data);
      stmt.setSnapshot.run(req.index, term, req.confState, data, snapshotChecksum(req.index, term, req.confState, data));
      state.snapshotIndex = req.index;
      return { seq: req.seq, term };
    }
    case 'compact': {
      if (req.index <= state.logStart) {
        return { seq: req.seq, error: 'COMPACTED', message: `compact ${req.index}: already compacted up to ${state.logStart}` };
      }
      if (req.index > state.lastIndex) {
        return { seq: req.seq, error: 'INVARIANT', message: `compact ${req.index} is out of bound lastindex(${state.lastIndex})` };
      }
      if (req.index > state.snapshotIndex) {
        return {
          seq: req.seq,
          error: 'INVARIANT',
          message: `compact ${req.index} is beyond the snapshot at ${state.snapshotIndex}: entries not covered by a snapshot would be lost`,
        };
      }
      const term = termAt(req.index);
      stmt.deleteThrough.run(req.index);
      setLogStart(req.index, term);
      return { seq: req.seq };
    }
    default:
      throw new Error(`unknown writer request ${JSON.stringify(req)}`);
  }
}

const applyAll = db.transaction(
  /**
   * @param {WriterRequest[]} reqs
   * @param {WriterResult[]} out
   */
  (reqs, out) => {
    for (const r of reqs) out.push(apply(r));
  },
);

/** @param {WriterRequest[]} batch */
function writeBatch(batch) {
  /** @type {WriterResult[]} */
  const results = [];
  if (fatal === undefined && batch.length > 0) {
    const saved = { ...state };
    try {
      applyAll(batch, results);
      port.postMessage({ kind: 'done', results });
      return;
    } catch (err) {
      Object.assign(state, saved);
      fatal = err instanceof Error ? `${err.message}${'code' in err ? ` (${String(err.code)})` : ''}` : String(err);
      results.length = 0;
    }
  }
  for (const r of batch) results.push({ seq: r.seq, error: 'FAILED', message: fatal ?? 'writer failed' });
  port.postMessage({ kind: 'done', results });
}

port.postMessage({ kind: 'ready' });

port.on('message', (/** @type {WriterRequest | { kind: 'close' }} */ first) => {
  /** @type {WriterRequest[]} */
  const batch = [];
  /** @type {WriterRequest | { kind: 'close' } | undefined} */
  let msg = first;
  while (msg !== undefined) {
    if (msg.kind === 'close') {
      writeBatch(batch);
      db.close();
      port.postMessage({ kind: 'closed' });
      port.close();
      return;
    }
    batch.push(msg);
    const next = receiveMessageOnPort(port);
    msg = next === undefined ? undefined : next.message;
  }
  writeBatch(batch);
});
