/**
 * SqliteLogStore: a durable LogStore on better-sqlite3.
 *
 * Reads (the Storage interface the core calls synchronously) are served from an in-memory view
 * of what is durable: a MemoryStorage holding the log since the last compaction, the way etcd
 * keeps a MemoryStorage in front of its WAL. Writes go to a worker thread that owns the write
 * connection (writer-worker.js); the view takes a write only once the worker reports it
 * committed, just before the write's promise resolves. So the view never holds an entry that is
 * not durable, and the core, which keeps entries in its unstable log until the driver tells it
 * they are persisted, never reads one from here before then.
 */
import fs from 'node:fs';
import path from 'node:path';
import { MessageChannel, type MessagePort, Worker, receiveMessageOnPort } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { ConfigError, CompactedError, type ConfState, type Entry, type HardState, type LogStore, type LogWrite, SnapOutOfDateError, type Snapshot } from '@pontoon/raft';
import { AssertionError, MemoryStorage, isEmptyHardState } from '@pontoon/raft/core';
import { CorruptionError, StoreClosedError, StoreFailedError } from './errors.js';
import { acquireLock, type DirectoryLock } from './lock.js';
import type { SqliteLogStoreOptions, SyncMode } from './options.js';
import { recover } from './recovery.js';
import { DB_FILE, LOCK_FILE, checkFileHeader, checkSchema, createDatabase } from './schema.js';
import { packEntries } from './write-codec.js';
import {
  type CloseRequest,
  Control,
  Stats,
  type WriterInit,
  type WriterRequest,
  type WriterResponse,
  type WriterResult,
  type WriterResults,
} from './writer-protocol.js';

const EMPTY_PACK = new Uint8Array(0);

/** A write sent to the worker and not yet answered. */
interface Pending {
  seq: number;
  /** Applies the write to the view once durable; returns the promise's value. */
  onDurable: (result: WriterResult) => unknown;
  resolve: (value: never) => void;
  reject: (err: unknown) => void;
}

/** What the writer has done: group commits, and how many of them fsynced the WAL. */
export interface SqliteLogStoreStats {
  /** Transactions the writer committed (one per group of writes). */
  commits: number;
  /** Of those, the ones it fsynced (all of them at `synchronous: 'full'`, unless `sync: false`). */
  syncedCommits: number;
}

/**
 * A Raft log on SQLite (WAL mode), durable by default. Open one per node with
 * `SqliteLogStore.open(dir)`; the directory is created if needed and locked for this store alone.
 */
export class SqliteLogStore implements LogStore {
  /** The store's directory. */
  readonly dir: string;
  /** How durable each append is. */
  readonly synchronous: SyncMode;

  private readonly view: MemoryStorage;
  private readonly worker: Worker;
  private readonly port: MessagePort;
  private readonly control: Int32Array;
  private readonly statsSlots: BigInt64Array;
  private readonly lock: DirectoryLock;
  private readonly pending: Pending[] = [];
  private nextSeq = 1;
  /** The worker's completion counter as last read (modulo 2^32, like the counter). */
  private completedSeen = 0;
  /** Whether an Atomics.waitAsync on the completion counter is outstanding. */
  private waiting = false;
  private failure: StoreFailedError | undefined;
  private closing: Promise<void> | undefined;
  private exited = false;
  /**
   * A commit-only hard state (`sync: false`) not yet sent to the writer: it rides with the next
   * write, or is flushed before a snapshot, a compaction or close. Raft may lose its commit index
   * in a crash; what it may not see is a later write durable without it, and riding with that
   * write rules this out. It saves a transaction, and a writer wake-up, per commit.
   */
  private deferredHardState: HardState | undefined;
  /** Term and vote of the last hard state handed to the writer or deferred. */
  private issuedTerm: number;
  private issuedVote: number;
  /** The promise of the last write sent: a deferred write settles after it, in call order. */
  private lastSent: Promise<unknown> = Promise.resolve();

  private constructor(
    dir: string,
    synchronous: SyncMode,
    view: MemoryStorage,
    writer: { worker: Worker; port: MessagePort; control: Int32Array; stats: BigInt64Array },
    lock: DirectoryLock,
  ) {
    this.dir = dir;
    this.synchronous = synchronous;
    this.view = view;
    this.worker = writer.worker;
    this.port = writer.port;
    this.control = writer.control;
    this.statsSlots = writer.stats;
    this.lock = lock;
    const recovered = view.initialState().hardState;
    this.issuedTerm = recovered.term;
    this.issuedVote = recovered.vote;
    const worker = writer.worker;
    // What the writer completed before it went is durable and settles as such; the rest is unknown.
    worker.on('error', (err) => {
      this.collect();
      this.fail(new StoreFailedError(`writer thread crashed: ${err.message}`, { cause: err }));
    });
    worker.on('exit', (code) => {
      this.exited = true;
      if (this.closing !== undefined) return;
      this.collect();
      this.fail(new StoreFailedError(`writer thread exited (code ${code})`));
    });
    // An idle store does not keep the process alive; one with writes in flight does (a pending
    // Atomics.waitAsync does not hold the event loop open by itself).
    worker.unref();
  }

  /**
   * Opens the store in `dir` (created if missing), recovering hard state, snapshot and log, each
   * verified against its checksum.
   *
   * @throws StoreLockedError if another process or another store in this process has it open.
   * @throws CorruptionError if what is on disk is not what was written (names what is corrupt).
   * @throws SchemaVersionError if the database is of another schema version or not a store.
   */
  static async open(dir: string, options: SqliteLogStoreOptions = {}): Promise<SqliteLogStore> {
    const synchronous = options.synchronous ?? 'full';
    if (!['full', 'normal', 'off'].includes(synchronous)) {
      throw new ConfigError('synchronous', `must be 'full', 'normal' or 'off', got ${String(synchronous)}`);
    }
    fs.mkdirSync(dir, { recursive: true });
    const lock = acquireLock(path.join(dir, LOCK_FILE), dir);
    try {
      const dbPath = path.join(dir, DB_FILE);
      if (!fs.existsSync(dbPath)) createDatabase(dbPath);
      checkFileHeader(dbPath);
      const { view, writerState } = withDatabase(dbPath, (db) => {
        checkSchema(db, dbPath);
        return recover(db);
      });
      const control = new SharedArrayBuffer(Control.SLOTS * Int32Array.BYTES_PER_ELEMENT);
      const stats = new SharedArrayBuffer(Stats.SLOTS * BigInt64Array.BYTES_PER_ELEMENT);
      const { port1, port2 } = new MessageChannel();
      const init: WriterInit = { dbPath, synchronous, state: writerState, control, stats, port: port2 };
      const worker = new Worker(new URL('./writer-worker.js', import.meta.url), { workerData: init, transferList: [port2] });
      try {
        await writerReady(worker);
      } catch (err) {
        port1.close();
        throw err;
      }
      const writer = { worker, port: port1, control: new Int32Array(control), stats: new BigInt64Array(stats) };
      return new SqliteLogStore(dir, synchronous, view, writer, lock);
    } catch (err) {
      lock.release();
      throw err;
    }
  }

  // --- Storage: synchronous reads of what is durable -----------------------------------------

  initialState(): { hardState: HardState; confState: ConfState } {
    return this.view.initialState();
  }

  entries(lo: number, hi: number, maxSize: number): Entry[] {
    return this.view.entries(lo, hi, maxSize);
  }

  term(i: number): number {
    return this.view.term(i);
  }

  firstIndex(): number {
    return this.view.firstIndex();
  }

  lastIndex(): number {
    return this.view.lastIndex();
  }

  snapshot(): Snapshot {
    return this.view.snapshot();
  }

  // --- LogStore: durable writes ---------------------------------------------------------------

  /**
   * Persists one Ready's hard state, snapshot and entries in one transaction; resolves once it
   * is committed (with `synchronous: 'full'`, on stable storage). Entries overlapping the log
   * replace it from their first index on; entries already compacted are skipped. Writes apply in
   * call order, and writes made while a commit is syncing share the next one (group commit).
   *
   * @throws SnapOutOfDateError if the snapshot is not newer than the one held.
   * @throws AssertionError if the entries leave a gap after lastIndex(), or would replace entries
   *   covered by the snapshot (a committed entry is never replaced: Raft's Log Matching).
   * @throws StoreFailedError if the write failed; the store takes no more writes.
   */
  append(write: LogWrite): Promise<void> {
    const snap = write.snapshot;
    const entries = write.entries;
    const given = write.hardState === undefined || isEmptyHardState(write.hardState) ? undefined : write.hardState;
    const snapshot = snap === undefined || (snap.metadata.index === 0 && isEmptyConfState(snap.metadata.confState)) ? undefined : snap;
    if (
      write.sync === false &&
      given !== undefined &&
      entries.length === 0 &&
      snapshot === undefined &&
      given.term === this.issuedTerm &&
      given.vote === this.issuedVote &&
      this.closing === undefined &&
      this.failure === undefined
    ) {
      this.deferredHardState = given;
      return this.lastSent.then(() => undefined);
    }
    // A newer hard state supersedes the deferred one; without one, the deferred one rides along.
    return this.sendAppend(entries, snapshot, given ?? this.deferredHardState, write.sync !== false);
  }

  private sendAppend(entries: readonly Entry[], snap: Snapshot | undefined, hs: HardState | undefined, sync: boolean): Promise<void> {
    this.deferredHardState = undefined;
    if (hs !== undefined) {
      this.issuedTerm = hs.term;
      this.issuedVote = hs.vote;
    }
    const req: WriterRequest = {
      kind: 'append',
      seq: 0,
      hardState: hs === undefined ? undefined : [hs.term, hs.vote, hs.commit],
      snapshot:
        snap === undefined
          ? undefined
          : { index: snap.metadata.index, term: snap.metadata.term, confState: JSON.stringify(snap.metadata.confState), data: snap.data },
      firstIndex: entries.length > 0 ? entries[0]!.index : 0,
      count: entries.length,
      entries: entries.length > 0 ? packEntries(entries) : EMPTY_PACK,
      sync,
    };
    return this.send(req, () => {
      if (snap !== undefined) this.view.applySnapshot(snap);
      if (entries.length > 0) this.view.append(entries);
      if (hs !== undefined) this.view.setHardState(hs);
    });
  }

  /** Sends the deferred commit-only hard state, if any, ahead of a request that cannot carry it. */
  private flushDeferred(): void {
    if (this.deferredHardState === undefined) return;
    // A failure here fails the store, and with it the request that follows: handled there.
    this.sendAppend([], undefined, this.deferredHardState, false).catch(() => {});
  }

  /**
   * Records a snapshot of the state machine taken at `index` with the ConfState at `index`.
   * Entries are kept; compact() drops them.
   *
   * @throws SnapOutOfDateError if `index` is not newer than the snapshot held.
   */
  createSnapshot(index: number, confState: ConfState, data: Uint8Array): Promise<Snapshot> {
    this.flushDeferred();
    return this.send({ kind: 'snapshot', seq: 0, index, confState: JSON.stringify(confState), data }, () =>
      this.view.createSnapshot(index, confState, data),
    );
  }

  /**
   * Drops the entries up to `index` (kept: its term, for term(firstIndex() - 1)). `index` must be
   * covered by the snapshot, so that a restart can rebuild the state machine without them.
   *
   * @throws CompactedError if `index` is already compacted.
   * @throws AssertionError if `index` is beyond the snapshot or the log.
   */
  compact(index: number): Promise<void> {
    this.flushDeferred();
    return this.send({ kind: 'compact', seq: 0, index }, () => this.view.compact(index));
  }

  /** What the writer has done so far (for tests and benchmarks). */
  stats(): SqliteLogStoreStats {
    return {
      commits: Number(Atomics.load(this.statsSlots, Stats.COMMITS)),
      syncedCommits: Number(Atomics.load(this.statsSlots, Stats.SYNCED_COMMITS)),
    };
  }

  /**
   * Waits for the writes in flight, closes the database and releases the directory. Idempotent.
   */
  close(): Promise<void> {
    if (this.closing === undefined) {
      if (!this.exited && this.failure === undefined) this.flushDeferred();
      this.closing = new Promise<void>((resolve) => {
        const done = (): void => {
          // Results of the last writes: the worker answered them before it exited.
          this.collect();
          this.fail(new StoreFailedError('closed with writes unanswered'));
          this.port.close();
          this.lock.release();
          resolve();
        };
        if (this.exited) {
          done();
          return;
        }
        this.worker.ref();
        this.worker.once('exit', done);
        this.post({ kind: 'close' });
      });
    }
    return this.closing;
  }

  private send<T>(req: WriterRequest, onDurable: (result: WriterResult) => T): Promise<T> {
    if (this.closing !== undefined) return Promise.reject(new StoreClosedError());
    if (this.failure !== undefined) return Promise.reject(this.failure);
    const sent = new Promise<T>((resolve, reject) => {
      req.seq = this.nextSeq++;
      if (this.pending.length === 0) this.worker.ref();
      this.pending.push({ seq: req.seq, onDurable, resolve: resolve as (v: never) => void, reject });
      this.post(req);
      this.awaitCompletions();
    });
    this.lastSent = sent;
    return sent;
  }

  /** Queues a request on the writer's port, then wakes the writer if it is waiting. */
  private post(req: WriterRequest | CloseRequest): void {
    if (req.kind === 'append' && req.entries.byteLength > 0) this.port.postMessage(req, [req.entries.buffer as ArrayBuffer]);
    else this.port.postMessage(req);
    Atomics.add(this.control, Control.REQUESTS, 1);
    Atomics.notify(this.control, Control.REQUESTS);
  }

  /**
   * Waits, without blocking the event loop, for the writer to move its completion counter past
   * what was last seen, then settles what it completed. One wait at a time.
   */
  private awaitCompletions(): void {
    if (this.waiting || this.pending.length === 0) return;
    this.waiting = true;
    const w = Atomics.waitAsync(this.control, Control.COMPLETED, this.completedSeen);
    const settle = (): void => {
      this.waiting = false;
      this.collect();
      this.awaitCompletions();
    };
    // Already moved ('not-equal'): settle in a microtask, never inside the append() call.
    if (w.async) void w.value.then(settle);
    else queueMicrotask(settle);
  }

  /** Settles, in order, the writes the worker reported completed since the last look. */
  private collect(): void {
    const completed = Atomics.load(this.control, Control.COMPLETED);
    let count = (completed - this.completedSeen) | 0;
    if (count === 0) return;
    this.completedSeen = completed;
    // The results that carry something were posted before the counter moved.
    let details: Map<number, WriterResult> | undefined;
    for (let m = receiveMessageOnPort(this.port); m !== undefined; m = receiveMessageOnPort(this.port)) {
      for (const r of (m.message as WriterResults).results) (details ??= new Map()).set(r.seq, r);
    }
    for (; count > 0; count--) {
      const p = this.pending.shift();
      if (p === undefined) {
        // Unless fail() already gave up on them: then these are their late answers.
        if (this.failure === undefined) this.fail(new StoreFailedError('writer completed more writes than were sent'));
        return;
      }
      const result = details?.get(p.seq) ?? { seq: p.seq };
      if (result.error === undefined) {
        let value: unknown;
        try {
          value = p.onDurable(result);
        } catch (err) {
          // The view refused what the writer accepted: they disagree, nothing can be trusted.
          this.fail(new StoreFailedError(`in-memory view rejected a durable write: ${String(err)}`, { cause: err }));
          p.reject(err);
          return;
        }
        p.resolve(value as never);
      } else {
        const err = toError(result);
        if (err instanceof StoreFailedError && this.failure === undefined) this.failure = err;
        p.reject(err);
      }
    }
    if (this.pending.length === 0 && this.closing === undefined) this.worker.unref();
  }

  private fail(err: StoreFailedError): void {
    if (this.failure === undefined) this.failure = err;
    for (const p of this.pending.splice(0)) p.reject(this.failure);
  }
}

/**
 * Resolves once the writer has opened its connection (so the first append does not wait for it);
 * on failure, stops the worker and rejects. Only its own listeners are removed: Worker keeps
 * internal ones that deliver messages.
 */
async function writerReady(worker: Worker): Promise<void> {
  let onMessage!: (msg: WriterResponse) => void;
  let onError!: (err: Error) => void;
  let onExit!: (code: number) => void;
  try {
    await new Promise<void>((resolve, reject) => {
      onMessage = (msg) => (msg.kind === 'ready' ? resolve() : reject(new StoreFailedError(`writer said ${msg.kind} before ready`)));
      onError = (err) => reject(new StoreFailedError(`writer failed to start: ${err.message}`, { cause: err }));
      onExit = (code) => reject(new StoreFailedError(`writer exited (code ${code}) before ready`));
      worker.once('message', onMessage).once('error', onError).once('exit', onExit);
    });
  } catch (err) {
    await worker.terminate();
    throw err;
  } finally {
    worker.off('message', onMessage).off('error', onError).off('exit', onExit);
  }
}

function toError(r: WriterResult): Error {
  const message = r.message ?? 'write refused';
  switch (r.error) {
    case 'SNAP_OUT_OF_DATE':
      return new SnapOutOfDateError(message);
    case 'COMPACTED':
      return new CompactedError(message);
    case 'INVARIANT':
      return new AssertionError(message);
    default:
      return new StoreFailedError(message);
  }
}

function isEmptyConfState(cs: ConfState): boolean {
  return cs.voters.length === 0 && cs.learners.length === 0 && cs.votersOutgoing.length === 0 && cs.learnersNext.length === 0;
}

/** Runs `fn` on a short-lived read-write connection, turning SQLite's corruption codes into ours. */
function withDatabase<T>(dbPath: string, fn: (db: Database.Database) => T): T {
  let db: Database.Database | undefined;
  try {
    db = new Database(dbPath, { fileMustExist: true });
    return fn(db);
  } catch (err) {
    const code = (err as { code?: unknown } | null)?.code;
    if (code === 'SQLITE_CORRUPT' || code === 'SQLITE_NOTADB') {
      throw new CorruptionError('database file', `${dbPath}: ${(err as Error).message}`, { cause: err });
    }
    throw err;
  } finally {
    db?.close();
  }
}
