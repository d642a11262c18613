/**
 * A majority configuration: a set of voters that decides by simple majority.
 *
 * Ported from etcd raft's `quorum/majority.go`.
 */

import { type AckedIndexer, type Index, INDEX_INFINITY, VoteResult } from './quorum.js';

/**
 * Scratch space for committedIndex. It runs on every append acknowledgement, so it sorts into
 * a buffer that lives as long as the module instead of allocating per call (etcd uses an
 * on-stack array for the same reason). It only grows, to the largest configuration seen.
 * committedIndex never calls out while the buffer holds live data except to the indexer, and an
 * indexer has no business computing quorums, so sharing it is safe on a single thread.
 */
let scratch = new Float64Array(8);

/** A set of voter ids that makes decisions by majority. */
export class MajorityConfig implements Iterable<number> {
  /** The voter ids. Mutated in place by the membership changer on its own copies. */
  readonly ids: Set<number>;

  constructor(ids?: Iterable<number>) {
    this.ids = new Set(ids);
  }

  get size(): number {
    return this.ids.size;
  }

  has(id: number): boolean {
    return this.ids.has(id);
  }

  [Symbol.iterator](): Iterator<number> {
    return this.ids[Symbol.iterator]();
  }

  /** A copy that shares no memory with this one. */
  clone(): MajorityConfig {
    return new MajorityConfig(this.ids);
  }

  /** The ids in ascending order. */
  slice(): number[] {
    return sortedIds(this.ids);
  }

  /** The ids in ascending order, as etcd prints them: `(1 2 3)`. */
  toString(): string {
    return `(${this.slice().join(' ')})`;
  }

  /**
   * A multi-line table of the voters' acknowledged indexes, one row per voter in id order, with
   * a bar whose length grows with the rank of the voter's index (`?` for a voter that has not
   * reported). Output matches etcd's `MajorityConfig.Describe` character for character.
   */
  describe(l: AckedIndexer): string {
    const n = this.ids.size;
    if (n === 0) return '<empty majority quorum>';

    interface Row {
      id: number;
      idx: Index;
      ok: boolean;
      bar: number;
    }
    const info: Row[] = [];
    for (const id of this.ids) {
      const idx = l.ackedIndex(id);
      info.push({ id, idx: idx ?? 0, ok: idx !== undefined, bar: 0 });
    }

    // The i-th smallest index gets a bar of length i (a sort of progress bar); equal indexes
    // get equal bars.
    info.sort((a, b) => a.idx - b.idx || a.id - b.id);
    for (let i = 1; i < info.length; i++) {
      info[i]!.bar = info[i - 1]!.idx < info[i]!.idx ? i : info[i - 1]!.bar;
    }
    info.sort((a, b) => a.id - b.id);

    let buf = `${' '.repeat(n)}    idx\n`;
    for (const row of info) {
      buf += row.ok ? `${'x'.repeat(row.bar)}>${' '.repeat(n - row.bar)}` : `?${' '.repeat(n)}`;
      buf += ` ${String(row.idx).padStart(5)}    (id=${row.id})\n`;
    }
    return buf;
  }

  /**
   * The largest index acknowledged by a majority of the voters: the index below which entries
   * are committed (Raft §5.3). Voters that have not reported count as having acknowledged 0.
   * The empty configuration returns INDEX_INFINITY so that it never holds back the other half
   * of a joint configuration.
   */
  committedIndex(l: AckedIndexer): Index {
    const n = this.ids.size;
    if (n === 0) return INDEX_INFINITY;
    if (scratch.length < n) scratch = new Float64Array(Math.max(n, scratch.length * 2));
    const srt = scratch;

    // Fill from the right; slots of voters that have not reported stay zero, and zeros sort to
    // the left anyway.
    let i = n - 1;
    for (const id of this.ids) {
      const idx = l.ackedIndex(id);
      if (idx !== undefined) srt[i--] = idx;
    }
    for (; i >= 0; i--) srt[i] = 0;

    // Insertion sort: configurations are small (3 to 7 voters in practice), where it beats any
    // general sort and needs no comparator closure.
    for (let j = 1; j < n; j++) {
      const v = srt[j]!;
      let k = j - 1;
      while (k >= 0 && srt[k]! > v) {
        srt[k + 1] = srt[k]!;
        k--;
      }
      srt[k + 1] = v;
    }

    // The index acknowledged by a quorum (n/2+1 voters): count that many from the right.
    return srt[n - ((n >> 1) + 1)]!;
  }

  /**
   * The outcome of an election given the votes received so far (true = granted). Votes from
   * non-members are ignored. The empty configuration wins by convention, so that a joint
   * configuration with an empty half behaves like the other half alone.
   */
  voteResult(votes: ReadonlyMap<number, boolean>): VoteResult {
    const n = this.ids.size;
    if (n === 0) return VoteResult.VoteWon;

    let granted = 0;
    let missing = 0;
    for (const id of this.ids) {
      const v = votes.get(id);
      if (v === undefined) missing++;
      else if (v) granted++;
    }

    const q = (n >> 1) + 1;
    if (granted >= q) return VoteResult.VoteWon;
    if (granted + missing >= q) return VoteResult.VotePending;
    return VoteResult.VoteLost;
  }
}

/** The ids of a set in ascending order (a new array). */
export function sortedIds(ids: Iterable<number>): number[] {
  const out = Array.from(ids);
  out.sort((a, b) => a - b);
  return out;
}
