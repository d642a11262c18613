/**
 * The unstable tail of the log: entries and an incoming snapshot that raft accepted but that are
 * not yet known to be durable in Storage.
 */
import { invariant } from '../errors.js';
import { type Logger, silentLogger } from '../logger.js';
import type { Entry, Snapshot } from '../types.js';
import { limitSizeEnd } from './limit-size.js';

/** The initial state of an {@link Unstable}; what is not given starts empty. */
export interface UnstableInit {
  /** The log index of the first unstable entry. */
  offset: number;
  /** Entries at indices `offset, offset + 1, ...` (copied, not retained). */
  entries?: readonly Entry[];
  /** Defaults to `offset`: nothing in progress. */
  offsetInProgress?: number;
  snapshot?: Snapshot | undefined;
  snapshotInProgress?: boolean;
  logger?: Logger;
}

/**
 * Log entries and a snapshot that have not been written to Storage yet.
 *
 * It plays two roles. It holds new entries and an incoming snapshot until a Ready hands them to
 * the application for persistence. Then it keeps holding them while that write is in flight, so
 * that the RaftLog still sees them, until the application reports them stable (stableTo,
 * stableSnapTo) and Storage is guaranteed to return them.
 *
 * The entry at log index `i` is at position `i - offset`. `offset` may be lower than Storage's
 * last index: the next write to Storage then truncates its log before appending (a new leader
 * overwrote a suffix).
 *
 * Entries are immutable values; arrays handed out are copies the caller owns.
 */
export class Unstable {
  /** The incoming snapshot, if any. */
  snapshot: Snapshot | undefined;
  /** The log index of the first unstable entry. */
  offset: number;
  /** Whether the snapshot is being written to Storage. */
  snapshotInProgress: boolean;
  /**
   * Entries in `[offset, offsetInProgress)` are being written to Storage. Exclusive like
   * `offset`. Invariant: `offset <= offsetInProgress`.
   */
  offsetInProgress: number;
  logger: Logger;

  /**
   * The unstable entries are `buf[head..]`. Stabilised entries are dropped by moving `head`, and
   * the dead prefix is cut off only once it outgrows the live part: stableTo in small steps over
   * a long tail then costs amortised O(1) per entry instead of a copy of the tail per call, and
   * at most as many dead entries as live ones stay referenced.
   */
  private buf: Entry[];
  private head = 0;

  constructor(init: UnstableInit) {
    this.offset = init.offset;
    this.buf = init.entries === undefined ? [] : init.entries.slice();
    this.offsetInProgress = init.offsetInProgress ?? init.offset;
    this.snapshot = init.snapshot;
    this.snapshotInProgress = init.snapshotInProgress ?? false;
    this.logger = init.logger ?? silentLogger;
  }

  /** A copy of the unstable entries, `entries[i]` at log index `offset + i`. */
  get entries(): Entry[] {
    return this.buf.slice(this.head);
  }

  /** The number of unstable entries (without copying them). */
  get length(): number {
    return this.buf.length - this.head;
  }

  /** The index of the first entry after the snapshot, if there is an unstable snapshot. */
  maybeFirstIndex(): number | undefined {
    return this.snapshot === undefined ? undefined : this.snapshot.metadata.index + 1;
  }

  /** The index of the last unstable entry, else of the unstable snapshot, else undefined. */
  maybeLastIndex(): number | undefined {
    const n = this.buf.length - this.head;
    if (n !== 0) return this.offset + n - 1;
    return this.snapshot === undefined ? undefined : this.snapshot.metadata.index;
  }

  /** The term of entry `i` if the unstable part knows it (an entry, or the snapshot's index). */
  maybeTerm(i: number): number | undefined {
    if (i < this.offset) {
      const s = this.snapshot;
      return s !== undefined && s.metadata.index === i ? s.metadata.term : undefined;
    }
    const k = this.head + (i - this.offset);
    return k < this.buf.length ? this.buf[k].term : undefined;
  }

  /** The unstable entries not yet being written to Storage (a copy; empty if none). */
  nextEntries(): Entry[] {
    return this.buf.slice(this.head + (this.offsetInProgress - this.offset));
  }

  /** Whether nextEntries() would return anything, without copying. */
  hasNextEntries(): boolean {
    return this.buf.length - this.head > this.offsetInProgress - this.offset;
  }

  /** The unstable snapshot, if there is one not yet being written to Storage. */
  nextSnapshot(): Snapshot | undefined {
    return this.snapshot === undefined || this.snapshotInProgress ? undefined : this.snapshot;
  }

  /**
   * Marks every entry and the snapshot currently held as being written to Storage: they are no
   * longer returned by nextEntries()/nextSnapshot(). Later additions are, until the next call.
   */
  acceptInProgress(): void {
    if (this.buf.length > this.head) {
      this.offsetInProgress = this.buf[this.buf.length - 1].index + 1;
    }
    if (this.snapshot !== undefined) this.snapshotInProgress = true;
  }

  /**
   * Marks the entries up to and including `(i, t)` as durable in Storage, and drops them.
   * Ignored if the unstable log no longer holds that exact entry: part of it was replaced while
   * the write was in flight, and the write reported durable entries that are not ours anymore.
   *
   * Call only when the entries cannot be overwritten by an in-flight append (see etcd's
   * newStorageAppendRespMsg).
   */
  stableTo(i: number, t: number): void {
    const gt = this.maybeTerm(i);
    if (gt === undefined) {
      this.logger.debug(`entry at index ${i} missing from unstable log; ignoring`);
      return;
    }
    if (i < this.offset) {
      this.logger.info(`entry at index ${i} matched unstable snapshot; ignoring`);
      return;
    }
    if (gt !== t) {
      this.logger.info(
        `entry at (index,term)=(${i},${t}) mismatched with entry at (${i},${gt}) in unstable log; ignoring`,
      );
      return;
    }
    this.head += i + 1 - this.offset;
    this.offset = i + 1;
    this.offsetInProgress = Math.max(this.offsetInProgress, this.offset);
    this.shrinkEntriesArray();
  }

  /**
   * Releases stabilised entries once they are at least as many as the live ones, so that large
   * payloads are not kept alive and the copy is paid for by the entries dropped.
   */
  shrinkEntriesArray(): void {
    const live = this.buf.length - this.head;
    if (live === 0) {
      this.buf = [];
      this.head = 0;
    } else if (this.head >= live) {
      this.buf = this.buf.slice(this.head);
      this.head = 0;
    }
  }

  /** Marks the unstable snapshot at index `i` as durable, and drops it. */
  stableSnapTo(i: number): void {
    if (this.snapshot !== undefined && this.snapshot.metadata.index === i) {
      this.snapshot = undefined;
      this.snapshotInProgress = false;
    }
  }

  /** Replaces everything with the snapshot `s` (kept by reference: snapshots are immutable). */
  restore(s: Snapshot): void {
    this.offset = s.metadata.index + 1;
    this.offsetInProgress = this.offset;
    this.buf = [];
    this.head = 0;
    this.snapshot = s;
    this.snapshotInProgress = false;
  }

  /**
   * Appends `ents[start..]` (contiguous, non-empty), first truncating the unstable entries from
   * the first new index on if they overlap. The caller guarantees that no gap is left.
   */
  truncateAndAppend(ents: readonly Entry[], start = 0): void {
    const fromIndex = ents[start].index;
    const n = this.buf.length - this.head;
    if (fromIndex === this.offset + n) {
      // The next index after ours: append directly.
    } else if (fromIndex <= this.offset) {
      this.logger.info(`replace the unstable entries from index ${fromIndex}`);
      // The log is truncated before our offset: replace all the unstable entries.
      this.buf = [];
      this.head = 0;
      this.offset = fromIndex;
      this.offsetInProgress = fromIndex;
    } else {
      this.logger.info(`truncate the unstable entries before index ${fromIndex}`);
      this.mustCheckOutOfBounds(this.offset, fromIndex);
      // In place is safe: every array handed out is a copy.
      this.buf.length = this.head + (fromIndex - this.offset);
      // Only the in-progress entries before fromIndex are still in progress.
      this.offsetInProgress = Math.min(this.offsetInProgress, fromIndex);
    }
    // Copying the entries (not keeping the caller's array) keeps later appends from writing
    // into an array that a message, possibly delivered again by a simulation, still owns.
    if (this.buf.length === this.head) {
      // Nothing unstable: the usual case, since each Ready's entries turn stable before the next
      // append. One exact-size copy instead of pushes that grow a new array step by step.
      this.buf = ents.slice(start);
      this.head = 0;
    } else {
      for (let k = start; k < ents.length; k++) this.buf.push(ents[k]);
    }
  }

  /**
   * The unstable entries in `[lo, hi)`, capped at `maxSize` bytes (`entrySize()`) but at
   * least one if the range is not empty. A copy the caller owns. The whole range must be in the
   * unstable log (an AssertionError otherwise).
   */
  slice(lo: number, hi: number, maxSize = Infinity): Entry[] {
    const end = this.sliceEnd(lo, hi, maxSize);
    return this.buf.slice(this.head + (lo - this.offset), this.head + (end - this.offset));
  }

  /** The unstable entry at log index `i`, which must be in the unstable log. */
  entryAt(i: number): Entry {
    this.mustCheckOutOfBounds(i, i + 1);
    return this.buf[this.head + (i - this.offset)];
  }

  /**
   * Appends the unstable entries in `[lo, end)` to `dst` without an intermediate array, for
   * callers that merge them behind entries read from Storage.
   */
  pushTo(dst: Entry[], lo: number, end: number): void {
    this.mustCheckOutOfBounds(lo, end);
    const to = this.head + (end - this.offset);
    for (let k = this.head + (lo - this.offset); k < to; k++) dst.push(this.buf[k]);
  }

  /**
   * The end (exclusive) of the longest run of unstable entries from `lo` (before `hi`) within
   * `maxSize` bytes, at least one entry if `lo < hi`.
   */
  sliceEnd(lo: number, hi: number, maxSize: number): number {
    this.mustCheckOutOfBounds(lo, hi);
    const base = this.head - this.offset;
    return limitSizeEnd(this.buf, base + lo, base + hi, maxSize) - base;
  }

  /** Asserts `offset <= lo <= hi <= offset + length`. */
  mustCheckOutOfBounds(lo: number, hi: number): void {
    invariant(lo <= hi, () => `invalid unstable.slice ${lo} > ${hi}`);
    const upper = this.offset + (this.buf.length - this.head);
    invariant(lo >= this.offset && hi <= upper, () =>
      `unstable.slice[${lo},${hi}) out of bound [${this.offset},${upper}]`,
    );
  }
}
