/**
 * A sequence of log entries kept in fixed-size chunks: the array behind MemoryStorage.
 *
 * A single JS array is the obvious choice, and a slow one for a log of more than ~16k entries:
 * its backing store then lives in V8's large-object space, and each time push() outgrows it the
 * whole store is copied into a new one. Measured on bench/core, appending to such a log cost
 * three to four times as much per entry as to a small one, and compaction copied every entry it
 * kept. Here an append never copies what is already stored, and compaction releases whole
 * chunks.
 */
import { type Entry, entrySize } from '../types.js';

/** 4096 entries a chunk: a 32 KiB backing store, an ordinary (young, movable) heap object. */
const CHUNK_BITS = 12;
const CHUNK_SIZE = 1 << CHUNK_BITS;
const CHUNK_MASK = CHUNK_SIZE - 1;

/**
 * Entries `0 .. length-1`, element `i` at slot `(start + i) % CHUNK_SIZE` of chunk
 * `(start + i) / CHUNK_SIZE`. Every chunk but the last is full; slots before `start` in the
 * first chunk are cleared, so that dropped entries (and their payloads) can be collected.
 * Positions are computed with 32-bit shifts: far beyond any log that fits in memory.
 */
export class ChunkedEntries {
  private chunks: Entry[][] = [];
  private start = 0;
  private len = 0;

  get length(): number {
    return this.len;
  }

  /** Element `i`, for `0 <= i < length` (unchecked). */
  at(i: number): Entry {
    const p = this.start + i;
    return this.chunks[p >>> CHUNK_BITS][p & CHUNK_MASK];
  }

  /** Replaces element `i`, for `0 <= i < length` (unchecked). */
  set(i: number, e: Entry): void {
    const p = this.start + i;
    this.chunks[p >>> CHUNK_BITS][p & CHUNK_MASK] = e;
  }

  push(e: Entry): void {
    const p = this.start + this.len;
    const c = p >>> CHUNK_BITS;
    // A chunk grows by push() up to CHUNK_SIZE (small logs stay small); the next one starts anew.
    if (c === this.chunks.length) this.chunks.push([]);
    this.chunks[c].push(e);
    this.len++;
  }

  /** Keeps the first `n` elements (`n <= length`). */
  truncate(n: number): void {
    if (n >= this.len) return;
    if (n === 0) {
      this.clear();
      return;
    }
    const last = this.start + n - 1;
    const c = last >>> CHUNK_BITS;
    this.chunks.length = c + 1;
    this.chunks[c].length = (last & CHUNK_MASK) + 1;
    this.len = n;
  }

  /** Drops the first `n` elements (`n <= length`). */
  dropFront(n: number): void {
    if (n >= this.len) {
      this.clear();
      return;
    }
    const p = this.start + n;
    const k = p >>> CHUNK_BITS;
    let from = this.start;
    if (k > 0) {
      this.chunks = this.chunks.slice(k);
      from = 0;
    }
    this.start = p & CHUNK_MASK;
    // Release the dropped entries that share the first chunk with live ones.
    const first = this.chunks[0] as (Entry | undefined)[];
    for (let s = from; s < this.start; s++) first[s] = undefined;
    this.len -= n;
  }

  clear(): void {
    this.chunks = [];
    this.start = 0;
    this.len = 0;
  }

  /** Elements `[from, to)` (`0 <= from <= to <= length`) as a fresh array the caller owns. */
  slice(from: number, to: number): Entry[] {
    if (from >= to) return [];
    const p = this.start + from;
    const last = this.start + to - 1;
    const c0 = p >>> CHUNK_BITS;
    const c1 = last >>> CHUNK_BITS;
    // Within one chunk (the common case: a Ready's worth of entries) this is a single copy.
    if (c0 === c1) return this.chunks[c0].slice(p & CHUNK_MASK, (last & CHUNK_MASK) + 1);
    const out = this.chunks[c0].slice(p & CHUNK_MASK);
    for (let c = c0 + 1; c < c1; c++) {
      const chunk = this.chunks[c];
      for (let s = 0; s < CHUNK_SIZE; s++) out.push(chunk[s]);
    }
    const tail = this.chunks[c1];
    const end = (last & CHUNK_MASK) + 1;
    for (let s = 0; s < end; s++) out.push(tail[s]);
    return out;
  }

  /**
   * limitSizeEnd() over elements: the end of the longest run from `from` (before `to`) within
   * `maxSize` bytes ({@link entrySize}), at least one element if `from < to`.
   */
  limitSizeEnd(from: number, to: number, maxSize: number): number {
    if (to - from <= 1 || maxSize === Infinity) return to;
    let size = entrySize(this.at(from));
    for (let i = from + 1; i < to; i++) {
      size += entrySize(this.at(i));
      if (size > maxSize) return i;
    }
    return to;
  }
}
