/**
 * Randomness comes into the core from outside so that a run is a function of its seed.
 */
export interface Rand {
  /** A uniformly distributed integer in [0, n). */
  intn(n: number): number;
}

/**
 * A small, fast, seedable generator (SplitMix32 variant of mulberry32). Not cryptographic:
 * the core only uses it to spread election timeouts.
 */
export class SeededRand implements Rand {
  /** The generator's whole state (subclasses derive independent generators from it). */
  protected state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  /** A float in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  intn(n: number): number {
    return Math.floor(this.next() * n);
  }
}
