/** What the crash test's child writes, so that the parent can check every byte it finds. */
import { type Entry, EntryType } from '@pontoon/raft';

/** The core's seeded generator (mulberry32): the child and the parent draw the same sequence. */
export { SeededRand as SeededRandom } from '@pontoon/raft/core';

const enc = new TextEncoder();

/** The entry at `index` written in `term`: its payload names both, padded to 100 bytes. */
export function crashEntry(index: number, term: number): Entry {
  return { index, term, type: EntryType.EntryNormal, data: enc.encode(`${index}:${term}:`.padEnd(100, 'x')) };
}
