/**
 * A read-only window on a node's in-memory log (the durable part and the unstable tail), for
 * checkers, tools and tests that must see entries not yet durable. Nothing through it can move
 * the log's cursors or change its entries.
 */
import type { Entry } from '../types.js';
import type { RaftLog } from './raft-log.js';

/** The Raft log of a running node, read-only. Reads the live log: call again to see changes. */
export interface RaftLogView {
  /** The highest index known to be committed. */
  readonly committed: number;
  /** The highest index the application reported applied. */
  readonly applied: number;
  /** The first index still in the log (the one after the latest snapshot or compaction). */
  firstIndex(): number;
  /** The last index in the log, durable or not. */
  lastIndex(): number;
  /** The term of the last entry (or of the snapshot when the log is empty). */
  lastTerm(): number;
  /**
   * The term of entry `i`, for `i` in `[firstIndex() - 1, lastIndex()]`.
   *
   * @throws CompactedError if `i < firstIndex() - 1`; UnavailableError if `i > lastIndex()`.
   */
  term(i: number): number;
  /**
   * The entries in `[lo, hi)` within `maxBytes` (at least one if the range is not empty). The
   * entries are shared and must not be mutated.
   *
   * @throws CompactedError if `lo < firstIndex()`.
   */
  slice(lo: number, hi: number, maxBytes: number): Entry[];
}

/** A view of `log` that delegates every read and offers no way to write. */
export function raftLogView(log: RaftLog): RaftLogView {
  return {
    get committed() {
      return log.committed;
    },
    get applied() {
      return log.applied;
    },
    firstIndex: () => log.firstIndex(),
    lastIndex: () => log.lastIndex(),
    lastTerm: () => log.lastTerm(),
    term: (i) => log.term(i),
    slice: (lo, hi, maxBytes) => log.slice(lo, hi, maxBytes),
  };
}
