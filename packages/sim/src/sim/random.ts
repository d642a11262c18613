/**
 * The simulator's source of randomness: one seeded generator per concern (network, disk,
 * clients, each node's election timeouts), all derived from the run's seed, so that a run is a
 * function of its seed and adding a draw in one concern does not shift the draws of another.
 */
import { SeededRand } from '@pontoon/raft/core';

/** The core's seeded generator (mulberry32), with the helpers the simulator needs. */
export class SimRandom extends SeededRand {
  /** An integer in [lo, hi]. */
  between(lo: number, hi: number): number {
    return lo + this.intn(hi - lo + 1);
  }

  /** True with probability `p`. */
  chance(p: number): boolean {
    return p > 0 && this.next() < p;
  }

  /** One element of a non-empty array. */
  pick<T>(items: readonly T[]): T {
    return items[this.intn(items.length)]!;
  }

  /** A new generator for a named concern, independent of this one's later draws. */
  derive(label: string): SimRandom {
    let h = this.state ^ 0x9e3779b9;
    for (let i = 0; i < label.length; i++) h = Math.imul(h ^ label.charCodeAt(i), 0x01000193);
    return new SimRandom(h);
  }
}
