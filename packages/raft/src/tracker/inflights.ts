/**
 * The window of append messages in flight to one follower.
 *
 * Ported from etcd raft's `tracker/inflights.go`.
 */

import { invariant } from '../errors.js';

/** The buffers of a window that never held a message (never written: it has no slots). */
const EMPTY = new Float64Array(0);

/**
 * A ring buffer of the append messages sent to a follower and not yet acknowledged, each
 * recorded by the index of its last entry and its size in bytes. The window is full when it
 * holds `size` messages or, when `maxBytes` is not 0, at least `maxBytes` bytes: that is how the
 * leader bounds both the number of messages and the bandwidth a slow follower can take.
 *
 * Indexes must be added in increasing order; acknowledgements free a prefix of the window.
 */
export class Inflights {
  /** The most messages the window holds. */
  readonly size: number;
  /** The most bytes the window holds (0: no limit on bytes). */
  readonly maxBytes: number;

  // Ring buffer of (index, bytes), as two parallel arrays so that an entry costs no object.
  // The buffers grow by doubling up to `size` as the window fills, so that an idle follower
  // with a large window costs little memory.
  private indexes: Float64Array;
  private sizes: Float64Array;
  /** Slot of the oldest inflight message. */
  private start = 0;
  /** Number of messages in flight. */
  private n = 0;
  /** Total bytes in flight. */
  private total = 0;

  constructor(size: number, maxBytes: number) {
    invariant(Number.isInteger(size) && size >= 0, () => `inflights size must be a non-negative integer, got ${size}`);
    invariant(maxBytes >= 0, () => `inflights maxBytes must be non-negative, got ${maxBytes}`);
    this.size = size;
    this.maxBytes = maxBytes;
    this.indexes = EMPTY;
    this.sizes = EMPTY;
  }

  /** A copy that shares no memory with this one. */
  clone(): Inflights {
    const c = new Inflights(this.size, this.maxBytes);
    c.indexes = this.indexes.slice();
    c.sizes = this.sizes.slice();
    c.start = this.start;
    c.n = this.n;
    c.total = this.total;
    return c;
  }

  /**
   * Records a message whose last entry is at `index`, of `bytes` bytes. The caller must check
   * full() first: adding to a full window is a bug.
   */
  add(index: number, bytes: number): void {
    invariant(!this.full(), 'cannot add into a full inflights');
    let next = this.start + this.n;
    if (next >= this.size) next -= this.size;
    if (next >= this.indexes.length) this.grow();
    this.indexes[next] = index;
    this.sizes[next] = bytes;
    this.n++;
    this.total += bytes;
  }

  /** Doubles the buffers, up to `size` slots. */
  private grow(): void {
    let newSize = this.indexes.length * 2;
    if (newSize === 0) newSize = 1;
    else if (newSize > this.size) newSize = this.size;
    const indexes = new Float64Array(newSize);
    const sizes = new Float64Array(newSize);
    indexes.set(this.indexes);
    sizes.set(this.sizes);
    this.indexes = indexes;
    this.sizes = sizes;
  }

  /** Frees every message whose last index is `<= to`: the follower acknowledged them. */
  freeLE(to: number): void {
    if (this.n === 0 || to < this.indexes[this.start]!) return; // left of the window

    let idx = this.start;
    let i = 0;
    let bytes = 0;
    for (; i < this.n; i++) {
      if (to < this.indexes[idx]!) break; // the first message still in flight
      bytes += this.sizes[idx]!;
      if (++idx >= this.size) idx -= this.size;
    }
    this.n -= i;
    this.total -= bytes;
    this.start = idx;
    // An empty window restarts at slot 0 so that the buffers do not grow needlessly.
    if (this.n === 0) this.start = 0;
  }

  /** Whether no more messages may be sent until some are acknowledged. */
  full(): boolean {
    return this.n === this.size || (this.maxBytes !== 0 && this.total >= this.maxBytes);
  }

  /** The number of messages in flight. */
  count(): number {
    return this.n;
  }

  /** The total bytes in flight. */
  bytes(): number {
    return this.total;
  }

  /** Forgets every message in flight (the follower changed state). */
  reset(): void {
    this.n = 0;
    this.start = 0;
    this.total = 0;
  }

  /**
   * The window's internals, oldest first, for tests that check the ring buffer's positions.
   * @internal
   */
  debugState(): { start: number; count: number; bytes: number; capacity: number; window: [number, number][] } {
    const window: [number, number][] = [];
    let idx = this.start;
    for (let i = 0; i < this.n; i++) {
      window.push([this.indexes[idx]!, this.sizes[idx]!]);
      if (++idx >= this.size) idx -= this.size;
    }
    return { start: this.start, count: this.n, bytes: this.total, capacity: this.indexes.length, window };
  }
}
