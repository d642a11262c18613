/**
 * The apply layer: the MVCC store as a Raft state machine on disk. Committed entries arrive in
 * batches; one SQLite transaction applies a batch and records the position (index, term) of its
 * last entry in the meta row, with the revision and compact revision (etcd's consistent index),
 * so a restart reads that row and applies from the next entry: nothing is replayed or applied
 * twice. Snapshots are point-in-time copies of the database file (`VACUUM INTO`), streamed in
 * chunks and installed by renaming a verified staged copy over the live file.
 *
 * Its methods follow the shape of RaftNode's on-disk state machine contract (position,
 * applyBatch, openSnapshot, receiveSnapshot, installSnapshot) without depending on RaftNode.
 */
import { type Entry, EntryType, PontoonError } from '@pontoon/raft';
import type Database from 'better-sqlite3';
import { AssertionError } from 'node:assert';
import { readdirSync, rmSync } from 'node:fs';
import { type FileHandle, open as openFile, readdir, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { type KvCommand, decodeCommand } from './command.js';
import { InvalidRequestError, KvCorruptionError, StoreClosedError } from './errors.js';
import { verifyFile } from './integrity.js';
import { MvccStore, type MvccStoreOptions } from './mvcc-store.js';
import type { ImportedHistory } from './store-import.js';
import { DEFAULT_QUOTA_BYTES, quotaExceeded } from './quota.js';
import type {
  ClusterMetaRequest,
  ClusterMetaResponse,
  CompactionResponse,
  DeleteRangeResponse,
  LeaseGrantResponse,
  LeaseRevokeResponse,
  PutResponse,
  TxnResponse,
} from './types.js';

/** A log position (index, term); { index: 0, term: 0 } for an empty state. */
export interface KvLogPosition {
  readonly index: number;
  readonly term: number;
}

/** The response of an applied command, by command. */
export type KvResponse =
  | PutResponse
  | DeleteRangeResponse
  | TxnResponse
  | CompactionResponse
  | LeaseGrantResponse
  | LeaseRevokeResponse
  | ClusterMetaResponse;

/**
 * What one entry's apply produced: the response, or the typed error the command failed with (a
 * failed command changes nothing and is not a failure of the state machine; the one exception is
 * SpaceExceededError, which, as in etcd, answers a write that was applied but did not fit the
 * quota). `undefined` for an entry without a command (a new leader's empty entry, a membership
 * change).
 */
export type KvApplyResult = { ok: true; response: KvResponse } | { ok: false; error: PontoonError } | undefined;

export interface KvStateMachineOptions extends MvccStoreOptions {
  /**
   * Database size from which writes are answered with SpaceExceededError (see quota.ts: applied
   * anyway, as etcd does). Default 2 GiB (etcd's).
   */
  quotaBytes?: number;
  /** Bytes per snapshot chunk. Default 256 KiB. */
  snapshotChunkBytes?: number;
}

/** A point-in-time copy of the store, being streamed to a follower. */
export interface KvSnapshotSource {
  readonly position: KvLogPosition;
  readonly bytes: number;
  chunks(): AsyncIterable<Uint8Array>;
  close(): Promise<void>;
}

/** A snapshot being received into a staged file beside the live one. */
export interface KvSnapshotSink {
  write(chunk: Uint8Array): Promise<void>;
  finish(): Promise<void>;
  abort(): Promise<void>;
}

/** No complete staged snapshot for the index asked to install. */
export class StagedSnapshotMissingError extends PontoonError {
  readonly snapshotIndex: number;
  constructor(file: string, snapshotIndex: number) {
    super('ERR_STAGED_SNAPSHOT_MISSING', `no complete staged snapshot ${file} for index ${snapshotIndex}`);
    this.snapshotIndex = snapshotIndex;
  }
}

const STAGED = '.staged-';
const COPY = '.copy-';
const PARTIAL = '.partial-';
/**
 * Numbers the temporary files of every instance in this process: an instance closed and another
 * opened on the same file (a restart in one process) never share a temporary name.
 */
let fileSeq = 0;

export class KvStateMachine {
  readonly file: string;
  private readonly storeInstance: MvccStore;
  private readonly quotaBytes: number;
  private readonly chunkBytes: number;
  private closed = false;
  /**
   * sizeBytes()'s statements, prepared once per connection: db.pragma() prepares its statement
   * on every call, and the quota check calls it for every put (about a tenth of the apply
   * layer's CPU in a profile of 256-put batches).
   */
  private sizeStatements: { db: Database.Database; pageCount: Database.Statement<[], number>; pageSize: number } | undefined;
  /**
   * clusterMeta() as last read, keyed by the connection (an install reopens the database). Every
   * put asks for the alarms (pontoon-kv's space check), which are cluster metadata; reading them
   * from SQLite cost a leader ~80 µs per put at 1 in flight. Dropped by every write of the table.
   */
  private metaCache: { db: Database.Database; meta: ReadonlyMap<string, Uint8Array> } | undefined;
  /** The staging area's operations, one at a time (see staging()). */
  private stagingQueue: Promise<void> = Promise.resolve();

  private constructor(file: string, store: MvccStore, options: KvStateMachineOptions) {
    this.file = file;
    this.storeInstance = store;
    this.quotaBytes = options.quotaBytes ?? DEFAULT_QUOTA_BYTES;
    this.chunkBytes = options.snapshotChunkBytes ?? 256 * 1024;
  }

  /**
   * Opens (or creates) the store in `file`, checking it (see MvccStoreOptions.verify) and reading
   * its position from the meta row. A corrupt file throws KvCorruptionError naming it.
   */
  static async open(file: string, options: KvStateMachineOptions = {}): Promise<KvStateMachine> {
    // The request limits are the proposer's to check (KvMember, as etcd's gRPC layer does):
    // applied, a committed write must not depend on this member's --max-txn-ops or
    // --max-request-bytes, which may differ from the member that proposed it.
    const applyOptions = { ...options, maxTxnOps: Number.MAX_SAFE_INTEGER, maxRequestBytes: Number.MAX_SAFE_INTEGER };
    const sm = new KvStateMachine(file, MvccStore.open(file, applyOptions), options);
    // Left by an earlier process: its streams and copies died with it, and the copies staged at
    // or below the live position hold nothing it lacks (those above may still be installed).
    sm.removeLeftovers();
    return sm;
  }

  /** The store, for reads (range, hashKV, leases) and for observing committed changes. */
  get store(): MvccStore {
    if (this.closed) throw new StoreClosedError();
    return this.storeInstance;
  }

  /** The position of the last applied entry, as durably recorded with its effects. */
  position(): KvLogPosition {
    return this.store.applied;
  }

  /** The database's size in bytes (what the quota is compared with). */
  sizeBytes(): number {
    const db = this.store.database;
    // Keyed by the connection: a snapshot install may reopen the database.
    if (this.sizeStatements?.db !== db) {
      // The page size of a WAL database cannot change while it is open: read once.
      this.sizeStatements = {
        db,
        pageCount: db.prepare<[], number>('PRAGMA page_count').pluck(),
        pageSize: db.prepare<[], number>('PRAGMA page_size').pluck().get()!,
      };
    }
    return this.sizeStatements.pageCount.get()! * this.sizeStatements.pageSize;
  }

  /**
   * Throws SpaceExceededError when `command` does not fit in this member's database now: the
   * check etcd's gRPC layer makes before proposing a put, a txn or a lease grant.
   */
  checkQuota(command: KvCommand): void {
    const exceeded = quotaExceeded(command, () => this.sizeBytes(), this.quotaBytes);
    if (exceeded !== undefined) throw exceeded;
  }

  /**
   * Makes every applied batch durable (RaftNode calls it before compacting its log): with
   * `synchronous: 'normal'` a batch commits without an fsync, and a power failure may lose the
   * last ones, which the log still holds until then.
   */
  sync(): void {
    this.store.sync();
  }

  /**
   * Applies contiguous committed entries following position() in one SQLite transaction that
   * also records the last entry's position. Returns one result per entry. A command that fails by
   * etcd's rules (compacted, lease not found, space exceeded, bad input) is a result; anything
   * else rolls the whole batch back and throws.
   */
  applyBatch(entries: readonly Readonly<Entry>[]): KvApplyResult[] {
    const store = this.store;
    if (entries.length === 0) return [];
    let expected = store.applied.index + 1;
    for (const e of entries) {
      if (e.index !== expected) {
        throw new AssertionError({ message: `applyBatch: entry index ${e.index} where ${expected} was expected (applied ${store.applied.index})` });
      }
      expected++;
    }
    try {
      return store.transaction(() => {
        const size: { bytes: number | undefined } = { bytes: undefined };
        const results = entries.map((e) => (e.type === EntryType.EntryNormal && e.data.length > 0 ? this.applyCommand(e.data, size) : undefined));
        const last = entries[entries.length - 1]!;
        store.setApplied(last.index, last.term);
        return results;
      });
    } catch (err) {
      // Rolled back: a metadata write in the batch is undone, and so must be what was read since.
      this.metaCache = undefined;
      throw err;
    }
  }

  private applyCommand(data: Uint8Array, size: { bytes: number | undefined }): KvApplyResult {
    try {
      const command = decodeCommand(data);
      // etcd's quotaApplierV3: the write is applied whatever the size (so that every member
      // applies the same writes), and only the answer says it did not fit. The size is read once
      // per batch, as etcd's backend size changes on commits, not on each write.
      const exceeded = quotaExceeded(command, () => (size.bytes ??= this.sizeBytes()), this.quotaBytes);
      const response = this.dispatch(command);
      return exceeded === undefined ? { ok: true, response } : { ok: false, error: exceeded };
    } catch (err) {
      // Corruption is not a command's failure: it stops the batch (and the node).
      if (err instanceof PontoonError && !(err instanceof KvCorruptionError)) return { ok: false, error: err };
      throw err;
    }
  }

  private dispatch(command: KvCommand): KvResponse {
    const store = this.store;
    switch (command.op) {
      case 'put':
        return store.put(command.request);
      case 'deleteRange':
        return store.deleteRange(command.request);
      case 'txn':
        return store.txn(command.request);
      case 'compact':
        return store.compact(command.request);
      case 'leaseGrant':
        return store.leaseGrant(command.request);
      case 'leaseRevoke':
        return store.leaseRevoke(command.request);
      case 'clusterMeta':
        return this.setClusterMeta(command.request);
    }
  }

  /**
   * The cluster metadata (ClusterMetaRequest), by name. The table is made by the first write,
   * in the apply transaction, so stores written before it existed need no migration; it is in
   * the database file and so in every snapshot.
   */
  clusterMeta(): Map<string, Uint8Array> {
    const db = this.store.database;
    if (this.metaCache?.db !== db) {
      const meta = new Map<string, Uint8Array>();
      if (db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'cluster_meta'").get() !== undefined) {
        for (const row of db.prepare('SELECT name, value FROM cluster_meta ORDER BY name').all() as { name: string; value: Buffer }[]) {
          meta.set(row.name, row.value);
        }
      }
      this.metaCache = { db, meta };
    }
    // A copy: the caller may change it, the cache stays as the table is.
    return new Map(this.metaCache.meta);
  }

  private setClusterMeta(r: ClusterMetaRequest): ClusterMetaResponse {
    if (typeof r.name !== 'string' || (r.value !== undefined && !(r.value instanceof Uint8Array))) {
      throw new InvalidRequestError('clusterMeta', 'name must be a string and value a Uint8Array');
    }
    const db = this.store.database;
    this.metaCache = undefined;
    db.exec('CREATE TABLE IF NOT EXISTS cluster_meta (name TEXT PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID');
    if (r.value === undefined) db.prepare('DELETE FROM cluster_meta WHERE name = ?').run(r.name);
    else db.prepare('INSERT OR REPLACE INTO cluster_meta (name, value) VALUES (?, ?)').run(r.name, r.value);
    return { header: { revision: this.store.revision } };
  }

  /**
   * The committed store's whole history as of now, read through a second connection's read
   * transaction (SQLite's WAL keeps that snapshot while the member goes on writing), with no copy
   * of the file and nothing that blocks the event loop for the size of the store. Close it when
   * done: until then the WAL cannot be checkpointed past it and grows with the writes.
   */
  openHistory(): { readonly position: KvLogPosition; readonly history: ImportedHistory; close(): void } {
    const store = this.store;
    // Reads see what is committed: the open batch first.
    store.commit();
    const reader = MvccStore.open(this.file, { verify: 'meta' });
    try {
      // The reader read the meta row on open; the transaction's snapshot starts at its first
      // read below. Both happen in this turn, in which nothing else writes the store.
      reader.database.exec('BEGIN');
      reader.database.prepare('SELECT 1 FROM meta').get();
      const { index, term } = reader.applied;
      return {
        position: { index, term },
        history: reader.exportHistory(),
        close: () => {
          if (reader.database.inTransaction) reader.database.exec('ROLLBACK');
          reader.close();
        },
      };
    } catch (err) {
      reader.close();
      throw err;
    }
  }

  /**
   * A path for a temporary file beside the store (the same disk), named `tag`: the caller removes
   * it; one left behind by a crash is removed when the store is next opened by another process.
   */
  temporaryPath(tag: string): string {
    return `${this.file}${COPY}${process.pid}-${tag}-${++fileSeq}`;
  }

  /**
   * A point-in-time copy of the database (`VACUUM INTO` a temporary file beside it), whose
   * position is read from the copy's own meta row. Applies may continue while it is streamed.
   */
  async openSnapshot(): Promise<KvSnapshotSource> {
    const store = this.store;
    const copy = `${this.file}${COPY}${process.pid}-${++fileSeq}`;
    await rm(copy, { force: true });
    // VACUUM INTO copies what is committed, and cannot run inside a transaction: the batch first.
    store.commit();
    store.database.prepare('VACUUM INTO ?').run(copy);
    let meta;
    try {
      meta = verifyFile(copy);
    } catch (err) {
      await rm(copy, { force: true });
      throw err;
    }
    const bytes = (await stat(copy)).size;
    const chunkBytes = this.chunkBytes;
    let handle: FileHandle | undefined;
    return {
      position: { index: meta.appliedIndex, term: meta.appliedTerm },
      bytes,
      async *chunks() {
        handle = await openFile(copy, 'r');
        for (let offset = 0; offset < bytes; ) {
          const buf = Buffer.allocUnsafe(Math.min(chunkBytes, bytes - offset));
          const { bytesRead } = await handle.read(buf, 0, buf.length, offset);
          if (bytesRead === 0) throw new KvCorruptionError(copy, `snapshot copy ended at ${offset} of ${bytes} bytes`);
          offset += bytesRead;
          yield buf.subarray(0, bytesRead);
        }
      },
      async close() {
        await handle?.close();
        await rm(copy, { force: true });
      },
    };
  }

  /**
   * Starts receiving a snapshot into a partial file of its own. Streams may overlap (a leader's
   * retry, a new leader's stream for the same index) and a complete staged copy may be awaiting
   * its install (RaftNode has recorded its index), so nothing staged is removed here: only an
   * install makes staged copies obsolete (see installSnapshot).
   */
  async receiveSnapshot(snapshot: KvLogPosition): Promise<KvSnapshotSink> {
    if (this.closed) throw new StoreClosedError();
    const staged = this.stagedFile(snapshot.index);
    const partial = `${this.file}${PARTIAL}${process.pid}-${++fileSeq}`;
    const handle = await openFile(partial, 'w');
    let open = true;
    return {
      async write(chunk) {
        await handle.write(chunk);
      },
      finish: async () => {
        await handle.sync();
        await handle.close();
        open = false;
        // Only a complete, durable copy gets the staged name that installSnapshot looks for; a
        // copy for the same index from another stream is replaced whole (the rename is atomic),
        // never while an install reads it (the staging lock).
        await this.staging(async () => {
          if (this.closed) throw new StoreClosedError();
          await rename(partial, staged);
          await syncDirectory(dirname(staged));
        });
      },
      async abort() {
        if (open) await handle.close();
        open = false;
        await rm(partial, { force: true });
      },
    };
  }

  /**
   * Replaces the live database with the staged copy for `snapshotIndex`: the copy is verified,
   * the live database closed, the copy renamed over it (atomic: a crash leaves one or the other),
   * and the store reopened. Returns the installed position.
   */
  async installSnapshot(snapshotIndex: number): Promise<KvLogPosition> {
    return this.staging(async () => {
      if (this.closed) throw new StoreClosedError();
      const staged = this.stagedFile(snapshotIndex);
      try {
        await stat(staged);
      } catch {
        throw new StagedSnapshotMissingError(staged, snapshotIndex);
      }
      verifyFile(staged);
      await this.storeInstance.replaceFile(async () => {
        // A clean close checkpointed and removed the WAL; a stale one must never meet the new file.
        await rm(`${this.file}-wal`, { force: true });
        await rm(`${this.file}-shm`, { force: true });
        // Closed meanwhile: whoever opens the file next installs the staged copy, not this one.
        if (this.closed) throw new StoreClosedError();
        await rename(staged, this.file);
        await syncDirectory(dirname(this.file));
      });
      // Copies staged for this index or an earlier one are older than the state now live.
      await this.removeStaged((index) => index <= snapshotIndex);
      return this.storeInstance.applied;
    });
  }

  /**
   * Closes the store. An install or staged rename under way stops at its next step and leaves
   * the store closed; settled() tells when none runs any more.
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.storeInstance.close();
  }

  /**
   * Resolves once no install or staged rename of this instance runs: after close(), the point
   * from which the files may be opened again (by a new instance in the same process).
   */
  async settled(): Promise<void> {
    await this.stagingQueue;
  }

  private stagedFile(index: number): string {
    return `${this.file}${STAGED}${index}`;
  }

  /** Runs `fn` when no other staging-area operation (a staged rename, an install) runs. */
  private staging<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.stagingQueue.then(fn);
    this.stagingQueue = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  /** Synchronous, as opening the database is: an open costs no turn of the event loop. */
  private removeLeftovers(): void {
    const applied = this.position().index;
    const dir = dirname(this.file);
    const own = `${process.pid}-`;
    for (const name of readdirSync(dir)) {
      const staged = stagedIndex(this.file, name);
      const temporary = [PARTIAL, COPY].some((kind) => {
        const prefix = `${basename(this.file)}${kind}`;
        return name.startsWith(prefix) && !name.slice(prefix.length).startsWith(own);
      });
      if ((staged !== undefined && staged <= applied) || temporary) rmSync(join(dir, name), { force: true });
    }
  }

  /** Removes the staged copies whose index `obsolete` accepts. */
  private async removeStaged(obsolete: (index: number) => boolean): Promise<void> {
    const dir = dirname(this.file);
    for (const name of await readdir(dir)) {
      const index = stagedIndex(this.file, name);
      if (index !== undefined && obsolete(index)) await rm(join(dir, name), { force: true });
    }
  }
}

/** The index of the staged copy of `file` named `name` (undefined: not one). */
function stagedIndex(file: string, name: string): number | undefined {
  const prefix = `${basename(file)}${STAGED}`;
  if (!name.startsWith(prefix)) return undefined;
  const index = Number(name.slice(prefix.length));
  return Number.isSafeInteger(index) && index > 0 ? index : undefined;
}

async function syncDirectory(dir: string): Promise<void> {
  const handle = await openFile(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
