/**
 * The read side of durable Raft state, as the core sees it, and an in-memory implementation.
 *
 * The core never writes to Storage: the application persists what a Ready hands it, then tells
 * the core. Storage backends (SQLite, the in-memory LogStore) implement this interface; the
 * contract is etcd's, so behaviour ported from etcd's raft holds unchanged.
 */
import {
  CompactedError,
  SnapOutOfDateError,
  UnavailableError,
  invariant,
} from './errors.js';
import { ChunkedEntries } from './log/chunked-entries.js';
import {
  type ConfState,
  type Entry,
  EntryType,
  EMPTY_BYTES,
  type HardState,
  type Snapshot,
  cloneConfState,
  emptySnapshot,
} from './types.js';

/**
 * What the core reads from durable storage.
 *
 * Entries and snapshots handed out or taken in are immutable values: neither the storage nor
 * the caller may change them after the fact (raft passes the same objects on to the
 * application through Ready).
 *
 * Throwing anything other than the typed errors documented below makes the raft instance
 * inoperable: the application owns cleanup and recovery in that case.
 */
export interface Storage {
  /** The persisted HardState (zeros if none was ever saved) and the ConfState of the snapshot. */
  initialState(): { hardState: HardState; confState: ConfState };

  /**
   * The consecutive entries in `[lo, hi)`. Their total size (`entrySize()` of types.ts) is capped at
   * `maxSize` (Infinity: no cap), but at least one entry is returned if the range holds any,
   * even when that entry alone is over the cap.
   *
   * The caller owns the returned array and may append to it: return a fresh array, never a
   * live view of internal state.
   *
   * @throws CompactedError if `lo` has been compacted away (`lo < firstIndex()`).
   * @throws UnavailableError if some entry in `[lo, hi)` is not available (beyond `lastIndex()`).
   */
  entries(lo: number, hi: number, maxSize: number): Entry[];

  /**
   * The term of entry `i`, for `i` in `[firstIndex() - 1, lastIndex()]`. The term of the entry
   * just before `firstIndex()` is kept for matching appends (Raft §5.3, the consistency check of
   * AppendEntries) even though the entry itself is compacted.
   *
   * @throws CompactedError if `i < firstIndex() - 1`.
   * @throws UnavailableError if `i > lastIndex()`.
   */
  term(i: number): number;

  /** The index of the last entry in the log (the snapshot's index if there is none after it). */
  lastIndex(): number;

  /**
   * The index of the first entry possibly available through `entries()`; older ones are folded
   * into the latest snapshot. If the log holds no entry after the snapshot, this is
   * `lastIndex() + 1`.
   */
  firstIndex(): number;

  /**
   * The most recent snapshot.
   *
   * @throws SnapshotTemporarilyUnavailableError if the snapshot is being prepared: raft then
   * retries later rather than failing.
   */
  snapshot(): Snapshot;
}

/** How often each Storage method of a MemoryStorage has been called (tests assert on these). */
export interface MemoryStorageCallStats {
  initialState: number;
  firstIndex: number;
  lastIndex: number;
  entries: number;
  term: number;
  snapshot: number;
}

/**
 * A Storage held in memory, with the write methods an application (or a test) uses to mirror
 * what it persisted. Also the in-memory cache a durable backend keeps in front of its disk.
 */
export class MemoryStorage implements Storage {
  /** Call counts per Storage method. */
  readonly callStats: MemoryStorageCallStats = {
    initialState: 0,
    firstIndex: 0,
    lastIndex: 0,
    entries: 0,
    term: 0,
    snapshot: 0,
  };

  private hardState: HardState = { term: 0, vote: 0, commit: 0 };
  private snap: Snapshot = emptySnapshot();
  /**
   * `ents.at(i)` has log index `ents.at(0).index + i`. `ents.at(0)` is a dummy standing for the
   * last entry covered by the snapshot: it keeps that entry's index and term so that term()
   * works at `firstIndex() - 1`. Chunked, not one array: see ChunkedEntries.
   */
  private ents: ChunkedEntries = entriesFrom(dummyEntry(0, 0));
  /**
   * `ents.at(0).index`, kept apart: firstIndex() and lastIndex() are asked for on nearly every
   * step of the core, and a field read is cheaper than finding element 0 in the chunks.
   */
  private dummyIndex = 0;

  initialState(): { hardState: HardState; confState: ConfState } {
    this.callStats.initialState++;
    return { hardState: { ...this.hardState }, confState: cloneConfState(this.snap.metadata.confState) };
  }

  /** Saves the current HardState. */
  setHardState(hs: HardState): void {
    this.hardState = { term: hs.term, vote: hs.vote, commit: hs.commit };
  }

  entries(lo: number, hi: number, maxSize: number): Entry[] {
    this.callStats.entries++;
    const offset = this.dummyIndex;
    if (lo <= offset) throw new CompactedError();
    invariant(hi <= this.lastIndexInternal() + 1, () =>
      `entries' hi(${hi}) is out of bound lastindex(${this.lastIndexInternal()})`,
    );
    invariant(lo <= hi, () => `invalid entries range [${lo}, ${hi})`);
    // Only the dummy entry: nothing after the snapshot.
    if (this.ents.length === 1) throw new UnavailableError();

    const from = lo - offset;
    const to = this.ents.limitSizeEnd(from, hi - offset, maxSize);
    // A fresh array: the caller may append to it without touching ours.
    return this.ents.slice(from, to);
  }

  term(i: number): number {
    this.callStats.term++;
    const offset = this.dummyIndex;
    if (i < offset) throw new CompactedError();
    if (i - offset >= this.ents.length) throw new UnavailableError();
    return this.ents.at(i - offset).term;
  }

  lastIndex(): number {
    this.callStats.lastIndex++;
    return this.lastIndexInternal();
  }

  firstIndex(): number {
    this.callStats.firstIndex++;
    return this.dummyIndex + 1;
  }

  snapshot(): Snapshot {
    this.callStats.snapshot++;
    return cloneSnapshot(this.snap);
  }

  /**
   * Replaces the whole contents with the given snapshot: the log restarts right after it.
   *
   * @throws SnapOutOfDateError if the snapshot is not newer than the one held. A snapshot of
   * index 0 is accepted while none has been applied yet: applications bootstrap the ConfState
   * that way.
   */
  applySnapshot(snap: Snapshot): void {
    const held = this.snap.metadata.index;
    if (held !== 0 && held >= snap.metadata.index) throw new SnapOutOfDateError();
    this.snap = cloneSnapshot(snap);
    this.ents = entriesFrom(dummyEntry(snap.metadata.index, snap.metadata.term));
    this.dummyIndex = snap.metadata.index;
  }

  /**
   * Records a snapshot of the state machine as of entry `i` (which must be in the log), to be
   * returned by snapshot(). Pass the ConfState as of `i` if membership changed since the last
   * snapshot; `undefined` keeps the previous one. Does not compact: call compact() for that.
   *
   * @throws SnapOutOfDateError if `i` is not newer than the snapshot held.
   */
  createSnapshot(i: number, cs: ConfState | undefined, data: Uint8Array): Snapshot {
    if (i <= this.snap.metadata.index) throw new SnapOutOfDateError();
    const offset = this.dummyIndex;
    invariant(i <= this.lastIndexInternal(), () =>
      `snapshot ${i} is out of bound lastindex(${this.lastIndexInternal()})`,
    );
    this.snap = {
      data,
      metadata: {
        index: i,
        term: this.ents.at(i - offset).term,
        confState: cs === undefined ? this.snap.metadata.confState : cloneConfState(cs),
      },
    };
    return cloneSnapshot(this.snap);
  }

  /**
   * Discards the entries before `compactIndex`; entry `compactIndex` becomes the dummy that
   * keeps its term. The application must not compact beyond what it has applied.
   *
   * @throws CompactedError if `compactIndex` is already compacted.
   */
  compact(compactIndex: number): void {
    const offset = this.dummyIndex;
    if (compactIndex <= offset) throw new CompactedError();
    invariant(compactIndex <= this.lastIndexInternal(), () =>
      `compact ${compactIndex} is out of bound lastindex(${this.lastIndexInternal()})`,
    );
    const i = compactIndex - offset;
    const dummy = dummyEntry(this.ents.at(i).index, this.ents.at(i).term);
    this.ents.dropFront(i);
    this.ents.set(0, dummy);
    this.dummyIndex = dummy.index;
  }

  /**
   * Appends entries that were persisted. Entries already compacted away are skipped; entries
   * that overlap the log replace it from their first index on (a new leader overwrote a
   * suffix). The entries must be contiguous and must not leave a gap after lastIndex().
   */
  append(entries: readonly Entry[]): void {
    if (entries.length === 0) return;
    const first = this.dummyIndex + 1;
    const last = entries[0].index + entries.length - 1;
    // Everything given is already compacted.
    if (last < first) return;
    const skip = first > entries[0].index ? first - entries[0].index : 0;

    const offset = entries[skip].index - this.dummyIndex;
    invariant(offset <= this.ents.length, () =>
      `missing log entry [last: ${this.lastIndexInternal()}, append at: ${entries[skip].index}]`,
    );
    // In place is safe: entries() hands out copies, never the chunks.
    const ents = this.ents;
    ents.truncate(offset);
    for (let k = skip; k < entries.length; k++) ents.push(entries[k]);
  }

  private lastIndexInternal(): number {
    return this.dummyIndex + this.ents.length - 1;
  }
}

function entriesFrom(dummy: Entry): ChunkedEntries {
  const ents = new ChunkedEntries();
  ents.push(dummy);
  return ents;
}

function dummyEntry(index: number, term: number): Entry {
  return { term, index, type: EntryType.EntryNormal, data: EMPTY_BYTES };
}

/** Copies what a caller could mutate; the payload bytes are shared (immutable by contract). */
function cloneSnapshot(s: Snapshot): Snapshot {
  return {
    data: s.data,
    metadata: { index: s.metadata.index, term: s.metadata.term, confState: cloneConfState(s.metadata.confState) },
  };
}
