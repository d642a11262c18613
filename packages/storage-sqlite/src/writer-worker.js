// @ts-check
/**
 * The writer: a worker thread that owns the store's only write connection, so that the fsync of
 * every commit happens off the main thread and never stalls its event loop.
 *
 * It does not run an event loop: idle, it blocks in Atomics.wait until the main thread bumps the
 * request counter (writer-protocol.ts), then takes every request queued on its port with
 * receiveMessageOnPort. Group commit: all the requests taken at once, i.e. every Ready that
 * arrived while the previous commit was syncing, are written in one transaction under one fsync.
 * Requests are applied in the order they were sent; each is validated against the state left by
 * the ones before it, the way the main thread's view will apply it, and refused whole if
 * invalid. Completions are reported after COMMIT has returned: with synchronous=FULL, after the
 * WAL is on stable storage.
 *
 * A batch of appends that all say `sync: false` (only the commit index changed) is committed with
 * synchronous=NORMAL when the store runs at FULL: its WAL frames are written but not fsynced.
 * That never reorders durability: WAL frames are appended in order under a cumulative checksum,
 * recovery keeps the longest valid prefix of commits, and the fsync of any later FULL commit (or
 * of a checkpoint, which NORMAL still syncs) covers every frame before it. So a power failure can
 * lose only the unsynced commits since the last synced one, a suffix, never a commit without
 * everything after it.
 *
 * Plain JavaScript (checked by tsc) so that it runs the same from source and from dist, without
 * a TypeScript loader in the worker.
 */
import { receiveMessageOnPort, workerData, parentPort } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { entryChecksum, numbersChecksum, snapshotChecksum } from './checksum.js';
import { forEachPackedEntry } from './write-codec.js';

/** @typedef {import('./writer-protocol.js').WriterRequest} WriterRequest */
/** @typedef {import('./writer-protocol.js').CloseRequest} CloseRequest */
/** @typedef {import('./writer-protocol.js').WriterResult} WriterResult */
/** @typedef {import('./writer-protocol.js').WriterInit} WriterInit */

// The slots of writer-protocol.ts's Control and Stats (a .js file cannot import its values).
const REQUESTS = 0;
const COMPLETED = 1;
const COMMITS = 0;
const SYNCED_COMMITS = 1;

if (parentPort === null) throw new Error('writer-worker.js must run as a worker thread');
const init = /** @type {WriterInit} */ (workerData);
const port = init.port;
const control = new Int32Array(init.control);
const stats = new BigInt64Array(init.stats);

const db = new Database(init.dbPath);
// This connection is the only one while the store is open (the directory's lock keeps other
// processes out; the main thread reads the file only before the worker starts). Holding
// SQLite's locks for the connection's life saves the six lock and unlock calls each commit
// made, and keeps the WAL index in this thread's memory instead of a shared-memory file.
db.pragma('locking_mode = EXCLUSIVE');
db.pragma(`synchronous = ${init.synchronous.toUpperCase()}`);
/** The synchronous level of the connection now (switched per batch, see above). */
let synchronous = init.synchronous;
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
      const row = state.hardState;
      // A row that would not change is not rewritten: one page less in the WAL.
      if (hs !== undefined && (hs[0] !== row[0] || hs[1] !== row[1] || hs[2] !== row[2])) {
        stmt.setHardState.run(hs[0], hs[1], hs[2], numbersChecksum('hard_state', hs));
        state.hardState = hs;
      }
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

/**
 * Whether `batch` may be committed without an fsync: every request in it is an append marked
 * `sync: false` that only moves the commit index. The hint is checked, not trusted: entries, a
 * snapshot, or a term or vote other than the row's (Raft §5: persisted before answering RPCs)
 * are synced whatever it says. Compared with the row as it is before the batch, so that a
 * refused request in the batch cannot make a change of term look like none.
 * @param {WriterRequest[]} batch
 */
function maySkipSync(batch) {
  const row = state.hardState;
  for (const req of batch) {
    if (req.kind !== 'append' || req.sync || req.count > 0 || req.snapshot !== undefined) return false;
    const hs = req.hardState;
    if (hs !== undefined && (hs[0] !== row[0] || hs[1] !== row[1])) return false;
  }
  return true;
}

/**
 * Commits `batch` as one transaction, then reports it: results that carry something on the port
 * first, then the completion count through shared memory.
 * @param {WriterRequest[]} batch
 */
function writeBatch(batch) {
  /** @type {WriterResult[]} */
  const results = [];
  let failed = fatal !== undefined;
  if (!failed) {
    // At FULL, a batch of commit-only writes is committed without the fsync (see the top).
    if (init.synchronous === 'full') {
      const level = maySkipSync(batch) ? 'normal' : 'full';
      if (level !== synchronous) {
        db.pragma(`synchronous = ${level.toUpperCase()}`);
        synchronous = level;
      }
    }
    const saved = { ...state };
    try {
      applyAll(batch, results);
      Atomics.add(stats, COMMITS, 1n);
      if (synchronous === 'full') Atomics.add(stats, SYNCED_COMMITS, 1n);
    } catch (err) {
      Object.assign(state, saved);
      fatal = err instanceof Error ? `${err.message}${'code' in err ? ` (${String(err.code)})` : ''}` : String(err);
      failed = true;
    }
  }
  /** @type {WriterResult[]} */
  const worth = [];
  if (failed) {
    for (const r of batch) worth.push({ seq: r.seq, error: 'FAILED', message: fatal ?? 'writer failed' });
  } else {
    for (const r of results) if (r.error !== undefined || r.term !== undefined) worth.push(r);
  }
  if (worth.length > 0) port.postMessage({ results: worth });
  Atomics.add(control, COMPLETED, batch.length);
  Atomics.notify(control, COMPLETED);
}

parentPort.postMessage({ kind: 'ready' });

for (;;) {
  // Read before taking requests: one posted after the receive loop has bumped the counter
  // since, so the wait below returns at once instead of missing it.
  const seen = Atomics.load(control, REQUESTS);
  /** @type {WriterRequest[]} */
  const batch = [];
  let closing = false;
  for (let m = receiveMessageOnPort(port); m !== undefined; m = receiveMessageOnPort(port)) {
    const req = /** @type {WriterRequest | CloseRequest} */ (m.message);
    if (req.kind === 'close') {
      // The main thread sends nothing after it.
      closing = true;
      break;
    }
    batch.push(req);
  }
  if (batch.length > 0) writeBatch(batch);
  if (closing) break;
  if (batch.length === 0) Atomics.wait(control, REQUESTS, seen);
}
db.close();
port.close();
