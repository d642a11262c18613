/**
 * The Raft log as the state machine sees it: what is durable (Storage) followed by what is not
 * yet (Unstable), with the commit and apply cursors.
 */
import { CompactedError, UnavailableError, invariant } from '../errors.js';
import { type Logger, silentLogger } from '../logger.js';
import type { Storage } from '../storage.js';
import { type Entry, type Snapshot, entriesSize, entrySize } from '../types.js';
import { noLimit } from './limit-size.js';
import { Unstable } from './unstable.js';

/** The position of an entry: its index and the term of the leader that created it. */
export interface EntryId {
  index: number;
  term: number;
}

/**
 * A run of entries as a leader sends it: `entries` follow `prev` directly, and the whole is a
 * slice of the log of the leader at `term` (etcd's logSlice).
 */
export interface LogSlice {
  term: number;
  prev: EntryId;
  entries: Entry[];
}

/** The outcome of {@link RaftLog.maybeAppend}. */
export interface AppendResult {
  /** The index of the last entry of the append (`index + ents.length`); 0 when not ok. */
  lastNewIndex: number;
  /** False if the log has no entry `(index, logTerm)`: the append was refused, nothing changed. */
  ok: boolean;
}

const REJECTED: Readonly<AppendResult> = Object.freeze({ lastNewIndex: 0, ok: false });

/**
 * The Raft log of one node.
 *
 * Invariants: `applied <= applying <= committed <= lastIndex()`, and
 * `firstIndex() - 1 <= applied` once snapshots are applied (the log holds every entry that is not
 * yet applied).
 */
export class RaftLog {
  /** Every stable entry since the last snapshot. */
  readonly storage: Storage;
  /** Entries and a snapshot not yet written to storage. */
  readonly unstable: Unstable;
  /** The highest index known to be stored on a quorum (Raft's commitIndex). */
  committed: number;
  /**
   * The highest index the application was told to apply (handed out in a Ready); some of it may
   * still be being applied. Invariant: `applied <= applying <= committed`.
   */
  applying: number;
  /** The highest index the application has applied (Raft's lastApplied). */
  applied: number;
  logger: Logger;
  /**
   * Cap on the bytes ({@link entrySize}) of committed entries handed out for applying and not
   * yet acknowledged by appliedTo(). Infinity: no cap.
   */
  maxApplyingEntsSize: number;
  /** Bytes of committed entries handed out for applying and not yet acknowledged. */
  applyingEntsSize: number;
  /** Whether handing out committed entries is paused until appliedTo() frees budget. */
  applyingEntsPaused: boolean;

  /**
   * A log over `storage`, as of its last snapshot: committed and applied start at the
   * snapshot's index, and unstable entries follow storage's last index.
   */
  constructor(storage: Storage, logger: Logger = silentLogger, maxApplyingEntsSize: number = noLimit) {
    this.storage = storage;
    this.logger = logger;
    this.maxApplyingEntsSize = maxApplyingEntsSize;
    this.applyingEntsSize = 0;
    this.applyingEntsPaused = false;
    const firstIndex = storage.firstIndex();
    const lastIndex = storage.lastIndex();
    this.unstable = new Unstable({ offset: lastIndex + 1, logger });
    this.committed = firstIndex - 1;
    this.applying = firstIndex - 1;
    this.applied = firstIndex - 1;
  }

  toString(): string {
    return (
      `committed=${this.committed}, applied=${this.applied}, applying=${this.applying}, ` +
      `unstable.offset=${this.unstable.offset}, unstable.offsetInProgress=${this.unstable.offsetInProgress}, ` +
      `len(unstable.Entries)=${this.unstable.length}`
    );
  }

  /**
   * Handles the entries of an append from the leader (Raft §5.3, AppendEntries receiver rules 2
   * to 5): refuses if the log has no entry `(index, logTerm)`; otherwise skips the entries the
   * log already has, truncates the log at the first conflicting one, appends the rest, and
   * advances the commit index to `min(committed, index + ents.length)`.
   *
   * A conflict at or below the commit index means two leaders disagree on a committed entry:
   * an AssertionError, never a truncation.
   */
  maybeAppend(index: number, logTerm: number, committed: number, ents: readonly Entry[]): Readonly<AppendResult> {
    if (!this.matchTerm(index, logTerm)) return REJECTED;

    const lastNewIndex = index + ents.length;
    const ci = this.findConflict(ents);
    if (ci !== 0) {
      invariant(ci > this.committed, () => `entry ${ci} conflict with committed entry [committed(${this.committed})]`);
      const start = ci - (index + 1);
      invariant(start >= 0 && start < ents.length, () => `index, ${start}, is out of range [${ents.length}]`);
      this.appendFrom(ents, start);
    }
    // Raft §5.3: commitIndex = min(leaderCommit, index of last new entry). Entries past the end
    // of this append may differ from the leader's log, so they are not committed.
    this.commitTo(Math.min(committed, lastNewIndex));
    return { lastNewIndex, ok: true };
  }

  /** {@link RaftLog.maybeAppend} for an append given as etcd's logSlice (its `term` is not used yet). */
  maybeAppendSlice(a: LogSlice, committed: number): Readonly<AppendResult> {
    return this.maybeAppend(a.prev.index, a.prev.term, committed, a.entries);
  }

  /**
   * Appends `ents` at their indices, truncating any entries at or after the first one (the
   * caller has checked that the log matches right before it). Returns the new last index.
   */
  append(ents: readonly Entry[]): number {
    if (ents.length === 0) return this.lastIndex();
    return this.appendFrom(ents, 0);
  }

  private appendFrom(ents: readonly Entry[], start: number): number {
    const after = ents[start].index - 1;
    // Truncating committed entries would lose them (Raft's State Machine Safety).
    invariant(after >= this.committed, () => `after(${after}) is out of range [committed(${this.committed})]`);
    this.unstable.truncateAndAppend(ents, start);
    return this.lastIndex();
  }

  /**
   * The index of the first entry of `ents` that the log does not have: either its index holds
   * an entry of another term (a conflict) or it is past the end of the log. 0 if the log has
   * them all. `ents` must be contiguous.
   */
  findConflict(ents: readonly Entry[]): number {
    for (const ne of ents) {
      if (!this.matchTerm(ne.index, ne.term)) {
        if (ne.index <= this.lastIndex()) {
          this.logger.info(
            `found conflict at index ${ne.index} [existing term: ${this.termOrZero(ne.index)}, conflicting term: ${ne.term}]`,
          );
        }
        return ne.index;
      }
    }
    return 0;
  }

  /**
   * A best guess at where this log stops matching another log of which only the entry
   * `(index, term)` is known: the largest `guess <= index` whose term is `<= term`, or whose
   * term is unknown here (compacted or not stored), with that term (0 if unknown).
   *
   * Leader and follower use it to skip a whole term of mismatching entries per round trip
   * after a rejected append, instead of one entry per round trip.
   */
  findConflictByTerm(index: number, term: number): EntryId {
    for (; index > 0; index--) {
      // Compacted or unavailable: a match cannot be ruled out, so guess here with term 0.
      const ourTerm = this.termOrUndefined(index);
      if (ourTerm === undefined) return { index, term: 0 };
      if (ourTerm <= term) return { index, term: ourTerm };
    }
    return { index: 0, term: 0 };
  }

  /** The unstable entries not yet being written to storage (a copy). */
  nextUnstableEnts(): Entry[] {
    return this.unstable.nextEntries();
  }

  /** Same as {@link RaftLog.nextUnstableEnts} (the name in older etcd releases). */
  unstableEntries(): Entry[] {
    return this.unstable.nextEntries();
  }

  /** Whether there are unstable entries not yet being written to storage. */
  hasNextUnstableEnts(): boolean {
    return this.unstable.hasNextEntries();
  }

  /** Whether there are unstable entries, being written or not. */
  hasNextOrInProgressUnstableEnts(): boolean {
    return this.unstable.length > 0;
  }

  /**
   * The committed entries ready to be applied, up to the applying byte budget (but at least one).
   * Committed entries may not be durable locally yet (a quorum has them): with `allowUnstable`
   * they are returned anyway, otherwise only those known to be in storage.
   */
  nextCommittedEnts(allowUnstable: boolean): Entry[] {
    if (this.applyingEntsPaused) return [];
    // See hasNextCommittedEnts.
    if (this.hasNextOrInProgressSnapshot()) return [];
    const lo = this.applying + 1;
    const hi = this.maxAppliableIndex(allowUnstable) + 1;
    if (lo >= hi) return [];
    const maxSize = this.maxApplyingEntsSize - this.applyingEntsSize;
    invariant(maxSize > 0, () =>
      `applying entry size (${this.maxApplyingEntsSize}-${this.applyingEntsSize})=${maxSize} not positive`,
    );
    return this.slice(lo, hi, maxSize);
  }

  /** Whether nextCommittedEnts() would return entries, without reading them. */
  hasNextCommittedEnts(allowUnstable: boolean): boolean {
    if (this.applyingEntsPaused) return false;
    // With a snapshot to apply, handing out entries too would leave the order of applying
    // ambiguous: the snapshot goes first, alone.
    if (this.hasNextOrInProgressSnapshot()) return false;
    return this.applying + 1 < this.maxAppliableIndex(allowUnstable) + 1;
  }

  /** The highest committed index that may be applied (only stable ones unless allowUnstable). */
  maxAppliableIndex(allowUnstable: boolean): number {
    return allowUnstable ? this.committed : Math.min(this.committed, this.unstable.offset - 1);
  }

  /** The unstable snapshot, if there is one not yet being written to storage. */
  nextUnstableSnapshot(): Snapshot | undefined {
    return this.unstable.nextSnapshot();
  }

  hasNextUnstableSnapshot(): boolean {
    return this.unstable.nextSnapshot() !== undefined;
  }

  /** Whether a snapshot is waiting to be written and applied, or being written. */
  hasNextOrInProgressSnapshot(): boolean {
    return this.unstable.snapshot !== undefined;
  }

  /**
   * The newest snapshot: the unstable one, else storage's.
   *
   * @throws SnapshotTemporarilyUnavailableError from storage, when it is still preparing it.
   */
  snapshot(): Snapshot {
    return this.unstable.snapshot ?? this.storage.snapshot();
  }

  firstIndex(): number {
    return this.unstable.maybeFirstIndex() ?? this.storage.firstIndex();
  }

  lastIndex(): number {
    return this.unstable.maybeLastIndex() ?? this.storage.lastIndex();
  }

  /** Raises the commit index to `tocommit` (never lowers it). It must be in the log. */
  commitTo(tocommit: number): void {
    if (this.committed < tocommit) {
      invariant(this.lastIndex() >= tocommit, () =>
        `tocommit(${tocommit}) is out of range [lastIndex(${this.lastIndex()})]. Was the raft log corrupted, truncated, or lost?`,
      );
      this.committed = tocommit;
    }
  }

  /**
   * Records that the application applied everything up to `i`, and releases `size` bytes of the
   * applying budget.
   */
  appliedTo(i: number, size: number): void {
    invariant(this.committed >= i && i >= this.applied, () =>
      `applied(${i}) is out of range [prevApplied(${this.applied}), committed(${this.committed})]`,
    );
    this.applied = i;
    this.applying = Math.max(this.applying, i);
    // Clamped: a caller that over-reports must not drive the budget negative.
    this.applyingEntsSize = this.applyingEntsSize > size ? this.applyingEntsSize - size : 0;
    this.applyingEntsPaused = this.applyingEntsSize >= this.maxApplyingEntsSize;
  }

  /**
   * Records that entries up to `i`, of `size` bytes, were handed to the application to apply.
   */
  acceptApplying(i: number, size: number, allowUnstable: boolean): void {
    invariant(this.committed >= i, () =>
      `applying(${i}) is out of range [prevApplying(${this.applying}), committed(${this.committed})]`,
    );
    this.applying = i;
    this.applyingEntsSize += size;
    // Pause when the budget is used up, or when nextCommittedEnts() stopped short of what was
    // appliable: then it was cut by the budget, and the next entry would exceed it.
    this.applyingEntsPaused =
      this.applyingEntsSize >= this.maxApplyingEntsSize || i < this.maxAppliableIndex(allowUnstable);
  }

  /** Marks the entries up to `(i, t)` as durable (ignored if that entry was replaced since). */
  stableTo(i: number, t: number): void {
    this.unstable.stableTo(i, t);
  }

  /** Marks the unstable snapshot at index `i` as durable. */
  stableSnapTo(i: number): void {
    this.unstable.stableSnapTo(i);
  }

  /**
   * The application started persisting the unstable entries and snapshot: do not hand them out
   * again in the next Ready.
   */
  acceptUnstable(): void {
    this.unstable.acceptInProgress();
  }

  /** The term of the last entry. */
  lastTerm(): number {
    const last = this.lastIndex();
    const t = this.termOrUndefined(last);
    invariant(t !== undefined, () => `unexpected error when getting the last term at ${last}`);
    return t;
  }

  /**
   * The term of entry `i`, for `i` in `[firstIndex() - 1, lastIndex()]`.
   *
   * @throws CompactedError if `i < firstIndex() - 1`.
   * @throws UnavailableError if `i > lastIndex()`.
   */
  term(i: number): number {
    // The unstable part first: it answers most lookups without a range check against storage.
    const t = this.unstable.maybeTerm(i);
    if (t !== undefined) return t;
    // The entry before firstIndex is compacted, but its term is kept for matching appends.
    if (i + 1 < this.firstIndex()) throw new CompactedError();
    if (i > this.lastIndex()) throw new UnavailableError();
    return this.storage.term(i);
  }

  /**
   * The term of entry `i`, or 0 if it is compacted or unavailable (etcd's
   * zeroTermOnOutOfBounds(l.term(i))). Does not throw for those, so lookups on the message path
   * cost no exception.
   */
  termOrZero(i: number): number {
    return this.termOrUndefined(i) ?? 0;
  }

  /** The term of entry `i`, or undefined if it is compacted or unavailable. */
  termOrUndefined(i: number): number | undefined {
    const t = this.unstable.maybeTerm(i);
    if (t !== undefined) return t;
    if (i + 1 < this.firstIndex() || i > this.lastIndex()) return undefined;
    try {
      return this.storage.term(i);
    } catch (err) {
      if (err instanceof CompactedError || err instanceof UnavailableError) return undefined;
      throw err;
    }
  }

  /**
   * The entries from `i` to the end of the log, within `maxSize` bytes (at least one). Empty if
   * `i > lastIndex()`.
   *
   * @throws CompactedError if `i < firstIndex()`.
   */
  entries(i: number, maxSize: number): Entry[] {
    const last = this.lastIndex();
    if (i > last) return [];
    return this.slice(i, last + 1, maxSize);
  }

  /** Every entry in the log, from firstIndex() on. */
  allEntries(): Entry[] {
    // etcd retries on ErrCompacted for a compaction racing on another goroutine; nothing can
    // run between these calls here.
    return this.entries(this.firstIndex(), noLimit);
  }

  /**
   * Whether a log ending with entry `(lasti, term)` is at least as up to date as this one
   * (Raft §5.4.1): the later last term wins; with equal last terms, the longer log.
   */
  isUpToDate(lasti: number, term: number): boolean {
    const ourTerm = this.lastTerm();
    return term > ourTerm || (term === ourTerm && lasti >= this.lastIndex());
  }

  /** Whether the log has entry `i` with term `term` (false if compacted or unavailable). */
  matchTerm(i: number, term: number): boolean {
    const t = this.termOrUndefined(i);
    return t !== undefined && t === term;
  }

  /**
   * Commits up to `maxIndex` if that entry is of `term` (Raft §5.4.2: a leader commits by
   * counting replicas only entries of its own term). Returns whether the commit index moved.
   */
  maybeCommit(maxIndex: number, term: number): boolean {
    // term 0 never matches: a leader campaigned at least at term 1, and 0 is also what
    // termOrZero() answers for an unknown entry.
    if (maxIndex > this.committed && term !== 0 && this.termOrZero(maxIndex) === term) {
      this.commitTo(maxIndex);
      return true;
    }
    return false;
  }

  /** Replaces the log with the snapshot `s`, which becomes the unstable snapshot; commits it. */
  restore(s: Snapshot): void {
    this.logger.info(`log [${this.toString()}] starts to restore snapshot [index: ${s.metadata.index}, term: ${s.metadata.term}]`);
    this.committed = s.metadata.index;
    this.unstable.restore(s);
  }

  /**
   * Visits the entries in `[lo, hi)` in consecutive pages of at most `pageSize` bytes (more only
   * if a single entry is larger). `visit` returning `false` stops the scan; errors it throws
   * propagate.
   *
   * @throws CompactedError if `lo` is compacted (possibly after visiting some pages).
   */
  scan(lo: number, hi: number, pageSize: number, visit: (ents: Entry[]) => boolean | void): void {
    while (lo < hi) {
      const ents = this.slice(lo, hi, pageSize);
      invariant(ents.length > 0, () => `got 0 entries in [${lo}, ${hi})`);
      if (visit(ents) === false) return;
      lo += ents.length;
    }
  }

  /**
   * The entries in `[lo, hi)`, within `maxSize` bytes ({@link entrySize}) but at least one if
   * the range is not empty. Reads storage for the part before the unstable offset. A fresh array
   * the caller owns; the entries themselves are shared and immutable.
   *
   * @throws CompactedError if `lo < firstIndex()`.
   */
  slice(lo: number, hi: number, maxSize: number): Entry[] {
    this.mustCheckOutOfBounds(lo, hi);
    if (lo === hi) return [];
    const offset = this.unstable.offset;
    if (lo >= offset) return this.unstable.slice(lo, hi, maxSize);

    const cut = Math.min(hi, offset);
    let ents: Entry[];
    try {
      ents = this.storage.entries(lo, cut, maxSize);
    } catch (err) {
      // Storage must hold everything before the unstable offset that is not compacted.
      if (err instanceof UnavailableError) invariant(false, `entries[${lo}:${cut}) is unavailable from storage`);
      throw err;
    }
    if (hi <= offset) return ents;

    // Storage stopped short of cut: the budget is used up.
    if (ents.length < cut - lo) return ents;
    // Without a budget there is nothing to measure.
    const size = maxSize === Infinity ? 0 : entriesSize(ents);
    if (size >= maxSize) return ents;

    const end = this.unstable.sliceEnd(offset, hi, maxSize - size);
    // sliceEnd() returns one entry even over budget; here it would push the total over maxSize.
    if (end - offset === 1 && size + entrySize(this.unstable.entryAt(offset)) > maxSize) return ents;
    // Storage handed us a fresh array (its contract): extend it rather than copy again.
    this.unstable.pushTo(ents, offset, end);
    return ents;
  }

  /**
   * Checks `firstIndex() <= lo <= hi <= lastIndex() + 1`.
   *
   * @throws CompactedError if `lo < firstIndex()`; AssertionError for the other bounds.
   */
  mustCheckOutOfBounds(lo: number, hi: number): void {
    invariant(lo <= hi, () => `invalid slice ${lo} > ${hi}`);
    const fi = this.firstIndex();
    if (lo < fi) throw new CompactedError();
    const last = this.lastIndex();
    invariant(hi <= last + 1, () => `slice[${lo},${hi}) out of bound [${fi},${last}]`);
  }
}
