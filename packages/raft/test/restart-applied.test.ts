/**
 * Restart with `applied`: entries the application applied before a restart are not handed out
 * again. Re-delivering them would apply a command twice (a counter would count it twice), and
 * that replica's state machine would diverge from the others.
 */
import { describe, expect, it } from 'vitest';
import { index, newTestRaft, storageWithEntries, withPeers } from './support/network.js';

describe('restart with applied', () => {
  it('hands out only the committed entries after the applied index', () => {
    const s = storageWithEntries(index(1).terms(1, 1, 1, 1, 1), withPeers(1, 2, 3));
    s.setHardState({ term: 1, vote: 0, commit: 5 });
    const r = newTestRaft(1, 10, 1, s, { applied: 3 });
    expect(r.raftLog.applied).toBe(3);
    expect(r.raftLog.nextCommittedEnts(true).map((e) => e.index)).toEqual([4, 5]);
  });
});
