/** What the crash test's child writes, so that the parent can check every byte it finds. */
import { type Entry, EntryType } from '@pontoon/raft';

const enc = new TextEncoder();

/** The entry at `index` written in `term`: its payload names both, padded to 100 bytes. */
export function crashEntry(index: number, term: number): Entry {
  return { index, term, type: EntryType.EntryNormal, data: enc.encode(`${index}:${term}:`.padEnd(100, 'x')) };
}

/** A small seeded generator (mulberry32). */
export class SeededRandom {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  next(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
}
