/**
 * Election safety (Raft §5.2): a node grants at most one vote per term, and does not vote in a
 * term whose leader it already follows. Two grants in one term let two candidates each count a
 * majority, and two leaders in one term break every other guarantee.
 */
import { describe, expect, it } from 'vitest';
import type { Raft } from '../src/raft.js';
import { MessageType } from '../src/types.js';
import { msg, newTestMemoryStorage, newTestRaft, readMessages, withPeers } from './support/network.js';

function follower3(): Raft {
  return newTestRaft(3, 10, 1, newTestMemoryStorage(withPeers(1, 2, 3)));
}

/** MsgVote from `from` for `term`, with a log (index 0, term 0) as up to date as the voter's. */
function voteRequest(from: number, term: number) {
  return msg({ type: MessageType.MsgVote, from, to: 3, term, index: 0, logTerm: 0 });
}

function voteResponses(r: Raft): Array<{ to: number; granted: boolean }> {
  return readMessages(r)
    .filter((m) => m.type === MessageType.MsgVoteResp)
    .map((m) => ({ to: m.to, granted: !m.reject }));
}

describe('a node votes at most once per term', () => {
  it('grants the first candidate of a term and refuses a second one in the same term', () => {
    const r = follower3();
    r.step(voteRequest(1, 2));
    r.step(voteRequest(2, 2));
    expect(voteResponses(r)).toEqual([
      { to: 1, granted: true },
      { to: 2, granted: false },
    ]);
    expect(r.vote).toBe(1);
  });

  it('repeats its vote to the same candidate (a retried request), still refusing others', () => {
    const r = follower3();
    r.step(voteRequest(1, 2));
    r.step(voteRequest(1, 2));
    r.step(voteRequest(2, 2));
    expect(voteResponses(r)).toEqual([
      { to: 1, granted: true },
      { to: 1, granted: true },
      { to: 2, granted: false },
    ]);
  });

  it('does not vote in a term whose leader it already follows, though it has not voted', () => {
    const r = follower3();
    r.step(msg({ type: MessageType.MsgHeartbeat, from: 1, to: 3, term: 2 }));
    expect(r.lead).toBe(1);
    readMessages(r);
    r.step(voteRequest(2, 2));
    expect(voteResponses(r)).toEqual([{ to: 2, granted: false }]);
  });

  it('votes again in a later term', () => {
    const r = follower3();
    r.step(voteRequest(1, 2));
    r.step(voteRequest(2, 3));
    expect(voteResponses(r)).toEqual([
      { to: 1, granted: true },
      { to: 2, granted: true },
    ]);
    expect(r.vote).toBe(2);
  });
});
