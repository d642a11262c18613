/**
 * The MVCC store: etcd 3.4's KV data model (revisions, ranges at past revisions, txn, compaction,
 * leases, HashKV) on one SQLite database. Every call is synchronous and atomic: a write is one
 * SQLite transaction (or a savepoint inside the caller's, see `transaction`), and a call that
 * throws has changed nothing.
 *
 * This is the state machine's state, not a replicated store: determinism is the caller's (apply
 * the same calls in the same order on every member and they agree, HashKV included).
 */
import Database from 'better-sqlite3';
import { AssertionError } from 'node:assert';
import { closeSync, existsSync, fsyncSync, openSync, renameSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { applyDeleteRange } from './delete-range.js';
import {
  CompactedError,
  FutureRevisionError,
  InvalidRequestError,
  KvCorruptionError,
  LeaseExistsError,
  LeaseNotFoundError,
  LeaseTtlTooLargeError,
  StoreClosedError,
} from './errors.js';
import { hashByRev } from './hash.js';
import { isCorruptionCode, verifyDatabase, verifyMetaOnly } from './integrity.js';
import { KeyIndexTable } from './key-index-table.js';
import { LeaseTable } from './lease-table.js';
import { INITIAL_META, type Meta, MetaTable } from './meta.js';
import { applyPut } from './put.js';
import { applyRange } from './range.js';
import { RevisionStore } from './revision-store.js';
import { createSchema, migrateSchema } from './schema.js';
import { type ImportedHistory, writeImportedHistory } from './store-import.js';
import { type Change, StoreTxn, type StoreTables } from './store-txn.js';
import { applyTxn } from './txn.js';
import type {
  CompactionRequest,
  CompactionResponse,
  DeleteRangeRequest,
  DeleteRangeResponse,
  HashKVResponse,
  Lease,
  LeaseGrantRequest,
  LeaseGrantResponse,
  LeaseRevokeRequest,
  LeaseRevokeResponse,
  PutRequest,
  PutResponse,
  RangeRequest,
  RangeResponse,
  TxnRequest,
  TxnResponse,
} from './types.js';
import {
  DEFAULT_MAX_REQUEST_BYTES,
  DEFAULT_MAX_TXN_OPS,
  checkDeleteRequest,
  checkIntervals,
  checkPutRequest,
  checkRangeRequest,
  checkRequestSize,
  checkTxnRequest,
} from './validate.js';

/** etcd's MaxLeaseTTL, in seconds. */
export const MAX_LEASE_TTL = 9_000_000_000;
/**
 * etcd's minimum lease TTL with its default timing: ceil(1.5 election timeouts) = ceil(1.5 s) = 2 s
 * for a 1000 ms election timeout.
 */
export const DEFAULT_MIN_LEASE_TTL = 2;

export interface MvccStoreOptions {
  /** Maximum compares or operations on one level of a txn (etcd --max-txn-ops). Default 128. */
  maxTxnOps?: number;
  /** Grants below this TTL (seconds) get this TTL. Default 2, etcd's with its default timing. */
  minLeaseTtl?: number;
  /** Maximum bytes of keys and values in one request (etcd --max-request-bytes). Default 1.5 MiB. */
  maxRequestBytes?: number;
  /**
   * SQLite's synchronous setting. 'full' (the default) makes every commit durable on return;
   * 'normal' may lose the last commits on power loss (never corrupts).
   */
  synchronous?: 'full' | 'normal';
  /**
   * How to check the file on open: 'quick' (the default: SQLite's quick_check, which reads every
   * page once, plus the meta row's checksum), 'full' (integrity_check, also every index entry) or
   * 'meta' (the meta row's checksum only, for a fast start when the file is trusted). Rows are
   * checked against their checksums on every read whatever this says.
   */
  verify?: 'quick' | 'full' | 'meta';
  /**
   * How long (ms) a transaction's changes may wait for their SQLite COMMIT (etcd's
   * --backend-batch-interval). 0, the default, commits every transaction on return. Above 0, the
   * transactions run as savepoints of one SQLite transaction that commits when this much time
   * has passed since it began, after `batchLimit` transactions, or at commit(), sync(), close()
   * and anything that needs the file as committed (snapshot copies, VACUUM). Reads on this store
   * see every transaction at once; the file, and so a restart after a crash, only what was
   * committed. For a store whose changes a log replays after a crash (KvStateMachine under
   * RaftNode, which replays the entries after the recorded position): it spares a commit, and
   * the WAL frames and checkpoints that go with it, per apply batch.
   */
  batchIntervalMs?: number;
  /** The most transactions one batched commit holds (etcd's --backend-batch-limit). Default 10,000. */
  batchLimit?: number;
}

/** etcd's default --backend-batch-limit. */
const DEFAULT_BATCH_LIMIT = 10_000;

/**
 * Creates an empty store file atomically: built under a temporary name, synced, renamed into
 * place, directory synced. So a file at the store's path is always a complete store.
 */
function createStoreFile(file: string): void {
  const temp = `${file}.init-${process.pid}`;
  rmSync(temp, { force: true });
  const db = new Database(temp);
  try {
    db.transaction(() => {
      createSchema(db);
      new MetaTable(db, temp).write(INITIAL_META);
    })();
  } finally {
    db.close();
  }
  const fd = openSync(temp, 'r+');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temp, file);
  const dir = openSync(dirname(file), 'r');
  try {
    fsyncSync(dir);
  } finally {
    closeSync(dir);
  }
}

function openDatabase(file: string, options: MvccStoreOptions): Database.Database {
  let db: Database.Database;
  try {
    db = new Database(file);
  } catch (err) {
    if (isCorruptionCode(err)) throw new KvCorruptionError(file, (err as Error).message, { cause: err });
    throw err;
  }
  try {
    if (file !== ':memory:') db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${options.synchronous === 'normal' ? 'NORMAL' : 'FULL'}`);
    // The savepoints of nested (and batched) transactions keep their undo pages in a statement
    // journal, which SQLite otherwise spills to a temporary file: ~2 page writes per put seen
    // with strace on a leader. In memory, it is freed as each savepoint is released.
    db.pragma('temp_store = MEMORY');
    return db;
  } catch (err) {
    db.close();
    if (isCorruptionCode(err)) throw new KvCorruptionError(file, (err as Error).message, { cause: err });
    throw err;
  }
}

function transactionRunner(db: Database.Database): <T>(fn: () => T) => T {
  const run = db.transaction((fn: () => unknown) => fn());
  return <T>(fn: () => T): T => run(fn) as T;
}

/** Called after each committed write with the revision it made and its changes in order. */
export type ChangesListener = (revision: number, changes: readonly Change[]) => void;

/** A write the store made, for observers (the watch hub). */
export type { Change } from './store-txn.js';

export class MvccStore {
  /** The database file. */
  readonly file: string;
  private db: Database.Database;
  /**
   * Runs a function in a transaction of `db` (a savepoint when one is open). Made once per
   * connection: better-sqlite3 builds a transaction wrapper per db.transaction() call, which cost
   * a quarter of a put's apply when it was made per command.
   */
  private runTransaction: <T>(fn: () => T) => T;
  /**
   * The state changed since the meta row was last written. The row is written once, just before
   * the outermost transaction commits, not once per write: a batch of puts rewrote it per put.
   */
  private metaDirty = false;
  private tables: StoreTables;
  private meta: MetaTable;
  private readonly options: MvccStoreOptions;
  private readonly restoredListeners = new Set<() => void>();
  private state: Meta;
  private readonly maxTxnOps: number;
  private readonly minLeaseTtl: number;
  private readonly maxRequestBytes: number;
  private readonly listeners = new Set<ChangesListener>();
  private pending: { revision: number; changes: Change[] }[] = [];
  private closed = false;
  /** close() was called: for good, even while replaceFile() had the database closed. */
  private disposed = false;
  /** Store transactions under way (nested calls count): the outermost one writes the meta row. */
  private depth = 0;
  /** The open batch (batchIntervalMs > 0): its commit timer and how many transactions it holds. */
  private batchTimer: ReturnType<typeof setTimeout> | undefined;
  private batched = 0;
  /** A batched commit that failed on its timer: the file holds less than reads saw; nothing goes on. */
  private failure: Error | undefined;

  private constructor(db: Database.Database, file: string, options: MvccStoreOptions) {
    this.file = file;
    this.options = options;
    this.maxTxnOps = options.maxTxnOps ?? DEFAULT_MAX_TXN_OPS;
    this.minLeaseTtl = options.minLeaseTtl ?? DEFAULT_MIN_LEASE_TTL;
    this.maxRequestBytes = options.maxRequestBytes ?? DEFAULT_MAX_REQUEST_BYTES;
    const verify = options.verify ?? 'quick';
    const found = verify === 'meta' ? verifyMetaOnly(db, file) : verifyDatabase(db, file, verify === 'full');
    if (found === undefined) {
      // Files are created complete (see createStoreFile): an existing file without our tables is
      // damaged (truncated to nothing, say), never "new". Only a memory database starts empty.
      if (file !== ':memory:') throw new KvCorruptionError(file, 'no Pontoon KV tables (empty or truncated file)');
      db.transaction(() => createSchema(db))();
    } else {
      migrateSchema(db, file);
    }
    this.db = db;
    this.runTransaction = transactionRunner(db);
    this.tables = { keyIndex: new KeyIndexTable(db, file), revisions: new RevisionStore(db, file), leases: new LeaseTable(db) };
    this.meta = new MetaTable(db, file);
    if (found === undefined) this.meta.write(INITIAL_META);
    this.state = this.meta.read() ?? INITIAL_META;
  }

  /**
   * Opens (or creates) the store in the SQLite file at `file` (':memory:' for a throwaway one).
   * Reads only the meta row: no history is replayed.
   */
  static open(file: string, options: MvccStoreOptions = {}): MvccStore {
    if (file !== ':memory:' && !existsSync(file)) createStoreFile(file);
    const db = openDatabase(file, options);
    try {
      return new MvccStore(db, file, options);
    } catch (err) {
      db.close();
      if (isCorruptionCode(err)) throw new KvCorruptionError(file, (err as Error).message, { cause: err });
      throw err;
    }
  }

  /**
   * Replaces the database file under the open store: closes it, runs `install` (which puts the
   * new file in place, e.g. by rename), reopens and checks it, and tells the restored listeners
   * (the watch hub moves its watchers back to catch-up). If reopening fails the store stays closed;
   * if close() was called meanwhile it is not reopened (StoreClosedError).
   */
  async replaceFile(install: () => Promise<void>): Promise<void> {
    this.checkOpen();
    // The open batch is committed (the file replaced is then as reads saw it), not lost silently.
    this.commit();
    this.db.close();
    this.closed = true;
    await install();
    if (this.disposed) throw new StoreClosedError();
    const db = openDatabase(this.file, this.options);
    try {
      const verify = this.options.verify ?? 'quick';
      const found = verify === 'meta' ? verifyMetaOnly(db, this.file) : verifyDatabase(db, this.file, verify === 'full');
      if (found === undefined) throw new KvCorruptionError(this.file, 'replacement is not a Pontoon KV store (no tables)');
      // A snapshot from a member of an older version has the older layout.
      migrateSchema(db, this.file);
      this.db = db;
      this.runTransaction = transactionRunner(db);
      this.metaDirty = false;
      this.tables = { keyIndex: new KeyIndexTable(db, this.file), revisions: new RevisionStore(db, this.file), leases: new LeaseTable(db) };
      this.meta = new MetaTable(db, this.file);
      this.state = found;
      this.closed = false;
    } catch (err) {
      db.close();
      throw this.corruption(err);
    }
    for (const listener of this.restoredListeners) listener();
  }

  /** Observes replaceFile(): the whole state changed at once. Returns a function that stops observing. */
  onRestored(listener: () => void): () => void {
    this.restoredListeners.add(listener);
    return () => this.restoredListeners.delete(listener);
  }

  /** The current revision (1 for an empty store). */
  get revision(): number {
    return this.state.revision;
  }

  /** The compact revision, -1 before the first compaction. */
  get compactRevision(): number {
    return this.state.compactRevision;
  }

  /** The Raft position of the last applied entry, as written with the data. */
  get applied(): { index: number; term: number } {
    return { index: this.state.appliedIndex, term: this.state.appliedTerm };
  }

  /** The underlying database, for the apply layer (one transaction per batch) and snapshots. */
  get database(): Database.Database {
    return this.db;
  }

  /**
   * Observes committed writes: called after each commit (after the whole batch for writes inside
   * `transaction`), with the revision and its changes. Returns a function that stops observing.
   */
  onChanges(listener: ChangesListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Runs `fn` in one SQLite transaction: every store call made inside commits or rolls back with
   * it. Used by the apply layer to apply a batch of entries and its Raft position atomically.
   */
  transaction<T>(fn: () => T): T {
    this.checkOpen();
    const outer = this.depth === 0;
    if (outer && this.metaDirty) {
      throw new AssertionError({ message: `mvcc store: state changed (revision ${this.state.revision}) outside a transaction of the store; its meta row was not written` });
    }
    // Batching: the outermost transaction becomes a savepoint of the open batch (better-sqlite3
    // makes a transaction run inside another one a savepoint), so that a failure undoes it alone.
    const batching = outer && (this.options.batchIntervalMs ?? 0) > 0;
    if (batching && !this.db.inTransaction) this.beginBatch();
    // States are replaced, never changed in place: keeping the reference is keeping a copy.
    const saved = this.state;
    const savedDirty = this.metaDirty;
    const pendingMark = this.pending.length;
    let out: T;
    this.depth++;
    try {
      out = this.runTransaction(() => {
        const result = fn();
        if (outer && this.metaDirty) {
          this.meta.write(this.state);
          this.metaDirty = false;
        }
        return result;
      });
    } catch (err) {
      // The transaction (or savepoint) rolled back: so do the revision and the unsent changes.
      this.state = saved;
      this.metaDirty = savedDirty;
      this.pending.length = pendingMark;
      throw this.corruption(err);
    } finally {
      this.depth--;
    }
    if (batching && ++this.batched >= (this.options.batchLimit ?? DEFAULT_BATCH_LIMIT)) this.commit();
    // Committed (or part of the batch, which reads see): what listeners do cannot undo it.
    if (outer) this.flushChanges();
    return out;
  }

  /**
   * Commits the open batch (batchIntervalMs), if any: what the store's transactions changed is
   * in the file once this returns (durable as `synchronous` says). Not inside a transaction.
   */
  commit(): void {
    this.checkOpen();
    if (this.depth > 0) throw new AssertionError({ message: 'mvcc store: commit() inside a transaction' });
    if (this.batchTimer !== undefined) {
      clearTimeout(this.batchTimer);
      this.batchTimer = undefined;
    }
    this.batched = 0;
    if (!this.db.inTransaction) return;
    try {
      this.db.exec('COMMIT');
    } catch (err) {
      // What reads saw may never reach the file: the store refuses everything from here on (a
      // RaftNode fails, and a restart replays the log from what the file holds).
      const failure = this.corruption(err);
      this.failure = failure instanceof Error ? failure : new Error(String(failure));
      throw failure;
    }
  }

  private beginBatch(): void {
    this.db.exec('BEGIN');
    this.batched = 0;
    const timer = setTimeout(() => {
      this.batchTimer = undefined;
      if (this.closed || this.failure !== undefined) return;
      try {
        this.commit();
      } catch {
        // Recorded in this.failure: the next call on the store throws it.
      }
    }, this.options.batchIntervalMs);
    // The batch alone does not keep a process alive; close() commits it.
    timer.unref();
    this.batchTimer = timer;
  }

  /**
   * Makes every commit so far durable. Only a store opened with `synchronous: 'normal'` has
   * anything to do: one commit at FULL (the meta row written again, unchanged), whose fsync of the
   * WAL covers every frame written before it.
   */
  sync(): void {
    this.checkOpen();
    this.commit();
    if (this.options.synchronous !== 'normal' || this.file === ':memory:') return;
    this.db.pragma('synchronous = FULL');
    try {
      this.transaction(() => this.changeState({ ...this.state }));
      // Batching: the transaction above opened a batch of its own; committed here, at FULL.
      this.commit();
    } finally {
      this.db.pragma('synchronous = NORMAL');
    }
  }

  /** Records the Raft position of the entry being applied, in the current transaction. */
  setApplied(index: number, term: number): void {
    this.transaction(() => this.changeState({ ...this.state, appliedIndex: index, appliedTerm: term }));
  }

  range(r: RangeRequest): RangeResponse {
    this.checkOpen();
    checkRangeRequest(r);
    try {
      return applyRange(this.readTxn(), r);
    } catch (err) {
      throw this.corruption(err);
    }
  }

  put(r: PutRequest): PutResponse {
    checkPutRequest(r);
    checkRequestSize({ put: r }, this.maxRequestBytes);
    const lease = r.lease ?? 0n;
    if (lease !== 0n && this.tables.leases.ttl(lease) === undefined) throw new LeaseNotFoundError(lease);
    return this.write((txn) => applyPut(txn, r));
  }

  deleteRange(r: DeleteRangeRequest): DeleteRangeResponse {
    checkDeleteRequest(r);
    return this.write((txn) => applyDeleteRange(txn, r));
  }

  txn(r: TxnRequest): TxnResponse {
    checkTxnRequest(r, this.maxTxnOps);
    checkIntervals(r.success);
    checkIntervals(r.failure);
    checkRequestSize({ txn: r }, this.maxRequestBytes);
    return this.write((txn) => applyTxn(txn, r, (id) => this.tables.leases.ttl(id) !== undefined));
  }

  /**
   * Drops the history at and below `revision` except each key's value as of it. Reads below it
   * answer CompactedError; it does not change the revision.
   */
  compact(r: CompactionRequest): CompactionResponse {
    if (!Number.isSafeInteger(r.revision)) {
      throw new InvalidRequestError('compact.revision', `must be a safe integer, got ${String(r.revision)}`);
    }
    return this.transaction(() => {
      // A negative revision is below any compaction: etcd answers that it has been compacted.
      if (r.revision <= this.state.compactRevision || r.revision < 0) throw new CompactedError(this.state.compactRevision, r.revision);
      if (r.revision > this.state.revision) throw new FutureRevisionError(this.state.revision, r.revision);
      const available = new Set<string>();
      // The key index is an index over the rows: deleting a row removes its entry, and a key
      // whose generations all went (etcd drops its keyIndex) has no row left.
      for (const ki of this.tables.keyIndex.all()) ki.compact(r.revision, available);
      this.tables.revisions.deleteBelow(r.revision, available);
      this.changeState({ ...this.state, compactRevision: r.revision });
      return { header: { revision: this.state.revision } };
    });
  }

  /**
   * Fills this store, which must be new (nothing written), with a history kept elsewhere (etcd's
   * buckets from an etcd snapshot), in one transaction: its rows, its leases and their keys, the
   * revision it reached, and its compaction. A history that does not hold together (revisions
   * out of order, a key's versions that do not follow) is refused with InvalidRequestError and
   * nothing is written.
   */
  importHistory(h: ImportedHistory): void {
    this.checkOpen();
    const empty = this.state.revision === 1 && this.state.compactRevision === -1 && this.db.prepare('SELECT 1 FROM kv LIMIT 1').get() === undefined && this.tables.leases.list().length === 0;
    if (!empty) throw new InvalidRequestError('importHistory', `the store is not new (revision ${this.state.revision})`);
    this.transaction(() => {
      const revision = writeImportedHistory(this.tables, h, { min: this.minLeaseTtl, max: MAX_LEASE_TTL });
      this.changeState({ ...this.state, revision });
      if (h.compactRevision > 0) this.compact({ revision: h.compactRevision });
    });
  }

  /**
   * The store's contents in the form importHistory takes: every stored change in revision order
   * (read lazily and checked row by row; nothing may write to the store while it is iterated, as
   * the statement holds the connection), the compaction and the leases.
   */
  exportHistory(): ImportedHistory {
    this.checkOpen();
    const revisions = this.tables.revisions;
    const upTo = this.state.revision;
    return {
      revisions: {
        *[Symbol.iterator]() {
          for (const row of revisions.upTo(upTo)) {
            yield { main: row.main, sub: row.sub, tombstone: row.tombstone, key: row.kv.key, value: row.kv.value, createRevision: row.kv.createRevision, version: row.kv.version, lease: row.kv.lease };
          }
        },
      },
      compactRevision: this.state.compactRevision,
      leases: this.tables.leases.list(),
    };
  }

  /** Grants a lease (the store picks the id when none is given: deterministic on every member). */
  leaseGrant(r: LeaseGrantRequest): LeaseGrantResponse {
    if (!Number.isSafeInteger(r.ttl)) throw new InvalidRequestError('leaseGrant.ttl', `must be a safe integer, got ${String(r.ttl)}`);
    if (r.id !== undefined && (typeof r.id !== 'bigint' || r.id < 0n || r.id >= 2n ** 63n)) {
      throw new InvalidRequestError('leaseGrant.id', 'must be a bigint in [0, 2^63)');
    }
    if (r.ttl > MAX_LEASE_TTL) throw new LeaseTtlTooLargeError(r.ttl);
    return this.transaction(() => {
      let id = r.id ?? 0n;
      let nextLeaseId = this.state.nextLeaseId;
      if (id === 0n) {
        while (this.tables.leases.ttl(nextLeaseId) !== undefined) nextLeaseId++;
        id = nextLeaseId++;
      } else if (this.tables.leases.ttl(id) !== undefined) {
        throw new LeaseExistsError(id);
      }
      const ttl = Math.max(r.ttl, this.minLeaseTtl);
      this.tables.leases.grant(id, ttl);
      this.changeState({ ...this.state, nextLeaseId });
      return { header: { revision: this.state.revision }, id, ttl };
    });
  }

  /** Revokes a lease: its keys are deleted in one revision (in key order, as etcd does). */
  leaseRevoke(r: LeaseRevokeRequest): LeaseRevokeResponse {
    if (typeof r.id !== 'bigint') throw new InvalidRequestError('leaseRevoke.id', 'must be a bigint');
    return this.write((txn) => {
      if (this.tables.leases.ttl(r.id) === undefined) throw new LeaseNotFoundError(r.id);
      for (const key of this.tables.leases.keys(r.id)) txn.deleteRange(key, undefined);
      this.tables.leases.remove(r.id);
      return { header: { revision: 0 } };
    }, true);
  }

  /** The lease, with its attached keys, or undefined when it is not granted. */
  lease(id: bigint): Lease | undefined {
    this.checkOpen();
    const ttl = this.tables.leases.ttl(id);
    return ttl === undefined ? undefined : { id, ttl, keys: this.tables.leases.keys(id) };
  }

  /** Every granted lease, by id. */
  leases(): { id: bigint; ttl: number }[] {
    this.checkOpen();
    return this.tables.leases.list();
  }

  /**
   * etcd's HashKV at `revision` (0: the current one; below 0, as in etcd, the hash of no
   * revision at all).
   */
  hashKV(revision = 0): HashKVResponse {
    this.checkOpen();
    if (!Number.isSafeInteger(revision)) {
      throw new InvalidRequestError('hashKV.revision', `must be a safe integer, got ${String(revision)}`);
    }
    const { compactRevision, revision: current } = this.state;
    if (revision > 0 && revision <= compactRevision) throw new CompactedError(compactRevision, revision);
    if (revision > current) throw new FutureRevisionError(current, revision);
    const rev = revision === 0 ? current : revision;
    const hash = hashByRev(rev, compactRevision, this.tables.keyIndex.all(), this.tables.revisions.upTo(rev));
    return { header: { revision: current }, hash, compactRevision };
  }

  /** The changes of the revisions in [from, to], for watchers catching up from history. */
  changesBetween(from: number, to: number): { revision: number; changes: Change[] }[] {
    this.checkOpen();
    const out: { revision: number; changes: Change[] }[] = [];
    for (const row of this.tables.revisions.between(from, to)) {
      let last = out[out.length - 1];
      if (last === undefined || last.revision !== row.main) {
        last = { revision: row.main, changes: [] };
        out.push(last);
      }
      const kv = row.tombstone ? { ...row.kv, modRevision: row.main } : row.kv;
      last.changes.push({ kv, tombstone: row.tombstone });
    }
    return out;
  }

  close(): void {
    this.disposed = true;
    if (this.closed) return;
    try {
      if (this.failure === undefined && this.depth === 0) this.commit();
    } finally {
      this.closed = true;
      if (this.batchTimer !== undefined) clearTimeout(this.batchTimer);
      this.batchTimer = undefined;
      // A batch left open (a failed commit) is rolled back by the close.
      this.db.close();
    }
  }

  private readTxn(): StoreTxn {
    return new StoreTxn(this.tables, this.state.revision, this.state.compactRevision);
  }

  /**
   * One write transaction: runs `fn`, raises the revision when it changed something, writes the
   * meta row. `headerAfter`: set the response's header revision to the revision after the write
   * (etcd's lessor answers with the server's current revision).
   */
  private write<T extends { header: { revision: number } }>(fn: (txn: StoreTxn) => T, headerAfter = false): T {
    return this.transaction(() => {
      const txn = this.readTxn();
      const out = fn(txn);
      if (txn.changes.length > 0) {
        this.changeState({ ...this.state, revision: this.state.revision + 1 });
        this.pending.push({ revision: this.state.revision, changes: txn.changes });
      }
      if (headerAfter) out.header.revision = this.state.revision;
      return out;
    });
  }

  /** Inside a transaction: the new state, written to the meta row before the transaction commits. */
  private changeState(next: Meta): void {
    this.state = next;
    this.metaDirty = true;
  }

  /**
   * Tells the listeners, in revision order, after the commit. Every listener hears every revision
   * even if another one throws; the first error then reaches the caller, whose write is committed.
   */
  private flushChanges(): void {
    const pending = this.pending;
    this.pending = [];
    let failure: { error: unknown } | undefined;
    for (const p of pending) {
      for (const listener of this.listeners) {
        try {
          listener(p.revision, p.changes);
        } catch (error) {
          failure ??= { error };
        }
      }
    }
    if (failure !== undefined) throw failure.error;
  }

  /** SQLite's corruption codes become KvCorruptionError naming the file; other errors pass. */
  private corruption(err: unknown): unknown {
    return isCorruptionCode(err) ? new KvCorruptionError(this.file, (err as Error).message, { cause: err }) : err;
  }

  private checkOpen(): void {
    if (this.closed) throw new StoreClosedError();
    if (this.failure !== undefined) throw this.failure;
  }
}
