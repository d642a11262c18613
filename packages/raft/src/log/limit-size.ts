/**
 * Byte budgets over runs of log entries. Sizes are counted with {@link entrySize} (etcd's
 * protobuf encoded size) so that a budget means the same number of entries as in etcd's raft.
 */
import { type Entry, entrySize } from '../types.js';

/** No byte limit: where etcd passes math.MaxUint64 (`noLimit`). */
export const noLimit = Infinity;

/**
 * The end (exclusive) of the longest run `ents[lo, end)` whose total size does not exceed
 * `maxSize`, for `lo <= end <= hi`. Returns at least `lo + 1` when `lo < hi`, even if that one
 * entry alone is over budget: raft must always make progress, one oversized entry at a time.
 *
 * Working on indices lets callers slice once, after the budget is known, instead of slicing and
 * then slicing again.
 */
export function limitSizeEnd(ents: readonly Entry[], lo: number, hi: number, maxSize: number): number {
  if (hi - lo <= 1 || maxSize === Infinity) return hi;
  let size = entrySize(ents[lo]);
  for (let end = lo + 1; end < hi; end++) {
    size += entrySize(ents[end]);
    if (size > maxSize) return end;
  }
  return hi;
}

/**
 * The longest prefix of `ents` whose total size does not exceed `maxSize`, and never empty if
 * `ents` is not: an entry larger than the budget is returned alone. Returns `ents` itself (no
 * copy) when everything fits.
 */
export function limitSize(ents: Entry[], maxSize: number): Entry[] {
  const end = limitSizeEnd(ents, 0, ents.length, maxSize);
  return end === ents.length ? ents : ents.slice(0, end);
}
