/**
 * The commit index of configurations larger than any the process has seen before.
 *
 * MajorityConfig.committedIndex sorts acknowledgements in a module-wide scratch buffer that grows
 * on demand. A buffer grown too little (writes past the end of a Float64Array are silently
 * dropped) would compute the quorum index from the wrong set of voters and could commit an entry
 * that no majority holds. quorum.test.ts grows configurations gradually, a few voters at a time,
 * so it cannot see a growth step that falls short; these sizes jump by more than twice at once.
 */
import { describe, expect, it } from 'vitest';
import { MajorityConfig } from '../src/quorum/majority.js';
import { MapAckIndexer } from '../src/quorum/quorum.js';

/** Voters 1..n where voter i has acknowledged index i. */
function ackedUpToOwnId(n: number): { config: MajorityConfig; acks: MapAckIndexer } {
  const ids = Array.from({ length: n }, (_, i) => i + 1);
  return { config: new MajorityConfig(ids), acks: new MapAckIndexer(new Map(ids.map((id) => [id, id] as const))) };
}

describe('committedIndex on configurations far larger than any before', () => {
  // Each size is more than twice the largest used anywhere before it in the same process.
  for (const n of [1_000, 3_001]) {
    it(`${n} voters: the largest index held by a majority`, () => {
      const { config, acks } = ackedUpToOwnId(n);
      // Voters n - floor(n/2) .. n (floor(n/2) + 1 of them) hold this index; no majority holds more.
      expect(config.committedIndex(acks)).toBe(n - Math.floor(n / 2));
    });
  }

  it('voters that have not acknowledged count as zero, wherever they are', () => {
    const n = 9_001;
    const ids = Array.from({ length: n }, (_, i) => i + 1);
    // Only the upper half plus one voters acknowledged (at index 7): exactly a majority.
    const q = Math.floor(n / 2) + 1;
    const acks = new MapAckIndexer(new Map(ids.slice(n - q).map((id) => [id, 7] as const)));
    expect(new MajorityConfig(ids).committedIndex(acks)).toBe(7);
    // One fewer is not a majority.
    acks.indexes.delete(n);
    expect(new MajorityConfig(ids).committedIndex(acks)).toBe(0);
  });
});
