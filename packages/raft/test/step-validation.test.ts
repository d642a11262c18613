import { describe, expect, test } from 'vitest';
import {
  EntryType,
  MemoryStorage,
  MessageType,
  RawNode,
  StateType,
  StepError,
  StepPeerNotFoundError,
  newMessage,
  type Message,
} from '../src/core.js';
import { raftOf } from '../src/raw-node.js';

/** A 3-voter follower at term 1 with a few entries, as a target for bad input. */
function follower(): RawNode {
  const storage = new MemoryStorage();
  const rn = new RawNode({ id: 1, storage, electionTick: 10, heartbeatTick: 1 });
  rn.bootstrap([{ id: 1 }, { id: 2 }, { id: 3 }]);
  const rd = rn.ready();
  storage.append(rd.entries);
  storage.setHardState(rd.hardState);
  rn.advance();
  return rn;
}

function snapshotOf(rn: RawNode): string {
  const r = raftOf(rn);
  return JSON.stringify({
    term: r.term,
    vote: r.vote,
    lead: r.lead,
    state: r.state,
    committed: r.raftLog.committed,
    last: r.raftLog.lastIndex(),
    lastTerm: r.raftLog.lastTerm(),
  });
}

const entry = (term: number, index: number) => ({ term, index, type: EntryType.EntryNormal, data: new Uint8Array([1]) });

describe('step() refuses bad input with a typed error and changes nothing', () => {
  const cases: Array<[string, () => Message, new (...a: never[]) => Error]> = [
    ['a local-only message type from the network', () => newMessage({ type: MessageType.MsgHup, from: 2, term: 0 }), StepError],
    ['MsgStorageAppend from a peer', () => newMessage({ type: MessageType.MsgStorageAppend, from: 2 }), StepError],
    ['an unknown message type', () => ({ ...newMessage({ type: MessageType.MsgApp, from: 2 }), type: 99 as MessageType }), StepError],
    ['a negative term', () => newMessage({ type: MessageType.MsgApp, from: 2, term: -1 }), StepError],
    ['a non-integer index', () => newMessage({ type: MessageType.MsgApp, from: 2, term: 2, index: 1.5 }), StepError],
    [
      'MsgApp with non-contiguous entries',
      () => newMessage({ type: MessageType.MsgApp, from: 2, term: 2, index: 3, logTerm: 1, entries: [entry(2, 4), entry(2, 6)] }),
      StepError,
    ],
    [
      'MsgApp with entry terms going down',
      () => newMessage({ type: MessageType.MsgApp, from: 2, term: 3, index: 3, logTerm: 1, entries: [entry(3, 4), entry(2, 5)] }),
      StepError,
    ],
    [
      'MsgApp with an entry term above the message term',
      () => newMessage({ type: MessageType.MsgApp, from: 2, term: 2, index: 3, logTerm: 1, entries: [entry(5, 4)] }),
      StepError,
    ],
    ['MsgHeartbeat committing beyond our log', () => newMessage({ type: MessageType.MsgHeartbeat, from: 2, term: 2, commit: 1000 }), StepError],
    ['MsgSnap without a snapshot', () => newMessage({ type: MessageType.MsgSnap, from: 2, term: 2 }), StepError],
    ['MsgProp without entries', () => newMessage({ type: MessageType.MsgProp, from: 2 }), StepError],
    ['a response from a node not in the configuration', () => newMessage({ type: MessageType.MsgAppResp, from: 9, term: 1, index: 3 }), StepPeerNotFoundError],
  ];
  for (const [name, make, errType] of cases) {
    test(name, () => {
      const rn = follower();
      const before = snapshotOf(rn);
      expect(() => rn.step(make())).toThrow(errType);
      expect(snapshotOf(rn)).toBe(before);
    });
  }

  test('a stale-term MsgApp is ignored without changing state', () => {
    const rn = follower();
    raftOf(rn).becomeFollower(5, 2);
    const before = snapshotOf(rn);
    rn.step(newMessage({ type: MessageType.MsgApp, from: 3, term: 4, index: 3, logTerm: 1, entries: [entry(4, 4)] }));
    expect(snapshotOf(rn)).toBe(before);
    expect(raftOf(rn).state).toBe(StateType.StateFollower);
  });
});
