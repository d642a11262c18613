/**
 * Only one configuration change may be pending at a time (Raft thesis §4.1): a leader refuses a
 * new one until the previous one is applied. Two changes in flight are each computed against a
 * configuration the other has not left yet, and two majorities that do not overlap can decide.
 * The refused entry becomes an empty normal entry, keeping the rest of the batch in place.
 */
import { describe, expect, it } from 'vitest';
import { encodeConfChange } from '../src/conf-change.js';
import type { Raft } from '../src/raft.js';
import { ConfChangeType, EntryType, MessageType } from '../src/types.js';
import type { Entry } from '../src/types.js';
import {
  advanceMessagesAfterAppend,
  commitNoopEntry,
  entry,
  msg,
  newTestMemoryStorage,
  newTestRaft,
  readMessages,
  withPeers,
} from './support/network.js';

function addLearner(id: number): Entry {
  return entry({
    type: EntryType.EntryConfChange,
    data: encodeConfChange({ type: ConfChangeType.ConfChangeAddLearnerNode, nodeId: id }),
  });
}

function propose(r: Raft, ...entries: Entry[]): void {
  r.step(msg({ type: MessageType.MsgProp, from: 1, to: 1, entries }));
  readMessages(r);
}

function typeAt(r: Raft, index: number): EntryType {
  return r.raftLog.entries(index, Infinity)[0]!.type;
}

describe('one conf change pending at a time', () => {
  it('refuses a second change while the first is unapplied, even with everything before it applied', () => {
    const s = newTestMemoryStorage(withPeers(1, 2, 3));
    const r = newTestRaft(1, 10, 1, s);
    r.becomeCandidate();
    r.becomeLeader();
    commitNoopEntry(r, s); // index 1 committed and applied
    expect(r.raftLog.applied).toBe(1);

    propose(r, addLearner(4)); // index 2
    expect(typeAt(r, 2)).toBe(EntryType.EntryConfChange);
    // Applied is 1, right before the pending change: it is still pending.
    propose(r, addLearner(5)); // index 3
    expect(typeAt(r, 3)).toBe(EntryType.EntryNormal);

    // Within one batch, a second change after the first is refused as well.
    propose(r, entry({ data: new Uint8Array([1]) }), addLearner(6)); // indexes 4, 5
    expect(typeAt(r, 5)).toBe(EntryType.EntryNormal);
  });

  it('counts a change pending from its own index when it is not first in its batch', () => {
    const s = newTestMemoryStorage(withPeers(1, 2, 3));
    const r = newTestRaft(1, 10, 1, s);
    r.becomeCandidate();
    r.becomeLeader();
    commitNoopEntry(r, s); // index 1 committed and applied
    propose(r, entry({ data: new Uint8Array([1]) }), entry({ data: new Uint8Array([2]) }), addLearner(4)); // 2, 3, 4
    expect(typeAt(r, 4)).toBe(EntryType.EntryConfChange);
    expect(r.pendingConfIndex).toBe(4);
    propose(r, addLearner(5)); // index 5: the change at 4 is unapplied
    expect(typeAt(r, 5)).toBe(EntryType.EntryNormal);
  });

  it('accepts the next change once the pending one is applied', () => {
    const s = newTestMemoryStorage(withPeers(1, 2, 3));
    const r = newTestRaft(1, 10, 1, s);
    r.becomeCandidate();
    r.becomeLeader();
    commitNoopEntry(r, s);
    propose(r, addLearner(4)); // index 2
    advanceMessagesAfterAppend(r);
    r.step(msg({ type: MessageType.MsgAppResp, from: 2, to: 1, term: r.term, index: 2 }));
    readMessages(r);
    expect(r.raftLog.committed).toBe(2);
    r.appliedTo(2, 0);
    propose(r, addLearner(5)); // index 3
    expect(typeAt(r, 3)).toBe(EntryType.EntryConfChange);
  });
});
