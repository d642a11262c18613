/**
 * ReadIndex (Raft thesis §6.4) answers a read only once a quorum of voters acknowledged a
 * heartbeat sent after the request: that proves no other leader was elected meanwhile. In a
 * 3-node cluster the leader and one follower are already a quorum, so a leader that answered on
 * the first follower's ack would pass every 3-node test; with 5 voters it would serve a stale
 * read from a minority partition.
 */
import { describe, expect, it } from 'vitest';
import type { Raft } from '../src/raft.js';
import { MessageType } from '../src/types.js';
import type { MemoryStorage } from '../src/storage.js';
import { beat, bytes, commitNoopEntry, entry, msg, newTestMemoryStorage, newTestRaft, readMessages, withPeers } from './support/network.js';

function leaderOf5(): { r: Raft; s: MemoryStorage } {
  const s = newTestMemoryStorage(withPeers(1, 2, 3, 4, 5));
  const r = newTestRaft(1, 10, 1, s);
  r.becomeCandidate();
  r.becomeLeader();
  commitNoopEntry(r, s);
  return { r, s };
}

function heartbeatAck(r: Raft, from: number, ctx: Uint8Array) {
  return msg({ type: MessageType.MsgHeartbeatResp, from, to: r.id, term: r.term, context: ctx });
}

describe('ReadIndex waits for a quorum of heartbeat acks', () => {
  it('5 voters: no read state after one follower ack, one after the second', () => {
    const { r } = leaderOf5();
    const ctx = bytes('read-1');
    r.step(msg({ type: MessageType.MsgReadIndex, from: 1, to: 1, entries: [entry({ data: ctx })] }));
    const heartbeats = readMessages(r).filter((m) => m.type === MessageType.MsgHeartbeat);
    expect(heartbeats.map((m) => m.to).sort()).toEqual([2, 3, 4, 5]);
    expect(heartbeats.every((m) => m.context !== undefined && new TextDecoder().decode(m.context) === 'read-1')).toBe(true);

    r.step(heartbeatAck(r, 2, ctx)); // leader + 2: two of five
    expect(r.readStates).toEqual([]);
    r.step(heartbeatAck(r, 2, ctx)); // a duplicate ack counts once
    expect(r.readStates).toEqual([]);
    r.step(heartbeatAck(r, 3, ctx)); // leader + 2 + 3: a quorum
    expect(r.readStates).toEqual([{ index: r.raftLog.committed, requestCtx: ctx }]);
    // Acks that arrive after the read was answered (heartbeats are not retracted) change nothing.
    r.step(heartbeatAck(r, 4, ctx));
    r.step(heartbeatAck(r, 5, ctx));
    expect(r.readStates).toHaveLength(1);
  });

  it('an ack for one request does not confirm a later one', () => {
    const { r } = leaderOf5();
    const first = bytes('read-1');
    const second = bytes('read-2');
    r.step(msg({ type: MessageType.MsgReadIndex, from: 1, to: 1, entries: [entry({ data: first })] }));
    r.step(heartbeatAck(r, 2, first));
    r.step(msg({ type: MessageType.MsgReadIndex, from: 1, to: 1, entries: [entry({ data: second })] }));
    readMessages(r);
    // Acks for the second request from 3: with 2's earlier ack that is three voters in all, but
    // only two (1 and 3) acknowledged a heartbeat sent after the second request.
    r.step(heartbeatAck(r, 3, second));
    expect(r.readStates).toEqual([]);
    r.step(heartbeatAck(r, 4, second)); // 1, 3, 4: the second and, before it, the first are confirmed
    expect(r.readStates.map((s) => new TextDecoder().decode(s.requestCtx))).toEqual(['read-1', 'read-2']);
  });
});

describe('ReadIndex survives lost heartbeats and repeated requests', () => {
  it('a request whose heartbeats were lost is confirmed by the next heartbeat round', () => {
    const { r } = leaderOf5();
    const ctx = bytes('read-1');
    r.step(msg({ type: MessageType.MsgReadIndex, from: 1, to: 1, entries: [entry({ data: ctx })] }));
    readMessages(r); // every heartbeat of this round is lost
    r.step(beat(1));
    const retried = readMessages(r).filter((m) => m.type === MessageType.MsgHeartbeat);
    expect(retried.map((m) => new TextDecoder().decode(m.context ?? new Uint8Array()))).toEqual(Array(4).fill('read-1'));
    r.step(heartbeatAck(r, 2, ctx));
    r.step(heartbeatAck(r, 3, ctx));
    expect(r.readStates.map((s) => new TextDecoder().decode(s.requestCtx))).toEqual(['read-1']);
  });

  it('a request repeated with the same context is answered once, and the leader goes on', () => {
    const { r } = leaderOf5();
    const ctx = bytes('read-1');
    r.step(msg({ type: MessageType.MsgReadIndex, from: 1, to: 1, entries: [entry({ data: ctx })] }));
    r.step(msg({ type: MessageType.MsgReadIndex, from: 1, to: 1, entries: [entry({ data: ctx })] }));
    r.step(heartbeatAck(r, 2, ctx));
    r.step(heartbeatAck(r, 3, ctx));
    expect(r.readStates).toHaveLength(1);
    readMessages(r);
    r.step(beat(1)); // heartbeats after the answer carry no pending context
    const hbs = readMessages(r).filter((m) => m.type === MessageType.MsgHeartbeat);
    expect(hbs.every((m) => m.context === undefined)).toBe(true);
  });
});
