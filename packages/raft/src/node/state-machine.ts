/**
 * The application's replicated state machine, as RaftNode drives it. Two contracts:
 *
 * - StateMachine: the state lives in memory. RaftNode keeps its snapshots (one buffer each) in
 *   the LogStore, restores the latest one on every start and replays the log after it.
 * - OnDiskStateMachine: the state lives on disk (SQLite, an LSM, files) and outlives the
 *   process. It records the position of the last entry it applied in the same atomic write as
 *   that entry's effects (etcd's consistent index) and reports it when the node opens, so a
 *   restart applies nothing twice and replays nothing. Entries arrive in batches, one call per
 *   Ready, so that one transaction (one fsync) covers many entries. Snapshots are streams of
 *   chunks from a point-in-time view, staged on the receiver and swapped in atomically; the
 *   LogStore keeps only their metadata.
 *
 * What both contracts share: apply is deterministic (every node applies the same entries in the
 * same order and must reach the same state, so no clocks, no randomness, no I/O whose result
 * can differ between nodes); calls into the state machine never overlap unless said otherwise
 * below; a method that throws (or rejects) stops the node with an `error` event, since a state
 * machine that failed half-way cannot be trusted to match the others. A command that fails
 * by the application's rules is a result value, not an exception.
 */
import type { Entry } from '../types.js';

/**
 * A deterministic state machine held in memory.
 *
 * @typeParam R - what apply() returns; a proposal settles with it.
 */
export interface StateMachine<R = unknown> {
  /**
   * Applies one committed command (`entry.data`, never empty; `entry.index` is its log index,
   * useful for deduplication). The result goes to the proposer when it is the local node.
   */
  apply(entry: Readonly<Entry>): R | Promise<R>;
  /** Serializes the whole state, as of the last applied entry. */
  snapshot(): Uint8Array | Promise<Uint8Array>;
  /** Replaces the whole state with one that snapshot() produced (on this node or another). */
  restore(data: Uint8Array): void | Promise<void>;
}

/** A log position: the index of an entry and its term. `{ index: 0, term: 0 }` is the empty state. */
export interface LogPosition {
  readonly index: number;
  readonly term: number;
}

/**
 * A consistent, point-in-time view of an on-disk state machine, opened for sending a snapshot
 * (RaftNode streams it to a follower over the Transport). Applies go on while it is open; it
 * must not see them.
 */
export interface SnapshotSource {
  /** The position the view was taken at: what the state machine had applied then. */
  readonly position: LogPosition;
  /** The size in bytes of what chunks() yields in total. */
  readonly bytes: number;
  /**
   * The view's bytes, in order. Pulled one chunk at a time as the network takes them, so keep
   * chunks bounded (say 64 KiB to 1 MiB) and do not read ahead: memory stays bounded by the
   * transport's window, not the state's size. Called at most once.
   */
  chunks(): AsyncIterable<Uint8Array>;
  /** Releases the view (temporary file, read transaction). Called exactly once, after success or failure. */
  close(): Promise<void>;
}

/**
 * Where a snapshot being received goes: a staging area (a temporary file) beside the live state,
 * which it must not touch. Calls are sequential: write() is not called again before the previous
 * promise resolved, which is how a slow disk slows down the sender (backpressure).
 */
export interface SnapshotSink {
  /** Appends the next chunk. The chunk's memory may be reused once this resolves. */
  write(chunk: Uint8Array): Promise<void>;
  /**
   * Every chunk is written: make the staged copy durable (fsync it), still without installing
   * it. RaftNode then records the snapshot's metadata in the LogStore and only then calls
   * installSnapshot(): a crash in between leaves a complete staged copy that the next open
   * installs (see OnDiskStateMachine.installSnapshot).
   */
  finish(): Promise<void>;
  /** Drops the partial copy (the stream failed or was superseded). */
  abort(): Promise<void>;
}

/**
 * A deterministic state machine whose state lives on disk.
 *
 * Crash safety rests on one rule: the effects of a batch and the position of its last entry are
 * written in one atomic write (one SQLite transaction). Then position() after a crash names
 * exactly the entries whose effects survived, and RaftNode hands over the entries after it.
 *
 * Durability: RaftNode compacts its log only up to a position this state machine reported
 * through applyBatch(), so applyBatch() must resolve only once its write is durable (with SQLite
 * in WAL mode, `synchronous=FULL`), or the state machine implements sync(), which RaftNode calls
 * before compacting: then applyBatch() may commit without an fsync, as etcd's backend does (a
 * batch lost in a power failure is still in the log and is applied again after the restart).
 *
 * Concurrency: applyBatch(), installSnapshot() and position() never overlap one another. A
 * SnapshotSource, once opened, is read while later batches are applied; receiveSnapshot() and
 * its sink's calls run while batches are applied.
 *
 * @typeParam R - what applyBatch() returns per entry; a proposal settles with its entry's result.
 */
export interface OnDiskStateMachine<R = unknown> {
  /**
   * The position of the last entry whose effects are durable here; `{ index: 0, term: 0 }` for
   * an empty state. Synchronous: RaftNode builds its Raft state from it in its constructor.
   */
  position(): LogPosition;
  /**
   * Applies committed entries, in one atomic write that also records the last entry's position.
   * `entries` are contiguous and follow position(). They include entries that carry no command
   * (a new leader's empty entry, membership changes, whose `type` is not EntryNormal): apply
   * nothing for them but do advance the recorded position over them. Returns one result per
   * entry, in order (anything, e.g. `undefined`, for the entries without a command).
   */
  applyBatch(entries: readonly Readonly<Entry>[]): readonly R[] | Promise<readonly R[]>;
  /**
   * Opens a consistent point-in-time view of the state (for SQLite: its online backup API, or a
   * read transaction on a second connection, or `VACUUM INTO` a temporary file). Called between
   * batches, but not awaited there: applyBatch() calls go on while the view is being made (a
   * backup made through the applying connection takes their changes in, and its position says
   * so), and while it is read.
   */
  openSnapshot(): Promise<SnapshotSource>;
  /**
   * Starts receiving the snapshot that the LogStore will record at `snapshot.index` (its bytes
   * come from a leader's SnapshotSource, whose own position is at or after that index). Streams
   * may overlap, for the same index too (a leader's retry, a new leader's stream), and a complete
   * staged copy may be waiting for its installSnapshot() (its index already recorded): each
   * stream writes its own partial copy, and no staged copy is removed here. Copies staged at or
   * below an installed index are obsolete once that install succeeded.
   */
  receiveSnapshot(snapshot: LogPosition): Promise<SnapshotSink>;
  /**
   * Replaces the live state with the staged copy received for `snapshotIndex`, atomically (a
   * crash leaves the old state or the new one, never a mix: e.g. write a pointer file under a
   * temporary name, fsync, rename it over the old pointer, fsync the directory), and removes the
   * old state. Returns the position of the installed state (that of the sender's view).
   *
   * Also called when the node starts and finds position() behind the LogStore's snapshot: a
   * crash came between recording the snapshot and installing it. Throws
   * StagedSnapshotMissingError (or any error) when no complete staged copy for that index exists.
   */
  installSnapshot(snapshotIndex: number): Promise<LogPosition>;
  /**
   * Optional: makes every batch applied so far durable. RaftNode calls it (between batches)
   * before it records a snapshot at the applied index and compacts its log behind it, so a state
   * machine whose applyBatch() commits without syncing (SQLite at `synchronous=NORMAL`: the
   * entries of a lost batch are in the log and are applied again after a restart) never loses
   * entries that the log no longer holds. Without it, applyBatch() must be durable on return.
   */
  sync?(): void | Promise<void>;
}

/** Either contract. RaftNode tells them apart by the presence of applyBatch(). */
export type AnyStateMachine<R = unknown> = StateMachine<R> | OnDiskStateMachine<R>;

/** Whether `sm` follows the on-disk contract. */
export function isOnDiskStateMachine<R>(sm: AnyStateMachine<R>): sm is OnDiskStateMachine<R> {
  return typeof (sm as Partial<OnDiskStateMachine<R>>).applyBatch === 'function';
}

/** The result type of a state machine's apply() or, for an on-disk one, of one entry of applyBatch(). */
export type ApplyResult<SM extends AnyStateMachine> = SM extends OnDiskStateMachine<infer R>
  ? R
  : SM extends StateMachine
    ? Awaited<ReturnType<SM['apply']>>
    : never;
