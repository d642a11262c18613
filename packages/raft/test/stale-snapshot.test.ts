/**
 * A snapshot at or below the commit index is obsolete and must be ignored. Snapshots are sent
 * again on retries and can arrive late; a follower that installed an old one would move its
 * commit index backwards and drop committed entries it had already compacted into its own,
 * newer snapshot. When the log still holds the snapshot's last entry, the match-term check
 * would hide a missing guard, so this follower has compacted past it.
 */
import { describe, expect, it } from 'vitest';
import { MemoryStorage } from '../src/storage.js';
import { EMPTY_BYTES, MessageType, emptyConfState } from '../src/types.js';
import type { Snapshot } from '../src/types.js';
import { msg, newTestRaft, readMessages } from './support/network.js';

function snapshotAt(index: number, term: number): Snapshot {
  return { data: EMPTY_BYTES, metadata: { index, term, confState: { ...emptyConfState(), voters: [1, 2, 3] } } };
}

describe('an obsolete snapshot is ignored', () => {
  it('a follower compacted to index 10 ignores a late snapshot at index 5', () => {
    const s = new MemoryStorage();
    s.applySnapshot(snapshotAt(10, 1));
    s.setHardState({ term: 1, vote: 0, commit: 10 });
    const r = newTestRaft(1, 10, 1, s);
    expect(r.raftLog.committed).toBe(10);

    r.step(msg({ type: MessageType.MsgSnap, from: 2, to: 1, term: 1, snapshot: snapshotAt(5, 1) }));

    expect(r.raftLog.committed).toBe(10);
    expect(r.raftLog.firstIndex()).toBe(11);
    expect(r.raftLog.lastIndex()).toBe(10);
    expect(r.raftLog.hasNextOrInProgressSnapshot()).toBe(false);
    // The leader learns where the follower really is.
    const resp = readMessages(r).filter((m) => m.type === MessageType.MsgAppResp);
    expect(resp.map((m) => ({ to: m.to, index: m.index, reject: m.reject }))).toEqual([{ to: 2, index: 10, reject: false }]);
  });

  it('a snapshot at exactly the commit index is ignored too', () => {
    const s = new MemoryStorage();
    s.applySnapshot(snapshotAt(10, 1));
    s.setHardState({ term: 1, vote: 0, commit: 10 });
    const r = newTestRaft(1, 10, 1, s);
    r.step(msg({ type: MessageType.MsgSnap, from: 2, to: 1, term: 1, snapshot: snapshotAt(10, 1) }));
    expect(r.raftLog.committed).toBe(10);
    expect(r.raftLog.hasNextOrInProgressSnapshot()).toBe(false);
  });
});
