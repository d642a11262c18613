/**
 * The set of operations linearized so far, as bits, with a hash kept up to date on every change
 * so that memoizing a search state costs O(1) to hash and O(words) to compare.
 */

/** Per-position random words for Zobrist hashing, seeded so that runs are reproducible. */
function zobristWords(n: number): Int32Array {
  const words = new Int32Array(n);
  // splitmix32: cheap, well-mixed, and deterministic.
  let x = 0x9e3779b9;
  for (let i = 0; i < n; i++) {
    x = (x + 0x9e3779b9) | 0;
    let z = x;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    words[i] = z ^ (z >>> 16);
  }
  return words;
}

export class Bitset {
  readonly words: Uint32Array;
  /** XOR of the Zobrist words of the members: equal sets have equal hashes. */
  hash = 0;
  private readonly zobrist: Int32Array;

  constructor(size: number, zobrist?: Int32Array) {
    this.words = new Uint32Array((size + 31) >>> 5);
    this.zobrist = zobrist ?? zobristWords(size);
  }

  has(i: number): boolean {
    return (this.words[i >>> 5]! & (1 << (i & 31))) !== 0;
  }

  set(i: number): void {
    const w = i >>> 5;
    const bit = 1 << (i & 31);
    if ((this.words[w]! & bit) === 0) {
      this.words[w] = this.words[w]! | bit;
      this.hash ^= this.zobrist[i]!;
    }
  }

  clear(i: number): void {
    const w = i >>> 5;
    const bit = 1 << (i & 31);
    if ((this.words[w]! & bit) !== 0) {
      this.words[w] = this.words[w]! & ~bit;
      this.hash ^= this.zobrist[i]!;
    }
  }

  /** The hash this set would have with `i` added (for probing the cache before committing). */
  hashWith(i: number): number {
    return this.has(i) ? this.hash : this.hash ^ this.zobrist[i]!;
  }

  /** Whether `arena[offset..]` holds this set plus member `i`. */
  equalsAt(arena: Uint32Array, offset: number, i: number): boolean {
    const wi = i >>> 5;
    const bit = 1 << (i & 31);
    for (let w = 0; w < this.words.length; w++) {
      const mine = w === wi ? (this.words[w]! | bit) >>> 0 : this.words[w]!;
      if (mine !== arena[offset + w]) return false;
    }
    return true;
  }

  /** Writes this set plus member `i` to `arena[offset..]`. */
  writeWith(arena: Uint32Array, offset: number, i: number): void {
    arena.set(this.words, offset);
    arena[offset + (i >>> 5)] = arena[offset + (i >>> 5)]! | (1 << (i & 31));
  }
}
