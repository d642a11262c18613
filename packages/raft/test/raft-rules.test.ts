/**
 * The rules of Raft beyond the paper's §5 core, as etcd raft implements them: elections with
 * PreVote and CheckQuorum (thesis §9.6, §6.2), leadership transfer (§3.10), learners, ReadIndex
 * (§6.4), flow control, snapshots, membership changes, and what bad input from the network must
 * not do. Ported from etcd's raft_test.go, raft_snap_test.go and raft_flow_control_test.go; the
 * etcd test each case ports is named in brackets. Cases without a bracket are ours, for rules
 * that etcd covers only in its scenario files.
 */
import { describe, expect, it } from 'vitest';
import { ReadOnlyOption } from '../src/config.js';
import type { Config } from '../src/config.js';
import { confChangeAsV2, encodeConfChange, encodeConfChangeV2 } from '../src/conf-change.js';
import { ConfChangeError, PontoonError, ProposalDroppedError, StepError, StepPeerNotFoundError } from '../src/errors.js';
import { Raft } from '../src/raft.js';
import { RawNode, raftOf } from '../src/raw-node.js';
import { ProgressStateType } from '../src/tracker/state.js';
import {
  ConfChangeTransition,
  ConfChangeType,
  EMPTY_BYTES,
  EntryType,
  MessageType,
  None,
  StateType,
  emptyConfState,
  payloadsSize,
} from '../src/types.js';
import type { ConfChangeV2, ConfState, Entry, Message, Snapshot } from '../src/types.js';
import {
  advanceMessagesAfterAppend,
  beat,
  blackHole,
  bytes,
  entry,
  entsWithConfig,
  hup,
  idsBySize,
  index,
  logOf,
  ltoa,
  msg,
  mustAppendEntry,
  newNetwork,
  newNetworkWithConfig,
  newTestConfig,
  newTestLearnerRaft,
  newTestMemoryStorage,
  newTestRaft,
  nextEnts,
  preVoteConfig,
  propMsg,
  readMessages,
  setPreVote,
  setRandomizedElectionTimeout,
  stepOrSend,
  storageWithEntries,
  takeMessagesAfterAppend,
  votedWithConfig,
  withLearners,
  withPeers,
} from './support/network.js';
import type { ConfigFunc, Network } from './support/network.js';

const {
  MsgHup,
  MsgBeat,
  MsgProp,
  MsgApp,
  MsgAppResp,
  MsgVote,
  MsgVoteResp,
  MsgSnap,
  MsgHeartbeat,
  MsgHeartbeatResp,
  MsgUnreachable,
  MsgSnapStatus,
  MsgCheckQuorum,
  MsgTransferLeader,
  MsgTimeoutNow,
  MsgReadIndex,
  MsgReadIndexResp,
  MsgPreVote,
  MsgPreVoteResp,
  MsgStorageAppend,
  MsgStorageAppendResp,
  MsgStorageApply,
  MsgStorageApplyResp,
  MsgForgetLeader,
} = MessageType;
const { StateFollower, StateCandidate, StateLeader, StatePreCandidate } = StateType;
const { StateProbe, StateReplicate } = ProgressStateType;

/** A single-node change as a ConfChangeV2 (etcd's `pb.ConfChange{...}.AsV2()`). */
function cc(type: ConfChangeType, nodeId: number): ConfChangeV2 {
  return confChangeAsV2({ type, nodeId });
}
const addNode = (id: number): ConfChangeV2 => cc(ConfChangeType.ConfChangeAddNode, id);
const removeNode = (id: number): ConfChangeV2 => cc(ConfChangeType.ConfChangeRemoveNode, id);
const addLearner = (id: number): ConfChangeV2 => cc(ConfChangeType.ConfChangeAddLearnerNode, id);

function confState(init: Partial<ConfState>): ConfState {
  return { ...emptyConfState(), ...init };
}

function snapshot(idx: number, term: number, cs: Partial<ConfState>): Snapshot {
  return { data: EMPTY_BYTES, metadata: { index: idx, term, confState: confState(cs) } };
}

function pr(r: Raft, id: number) {
  const p = r.trk.progress.get(id);
  if (p === undefined) throw new Error(`no progress for ${id}`);
  return p;
}

function checkLeaderTransferState(r: Raft, state: StateType, lead: number): void {
  expect(r.state).toBe(state);
  expect(r.lead).toBe(lead);
  expect(r.leadTransferee).toBe(None);
}

function expectOneMessage(r: Raft): Message {
  const msgs = readMessages(r);
  expect(msgs.length, 'expect one message').toBe(1);
  return msgs[0]!;
}

function threeRafts(overrides: Partial<Config> = {}): [Raft, Raft, Raft] {
  return [1, 2, 3].map((id) => newTestRaft(id, 10, 1, newTestMemoryStorage(withPeers(1, 2, 3)), overrides)) as [
    Raft,
    Raft,
    Raft,
  ];
}

// =============================================================================================
describe('leader election (§5.2, thesis §9.6 PreVote)', () => {
  for (const preVote of [false, true]) {
    const name = preVote ? 'TestLeaderElectionPreVote' : 'TestLeaderElection';
    it(`a candidate wins with a majority and loses to a majority of rejections [${name}]`, () => {
      const cfg: ConfigFunc = preVote ? preVoteConfig : undefined;
      // In PreVote mode a failed election leaves the node a pre-candidate, its term unchanged.
      const candState = preVote ? StatePreCandidate : StateCandidate;
      const candTerm = preVote ? 0 : 1;
      const tests: [Network, StateType, number][] = [
        [newNetworkWithConfig(cfg, null, null, null), StateLeader, 1],
        [newNetworkWithConfig(cfg, null, null, blackHole), StateLeader, 1],
        [newNetworkWithConfig(cfg, null, blackHole, blackHole), candState, candTerm],
        [newNetworkWithConfig(cfg, null, blackHole, blackHole, null), candState, candTerm],
        [newNetworkWithConfig(cfg, null, blackHole, blackHole, null, null), StateLeader, 1],
        // Three logs further along than 1's, in the same term: rejections come back instead of
        // the votes being ignored.
        [
          newNetworkWithConfig(cfg, null, entsWithConfig(cfg, 1), entsWithConfig(cfg, 1), entsWithConfig(cfg, 1, 1), null),
          StateFollower,
          1,
        ],
      ];
      for (const [i, [nt, state, expTerm]] of tests.entries()) {
        nt.send(hup(1));
        const sm = nt.raft(1);
        expect(sm.state, `#${i}`).toBe(state);
        expect(sm.term, `#${i}`).toBe(expTerm);
      }
    });
  }

  for (const preVote of [false, true]) {
    const name = preVote ? 'TestLeaderCyclePreVote' : 'TestLeaderCycle';
    it(`every node can campaign and be elected in turn [${name}]`, () => {
      const n = newNetworkWithConfig(preVote ? preVoteConfig : undefined, null, null, null);
      for (let campaigner = 1; campaigner <= 3; campaigner++) {
        n.send(hup(campaigner));
        for (const id of [1, 2, 3]) {
          expect(n.raft(id).state, `campaigner ${campaigner}, node ${id}`).toBe(id === campaigner ? StateLeader : StateFollower);
        }
      }
    });
  }

  for (const preVote of [false, true]) {
    const name = preVote ? 'TestLeaderElectionOverwriteNewerLogsPreVote' : 'TestLeaderElectionOverwriteNewerLogs';
    it(`a new leader overwrites uncommitted entries of a higher term [${name}]`, () => {
      const cfg: ConfigFunc = preVote ? preVoteConfig : undefined;
      // Node 1 won term 1 and replicated an entry to node 2 only; node 3 won term 2 and wrote an
      // entry no one else has; nodes 4 and 5 voted for 3 in term 2 but got nothing.
      const n = newNetworkWithConfig(
        cfg,
        entsWithConfig(cfg, 1),
        entsWithConfig(cfg, 1),
        entsWithConfig(cfg, 2),
        votedWithConfig(cfg, 3, 2),
        votedWithConfig(cfg, 3, 2),
      );
      // Node 1 campaigns and fails: a quorum knows of term 2. Its term is pushed to 2.
      n.send(hup(1));
      const sm1 = n.raft(1);
      expect(sm1.state).toBe(StateFollower);
      expect(sm1.term).toBe(2);
      // Campaigning again, with a higher term, it wins.
      n.send(hup(1));
      expect(sm1.state).toBe(StateLeader);
      expect(sm1.term).toBe(3);
      // Everyone agrees on term 1 at index 1 and term 3 at index 2: node 3's entry is gone.
      for (const id of idsBySize(5)) {
        const entries = n.raft(id).raftLog.allEntries();
        expect(entries.map((e) => e.term), `node ${id}`).toEqual([1, 3]);
      }
    });
  }

  for (const vt of [MsgVote, MsgPreVote]) {
    const name = vt === MsgVote ? 'TestVoteFromAnyState' : 'TestPreVoteFromAnyState';
    it(`a ${MessageType[vt]} of a higher term is granted from any state [${name}]`, () => {
      for (const st of [StateFollower, StateCandidate, StateLeader, StatePreCandidate]) {
        const r = newTestRaft(1, 10, 1, newTestMemoryStorage(withPeers(1, 2, 3)));
        r.term = 1;
        if (st === StateFollower) r.becomeFollower(r.term, 3);
        else if (st === StatePreCandidate) r.becomePreCandidate();
        else if (st === StateCandidate) r.becomeCandidate();
        else {
          r.becomeCandidate();
          r.becomeLeader();
        }
        // Setting the state may have advanced the term.
        const origTerm = r.term;
        const newTerm = r.term + 1;
        r.step(msg({ from: 2, to: 1, type: vt, term: newTerm, logTerm: newTerm, index: 42 }));
        const msgs = readMessages(r);
        const label = `${MessageType[vt]},${StateType[st]}`;
        expect(msgs.length, label).toBe(1);
        expect(msgs[0]!.type, label).toBe(vt === MsgVote ? MsgVoteResp : MsgPreVoteResp);
        expect(msgs[0]!.reject, label).toBe(false);
        if (vt === MsgVote) {
          // A real vote resets state and term, and records the vote.
          expect(r.state, label).toBe(StateFollower);
          expect(r.term, label).toBe(newTerm);
          expect(r.vote, label).toBe(2);
        } else {
          // A pre-vote changes nothing.
          expect(r.state, label).toBe(st);
          expect(r.term, label).toBe(origTerm);
          expect(r.vote === None || r.vote === 1, `${label}: vote ${r.vote}`).toBe(true);
        }
      }
    });
  }

  it('candidates that split the vote both stay candidates; the next timeout elects one', () => {
    const nt = newNetwork(null, null, null);
    nt.send(hup(1));
    // The leader goes away; 2 and 3 time out together and vote for themselves.
    nt.isolate(1);
    nt.send(hup(2), hup(3));
    const n2 = nt.raft(2);
    const n3 = nt.raft(3);
    expect([n2.state, n3.state]).toEqual([StateCandidate, StateCandidate]);
    expect([n2.term, n3.term]).toEqual([2, 2]);
    expect([n2.vote, n3.vote]).toEqual([2, 3]);
    // Node 2 times out first: a new term, and node 3 (who voted in the old one) grants it.
    nt.send(hup(2));
    expect([n2.state, n3.state]).toEqual([StateLeader, StateFollower]);
    expect([n2.term, n3.term]).toEqual([3, 3]);
    expect(n3.vote).toBe(2);
  });

  it('a node votes at most once per term: two candidates of one term cannot both win [TestDuelingCandidates]', () => {
    const [a, b, c] = threeRafts();
    const nt = newNetwork(a, b, c);
    nt.cut(1, 3);
    nt.send(hup(1));
    nt.send(hup(3));
    // 1 wins with the votes of 1 and 2.
    expect(a.state).toBe(StateLeader);
    // 3 stays candidate: its own vote, and a rejection from 2, who voted for 1 in term 1.
    expect(c.state).toBe(StateCandidate);

    nt.recover();
    // 3 campaigns again at a higher term and disrupts 1, but both reject it: its log is short.
    nt.send(hup(3));
    expect(c.state).toBe(StateFollower);
    const tests: [Raft, StateType, number, number][] = [
      [a, StateFollower, 2, 1],
      [b, StateFollower, 2, 1],
      [c, StateFollower, 2, 0],
    ];
    for (const [i, [sm, state, term, lastIndex]] of tests.entries()) {
      expect(sm.state, `#${i}`).toBe(state);
      expect(sm.term, `#${i}`).toBe(term);
      expect(sm.raftLog.lastIndex(), `#${i}`).toBe(lastIndex);
    }
  });

  it('with PreVote a node that cannot win never disrupts the leader [TestDuelingPreCandidates]', () => {
    const [a, b, c] = threeRafts({ preVote: true });
    const nt = newNetwork(a, b, c);
    nt.cut(1, 3);
    nt.send(hup(1));
    nt.send(hup(3));
    expect(a.state).toBe(StateLeader);
    // 3 reverts to follower when its PreVote is rejected.
    expect(c.state).toBe(StateFollower);

    nt.recover();
    nt.send(hup(3));
    const tests: [Raft, StateType, number, number][] = [
      [a, StateLeader, 1, 1],
      [b, StateFollower, 1, 1],
      [c, StateFollower, 1, 0],
    ];
    for (const [i, [sm, state, term, lastIndex]] of tests.entries()) {
      expect(sm.state, `#${i}`).toBe(state);
      expect(sm.term, `#${i}`).toBe(term);
      expect(sm.raftLog.lastIndex(), `#${i}`).toBe(lastIndex);
    }
  });

  it('a candidate concedes to a leader of its term and takes its log [TestCandidateConcede]', () => {
    const tt = newNetwork(null, null, null);
    tt.isolate(1);
    tt.send(hup(1));
    tt.send(hup(3));
    // heal the partition; a heartbeat from 3 makes 1 a follower
    tt.recover();
    tt.send(beat(3));
    const data = bytes('force follower');
    tt.send(propMsg(3, 3, data));
    tt.send(beat(3));

    const a = tt.raft(1);
    expect(a.state).toBe(StateFollower);
    expect(a.term).toBe(1);
    const want = logOf([entry({ term: 1, index: 1 }), entry({ term: 1, index: 2, data })]);
    for (const id of [1, 2, 3]) expect(ltoa(tt.raft(id).raftLog), `#${id}`).toEqual(want);
  });

  it('a single node elects itself [TestSingleNodeCandidate]', () => {
    const tt = newNetwork(null);
    tt.send(hup(1));
    expect(tt.raft(1).state).toBe(StateLeader);
  });

  it('a single node with PreVote elects itself [TestSingleNodePreCandidate]', () => {
    const tt = newNetworkWithConfig(preVoteConfig, null);
    tt.send(hup(1));
    expect(tt.raft(1).state).toBe(StateLeader);
  });

  it('a campaign while leader changes nothing [TestCampaignWhileLeader / TestPreCampaignWhileLeader]', () => {
    for (const preVote of [false, true]) {
      const r = newTestRaft(1, 5, 1, newTestMemoryStorage(withPeers(1)), { preVote });
      expect(r.state).toBe(StateFollower);
      r.step(hup(1));
      advanceMessagesAfterAppend(r);
      expect(r.state, `preVote=${preVote}`).toBe(StateLeader);
      const term = r.term;
      r.step(hup(1));
      advanceMessagesAfterAppend(r);
      expect(r.state, `preVote=${preVote}`).toBe(StateLeader);
      expect(r.term, `preVote=${preVote}`).toBe(term);
    }
  });

  it('the probability of having timed out matches the randomized timeout range [TestPastElectionTimeout]', () => {
    const tests: [number, number, boolean][] = [
      [5, 0, false],
      [10, 0.1, true],
      [13, 0.4, true],
      [15, 0.6, true],
      [18, 0.9, true],
      [20, 1, false],
    ];
    for (const [i, [elapse, wprobability, round]] of tests.entries()) {
      const sm = newTestRaft(1, 10, 1, newTestMemoryStorage(withPeers(1)));
      sm.electionElapsed = elapse;
      let c = 0;
      for (let j = 0; j < 10000; j++) {
        sm.resetRandomizedElectionTimeout();
        if (sm.pastElectionTimeout()) c++;
      }
      let got = c / 10000;
      if (round) got = Math.floor(got * 10 + 0.5) / 10;
      expect(got, `#${i}`).toBe(wprobability);
    }
  });

  it('a vote is granted only to a candidate whose log is at least as up-to-date, once per term [TestRecvMsgVote / TestRecvMsgPreVote]', () => {
    const tests: [StateType, number, number, number, boolean][] = [
      [StateFollower, 0, 0, None, true],
      [StateFollower, 0, 1, None, true],
      [StateFollower, 0, 2, None, true],
      [StateFollower, 0, 3, None, false],

      [StateFollower, 1, 0, None, true],
      [StateFollower, 1, 1, None, true],
      [StateFollower, 1, 2, None, true],
      [StateFollower, 1, 3, None, false],

      [StateFollower, 2, 0, None, true],
      [StateFollower, 2, 1, None, true],
      [StateFollower, 2, 2, None, false],
      [StateFollower, 2, 3, None, false],

      [StateFollower, 3, 0, None, true],
      [StateFollower, 3, 1, None, true],
      [StateFollower, 3, 2, None, false],
      [StateFollower, 3, 3, None, false],

      [StateFollower, 3, 2, 2, false],
      [StateFollower, 3, 2, 1, true],

      [StateLeader, 3, 3, 1, true],
      [StatePreCandidate, 3, 3, 1, true],
      [StateCandidate, 3, 3, 1, true],
    ];
    for (const msgType of [MsgVote, MsgPreVote]) {
      for (const [i, [state, idx, logTerm, voteFor, wreject]] of tests.entries()) {
        // The voter's log: (1, 2) (2, 2). Its term equals the larger of its last term and the
        // candidate's, so only the log comparison and the vote already cast decide.
        const sm = newTestRaft(1, 10, 1, storageWithEntries(index(1).terms(2, 2), withPeers(1)));
        if (state === StatePreCandidate) sm.becomePreCandidate();
        else if (state === StateCandidate) sm.becomeCandidate();
        else if (state === StateLeader) {
          sm.becomeCandidate();
          sm.becomeLeader();
        }
        sm.vote = voteFor;
        const term = Math.max(sm.raftLog.lastTerm(), logTerm, 2);
        sm.term = term;
        sm.step(msg({ type: msgType, term, from: 2, index: idx, logTerm }));
        const msgs = readMessages(sm);
        const label = `${MessageType[msgType]} #${i}`;
        expect(msgs.length, label).toBe(1);
        expect(msgs[0]!.type, label).toBe(msgType === MsgVote ? MsgVoteResp : MsgPreVoteResp);
        expect(msgs[0]!.reject, label).toBe(wreject);
      }
    }
  });

  it('only allowed role transitions happen, with the term and leader each implies [TestStateTransition]', () => {
    const tests: [StateType, StateType, boolean, number, number][] = [
      [StateFollower, StateFollower, true, 1, None],
      [StateFollower, StatePreCandidate, true, 0, None],
      [StateFollower, StateCandidate, true, 1, None],
      [StateFollower, StateLeader, false, 0, None],

      [StatePreCandidate, StateFollower, true, 0, None],
      [StatePreCandidate, StatePreCandidate, true, 0, None],
      [StatePreCandidate, StateCandidate, true, 1, None],
      [StatePreCandidate, StateLeader, true, 0, 1],

      [StateCandidate, StateFollower, true, 0, None],
      [StateCandidate, StatePreCandidate, true, 0, None],
      [StateCandidate, StateCandidate, true, 1, None],
      [StateCandidate, StateLeader, true, 0, 1],

      [StateLeader, StateFollower, true, 1, None],
      [StateLeader, StatePreCandidate, false, 0, None],
      [StateLeader, StateCandidate, false, 1, None],
      [StateLeader, StateLeader, true, 0, 1],
    ];
    for (const [i, [from, to, wallow, wterm, wlead]] of tests.entries()) {
      const sm = newTestRaft(1, 10, 1, newTestMemoryStorage(withPeers(1)));
      sm.state = from;
      const transition = (): void => {
        if (to === StateFollower) sm.becomeFollower(wterm, wlead);
        else if (to === StatePreCandidate) sm.becomePreCandidate();
        else if (to === StateCandidate) sm.becomeCandidate();
        else sm.becomeLeader();
      };
      if (!wallow) {
        expect(transition, `#${i}`).toThrow();
        continue;
      }
      transition();
      expect(sm.term, `#${i}`).toBe(wterm);
      expect(sm.lead, `#${i}`).toBe(wlead);
    }
  });

  it('every role steps down to follower on a message of a higher term [TestAllServerStepdown]', () => {
    const tests: [StateType, StateType, number, number][] = [
      [StateFollower, StateFollower, 3, 0],
      [StatePreCandidate, StateFollower, 3, 0],
      [StateCandidate, StateFollower, 3, 0],
      [StateLeader, StateFollower, 3, 1],
    ];
    const tterm = 3;
    for (const [i, [state, wstate, wterm, windex]] of tests.entries()) {
      const sm = newTestRaft(1, 10, 1, newTestMemoryStorage(withPeers(1, 2, 3)));
      if (state === StateFollower) sm.becomeFollower(1, None);
      else if (state === StatePreCandidate) sm.becomePreCandidate();
      else if (state === StateCandidate) sm.becomeCandidate();
      else {
        sm.becomeCandidate();
        sm.becomeLeader();
      }
      for (const [j, msgType] of [MsgVote, MsgApp].entries()) {
        sm.step(msg({ from: 2, type: msgType, term: tterm, logTerm: tterm }));
        expect(sm.state, `#${i}.${j}`).toBe(wstate);
        expect(sm.term, `#${i}.${j}`).toBe(wterm);
        expect(sm.raftLog.lastIndex(), `#${i}.${j}`).toBe(windex);
        expect(sm.raftLog.allEntries().length, `#${i}.${j}`).toBe(windex);
        expect(sm.lead, `#${i}.${j}`).toBe(msgType === MsgVote ? None : 2);
      }
    }
  });

  for (const mt of [MsgHeartbeat, MsgApp]) {
    const name = mt === MsgHeartbeat ? 'TestCandidateResetTermMsgHeartbeat' : 'TestCandidateResetTermMsgApp';
    it(`a candidate hearing ${MessageType[mt]} from the leader of a higher term follows it [${name}]`, () => {
      const [a, b, c] = threeRafts();
      const nt = newNetwork(a, b, c);
      nt.send(hup(1));
      expect([a.state, b.state, c.state]).toEqual([StateLeader, StateFollower, StateFollower]);

      // isolate 3 and increase the term in the rest
      nt.isolate(3);
      nt.send(hup(2));
      nt.send(hup(1));
      expect([a.state, b.state]).toEqual([StateLeader, StateFollower]);

      // trigger a campaign in the isolated c
      c.resetRandomizedElectionTimeout();
      for (let i = 0; i < c.randomizedElectionTimeout; i++) c.tick();
      advanceMessagesAfterAppend(c);
      expect(c.state).toBe(StateCandidate);

      nt.recover();
      // The leader reaches the isolated candidate, which reverts to follower at its term.
      nt.send(msg({ from: 1, to: 3, term: a.term, type: mt }));
      expect(c.state).toBe(StateFollower);
      expect(c.term).toBe(a.term);
    });
  }

  for (const preVote of [false, true]) {
    const name = preVote ? 'TestCandidateSelfVoteAfterLostElectionPreVote' : 'TestCandidateSelfVoteAfterLostElection';
    it(`a self-vote delivered after the election was lost is ignored [${name}]`, () => {
      const sm = newTestRaft(1, 5, 1, newTestMemoryStorage(withPeers(1, 2, 3)), { preVote });
      sm.step(hup(1));
      const steps = takeMessagesAfterAppend(sm);
      // n1 hears that n2 won before its own vote is durable.
      sm.step(msg({ from: 2, to: 1, term: sm.term, type: MsgHeartbeat }));
      expect(sm.state).toBe(StateFollower);
      // It stays follower once its self-vote is delivered, and the vote is not counted.
      stepOrSend(sm, steps);
      expect(sm.state).toBe(StateFollower);
      expect(sm.trk.tallyVotes().granted).toBe(0);
    });
  }

  it("a pre-candidate's self-vote delivered after it became candidate is not counted [TestCandidateDeliversPreCandidateSelfVoteAfterBecomingCandidate]", () => {
    const sm = newTestRaft(1, 5, 1, newTestMemoryStorage(withPeers(1, 2, 3)), { preVote: true });
    sm.step(hup(1));
    expect(sm.state).toBe(StatePreCandidate);
    let steps = takeMessagesAfterAppend(sm);
    // Pre-votes from both peers (they carry the local term + 1) make n1 a candidate.
    sm.step(msg({ from: 2, to: 1, term: sm.term + 1, type: MsgPreVoteResp }));
    sm.step(msg({ from: 3, to: 1, term: sm.term + 1, type: MsgPreVoteResp }));
    expect(sm.state).toBe(StateCandidate);
    // Its delayed pre-vote self-vote changes nothing.
    stepOrSend(sm, steps);
    expect(sm.state).toBe(StateCandidate);
    steps = takeMessagesAfterAppend(sm);
    expect(sm.trk.tallyVotes().granted).toBe(0);
    // One vote from n2 is not a quorum...
    sm.step(msg({ from: 2, to: 1, term: sm.term, type: MsgVoteResp }));
    expect(sm.state).toBe(StateCandidate);
    // ...its real self-vote makes one.
    stepOrSend(sm, steps);
    expect(sm.state).toBe(StateLeader);
  });

  it("a leader's self-ack from an earlier term is ignored [TestLeaderMsgAppSelfAckAfterTermChange]", () => {
    const sm = newTestRaft(1, 5, 1, newTestMemoryStorage(withPeers(1, 2, 3)));
    sm.becomeCandidate();
    sm.becomeLeader();
    sm.step(propMsg(1, 1, bytes('somedata')));
    const steps = takeMessagesAfterAppend(sm);
    // n1 hears that n2 is the new leader.
    sm.step(msg({ from: 2, to: 1, term: sm.term + 1, type: MsgHeartbeat }));
    expect(sm.state).toBe(StateFollower);
    stepOrSend(sm, steps);
    expect(sm.state).toBe(StateFollower);
  });

  it('a node that cannot campaign with its term behind still lets the cluster elect a leader [TestNodeWithSmallerTermCanCompleteElection]', () => {
    const [n1, n2, n3] = threeRafts({ preVote: true });
    n1.becomeFollower(1, None);
    n2.becomeFollower(1, None);
    n3.becomeFollower(1, None);
    // a partition isolates node 3
    const nt = newNetwork(n1, n2, n3);
    nt.cut(1, 3);
    nt.cut(2, 3);
    nt.send(hup(1));
    expect(n1.state).toBe(StateLeader);
    expect(n2.state).toBe(StateFollower);
    nt.send(hup(3));
    expect(n3.state).toBe(StatePreCandidate);
    nt.send(hup(2));
    expect([n1.term, n2.term, n3.term]).toEqual([3, 3, 1]);
    expect([n1.state, n2.state, n3.state]).toEqual([StateFollower, StateLeader, StatePreCandidate]);

    // Bring 3 back and take 2 (the leader) away.
    nt.recover();
    nt.cut(2, 1);
    nt.cut(2, 3);
    nt.send(hup(3));
    nt.send(hup(1));
    expect(n1.state === StateLeader || n3.state === StateLeader).toBe(true);
  });

  it('after a split PreVote election the next round elects a leader [TestPreVoteWithSplitVote]', () => {
    const [n1, n2, n3] = threeRafts({ preVote: true });
    n1.becomeFollower(1, None);
    n2.becomeFollower(1, None);
    n3.becomeFollower(1, None);
    const nt = newNetwork(n1, n2, n3);
    nt.send(hup(1));
    // The leader goes down; the followers split the vote.
    nt.isolate(1);
    nt.send(hup(2), hup(3));
    expect([n2.term, n3.term]).toEqual([3, 3]);
    expect([n2.state, n3.state]).toEqual([StateCandidate, StateCandidate]);
    // node 2 times out first
    nt.send(hup(2));
    expect([n2.term, n3.term]).toEqual([4, 4]);
    expect([n2.state, n3.state]).toEqual([StateLeader, StateFollower]);
  });

  it('with PreVote and CheckQuorum a pre-candidate is ignored inside the lease, and a leader still emerges [TestPreVoteWithCheckQuorum]', () => {
    const [n1, n2, n3] = threeRafts({ preVote: true, checkQuorum: true });
    n1.becomeFollower(1, None);
    n2.becomeFollower(1, None);
    n3.becomeFollower(1, None);
    const nt = newNetwork(n1, n2, n3);
    nt.send(hup(1));
    // isolate node 1; nodes 2 and 3 know of the leader
    nt.isolate(1);
    expect([n1.state, n2.state, n3.state]).toEqual([StateLeader, StateFollower, StateFollower]);
    // node 2 ignores node 3's PreVote
    nt.send(hup(3));
    nt.send(hup(2));
    expect(n2.state === StateLeader || n3.state === StateFollower).toBe(true);
  });
});

// =============================================================================================
describe('log replication and commitment (§5.3, §5.4)', () => {
  it('proposals are replicated and committed on every node [TestLogReplication]', () => {
    const tests: [Network, Message[], number][] = [
      [newNetwork(null, null, null), [propMsg(1, 1, bytes('somedata'))], 2],
      [newNetwork(null, null, null), [propMsg(1, 1, bytes('somedata')), msg({ from: 1, to: 2, type: MsgHup }), propMsg(1, 2, bytes('somedata'))], 4],
    ];
    for (const [i, [nt, msgs, wcommitted]] of tests.entries()) {
      nt.send(hup(1));
      const props = msgs.filter((m) => m.type === MsgProp).map((m) => m.entries[0]!.data);
      for (const m of msgs) nt.send(m);
      for (const id of [1, 2, 3]) {
        const sm = nt.raft(id);
        expect(sm.raftLog.committed, `#${i}.${id}`).toBe(wcommitted);
        const ents = nextEnts(sm, nt.storage.get(id)!).filter((e) => e.data.length > 0);
        expect(ents.map((e) => e.data), `#${i}.${id}`).toEqual(props);
      }
    }
  });

  it('a single node commits its own proposals [TestSingleNodeCommit]', () => {
    const tt = newNetwork(newTestRaft(1, 10, 1, newTestMemoryStorage(withPeers(1))));
    tt.send(hup(1));
    tt.send(propMsg(1, 1, bytes('some data')));
    tt.send(propMsg(1, 1, bytes('some data')));
    expect(tt.raft(1).raftLog.committed).toBe(3);
  });

  // Figure 8: a leader cannot conclude that an entry of an earlier term is committed from its
  // replicas alone; it commits them with the first entry of its own term.
  it('entries of an earlier term are not committed until an entry of the current term is (figure 8) [TestCannotCommitWithoutNewTermEntry]', () => {
    const tt = newNetwork(null, null, null, null, null);
    tt.send(hup(1));
    // 1 cannot reach 3, 4, 5
    tt.cut(1, 3);
    tt.cut(1, 4);
    tt.cut(1, 5);
    tt.send(propMsg(1, 1, bytes('some data')));
    tt.send(propMsg(1, 1, bytes('some data')));
    expect(tt.raft(1).raftLog.committed).toBe(1);

    tt.recover();
    // Keep the new leader's empty entry of term 2 from being replicated.
    tt.ignore(MsgApp);
    tt.send(hup(2));
    const sm = tt.raft(2);
    // 2 has entries 2 and 3 (term 1) on itself and 1: a majority of 5 would be 3, but none of
    // them is of term 2, so nothing is committed.
    expect(sm.raftLog.committed).toBe(1);

    tt.recover();
    tt.send(beat(2));
    tt.send(propMsg(2, 2, bytes('some data')));
    expect(sm.raftLog.committed).toBe(5);
  });

  it("a new leader's empty entry commits the earlier terms' entries with it (figure 8) [TestCommitWithoutNewTermEntry]", () => {
    const tt = newNetwork(null, null, null, null, null);
    tt.send(hup(1));
    tt.cut(1, 3);
    tt.cut(1, 4);
    tt.cut(1, 5);
    tt.send(propMsg(1, 1, bytes('some data')));
    tt.send(propMsg(1, 1, bytes('some data')));
    const sm = tt.raft(1);
    expect(sm.raftLog.committed).toBe(1);
    tt.recover();
    // 2 wins term 2; its empty entry, once replicated, commits everything before it.
    tt.send(hup(2));
    expect(sm.raftLog.committed).toBe(4);
  });

  it('an append from a deposed leader of an older term is ignored [TestOldMessages]', () => {
    const tt = newNetwork(null, null, null);
    // make 1 leader @ term 3
    tt.send(hup(1));
    tt.send(hup(2));
    tt.send(hup(1));
    // pretend 2 is an old leader trying to make progress: ignored
    tt.send(msg({ from: 2, to: 1, type: MsgApp, term: 2, entries: index(3).terms(2) }));
    tt.send(propMsg(1, 1, bytes('somedata')));
    const ents = index(0).terms(0, 1, 2, 3, 3);
    ents[4]!.data = bytes('somedata');
    const want = logOf(ents);
    for (const id of [1, 2, 3]) expect(ltoa(tt.raft(id).raftLog), `#${id}`).toEqual(want);
  });

  it('a proposal is replicated everywhere when there is a leader, and dropped otherwise [TestProposal]', () => {
    const tests: [Network, boolean][] = [
      [newNetwork(null, null, null), true],
      [newNetwork(null, null, blackHole), true],
      [newNetwork(null, blackHole, blackHole), false],
      [newNetwork(null, blackHole, blackHole, null), false],
      [newNetwork(null, blackHole, blackHole, null, null), true],
    ];
    for (const [j, [nt, success]] of tests.entries()) {
      const data = bytes('somedata');
      nt.send(hup(1));
      nt.send(propMsg(1, 1, data));
      const want = success ? logOf([entry({ term: 1, index: 1 }), entry({ term: 1, index: 2, data })]) : logOf([]);
      for (const [id, p] of nt.peers) {
        if (p instanceof Raft) expect(ltoa(p.raftLog), `#${j}, peer ${id}`).toEqual(want);
      }
      expect(nt.raft(1).term, `#${j}`).toBe(1);
    }
  });

  it('a follower forwards a proposal to the leader [TestProposalByProxy]', () => {
    const data = bytes('somedata');
    for (const [j, nt] of [newNetwork(null, null, null), newNetwork(null, null, blackHole)].entries()) {
      nt.send(hup(1));
      // propose via a follower
      nt.send(propMsg(2, 2, data));
      const want = logOf([entry({ term: 1, index: 1 }), entry({ term: 1, index: 2, data })]);
      for (const [id, p] of nt.peers) {
        if (p instanceof Raft) expect(ltoa(p.raftLog), `#${j}.${id}`).toEqual(want);
      }
      expect(nt.raft(1).term, `#${j}`).toBe(1);
    }
  });

  it('with proposal forwarding disabled a follower drops proposals instead', () => {
    const nt = newNetworkWithConfig((c) => {
      c.disableProposalForwarding = true;
    }, null, null, null);
    nt.send(hup(1));
    const n2 = nt.raft(2);
    expect(n2.lead).toBe(1);
    expect(() => n2.step(propMsg(2, 2, bytes('somedata')))).toThrow(ProposalDroppedError);
    expect(readMessages(n2)).toEqual([]);
    nt.send(propMsg(2, 2, bytes('somedata')));
    expect(nt.raft(1).raftLog.lastIndex()).toBe(1);
    // The leader itself still accepts proposals.
    nt.send(propMsg(1, 1, bytes('somedata')));
    expect(nt.raft(1).raftLog.committed).toBe(2);
  });

  it('a follower without a leader drops proposals', () => {
    const r = newTestRaft(1, 10, 1, newTestMemoryStorage(withPeers(1, 2, 3)));
    expect(() => r.step(propMsg(1, 1, bytes('x')))).toThrow(ProposalDroppedError);
    r.becomeCandidate();
    expect(() => r.step(propMsg(1, 1, bytes('x')))).toThrow(ProposalDroppedError);
    expect(r.raftLog.lastIndex()).toBe(0);
  });

  it('the commit index is the highest index of the current term that a quorum has [TestCommit]', () => {
    const tests: [number[], Entry[], number, number][] = [
      // single
      [[1], index(1).terms(1), 1, 1],
      [[1], index(1).terms(1), 2, 0],
      [[2], index(1).terms(1, 2), 2, 2],
      [[1], index(1).terms(2), 2, 1],
      // odd
      [[2, 1, 1], index(1).terms(1, 2), 1, 1],
      [[2, 1, 1], index(1).terms(1, 1), 2, 0],
      [[2, 1, 2], index(1).terms(1, 2), 2, 2],
      [[2, 1, 2], index(1).terms(1, 1), 2, 0],
      // even
      [[2, 1, 1, 1], index(1).terms(1, 2), 1, 1],
      [[2, 1, 1, 1], index(1).terms(1, 1), 2, 0],
      [[2, 1, 1, 2], index(1).terms(1, 2), 1, 1],
      [[2, 1, 1, 2], index(1).terms(1, 1), 2, 0],
      [[2, 1, 2, 2], index(1).terms(1, 2), 2, 2],
      [[2, 1, 2, 2], index(1).terms(1, 1), 2, 0],
    ];
    for (const [i, [matches, logs, smTerm, w]] of tests.entries()) {
      const storage = storageWithEntries(logs, withPeers(1));
      storage.setHardState({ term: smTerm, vote: 0, commit: 0 });
      const sm = newTestRaft(1, 10, 2, storage);
      matches.forEach((match, j) => {
        const id = j + 1;
        if (id > 1) sm.applyConfChange(addNode(id));
        const p = pr(sm, id);
        p.match = match;
        p.next = match + 1;
      });
      sm.maybeCommit();
      expect(sm.raftLog.committed, `#${i}`).toBe(w);
    }
  });

  it('AppendEntries: consistency check, conflict truncation, and commit = min(leaderCommit, last new) [TestHandleMsgApp]', () => {
    const tests: [Message, number, number, boolean][] = [
      // Ensure 1: reply false if the log has no entry at prevLogIndex whose term matches prevLogTerm
      [msg({ type: MsgApp, term: 2, logTerm: 3, index: 2, commit: 3 }), 2, 0, true], // previous log mismatch
      [msg({ type: MsgApp, term: 2, logTerm: 3, index: 3, commit: 3 }), 2, 0, true], // previous log non-exist
      // Ensure 2: delete a conflicting entry and all that follow; append new entries
      [msg({ type: MsgApp, term: 2, logTerm: 1, index: 1, commit: 1 }), 2, 1, false],
      [msg({ type: MsgApp, term: 2, logTerm: 0, index: 0, commit: 1, entries: [entry({ index: 1, term: 2 })] }), 1, 1, false],
      [msg({ type: MsgApp, term: 2, logTerm: 2, index: 2, commit: 3, entries: [entry({ index: 3, term: 2 }), entry({ index: 4, term: 2 })] }), 4, 3, false],
      [msg({ type: MsgApp, term: 2, logTerm: 2, index: 2, commit: 4, entries: [entry({ index: 3, term: 2 })] }), 3, 3, false],
      [msg({ type: MsgApp, term: 2, logTerm: 1, index: 1, commit: 4, entries: [entry({ index: 2, term: 2 })] }), 2, 2, false],
      // Ensure 3: commitIndex = min(leaderCommit, index of last new entry)
      [msg({ type: MsgApp, term: 1, logTerm: 1, index: 1, commit: 3 }), 2, 1, false],
      [msg({ type: MsgApp, term: 1, logTerm: 1, index: 1, commit: 3, entries: [entry({ index: 2, term: 2 })] }), 2, 2, false],
      [msg({ type: MsgApp, term: 2, logTerm: 2, index: 2, commit: 3 }), 2, 2, false],
      [msg({ type: MsgApp, term: 2, logTerm: 2, index: 2, commit: 4 }), 2, 2, false],
    ];
    for (const [i, [m, wIndex, wCommit, wReject]] of tests.entries()) {
      const sm = newTestRaft(1, 10, 1, storageWithEntries(index(1).terms(1, 2), withPeers(1)));
      sm.becomeFollower(2, None);
      sm.handleAppendEntries(m);
      expect(sm.raftLog.lastIndex(), `#${i}`).toBe(wIndex);
      expect(sm.raftLog.committed, `#${i}`).toBe(wCommit);
      const out = readMessages(sm);
      expect(out.length, `#${i}`).toBe(1);
      expect(out[0]!.reject, `#${i}`).toBe(wReject);
    }
  });

  it('a heartbeat advances the follower commit index but never lowers it [TestHandleHeartbeat]', () => {
    const commit = 2;
    const tests: [Message, number][] = [
      [msg({ from: 2, to: 1, type: MsgHeartbeat, term: 2, commit: commit + 1 }), commit + 1],
      [msg({ from: 2, to: 1, type: MsgHeartbeat, term: 2, commit: commit - 1 }), commit], // do not decrease commit
    ];
    for (const [i, [m, wCommit]] of tests.entries()) {
      const sm = newTestRaft(1, 5, 1, storageWithEntries(index(1).terms(1, 2, 3), withPeers(1, 2)));
      sm.becomeFollower(2, 2);
      sm.raftLog.commitTo(commit);
      sm.handleHeartbeat(m);
      expect(sm.raftLog.committed, `#${i}`).toBe(wCommit);
      const out = readMessages(sm);
      expect(out.length, `#${i}`).toBe(1);
      expect(out[0]!.type, `#${i}`).toBe(MsgHeartbeatResp);
    }
  });

  it('a heartbeat response from a follower that is behind makes the leader resend entries [TestHandleHeartbeatResp]', () => {
    const sm = newTestRaft(1, 5, 1, storageWithEntries(index(1).terms(1, 2, 3), withPeers(1, 2)));
    sm.becomeCandidate();
    sm.becomeLeader();
    sm.raftLog.commitTo(sm.raftLog.lastIndex());

    // A heartbeat response from a node that is behind: re-send MsgApp.
    sm.step(msg({ from: 2, type: MsgHeartbeatResp }));
    let msgs = readMessages(sm);
    expect(msgs.map((m) => m.type)).toEqual([MsgApp]);
    // A second one re-sends again.
    sm.step(msg({ from: 2, type: MsgHeartbeatResp }));
    msgs = readMessages(sm);
    expect(msgs.map((m) => m.type)).toEqual([MsgApp]);
    // Once the follower acks, heartbeat responses no longer send MsgApp.
    sm.step(msg({ from: 2, type: MsgAppResp, index: msgs[0]!.index + msgs[0]!.entries.length }));
    readMessages(sm);
    sm.step(msg({ from: 2, type: MsgHeartbeatResp }));
    expect(readMessages(sm)).toEqual([]);
  });

  it('an ack takes a follower out of the probe wait; others stay waiting [TestMsgAppRespWaitReset]', () => {
    const s = newTestMemoryStorage(withPeers(1, 2, 3));
    const sm = newTestRaft(1, 5, 1, s);
    sm.becomeCandidate();
    sm.becomeLeader();
    nextEnts(sm, s);
    // Node 2 acks the first entry, committing it.
    sm.step(msg({ from: 2, type: MsgAppResp, index: 1 }));
    expect(sm.raftLog.committed).toBe(1);
    readMessages(sm);

    sm.step(msg({ from: 1, type: MsgProp, entries: [entry()] }));
    // Sent only to node 2; node 3 still waits for an answer to its probe.
    let msgs = readMessages(sm);
    expect(msgs.length).toBe(1);
    expect([msgs[0]!.type, msgs[0]!.to, msgs[0]!.entries.length, msgs[0]!.entries[0]!.index]).toEqual([MsgApp, 2, 1, 2]);

    // Node 3 acks the first entry; the wait is over and entry 2 goes out.
    sm.step(msg({ from: 3, type: MsgAppResp, index: 1 }));
    msgs = readMessages(sm);
    expect(msgs.length).toBe(1);
    expect([msgs[0]!.type, msgs[0]!.to, msgs[0]!.entries.length, msgs[0]!.entries[0]!.index]).toEqual([MsgApp, 3, 1, 2]);
  });

  it('the leader moves match and next on acks and rejections, committing and probing as they say [TestLeaderAppResp]', () => {
    // initial progress: match = 0; next = 3
    const tests: [number, boolean, number, number, number, number, number][] = [
      [3, true, 0, 3, 0, 0, 0], // stale resp; no replies
      [2, true, 0, 2, 1, 1, 0], // denied resp; leader does not commit; decrease next and send probing msg
      [2, false, 2, 4, 2, 2, 2], // accept resp; leader commits; broadcast with commit index
      // A probing follower acks its match (0): it moves to StateReplicate and gets every entry.
      [0, false, 0, 4, 1, 0, 0],
    ];
    for (const [i, [idx, reject, wmatch, wnext, wmsgNum, windex, wcommitted]] of tests.entries()) {
      // The leader's term is 1 after it is elected, so the last entry must be of term 1 to commit.
      const sm = newTestRaft(1, 10, 1, storageWithEntries(index(1).terms(1, 1), withPeers(1, 2, 3)));
      sm.becomeCandidate();
      sm.becomeLeader();
      readMessages(sm);
      sm.step(msg({ from: 2, type: MsgAppResp, index: idx, term: sm.term, reject, rejectHint: idx }));
      const p = pr(sm, 2);
      expect(p.match, `#${i}`).toBe(wmatch);
      expect(p.next, `#${i}`).toBe(wnext);
      const msgs = readMessages(sm);
      expect(msgs.length, `#${i}`).toBe(wmsgNum);
      for (const m of msgs) {
        expect(m.index, `#${i}`).toBe(windex);
        expect(m.commit, `#${i}`).toBe(wcommitted);
      }
    }
  });

  it('a heartbeat carries min(match, commit), no index, term or entries [TestBcastBeat]', () => {
    const offset = 1000;
    // a state machine whose log starts at 1000
    const storage = newTestMemoryStorage();
    storage.applySnapshot(snapshot(offset, 1, { voters: [1, 2, 3] }));
    const sm = newTestRaft(1, 10, 1, storage);
    sm.term = 1;
    sm.becomeCandidate();
    sm.becomeLeader();
    for (let i = 0; i < 10; i++) mustAppendEntry(sm, entry({ index: i + 1 }));
    advanceMessagesAfterAppend(sm);
    // slow follower
    pr(sm, 2).match = 5;
    pr(sm, 2).next = 6;
    // normal follower
    pr(sm, 3).match = sm.raftLog.lastIndex();
    pr(sm, 3).next = sm.raftLog.lastIndex() + 1;

    sm.step(msg({ type: MsgBeat }));
    const msgs = readMessages(sm);
    expect(msgs.length).toBe(2);
    const wantCommit = new Map([
      [2, Math.min(sm.raftLog.committed, pr(sm, 2).match)],
      [3, Math.min(sm.raftLog.committed, pr(sm, 3).match)],
    ]);
    for (const m of msgs) {
      expect(m.type).toBe(MsgHeartbeat);
      expect(m.index).toBe(0);
      expect(m.logTerm).toBe(0);
      expect(wantCommit.has(m.to)).toBe(true);
      expect(m.commit).toBe(wantCommit.get(m.to));
      wantCommit.delete(m.to);
      expect(m.entries).toEqual([]);
    }
  });

  it('only a leader answers MsgBeat, with heartbeats [TestRecvMsgBeat]', () => {
    const tests: [StateType, number][] = [
      [StateLeader, 2],
      // candidate and follower ignore MsgBeat
      [StateCandidate, 0],
      [StateFollower, 0],
    ];
    for (const [i, [state, wMsg]] of tests.entries()) {
      const sm = newTestRaft(1, 10, 1, storageWithEntries(index(1).terms(1, 1), withPeers(1, 2, 3)));
      if (state === StateCandidate) sm.becomeCandidate();
      else if (state === StateLeader) {
        sm.becomeCandidate();
        sm.becomeLeader();
      }
      readMessages(sm);
      sm.step(msg({ from: 1, to: 1, type: MsgBeat }));
      const msgs = readMessages(sm);
      expect(msgs.length, `#${i}`).toBe(wMsg);
      for (const m of msgs) expect(m.type, `#${i}`).toBe(MsgHeartbeat);
    }
  });

  it('next advances optimistically only for a replicating follower [TestLeaderIncreaseNext]', () => {
    const previousEnts = index(1).terms(1, 2, 3);
    const tests: [ProgressStateType, number, number][] = [
      // replicate: previous entries + noop entry + proposal + 1
      [StateReplicate, 2, previousEnts.length + 1 + 1 + 1],
      // probe: next is not increased
      [StateProbe, 2, 2],
    ];
    for (const [i, [state, next, wnext]] of tests.entries()) {
      const sm = newTestRaft(1, 10, 1, newTestMemoryStorage(withPeers(1, 2)));
      sm.raftLog.append(previousEnts.map((e) => entry(e)));
      sm.becomeCandidate();
      sm.becomeLeader();
      pr(sm, 2).state = state;
      pr(sm, 2).next = next;
      sm.step(propMsg(1, 1, bytes('somedata')));
      expect(pr(sm, 2).next, `#${i}`).toBe(wnext);
    }
  });

  it('a follower that rejects a reordered append is re-probed from its match [TestLogReplicationWithReorderedMessage]', () => {
    const r1 = newTestRaft(1, 10, 1, newTestMemoryStorage(withPeers(1, 2)));
    r1.becomeCandidate();
    r1.becomeLeader();
    readMessages(r1);
    pr(r1, 2).becomeReplicate();
    const r2 = newTestRaft(2, 10, 1, newTestMemoryStorage(withPeers(1, 2)));

    // r1 sends two appends to r2.
    mustAppendEntry(r1, entry({ data: bytes('somedata') }));
    r1.sendAppend(2);
    const req1 = expectOneMessage(r1);
    mustAppendEntry(r1, entry({ data: bytes('somedata') }));
    r1.sendAppend(2);
    const req2 = expectOneMessage(r1);

    // r2 receives the second first, and rejects it.
    r2.step(req2);
    const resp2 = expectOneMessage(r2);
    expect(resp2.reject).toBe(true);
    expect(resp2.rejectHint).toBe(0);
    expect(resp2.index).toBe(2);

    // r2 handles the first and acks it; r1 updates match.
    r2.step(req1);
    let m = expectOneMessage(r2);
    expect(m.reject).toBe(false);
    expect(m.index).toBe(2);
    r1.step(m);
    m = expectOneMessage(r1);
    expect(pr(r1, 2).match).toBe(2);

    // r1 sees a transient network issue to r2 and goes back to probing.
    r1.step(msg({ from: 2, to: 1, type: MsgUnreachable }));
    expect(pr(r1, 2).state).toBe(StateProbe);

    // The delayed rejection arrives: r1 probes from match, not from the (lower) hint.
    r1.step(resp2);
    m = expectOneMessage(r1);
    expect(m.index).toBe(pr(r1, 2).match);
  });

  it('a rejection hint lets the leader skip a whole term of mismatching entries per round trip [TestFastLogRejection]', () => {
    const tests: { leaderLog: Entry[]; followerLog: Entry[]; followerCompact?: number; hintTerm: number; hintIndex: number; nextTerm: number; nextIndex: number }[] = [
      // The leader finds the conflict quickly: append (index=7, logTerm=4), then (index=3, logTerm=2).
      { leaderLog: index(1).terms(1, 2, 2, 4, 4, 4, 4), followerLog: index(1).terms(1, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3), hintTerm: 3, hintIndex: 7, nextTerm: 2, nextIndex: 3 },
      // (index=8, logTerm=5), then (index=4, logTerm=3).
      { leaderLog: index(1).terms(1, 2, 2, 3, 4, 4, 4, 5), followerLog: index(1).terms(1, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3), hintTerm: 3, hintIndex: 8, nextTerm: 3, nextIndex: 4 },
      // The follower finds the conflict quickly: (index=4, logTerm=1), then (index=1, logTerm=1).
      { leaderLog: index(1).terms(1, 1, 1, 1), followerLog: index(1).terms(1, 2, 2, 4), hintTerm: 1, hintIndex: 1, nextTerm: 1, nextIndex: 1 },
      // The same, with a longer uncommitted tail on the leader.
      { leaderLog: index(1).terms(1, 1, 1, 1, 1, 1), followerLog: index(1).terms(1, 2, 2, 4), hintTerm: 1, hintIndex: 1, nextTerm: 1, nextIndex: 1 },
      // The same, with a longer uncommitted tail on the follower.
      { leaderLog: index(1).terms(1, 1, 1, 1), followerLog: index(1).terms(1, 2, 2, 4, 4, 4), hintTerm: 1, hintIndex: 1, nextTerm: 1, nextIndex: 1 },
      // No conflict, the follower is just behind.
      { leaderLog: index(1).terms(1, 1, 1, 4, 5), followerLog: index(1).terms(1, 1, 1, 4), hintTerm: 4, hintIndex: 4, nextTerm: 4, nextIndex: 4 },
      // The example in the leader's comment.
      { leaderLog: index(1).terms(2, 5, 5, 5, 5, 5, 5, 5, 5), followerLog: index(1).terms(2, 4, 4, 4, 4, 4), hintTerm: 4, hintIndex: 6, nextTerm: 2, nextIndex: 1 },
      // The example in the follower's comment.
      { leaderLog: index(1).terms(2, 2, 2, 2, 2), followerLog: index(1).terms(2, 4, 4, 4, 4, 4, 4, 4), hintTerm: 2, hintIndex: 1, nextTerm: 2, nextIndex: 1 },
      // A stale append arrives after the follower compacted past it: hint (3, term 0), and the
      // leader backs off by one entry.
      { leaderLog: index(1).terms(1, 1, 3), followerLog: index(1).terms(1, 1, 3, 3, 3), followerCompact: 5, hintTerm: 0, hintIndex: 3, nextTerm: 1, nextIndex: 2 },
    ];
    for (const [i, test] of tests.entries()) {
      const s1 = storageWithEntries(test.leaderLog, withPeers(1, 2, 3));
      const last = test.leaderLog[test.leaderLog.length - 1]!;
      s1.setHardState({ term: last.term - 1, vote: 0, commit: last.index });
      const n1 = newTestRaft(1, 10, 1, s1);
      n1.becomeCandidate(); // bumps the term to last.term
      n1.becomeLeader();

      const s2 = storageWithEntries(test.followerLog, withPeers(1, 2, 3));
      s2.setHardState({ term: last.term, vote: 1, commit: 0 });
      const n2 = newTestRaft(2, 10, 1, s2);
      // Not a realistic state (commit is 0), but it exercises a "cannot happen" edge case.
      if (test.followerCompact !== undefined) s2.compact(test.followerCompact);

      n2.step(msg({ from: 1, to: 2, type: MsgHeartbeat }));
      let msgs = readMessages(n2);
      expect(msgs.map((m) => m.type), `#${i}`).toEqual([MsgHeartbeatResp]);
      n1.step(msgs[0]!);
      msgs = readMessages(n1);
      expect(msgs.map((m) => m.type), `#${i}`).toEqual([MsgApp]);
      n2.step(msgs[0]!);
      msgs = readMessages(n2);
      expect(msgs.map((m) => m.type), `#${i}`).toEqual([MsgAppResp]);
      expect(msgs[0]!.reject, `#${i}`).toBe(true);
      expect(msgs[0]!.logTerm, `#${i} hint term`).toBe(test.hintTerm);
      expect(msgs[0]!.rejectHint, `#${i} hint index`).toBe(test.hintIndex);
      n1.step(msgs[0]!);
      msgs = readMessages(n1);
      expect(msgs[0]!.logTerm, `#${i} next term`).toBe(test.nextTerm);
      expect(msgs[0]!.index, `#${i} next index`).toBe(test.nextIndex);
    }
  });
});

// =============================================================================================
describe('flow control [raft_flow_control_test.go and progress tests]', () => {
  function replicatingLeader(): Raft {
    const r = newTestRaft(1, 5, 1, newTestMemoryStorage(withPeers(1, 2)));
    r.becomeCandidate();
    r.becomeLeader();
    pr(r, 2).becomeReplicate();
    return r;
  }

  it('appends fill the inflight window, and none are sent once it is full [TestMsgAppFlowControlFull]', () => {
    const r = replicatingLeader();
    for (let i = 0; i < r.trk.maxInflight; i++) {
      r.step(propMsg(1, 1, bytes('somedata')));
      const ms = readMessages(r);
      expect(ms.map((m) => m.type), `#${i}`).toEqual([MsgApp]);
    }
    expect(pr(r, 2).isPaused()).toBe(true);
    for (let i = 0; i < 10; i++) {
      r.step(propMsg(1, 1, bytes('somedata')));
      expect(readMessages(r), `#${i}`).toEqual([]);
    }
  });

  it('an ack frees the window up to its index; stale acks free nothing [TestMsgAppFlowControlMoveForward]', () => {
    const r = replicatingLeader();
    for (let i = 0; i < r.trk.maxInflight; i++) {
      r.step(propMsg(1, 1, bytes('somedata')));
      readMessages(r);
    }
    // 1 is the empty entry, 2 the first proposal: start at 2.
    for (let tt = 2; tt < r.trk.maxInflight; tt++) {
      r.step(msg({ from: 2, to: 1, type: MsgAppResp, index: tt }));
      readMessages(r);
      // fill the window again
      r.step(propMsg(1, 1, bytes('somedata')));
      const ms = readMessages(r);
      expect(ms.map((m) => m.type), `#${tt}`).toEqual([MsgApp]);
      expect(pr(r, 2).isPaused(), `#${tt}`).toBe(true);
      // out-of-date acks change nothing
      for (let i = 0; i < tt; i++) {
        r.step(msg({ from: 2, to: 1, type: MsgAppResp, index: i }));
        expect(pr(r, 2).isPaused(), `#${tt}.${i}`).toBe(true);
      }
    }
  });

  it('a heartbeat response lets one empty append through a full window [TestMsgAppFlowControlRecvHeartbeat]', () => {
    const r = replicatingLeader();
    for (let i = 0; i < r.trk.maxInflight; i++) {
      r.step(propMsg(1, 1, bytes('somedata')));
      readMessages(r);
    }
    for (let tt = 1; tt < 5; tt++) {
      for (let i = 0; i < tt; i++) {
        expect(pr(r, 2).isPaused(), `#${tt}.${i}`).toBe(true);
        // Unpauses, sends an empty MsgApp, and pauses again.
        r.step(msg({ from: 2, to: 1, type: MsgHeartbeatResp }));
        const ms = readMessages(r);
        expect(ms.length, `#${tt}.${i}`).toBe(1);
        expect(ms[0]!.type, `#${tt}.${i}`).toBe(MsgApp);
        expect(ms[0]!.entries, `#${tt}.${i}`).toEqual([]);
      }
      // No more appends without heartbeats.
      for (let i = 0; i < 10; i++) {
        expect(pr(r, 2).isPaused(), `#${tt}.${i}`).toBe(true);
        r.step(propMsg(1, 1, bytes('somedata')));
        expect(readMessages(r), `#${tt}.${i}`).toEqual([]);
      }
      r.step(msg({ from: 2, to: 1, type: MsgHeartbeatResp }));
      readMessages(r);
    }
  });

  it("the leader's own match moves only once its entries are durable [TestProgressLeader]", () => {
    const r = newTestRaft(1, 5, 1, newTestMemoryStorage(withPeers(1, 2)));
    r.becomeCandidate();
    r.becomeLeader();
    pr(r, 2).becomeReplicate();
    for (let i = 0; i < 5; i++) r.step(propMsg(1, 1, bytes('foo')));
    expect(pr(r, 1).match).toBe(0);
    const ents = r.raftLog.nextUnstableEnts();
    expect(ents.length).toBe(6);
    expect(ents[0]!.data.length).toBe(0);
    expect(new TextDecoder().decode(ents[5]!.data)).toBe('foo');
    advanceMessagesAfterAppend(r);
    expect(pr(r, 1).match).toBe(6);
    expect(pr(r, 1).next).toBe(7);
  });

  it('a heartbeat response clears a paused flow [TestProgressResumeByHeartbeatResp]', () => {
    const r = newTestRaft(1, 5, 1, newTestMemoryStorage(withPeers(1, 2)));
    r.becomeCandidate();
    r.becomeLeader();
    pr(r, 2).msgAppFlowPaused = true;
    r.step(msg({ from: 1, to: 1, type: MsgBeat }));
    expect(pr(r, 2).msgAppFlowPaused).toBe(true);
    pr(r, 2).becomeReplicate();
    expect(pr(r, 2).msgAppFlowPaused).toBe(false);
    pr(r, 2).msgAppFlowPaused = true;
    r.step(msg({ from: 2, to: 1, type: MsgHeartbeatResp }));
    expect(pr(r, 2).msgAppFlowPaused).toBe(false);
  });

  it('a probing follower gets one append until it answers [TestProgressPaused]', () => {
    const r = newTestRaft(1, 5, 1, newTestMemoryStorage(withPeers(1, 2)));
    r.becomeCandidate();
    r.becomeLeader();
    for (let i = 0; i < 3; i++) r.step(propMsg(1, 1, bytes('somedata')));
    expect(readMessages(r).length).toBe(1);
  });

  it('appends are bounded by count and bytes in flight [TestProgressFlowControl]', () => {
    const r = newTestRaft(1, 5, 1, newTestMemoryStorage(withPeers(1, 2)), {
      maxInflightMsgs: 3,
      maxSizePerMsg: 2048,
      maxInflightBytes: 9000, // a little over maxInflightMsgs * maxSizePerMsg
    });
    r.becomeCandidate();
    r.becomeLeader();
    readMessages(r);
    // While node 2 is probing, propose a bunch of entries.
    pr(r, 2).becomeProbe();
    const blob = bytes('a'.repeat(1000));
    const large = bytes('b'.repeat(5000));
    for (let i = 0; i < 22; i++) {
      r.step(propMsg(1, 1, i >= 10 && i < 16 ? large : blob));
    }
    const ms = readMessages(r);
    // One append of two entries: the empty entry and the first proposal (probing).
    expect(ms.length).toBe(1);
    expect(ms[0]!.type).toBe(MsgApp);
    expect(ms[0]!.entries.length).toBe(2);
    expect(ms[0]!.entries[0]!.data.length).toBe(0);
    expect(ms[0]!.entries[1]!.data.length).toBe(1000);

    const ackAndVerify = (idx: number, ...expEntries: number[]): number => {
      r.step(msg({ from: 2, to: 1, type: MsgAppResp, index: idx }));
      const out = readMessages(r);
      expect(out.map((m) => m.entries.length), `ack ${idx}`).toEqual(expEntries);
      for (const m of out) expect(m.type).toBe(MsgApp);
      const lastEnts = out[out.length - 1]!.entries;
      return lastEnts.length === 0 ? idx : lastEnts[lastEnts.length - 1]!.index;
    };
    // The ack moves 2 to StateReplicate: several messages at once.
    let idx = ackAndVerify(ms[0]!.entries[1]!.index, 2, 2, 2);
    // Acking those three gives three more; the third holds a single large entry.
    idx = ackAndVerify(idx, 2, 1, 1);
    // One large entry each, capped at two messages by maxInflightBytes.
    idx = ackAndVerify(idx, 1, 1);
    idx = ackAndVerify(idx, 1, 1);
    // Small messages again.
    idx = ackAndVerify(idx, 1, 2, 2);
    ackAndVerify(idx, 2);
  });

  it('a probing follower gets one append per heartbeat response [TestSendAppendForProgressProbe]', () => {
    const r = newTestRaft(1, 10, 1, newTestMemoryStorage(withPeers(1, 2)));
    r.becomeCandidate();
    r.becomeLeader();
    readMessages(r);
    pr(r, 2).becomeProbe();
    for (let i = 0; i < 3; i++) {
      if (i === 0) {
        // Only one MsgApp on the first round; then the follower is paused until it answers.
        mustAppendEntry(r, entry({ data: bytes('somedata') }));
        r.sendAppend(2);
        const m = readMessages(r);
        expect(m.length).toBe(1);
        expect(m[0]!.index).toBe(0);
      }
      expect(pr(r, 2).msgAppFlowPaused, `#${i}`).toBe(true);
      for (let j = 0; j < 10; j++) {
        mustAppendEntry(r, entry({ data: bytes('somedata') }));
        r.sendAppend(2);
        expect(readMessages(r), `#${i}.${j}`).toEqual([]);
      }
      // a heartbeat does not unpause
      for (let j = 0; j < r.heartbeatTimeout; j++) r.step(msg({ from: 1, to: 1, type: MsgBeat }));
      expect(pr(r, 2).msgAppFlowPaused, `#${i}`).toBe(true);
      const m = readMessages(r);
      expect(m.map((x) => x.type), `#${i}`).toEqual([MsgHeartbeat]);
    }
    // a heartbeat response lets another append through
    r.step(msg({ from: 2, to: 1, type: MsgHeartbeatResp }));
    const m = readMessages(r);
    expect(m.length).toBe(1);
    expect(m[0]!.index).toBe(0);
    expect(pr(r, 2).msgAppFlowPaused).toBe(true);
  });

  it('a replicating follower gets every new entry at once [TestSendAppendForProgressReplicate]', () => {
    const r = newTestRaft(1, 10, 1, newTestMemoryStorage(withPeers(1, 2)));
    r.becomeCandidate();
    r.becomeLeader();
    readMessages(r);
    pr(r, 2).becomeReplicate();
    for (let i = 0; i < 10; i++) {
      mustAppendEntry(r, entry({ data: bytes('somedata') }));
      r.sendAppend(2);
      expect(readMessages(r).length, `#${i}`).toBe(1);
    }
  });

  it('a follower waiting for a snapshot gets no appends [TestSendAppendForProgressSnapshot]', () => {
    const r = newTestRaft(1, 10, 1, newTestMemoryStorage(withPeers(1, 2)));
    r.becomeCandidate();
    r.becomeLeader();
    readMessages(r);
    pr(r, 2).becomeSnapshot(10);
    for (let i = 0; i < 10; i++) {
      mustAppendEntry(r, entry({ data: bytes('somedata') }));
      r.sendAppend(2);
      expect(readMessages(r), `#${i}`).toEqual([]);
    }
  });

  it('an unreachable replicating follower falls back to probing from match [TestRecvMsgUnreachable]', () => {
    const s = storageWithEntries(index(1).terms(1, 2, 3), withPeers(1, 2));
    const r = newTestRaft(1, 10, 1, s);
    r.becomeCandidate();
    r.becomeLeader();
    readMessages(r);
    pr(r, 2).match = 3;
    pr(r, 2).becomeReplicate();
    pr(r, 2).next = 6;
    r.step(msg({ from: 2, to: 1, type: MsgUnreachable }));
    expect(pr(r, 2).state).toBe(StateProbe);
    expect(pr(r, 2).next).toBe(pr(r, 2).match + 1);
  });

  it('proposals beyond the uncommitted size limit are dropped; empty ones never are [TestUncommittedEntryLimit]', () => {
    const maxEntries = 1024;
    const testData = bytes('testdata');
    const maxEntrySize = maxEntries * testData.length;
    const r = newTestRaft(1, 5, 1, newTestMemoryStorage(withPeers(1, 2, 3)), {
      maxUncommittedEntriesSize: maxEntrySize,
      maxInflightMsgs: 2 * 1024, // avoid interference
    });
    r.becomeCandidate();
    r.becomeLeader();
    expect(r.uncommittedSize).toBe(0);
    // Both followers replicating.
    const numFollowers = 2;
    pr(r, 2).becomeReplicate();
    pr(r, 3).becomeReplicate();
    r.uncommittedSize = 0;

    const propEnts: Entry[] = [];
    for (let i = 0; i < maxEntries; i++) {
      const m = propMsg(1, 1, testData);
      r.step(m);
      propEnts.push(m.entries[0]!);
    }
    // One more is too many.
    expect(() => r.step(propMsg(1, 1, testData))).toThrow(ProposalDroppedError);
    // Reduce the uncommitted size as if those were committed.
    expect(readMessages(r).length).toBe(maxEntries * numFollowers);
    r.reduceUncommittedSize(payloadsSize(propEnts));
    expect(r.uncommittedSize).toBe(0);

    // One large proposal is accepted even though it goes over the limit: the tail was empty.
    const large = Array.from({ length: 2 * maxEntries }, () => entry({ data: testData }));
    r.step(msg({ from: 1, to: 1, type: MsgProp, entries: large }));
    // And then the next one is dropped again.
    expect(() => r.step(propMsg(1, 1, testData))).toThrow(ProposalDroppedError);
    // An entry without data is always accepted (the leader's empty entry, leaving joint).
    r.step(msg({ from: 1, to: 1, type: MsgProp, entries: [entry()] }));
    expect(readMessages(r).length).toBe(2 * numFollowers);
    r.reduceUncommittedSize(payloadsSize(large));
    expect(r.uncommittedSize).toBe(0);
  });
});

// =============================================================================================
describe('CheckQuorum and the leader lease (thesis §6.2, §4.2.3)', () => {
  it('a leader that hears from a quorum stays leader [TestLeaderStepdownWhenQuorumActive]', () => {
    const sm = newTestRaft(1, 5, 1, newTestMemoryStorage(withPeers(1, 2, 3)), { checkQuorum: true });
    sm.becomeCandidate();
    sm.becomeLeader();
    for (let i = 0; i < sm.electionTimeout + 1; i++) {
      sm.step(msg({ from: 2, type: MsgHeartbeatResp, term: sm.term }));
      sm.tick();
    }
    expect(sm.state).toBe(StateLeader);
  });

  it('a leader that does not hear from a quorum for an election timeout steps down [TestLeaderStepdownWhenQuorumLost]', () => {
    const sm = newTestRaft(1, 5, 1, newTestMemoryStorage(withPeers(1, 2, 3)), { checkQuorum: true });
    sm.becomeCandidate();
    sm.becomeLeader();
    for (let i = 0; i < sm.electionTimeout + 1; i++) sm.tick();
    expect(sm.state).toBe(StateFollower);
    // Stepping down for a lost quorum does not change the term.
    expect(sm.term).toBe(1);
  });

  it('a follower inside the lease ignores a candidate; once the lease expires it votes [TestLeaderSupersedingWithCheckQuorum]', () => {
    const [a, b, c] = threeRafts({ checkQuorum: true });
    const nt = newNetwork(a, b, c);
    setRandomizedElectionTimeout(b, b.electionTimeout + 1);
    for (let i = 0; i < b.electionTimeout; i++) b.tick();
    nt.send(hup(1));
    expect(a.state).toBe(StateLeader);
    expect(c.state).toBe(StateFollower);

    nt.send(hup(3));
    // b rejected c's vote: its electionElapsed had not reached electionTimeout.
    expect(c.state).toBe(StateCandidate);

    // Let b's electionElapsed reach electionTimeout.
    for (let i = 0; i < b.electionTimeout; i++) b.tick();
    nt.send(hup(3));
    expect(c.state).toBe(StateLeader);
  });

  it('a new leader can be elected once followers have not heard from the old one [TestLeaderElectionWithCheckQuorum]', () => {
    const [a, b, c] = threeRafts({ checkQuorum: true });
    const nt = newNetwork(a, b, c);
    setRandomizedElectionTimeout(a, a.electionTimeout + 1);
    setRandomizedElectionTimeout(b, b.electionTimeout + 2);
    // Right after creation, votes are cast regardless of the election timeout.
    nt.send(hup(1));
    expect(a.state).toBe(StateLeader);
    expect(c.state).toBe(StateFollower);

    // The timeouts may have been reset to electionTimeout by the role changes.
    setRandomizedElectionTimeout(a, a.electionTimeout + 1);
    setRandomizedElectionTimeout(b, b.electionTimeout + 2);
    for (let i = 0; i < a.electionTimeout; i++) a.tick();
    for (let i = 0; i < b.electionTimeout; i++) b.tick();
    nt.send(hup(3));
    expect(a.state).toBe(StateFollower);
    expect(c.state).toBe(StateLeader);
  });

  it('a candidate stuck at a higher term disrupts the leader through its answer and is freed [TestFreeStuckCandidateWithCheckQuorum]', () => {
    const [a, b, c] = threeRafts({ checkQuorum: true });
    const nt = newNetwork(a, b, c);
    setRandomizedElectionTimeout(b, b.electionTimeout + 1);
    for (let i = 0; i < b.electionTimeout; i++) b.tick();
    nt.send(hup(1));

    nt.isolate(1);
    nt.send(hup(3));
    expect(b.state).toBe(StateFollower);
    expect(c.state).toBe(StateCandidate);
    expect(c.term).toBe(b.term + 1);

    // Vote again for safety.
    nt.send(hup(3));
    expect(b.state).toBe(StateFollower);
    expect(c.state).toBe(StateCandidate);
    expect(c.term).toBe(b.term + 2);

    nt.recover();
    nt.send(msg({ from: 1, to: 3, type: MsgHeartbeat, term: a.term }));
    // The leader is disrupted so that the stuck peer is freed.
    expect(a.state).toBe(StateFollower);
    expect(c.term).toBe(a.term);

    // Voting again, c wins.
    nt.send(hup(3));
    expect(c.state).toBe(StateLeader);
  });

  it('a voter that cannot campaign (not in its own configuration) still votes and follows [TestNonPromotableVoterWithCheckQuorum]', () => {
    const a = newTestRaft(1, 10, 1, newTestMemoryStorage(withPeers(1, 2)), { checkQuorum: true });
    const b = newTestRaft(2, 10, 1, newTestMemoryStorage(withPeers(1)), { checkQuorum: true });
    const nt = newNetwork(a, b);
    setRandomizedElectionTimeout(b, b.electionTimeout + 1);
    // The network made 2 a voter of b's configuration: remove it again so that b is not promotable.
    b.applyConfChange(removeNode(2));
    expect(b.promotable()).toBe(false);

    for (let i = 0; i < b.electionTimeout; i++) b.tick();
    nt.send(hup(1));
    expect(a.state).toBe(StateLeader);
    expect(b.state).toBe(StateFollower);
    expect(b.lead).toBe(1);
  });

  it("a follower that timed out forces the leader down with its answer to a late heartbeat [TestDisruptiveFollower]", () => {
    const [n1, n2, n3] = threeRafts({ checkQuorum: true });
    n1.becomeFollower(1, None);
    n2.becomeFollower(1, None);
    n3.becomeFollower(1, None);
    const nt = newNetwork(n1, n2, n3);
    nt.send(hup(1));
    expect([n1.state, n2.state, n3.state]).toEqual([StateLeader, StateFollower, StateFollower]);

    // n3's ticks run out before the leader's messages arrive (a slow link, or etcd's
    // advanceTicksForElection on restart).
    setRandomizedElectionTimeout(n3, n3.electionTimeout + 2);
    for (let i = 0; i < n3.randomizedElectionTimeout - 1; i++) n3.tick();
    n3.tick();
    expect([n1.state, n2.state, n3.state]).toEqual([StateLeader, StateFollower, StateCandidate]);
    expect([n1.term, n2.term, n3.term]).toEqual([2, 2, 3]);

    // The delayed heartbeat reaches the candidate, whose answer carries the higher term: the
    // leader steps down, so that the next election can free the cluster.
    nt.send(msg({ from: 1, to: 3, term: n1.term, type: MsgHeartbeat }));
    expect([n1.state, n2.state, n3.state]).toEqual([StateFollower, StateFollower, StateCandidate]);
    expect([n1.term, n2.term, n3.term]).toEqual([3, 2, 3]);
  });

  it('with PreVote the follower that timed out cannot disrupt the leader [TestDisruptiveFollowerPreVote]', () => {
    const [n1, n2, n3] = threeRafts({ checkQuorum: true });
    n1.becomeFollower(1, None);
    n2.becomeFollower(1, None);
    n3.becomeFollower(1, None);
    const nt = newNetwork(n1, n2, n3);
    nt.send(hup(1));
    expect([n1.state, n2.state, n3.state]).toEqual([StateLeader, StateFollower, StateFollower]);

    nt.isolate(3);
    for (let i = 0; i < 3; i++) nt.send(propMsg(1, 1, bytes('somedata')));
    setPreVote(n1, true);
    setPreVote(n2, true);
    setPreVote(n3, true);
    nt.recover();
    nt.send(hup(3));
    expect([n1.state, n2.state, n3.state]).toEqual([StateLeader, StateFollower, StatePreCandidate]);
    expect([n1.term, n2.term, n3.term]).toEqual([2, 2, 2]);

    // The delayed heartbeat does not force the leader down.
    nt.send(msg({ from: 1, to: 3, term: n1.term, type: MsgHeartbeat }));
    expect(n1.state).toBe(StateLeader);
  });

  it('adding a node does not make the leader fail its next quorum check at once [TestAddNodeCheckQuorum]', () => {
    const r = newTestRaft(1, 10, 1, newTestMemoryStorage(withPeers(1)), { checkQuorum: true });
    r.becomeCandidate();
    r.becomeLeader();
    for (let i = 0; i < r.electionTimeout - 1; i++) r.tick();
    r.applyConfChange(addNode(2));
    // This tick reaches electionTimeout: a quorum check.
    r.tick();
    expect(r.state).toBe(StateLeader);
    // After another electionTimeout without hearing from 2, the leader steps down.
    for (let i = 0; i < r.electionTimeout; i++) r.tick();
    expect(r.state).toBe(StateFollower);
  });
});

// =============================================================================================
describe('PreVote migration (a cluster turning PreVote on node by node)', () => {
  // n1 leader at term 2, n2 follower at term 2, n3 partitioned away with term 4 and a shorter
  // log: it campaigned twice without PreVote. Then n3 turns PreVote on and the network heals.
  function newPreVoteMigrationCluster(): Network {
    const [n1, n2, n3] = threeRafts();
    n1.becomeFollower(1, None);
    n2.becomeFollower(1, None);
    n3.becomeFollower(1, None);
    setPreVote(n1, true);
    setPreVote(n2, true);
    // n3 without PreVote: a rolling restart with mixed versions.
    const nt = newNetwork(n1, n2, n3);
    nt.send(hup(1));
    nt.isolate(3);
    nt.send(propMsg(1, 1, bytes('some data')));
    nt.send(hup(3));
    nt.send(hup(3));
    expect([n1.state, n2.state, n3.state]).toEqual([StateLeader, StateFollower, StateCandidate]);
    expect([n1.term, n2.term, n3.term]).toEqual([2, 2, 4]);
    setPreVote(n3, true);
    nt.recover();
    return nt;
  }

  it('the cluster can still elect a leader when the leader goes down [TestPreVoteMigrationCanCompleteElection]', () => {
    const nt = newPreVoteMigrationCluster();
    const n2 = nt.raft(2);
    const n3 = nt.raft(3);
    nt.isolate(1);
    nt.send(hup(3));
    nt.send(hup(2));
    expect(n2.state).toBe(StateFollower);
    expect(n3.state).toBe(StatePreCandidate);
    nt.send(hup(3));
    nt.send(hup(2));
    expect(n2.state === StateLeader || n3.state === StateFollower).toBe(true);
  });

  it('a pre-candidate stuck at a higher term is freed by disrupting the leader [TestPreVoteMigrationWithFreeStuckPreCandidate]', () => {
    const nt = newPreVoteMigrationCluster();
    const [n1, n2, n3] = [nt.raft(1), nt.raft(2), nt.raft(3)];
    nt.send(hup(3));
    expect([n1.state, n2.state, n3.state]).toEqual([StateLeader, StateFollower, StatePreCandidate]);
    // Pre-vote again for safety.
    nt.send(hup(3));
    expect([n1.state, n2.state, n3.state]).toEqual([StateLeader, StateFollower, StatePreCandidate]);
    nt.send(msg({ from: 1, to: 3, type: MsgHeartbeat, term: n1.term }));
    // The leader is disrupted so that the stuck peer is freed.
    expect(n1.state).toBe(StateFollower);
    expect(n3.term).toBe(n1.term);
  });
});

// =============================================================================================
describe('ReadIndex (thesis §6.4)', () => {
  for (const lease of [false, true]) {
    const name = lease ? 'TestReadOnlyOptionLease' : 'TestReadOnlyOptionSafe';
    it(`a read index is the commit index when the request reached the leader, on any node (${lease ? 'lease-based' : 'safe'}) [${name}]`, () => {
      const [a, b, c] = threeRafts(lease ? { readOnlyOption: ReadOnlyOption.ReadOnlyLeaseBased, checkQuorum: true } : {});
      const nt = newNetwork(a, b, c);
      setRandomizedElectionTimeout(b, b.electionTimeout + 1);
      for (let i = 0; i < b.electionTimeout; i++) b.tick();
      nt.send(hup(1));
      expect(a.state).toBe(StateLeader);

      const tests: [Raft, number, number, string][] = [
        [a, 10, 11, 'ctx1'],
        [b, 10, 21, 'ctx2'],
        [c, 10, 31, 'ctx3'],
        [a, 10, 41, 'ctx4'],
        [b, 10, 51, 'ctx5'],
        [c, 10, 61, 'ctx6'],
      ];
      for (const [i, [sm, proposals, wri, wctx]] of tests.entries()) {
        for (let j = 0; j < proposals; j++) nt.send(propMsg(1, 1));
        nt.send(msg({ from: sm.id, to: sm.id, type: MsgReadIndex, entries: [entry({ data: bytes(wctx) })] }));
        expect(sm.readStates.length, `#${i}`).toBeGreaterThan(0);
        expect(sm.readStates[0], `#${i}`).toEqual({ index: wri, requestCtx: bytes(wctx) });
        sm.readStates = [];
      }
    });
  }

  it('a learner can read through the leader [TestReadOnlyWithLearner]', () => {
    const s = newTestMemoryStorage(withPeers(1), withLearners(2));
    const a = newTestLearnerRaft(1, 10, 1, s);
    const b = newTestLearnerRaft(2, 10, 1, newTestMemoryStorage(withPeers(1), withLearners(2)));
    const nt = newNetwork(a, b);
    setRandomizedElectionTimeout(b, b.electionTimeout + 1);
    for (let i = 0; i < b.electionTimeout; i++) b.tick();
    nt.send(hup(1));
    expect(a.state).toBe(StateLeader);

    const tests: [Raft, number, number, string][] = [
      [a, 10, 11, 'ctx1'],
      [b, 10, 21, 'ctx2'],
      [a, 10, 31, 'ctx3'],
      [b, 10, 41, 'ctx4'],
    ];
    for (const [i, [sm, proposals, wri, wctx]] of tests.entries()) {
      for (let j = 0; j < proposals; j++) {
        nt.send(propMsg(1, 1));
        nextEnts(a, s); // append the entries on the leader
      }
      nt.send(msg({ from: sm.id, to: sm.id, type: MsgReadIndex, entries: [entry({ data: bytes(wctx) })] }));
      expect(sm.readStates.length, `#${i}`).toBeGreaterThan(0);
      expect(sm.readStates[0], `#${i}`).toEqual({ index: wri, requestCtx: bytes(wctx) });
      sm.readStates = [];
    }
  });

  it('a new leader answers reads only once it has committed an entry of its term [TestReadOnlyForNewLeader]', () => {
    const nodeConfigs: [number, number, number, number][] = [
      // id, committed, applied, compactIndex
      [1, 1, 1, 0],
      [2, 2, 2, 2],
      [3, 2, 2, 2],
    ];
    const peers = nodeConfigs.map(([id, committed, applied, compactIndex]) => {
      const storage = storageWithEntries(index(1).terms(1, 1), withPeers(1, 2, 3));
      storage.setHardState({ term: 1, vote: 0, commit: committed });
      if (compactIndex !== 0) storage.compact(compactIndex);
      return new Raft(newTestConfig(id, 10, 1, storage, { applied }));
    });
    const nt = newNetwork(...peers);
    // Drop MsgApp so that 1 cannot commit an entry of its term once it leads.
    nt.ignore(MsgApp);
    nt.send(hup(1));
    const sm = nt.raft(1);
    expect(sm.state).toBe(StateLeader);

    // The read is held back.
    const windex = 4;
    const wctx = bytes('ctx');
    nt.send(msg({ from: 1, to: 1, type: MsgReadIndex, entries: [entry({ data: wctx })] }));
    expect(sm.readStates).toEqual([]);

    nt.recover();
    // 1 commits an entry of its term.
    for (let i = 0; i < sm.heartbeatTimeout; i++) sm.tick();
    nt.send(propMsg(1, 1));
    expect(sm.raftLog.committed).toBe(4);
    expect(sm.raftLog.termOrZero(sm.raftLog.committed)).toBe(sm.term);

    // The postponed read is answered now...
    expect(sm.readStates).toEqual([{ index: windex, requestCtx: wctx }]);
    // ...and new ones at once.
    nt.send(msg({ from: 1, to: 1, type: MsgReadIndex, entries: [entry({ data: wctx })] }));
    expect(sm.readStates.length).toBe(2);
    expect(sm.readStates[1]).toEqual({ index: windex, requestCtx: wctx });
  });

  it('a confirmed read request is freed from the leader [TestRaftFreesReadOnlyMem]', () => {
    const sm = newTestRaft(1, 5, 1, newTestMemoryStorage(withPeers(1, 2)));
    sm.becomeCandidate();
    sm.becomeLeader();
    sm.raftLog.commitTo(sm.raftLog.lastIndex());
    const ctx = bytes('ctx');
    // The leader starts a linearizable read (thesis §6.4, step 2).
    sm.step(msg({ from: 2, type: MsgReadIndex, entries: [entry({ data: ctx })] }));
    const msgs = readMessages(sm);
    expect(msgs.length).toBe(1);
    expect(msgs[0]!.type).toBe(MsgHeartbeat);
    expect(msgs[0]!.context).toEqual(ctx);
    expect(sm.readOnly.pendingCount()).toBe(1);
    // A quorum of heartbeat acks confirms the leadership (step 3), and the request is freed.
    sm.step(msg({ from: 2, type: MsgHeartbeatResp, context: ctx }));
    expect(sm.readOnly.pendingCount()).toBe(0);
    // The read index goes back to the follower that asked (beside the append that catches it up).
    const out = readMessages(sm).filter((m) => m.type === MsgReadIndexResp);
    expect(out.map((m) => [m.to, m.index, m.entries[0]!.data])).toEqual([[2, sm.raftLog.committed, ctx]]);
  });
});

// =============================================================================================
describe('learners', () => {
  it('a learner never starts an election, however long it waits [TestLearnerElectionTimeout]', () => {
    const n2 = newTestLearnerRaft(2, 10, 1, newTestMemoryStorage(withPeers(1), withLearners(2)));
    n2.becomeFollower(1, None);
    setRandomizedElectionTimeout(n2, n2.electionTimeout);
    for (let i = 0; i < 3 * n2.electionTimeout; i++) n2.tick();
    expect(n2.state).toBe(StateFollower);
    expect(n2.term).toBe(1);
    expect(readMessages(n2)).toEqual([]);
  });

  it('a learner campaigns once promoted to voter [TestLearnerPromotion]', () => {
    const n1 = newTestLearnerRaft(1, 10, 1, newTestMemoryStorage(withPeers(1), withLearners(2)));
    const n2 = newTestLearnerRaft(2, 10, 1, newTestMemoryStorage(withPeers(1), withLearners(2)));
    n1.becomeFollower(1, None);
    n2.becomeFollower(1, None);
    const nt = newNetwork(n1, n2);
    expect(n1.state).not.toBe(StateLeader);

    // n1 becomes leader
    setRandomizedElectionTimeout(n1, n1.electionTimeout);
    for (let i = 0; i < n1.electionTimeout; i++) n1.tick();
    advanceMessagesAfterAppend(n1);
    expect(n1.state).toBe(StateLeader);
    expect(n2.state).toBe(StateFollower);

    nt.send(beat(1));
    n1.applyConfChange(addNode(2));
    n2.applyConfChange(addNode(2));
    expect(n2.isLearner).toBe(false);

    // n2 starts an election and wins it.
    setRandomizedElectionTimeout(n2, n2.electionTimeout);
    for (let i = 0; i < n2.electionTimeout; i++) n2.tick();
    advanceMessagesAfterAppend(n2);
    nt.send(beat(2));
    expect(n1.state).toBe(StateFollower);
    expect(n2.state).toBe(StateLeader);
  });

  it('a learner grants a valid vote request (it may have been promoted without knowing) [TestLearnerCanVote]', () => {
    const n2 = newTestLearnerRaft(2, 10, 1, newTestMemoryStorage(withPeers(1), withLearners(2)));
    n2.becomeFollower(1, None);
    n2.step(msg({ from: 1, to: 2, term: 2, type: MsgVote, logTerm: 11, index: 11 }));
    const msgs = readMessages(n2);
    expect(msgs.length).toBe(1);
    expect(msgs[0]!.type).toBe(MsgVoteResp);
    expect(msgs[0]!.reject).toBe(false);
  });

  // etcd's old TestLearnerCannotVote became TestLearnerCanVote when learners were allowed to
  // answer; what remains of the rule is that a learner's vote never counts towards a quorum.
  it("a candidate neither asks learners for votes nor counts theirs [TestLearnerCannotVote, today's rule]", () => {
    const r = newTestRaft(1, 10, 1, newTestMemoryStorage(withPeers(1, 2, 3), withLearners(4)));
    r.step(hup(1));
    const msgs = readMessages(r);
    expect(msgs.map((m) => [m.type, m.to])).toEqual([
      [MsgVote, 2],
      [MsgVote, 3],
    ]);
    r.step(msg({ from: 4, to: 1, term: r.term, type: MsgVoteResp }));
    expect(r.state).toBe(StateCandidate);
    expect(r.trk.tallyVotes().granted).toBe(1);
    r.step(msg({ from: 2, to: 1, term: r.term, type: MsgVoteResp }));
    expect(r.state).toBe(StateLeader);
  });

  it('a learner receives the log and the commit index from the leader [TestLearnerLogReplication]', () => {
    const s1 = newTestMemoryStorage(withPeers(1), withLearners(2));
    const n1 = newTestLearnerRaft(1, 10, 1, s1);
    const n2 = newTestLearnerRaft(2, 10, 1, newTestMemoryStorage(withPeers(1), withLearners(2)));
    const nt = newNetwork(n1, n2);
    n1.becomeFollower(1, None);
    n2.becomeFollower(1, None);
    setRandomizedElectionTimeout(n1, n1.electionTimeout);
    for (let i = 0; i < n1.electionTimeout; i++) n1.tick();
    advanceMessagesAfterAppend(n1);
    nt.send(beat(1));
    // n1 is leader and n2 is learner
    expect(n1.state).toBe(StateLeader);
    expect(n2.isLearner).toBe(true);

    nt.send(propMsg(1, 1, bytes('somedata')));
    expect(n1.raftLog.committed).toBe(2);
    expect(n2.raftLog.committed).toBe(n1.raftLog.committed);
    expect(pr(n1, 2).match).toBe(n2.raftLog.committed);
  });

  it('a learner does not campaign on MsgHup or MsgTimeoutNow [TestLearnerCampaign]', () => {
    const n1 = newTestRaft(1, 10, 1, newTestMemoryStorage(withPeers(1)));
    n1.applyConfChange(addLearner(2));
    const n2 = newTestRaft(2, 10, 1, newTestMemoryStorage(withPeers(1)));
    n2.applyConfChange(addLearner(2));
    const nt = newNetwork(n1, n2);
    nt.send(hup(2));
    expect(n2.isLearner).toBe(true);
    expect(n2.state).toBe(StateFollower);

    nt.send(hup(1));
    expect(n1.state === StateLeader && n1.lead === 1).toBe(true);
    // The transfer check happens on the leader; a learner that gets MsgTimeoutNow anyway
    // (it was demoted meanwhile) must still ignore it.
    nt.send(msg({ from: 1, to: 2, type: MsgTimeoutNow }));
    expect(n2.state).toBe(StateFollower);
  });

  it('leadership is never transferred to a learner', () => {
    const n1 = newTestRaft(1, 10, 1, newTestMemoryStorage(withPeers(1, 3), withLearners(2)));
    const nt = newNetwork(n1, null, null);
    nt.send(hup(1));
    expect(n1.state).toBe(StateLeader);
    nt.ignore(MsgTimeoutNow);
    n1.step(msg({ from: 2, to: 1, type: MsgTransferLeader }));
    expect(n1.leadTransferee).toBe(None);
    expect(readMessages(n1)).toEqual([]);
    checkLeaderTransferState(n1, StateLeader, 1);
  });
});

// =============================================================================================
describe('leadership transfer (thesis §3.10)', () => {
  it('a transfer to an up-to-date node succeeds at once, and back again [TestLeaderTransferToUpToDateNode]', () => {
    const nt = newNetwork(null, null, null);
    nt.send(hup(1));
    const lead = nt.raft(1);
    expect(lead.lead).toBe(1);
    // Transfer leadership to 2.
    nt.send(msg({ from: 2, to: 1, type: MsgTransferLeader }));
    checkLeaderTransferState(lead, StateFollower, 2);
    // After some replication, transfer back to 1.
    nt.send(propMsg(1, 1));
    nt.send(msg({ from: 1, to: 2, type: MsgTransferLeader }));
    checkLeaderTransferState(lead, StateLeader, 1);
  });

  it('a transfer request sent to a follower is forwarded to the leader [TestLeaderTransferToUpToDateNodeFromFollower]', () => {
    const nt = newNetwork(null, null, null);
    nt.send(hup(1));
    const lead = nt.raft(1);
    expect(lead.lead).toBe(1);
    nt.send(msg({ from: 2, to: 2, type: MsgTransferLeader }));
    checkLeaderTransferState(lead, StateFollower, 2);
    nt.send(propMsg(1, 1));
    nt.send(msg({ from: 1, to: 1, type: MsgTransferLeader }));
    checkLeaderTransferState(lead, StateLeader, 1);
  });

  it('a transfer works while the leader still holds its lease [TestLeaderTransferWithCheckQuorum]', () => {
    const nt = newNetworkWithConfig((c) => {
      c.checkQuorum = true;
    }, null, null, null);
    for (let i = 1; i < 4; i++) setRandomizedElectionTimeout(nt.raft(i), nt.raft(i).electionTimeout + i);
    // Let 2's electionElapsed reach the timeout so that it can vote for 1.
    const f = nt.raft(2);
    for (let i = 0; i < f.electionTimeout; i++) f.tick();
    nt.send(hup(1));
    const lead = nt.raft(1);
    expect(lead.state).toBe(StateLeader);
    nt.send(msg({ from: 2, to: 1, type: MsgTransferLeader }));
    checkLeaderTransferState(lead, StateFollower, 2);
    nt.send(propMsg(1, 1));
    nt.send(msg({ from: 1, to: 2, type: MsgTransferLeader }));
    checkLeaderTransferState(lead, StateLeader, 1);
  });

  it('the leader catches a slow transferee up before handing over [TestLeaderTransferToSlowFollower]', () => {
    const nt = newNetwork(null, null, null);
    nt.send(hup(1));
    nt.isolate(3);
    nt.send(propMsg(1, 1));
    nt.recover();
    const lead = nt.raft(1);
    expect(pr(lead, 3).match).toBe(1);
    // Transfer to 3, which lacks an entry.
    nt.send(msg({ from: 3, to: 1, type: MsgTransferLeader }));
    checkLeaderTransferState(lead, StateFollower, 3);
  });

  it('a transferee that needs a snapshot gets leadership once it has applied it [TestLeaderTransferAfterSnapshot]', () => {
    const nt = newNetwork(null, null, null);
    nt.send(hup(1));
    nt.isolate(3);
    nt.send(propMsg(1, 1));
    const lead = nt.raft(1);
    nextEnts(lead, nt.storage.get(1)!);
    nt.storage.get(1)!.createSnapshot(lead.raftLog.applied, confState({ voters: lead.trk.voterNodes() }), EMPTY_BYTES);
    nt.storage.get(1)!.compact(lead.raftLog.applied);
    nt.recover();
    expect(pr(lead, 3).match).toBe(1);

    let filtered: Message | undefined;
    // The snapshot has to be applied before the ack is sent.
    nt.msgHook = (m) => {
      if (m.type !== MsgAppResp || m.from !== 3 || m.reject) return true;
      filtered = m;
      return false;
    };
    // Transfer to 3, which lacks the snapshot.
    nt.send(msg({ from: 3, to: 1, type: MsgTransferLeader }));
    expect(lead.state).toBe(StateLeader);
    expect(filtered).toBeDefined();

    // Apply the snapshot and resume.
    const follower = nt.raft(3);
    const snap = follower.raftLog.nextUnstableSnapshot()!;
    nt.storage.get(3)!.applySnapshot(snap);
    follower.appliedSnap(snap);
    nt.msgHook = undefined;
    nt.send(filtered!);
    checkLeaderTransferState(lead, StateFollower, 3);
  });

  it('a transfer to the leader itself does nothing [TestLeaderTransferToSelf]', () => {
    const nt = newNetwork(null, null, null);
    nt.send(hup(1));
    const lead = nt.raft(1);
    nt.send(msg({ from: 1, to: 1, type: MsgTransferLeader }));
    checkLeaderTransferState(lead, StateLeader, 1);
  });

  it('a transfer to a node that is not a member does nothing [TestLeaderTransferToNonExistingNode]', () => {
    const nt = newNetwork(null, null, null);
    nt.send(hup(1));
    const lead = nt.raft(1);
    nt.send(msg({ from: 4, to: 1, type: MsgTransferLeader }));
    checkLeaderTransferState(lead, StateLeader, 1);
  });

  it('a transfer that does not finish within an election timeout is abandoned [TestLeaderTransferTimeout]', () => {
    const nt = newNetwork(null, null, null);
    nt.send(hup(1));
    nt.isolate(3);
    const lead = nt.raft(1);
    nt.send(msg({ from: 3, to: 1, type: MsgTransferLeader }));
    expect(lead.leadTransferee).toBe(3);
    for (let i = 0; i < lead.heartbeatTimeout; i++) lead.tick();
    expect(lead.leadTransferee).toBe(3);
    for (let i = 0; i < lead.electionTimeout - lead.heartbeatTimeout; i++) lead.tick();
    checkLeaderTransferState(lead, StateLeader, 1);
  });

  it('proposals are dropped while a transfer is in progress [TestLeaderTransferIgnoreProposal]', () => {
    const s = newTestMemoryStorage(withPeers(1, 2, 3));
    const r = newTestRaft(1, 10, 1, s);
    const nt = newNetwork(r, null, null);
    nt.send(hup(1));
    nt.isolate(3);
    const lead = nt.raft(1);
    nextEnts(r, s); // handle the empty entry
    // A transfer to the isolated node stays pending.
    nt.send(msg({ from: 3, to: 1, type: MsgTransferLeader }));
    expect(lead.leadTransferee).toBe(3);
    nt.send(propMsg(1, 1));
    expect(() => lead.step(propMsg(1, 1))).toThrow(ProposalDroppedError);
    expect(pr(lead, 1).match).toBe(1);
    expect(lead.raftLog.lastIndex()).toBe(1);
  });

  it('a vote of a higher term ends a pending transfer [TestLeaderTransferReceiveHigherTermVote]', () => {
    const nt = newNetwork(null, null, null);
    nt.send(hup(1));
    nt.isolate(3);
    const lead = nt.raft(1);
    nt.send(msg({ from: 3, to: 1, type: MsgTransferLeader }));
    expect(lead.leadTransferee).toBe(3);
    nt.send(msg({ from: 2, to: 2, type: MsgHup, index: 1, term: 2 }));
    checkLeaderTransferState(lead, StateFollower, 2);
  });

  it('removing the transferee aborts the transfer [TestLeaderTransferRemoveNode]', () => {
    const nt = newNetwork(null, null, null);
    nt.send(hup(1));
    nt.ignore(MsgTimeoutNow);
    const lead = nt.raft(1);
    nt.send(msg({ from: 3, to: 1, type: MsgTransferLeader }));
    expect(lead.leadTransferee).toBe(3);
    lead.applyConfChange(removeNode(3));
    checkLeaderTransferState(lead, StateLeader, 1);
  });

  it('demoting the transferee to learner aborts the transfer [TestLeaderTransferDemoteNode]', () => {
    const nt = newNetwork(null, null, null);
    nt.send(hup(1));
    nt.ignore(MsgTimeoutNow);
    const lead = nt.raft(1);
    nt.send(msg({ from: 3, to: 1, type: MsgTransferLeader }));
    expect(lead.leadTransferee).toBe(3);
    lead.applyConfChange({
      transition: ConfChangeTransition.ConfChangeTransitionAuto,
      changes: [
        { type: ConfChangeType.ConfChangeRemoveNode, nodeId: 3 },
        { type: ConfChangeType.ConfChangeAddLearnerNode, nodeId: 3 },
      ],
    });
    // Leave the joint configuration.
    lead.applyConfChange({ transition: ConfChangeTransition.ConfChangeTransitionAuto, changes: [] });
    checkLeaderTransferState(lead, StateLeader, 1);
  });

  it('a transfer back to the leader cancels a pending one [TestLeaderTransferBack]', () => {
    const nt = newNetwork(null, null, null);
    nt.send(hup(1));
    nt.isolate(3);
    const lead = nt.raft(1);
    nt.send(msg({ from: 3, to: 1, type: MsgTransferLeader }));
    expect(lead.leadTransferee).toBe(3);
    nt.send(msg({ from: 1, to: 1, type: MsgTransferLeader }));
    checkLeaderTransferState(lead, StateLeader, 1);
  });

  it('a transfer to another node replaces a pending one [TestLeaderTransferSecondTransferToAnotherNode]', () => {
    const nt = newNetwork(null, null, null);
    nt.send(hup(1));
    nt.isolate(3);
    const lead = nt.raft(1);
    nt.send(msg({ from: 3, to: 1, type: MsgTransferLeader }));
    expect(lead.leadTransferee).toBe(3);
    nt.send(msg({ from: 2, to: 1, type: MsgTransferLeader }));
    checkLeaderTransferState(lead, StateFollower, 2);
  });

  it('a second request for the same transferee does not extend the timeout [TestLeaderTransferSecondTransferToSameNode]', () => {
    const nt = newNetwork(null, null, null);
    nt.send(hup(1));
    nt.isolate(3);
    const lead = nt.raft(1);
    nt.send(msg({ from: 3, to: 1, type: MsgTransferLeader }));
    expect(lead.leadTransferee).toBe(3);
    for (let i = 0; i < lead.heartbeatTimeout; i++) lead.tick();
    nt.send(msg({ from: 3, to: 1, type: MsgTransferLeader }));
    for (let i = 0; i < lead.electionTimeout - lead.heartbeatTimeout; i++) lead.tick();
    checkLeaderTransferState(lead, StateLeader, 1);
  });

  it('MsgTimeoutNow to a node removed from the group does nothing [TestTransferNonMember]', () => {
    const r = newTestRaft(1, 5, 1, newTestMemoryStorage(withPeers(2, 3, 4)));
    r.step(msg({ from: 2, to: 1, type: MsgTimeoutNow }));
    r.step(msg({ from: 2, to: 1, type: MsgVoteResp }));
    r.step(msg({ from: 3, to: 1, type: MsgVoteResp }));
    expect(r.state).toBe(StateFollower);
    expect(r.term).toBe(0);
  });
});

// =============================================================================================
describe('ForgetLeader', () => {
  it('a follower that forgets its leader can vote inside what would have been the lease', () => {
    const run = (forget: boolean): Raft => {
      const [a, b, c] = threeRafts({ checkQuorum: true });
      const nt = newNetwork(a, b, c);
      nt.send(hup(1));
      expect(b.lead).toBe(1);
      nt.isolate(1);
      if (forget) {
        b.step(msg({ type: MsgForgetLeader }));
        expect(b.lead).toBe(None);
        expect(b.term).toBe(1);
      }
      nt.send(hup(3));
      return c;
    };
    // Without forgetting, 2 ignores 3 while it still trusts the leader's lease.
    expect(run(false).state).toBe(StateCandidate);
    expect(run(true).state).toBe(StateLeader);
  });

  it('a follower learns its leader again from the next heartbeat', () => {
    const nt = newNetwork(null, null, null);
    nt.send(hup(1));
    const b = nt.raft(2);
    b.step(msg({ type: MsgForgetLeader }));
    expect(b.lead).toBe(None);
    // Without a leader, proposals are dropped.
    expect(() => b.step(propMsg(2, 2, bytes('x')))).toThrow(ProposalDroppedError);
    nt.send(beat(1));
    expect(b.lead).toBe(1);
  });

  it('ForgetLeader is ignored with lease-based reads, and by a leader', () => {
    const nt = newNetworkWithConfig((c) => {
      c.checkQuorum = true;
      c.readOnlyOption = ReadOnlyOption.ReadOnlyLeaseBased;
    }, null, null, null);
    nt.send(hup(1));
    const [a, b] = [nt.raft(1), nt.raft(2)];
    // Forgetting would let 2 vote for another leader while 1 serves reads on its lease.
    b.step(msg({ type: MsgForgetLeader }));
    expect(b.lead).toBe(1);
    a.step(msg({ type: MsgForgetLeader }));
    expect(a.state).toBe(StateLeader);
    expect(a.lead).toBe(1);
  });
});

// =============================================================================================
describe('membership changes', () => {
  it('a conf change proposal is appended and marks the pending conf index [TestStepConfig]', () => {
    const r = newTestRaft(1, 10, 1, newTestMemoryStorage(withPeers(1, 2)));
    r.becomeCandidate();
    r.becomeLeader();
    const idx = r.raftLog.lastIndex();
    r.step(msg({ from: 1, to: 1, type: MsgProp, entries: [entry({ type: EntryType.EntryConfChange })] }));
    expect(r.raftLog.lastIndex()).toBe(idx + 1);
    expect(r.pendingConfIndex).toBe(idx + 1);
  });

  it('a second conf change while one is pending becomes an empty entry [TestStepIgnoreConfig]', () => {
    const r = newTestRaft(1, 10, 1, newTestMemoryStorage(withPeers(1, 2)));
    r.becomeCandidate();
    r.becomeLeader();
    r.step(msg({ from: 1, to: 1, type: MsgProp, entries: [entry({ type: EntryType.EntryConfChange })] }));
    const idx = r.raftLog.lastIndex();
    const pendingConfIndex = r.pendingConfIndex;
    r.step(msg({ from: 1, to: 1, type: MsgProp, entries: [entry({ type: EntryType.EntryConfChange })] }));
    expect(r.raftLog.entries(idx + 1, Infinity)).toEqual([entry({ type: EntryType.EntryNormal, term: 1, index: 3 })]);
    expect(r.pendingConfIndex).toBe(pendingConfIndex);
  });

  it('a new leader assumes a conf change may be pending anywhere in its log [TestNewLeaderPendingConfig]', () => {
    for (const [i, [addEntry, wpendingIndex]] of ([
      [false, 0],
      [true, 1],
    ] as const).entries()) {
      const r = newTestRaft(1, 10, 1, newTestMemoryStorage(withPeers(1, 2)));
      if (addEntry) mustAppendEntry(r, entry());
      r.becomeCandidate();
      r.becomeLeader();
      expect(r.pendingConfIndex, `#${i}`).toBe(wpendingIndex);
    }
  });

  it('adding a node makes it a voter [TestAddNode]', () => {
    const r = newTestRaft(1, 10, 1, newTestMemoryStorage(withPeers(1)));
    r.applyConfChange(addNode(2));
    expect(r.trk.voterNodes()).toEqual([1, 2]);
  });

  it('learners are added, promoted, and a node can be demoted and promoted itself [TestAddLearner]', () => {
    const r = newTestRaft(1, 10, 1, newTestMemoryStorage(withPeers(1)));
    r.applyConfChange(addLearner(2));
    expect(r.isLearner).toBe(false);
    expect(r.trk.learnerNodes()).toEqual([2]);
    expect(pr(r, 2).isLearner).toBe(true);
    // promote 2
    r.applyConfChange(addNode(2));
    expect(pr(r, 2).isLearner).toBe(false);
    // demote 1
    r.applyConfChange(addLearner(1));
    expect(pr(r, 1).isLearner).toBe(true);
    expect(r.isLearner).toBe(true);
    // promote 1 again
    r.applyConfChange(addNode(1));
    expect(pr(r, 1).isLearner).toBe(false);
    expect(r.isLearner).toBe(false);
  });

  it('removing a node removes it; removing the last voter is refused [TestRemoveNode]', () => {
    const r = newTestRaft(1, 10, 1, newTestMemoryStorage(withPeers(1, 2)));
    r.applyConfChange(removeNode(2));
    expect(r.trk.voterNodes()).toEqual([1]);
    expect(() => r.applyConfChange(removeNode(1))).toThrow(ConfChangeError);
    expect(r.trk.voterNodes()).toEqual([1]);
  });

  it('removing a learner removes it; removing the last voter is refused [TestRemoveLearner]', () => {
    const r = newTestLearnerRaft(1, 10, 1, newTestMemoryStorage(withPeers(1), withLearners(2)));
    r.applyConfChange(removeNode(2));
    expect(r.trk.voterNodes()).toEqual([1]);
    expect(r.trk.learnerNodes()).toEqual([]);
    expect(() => r.applyConfChange(removeNode(1))).toThrow(ConfChangeError);
  });

  it('only a voter of its own configuration is promotable [TestPromotable]', () => {
    const tests: [number[], boolean][] = [
      [[1], true],
      [[1, 2, 3], true],
      [[], false],
      [[2, 3], false],
    ];
    for (const [i, [peers, wp]] of tests.entries()) {
      const r = newTestRaft(1, 5, 1, newTestMemoryStorage(withPeers(...peers)));
      expect(r.promotable(), `#${i}`).toBe(wp);
    }
  });

  it('voters are listed in ascending order [TestRaftNodes]', () => {
    for (const [i, [ids, wids]] of ([
      [[1, 2, 3], [1, 2, 3]],
      [[3, 2, 1], [1, 2, 3]],
    ] as const).entries()) {
      const r = newTestRaft(1, 10, 1, newTestMemoryStorage(withPeers(...ids)));
      expect(r.trk.voterNodes(), `#${i}`).toEqual(wids);
    }
  });

  it('a configuration with a smaller quorum commits pending entries [TestCommitAfterRemoveNode]', () => {
    const s = newTestMemoryStorage(withPeers(1, 2));
    const r = newTestRaft(1, 5, 1, s);
    r.becomeCandidate();
    r.becomeLeader();
    // Begin to remove the second node.
    const change = { type: ConfChangeType.ConfChangeRemoveNode, nodeId: 2 };
    r.step(msg({ type: MsgProp, entries: [entry({ type: EntryType.EntryConfChange, data: encodeConfChange(change) })] }));
    // Nothing is committed yet.
    expect(nextEnts(r, s)).toEqual([]);
    const ccIndex = r.raftLog.lastIndex();
    // While the change is pending, another proposal.
    r.step(msg({ type: MsgProp, entries: [entry({ data: bytes('hello') })] }));
    // Node 2 acks the conf change, committing it.
    r.step(msg({ type: MsgAppResp, from: 2, index: ccIndex }));
    let ents = nextEnts(r, s);
    expect(ents.map((e) => e.type)).toEqual([EntryType.EntryNormal, EntryType.EntryConfChange]);
    expect(ents[0]!.data.length).toBe(0);
    // Applying the change lowers the quorum: the pending command commits.
    r.applyConfChange(confChangeAsV2(change));
    ents = nextEnts(r, s);
    expect(ents.length).toBe(1);
    expect(ents[0]!.type).toBe(EntryType.EntryNormal);
    expect(ents[0]!.data).toEqual(bytes('hello'));
  });

  for (const v2 of [false, true]) {
    const name = v2 ? 'TestConfChangeV2CheckBeforeCampaign' : 'TestConfChangeCheckBeforeCampaign';
    it(`a node does not campaign while a committed conf change is unapplied [${name}]`, () => {
      const nt = newNetwork(null, null, null);
      const n1 = nt.raft(1);
      const n2 = nt.raft(2);
      nt.send(hup(1));
      expect(n1.state).toBe(StateLeader);
      // Begin to remove node 2.
      const change = { type: ConfChangeType.ConfChangeRemoveNode, nodeId: 2 };
      const e = v2
        ? entry({ type: EntryType.EntryConfChangeV2, data: encodeConfChangeV2(confChangeAsV2(change)) })
        : entry({ type: EntryType.EntryConfChange, data: encodeConfChange(change) });
      nt.send(msg({ from: 1, to: 1, type: MsgProp, entries: [e] }));

      // Node 2's election timeout passes: still follower, the conf change is not applied.
      for (let i = 0; i < n2.randomizedElectionTimeout; i++) n2.tick();
      expect(n2.state).toBe(StateFollower);
      // A transfer to 2 fails for the same reason.
      nt.send(msg({ from: 2, to: 1, type: MsgTransferLeader }));
      expect(n1.state).toBe(StateLeader);
      expect(n2.state).toBe(StateFollower);
      // Abort the transfer.
      for (let i = 0; i < n1.electionTimeout; i++) n1.tick();
      // Apply on 2; now the transfer works.
      nextEnts(n2, nt.storage.get(2)!);
      nt.send(msg({ from: 2, to: 1, type: MsgTransferLeader }));
      expect(n1.state).toBe(StateFollower);
      expect(n2.state).toBe(StateLeader);
      nextEnts(n1, nt.storage.get(1)!);
      for (let i = 0; i < n1.randomizedElectionTimeout; i++) n1.tick();
      expect(n1.state).toBe(StateCandidate);
    });
  }

  it('with stepDownOnRemoval a leader removed from the configuration steps down at once', () => {
    const nt = newNetworkWithConfig((c) => {
      c.stepDownOnRemoval = true;
    }, null, null, null);
    nt.send(hup(1));
    const lead = nt.raft(1);
    const term = lead.term;
    lead.applyConfChange(removeNode(1));
    expect(lead.state).toBe(StateFollower);
    expect(lead.lead).toBe(None);
    expect(lead.term).toBe(term);
    expect(lead.trk.voterNodes()).toEqual([2, 3]);
  });

  it('with stepDownOnRemoval a leader demoted to learner steps down', () => {
    const nt = newNetworkWithConfig((c) => {
      c.stepDownOnRemoval = true;
    }, null, null, null);
    nt.send(hup(1));
    const lead = nt.raft(1);
    lead.applyConfChange(addLearner(1));
    expect(lead.isLearner).toBe(true);
    expect(lead.state).toBe(StateFollower);
  });

  it('without stepDownOnRemoval a removed leader stays leader but accepts no proposals', () => {
    const nt = newNetwork(null, null, null);
    nt.send(hup(1));
    const lead = nt.raft(1);
    lead.applyConfChange(removeNode(1));
    expect(lead.state).toBe(StateLeader);
    const last = lead.raftLog.lastIndex();
    expect(() => lead.step(propMsg(1, 1, bytes('x')))).toThrow(ProposalDroppedError);
    expect(lead.raftLog.lastIndex()).toBe(last);
  });
});

// =============================================================================================
describe('snapshots', () => {
  const testingSnap = (): Snapshot => snapshot(11, 11, { voters: [1, 2] });

  function leaderFromSnapshot(peers: number[]): Raft {
    const sm = newTestRaft(1, 10, 1, newTestMemoryStorage(withPeers(...peers)));
    sm.becomeFollower(11, 0);
    expect(sm.restore(testingSnap())).toBe(true);
    sm.becomeCandidate();
    sm.becomeLeader();
    return sm;
  }

  it('sending a snapshot records it as pending [TestSendingSnapshotSetPendingSnapshot]', () => {
    const sm = leaderFromSnapshot([1]);
    // node 2 needs a snapshot
    pr(sm, 2).next = sm.raftLog.firstIndex();
    sm.step(msg({ from: 2, to: 1, type: MsgAppResp, index: pr(sm, 2).next - 1, reject: true }));
    expect(pr(sm, 2).pendingSnapshot).toBe(11);
  });

  it('a pending snapshot pauses replication to that follower [TestPendingSnapshotPauseReplication]', () => {
    const sm = leaderFromSnapshot([1, 2]);
    pr(sm, 2).becomeSnapshot(11);
    sm.step(propMsg(1, 1, bytes('somedata')));
    expect(readMessages(sm)).toEqual([]);
  });

  it('a failed snapshot clears the pending snapshot and probes after a pause [TestSnapshotFailure]', () => {
    const sm = leaderFromSnapshot([1, 2]);
    pr(sm, 2).next = 1;
    pr(sm, 2).becomeSnapshot(11);
    sm.step(msg({ from: 2, to: 1, type: MsgSnapStatus, reject: true }));
    expect(pr(sm, 2).pendingSnapshot).toBe(0);
    expect(pr(sm, 2).next).toBe(1);
    expect(pr(sm, 2).msgAppFlowPaused).toBe(true);
  });

  it('a delivered snapshot moves the follower past it, waiting for its ack [TestSnapshotSucceed]', () => {
    const sm = leaderFromSnapshot([1, 2]);
    pr(sm, 2).next = 1;
    pr(sm, 2).becomeSnapshot(11);
    sm.step(msg({ from: 2, to: 1, type: MsgSnapStatus, reject: false }));
    expect(pr(sm, 2).pendingSnapshot).toBe(0);
    expect(pr(sm, 2).next).toBe(12);
    expect(pr(sm, 2).msgAppFlowPaused).toBe(true);
  });

  it('an ack at or past the pending snapshot aborts it and resumes replication [TestSnapshotAbort]', () => {
    const sm = leaderFromSnapshot([1, 2]);
    pr(sm, 2).next = 1;
    pr(sm, 2).becomeSnapshot(11);
    sm.step(msg({ from: 2, to: 1, type: MsgAppResp, index: 11 }));
    expect(pr(sm, 2).pendingSnapshot).toBe(0);
    // StateReplicate, and the leader's empty entry (12) sent at once: next is 13.
    expect(pr(sm, 2).next).toBe(13);
    expect(pr(sm, 2).inflights.count()).toBe(1);
  });

  it('restoring a snapshot replaces the log and the configuration, once [TestRestore]', () => {
    const s = snapshot(11, 11, { voters: [1, 2, 3] });
    const sm = newTestRaft(1, 10, 1, newTestMemoryStorage(withPeers(1, 2)));
    expect(sm.restore(s)).toBe(true);
    expect(sm.raftLog.lastIndex()).toBe(11);
    expect(sm.raftLog.term(11)).toBe(11);
    expect(sm.trk.voterNodes()).toEqual([1, 2, 3]);
    expect(sm.restore(s)).toBe(false);
    // No campaign before the snapshot is applied.
    for (let i = 0; i < sm.randomizedElectionTimeout; i++) sm.tick();
    expect(sm.state).toBe(StateFollower);
  });

  it('a snapshot with learners restores them as learners [TestRestoreWithLearner]', () => {
    const s = snapshot(11, 11, { voters: [1, 2], learners: [3] });
    const sm = newTestLearnerRaft(3, 8, 2, newTestMemoryStorage(withPeers(1, 2), withLearners(3)));
    expect(sm.restore(s)).toBe(true);
    expect(sm.raftLog.lastIndex()).toBe(11);
    expect(sm.raftLog.term(11)).toBe(11);
    expect(sm.trk.voterNodes()).toEqual([1, 2]);
    expect(sm.trk.learnerNodes()).toEqual([3]);
    for (const n of [1, 2]) expect(pr(sm, n).isLearner).toBe(false);
    expect(pr(sm, 3).isLearner).toBe(true);
    expect(sm.restore(s)).toBe(false);
  });

  it('an outgoing voter restores a joint configuration [TestRestoreWithVotersOutgoing]', () => {
    const s = snapshot(11, 11, { voters: [2, 3, 4], votersOutgoing: [1, 2, 3] });
    const sm = newTestRaft(1, 10, 1, newTestMemoryStorage(withPeers(1, 2)));
    expect(sm.restore(s)).toBe(true);
    expect(sm.raftLog.lastIndex()).toBe(11);
    expect(sm.raftLog.term(11)).toBe(11);
    expect(sm.trk.voterNodes()).toEqual([1, 2, 3, 4]);
    expect(sm.restore(s)).toBe(false);
    for (let i = 0; i < sm.randomizedElectionTimeout; i++) sm.tick();
    expect(sm.state).toBe(StateFollower);
  });

  it('a voter accepts a snapshot that makes it a learner [TestRestoreVoterToLearner]', () => {
    const s = snapshot(11, 11, { voters: [1, 2], learners: [3] });
    const sm = newTestRaft(3, 10, 1, newTestMemoryStorage(withPeers(1, 2, 3)));
    expect(sm.isLearner).toBe(false);
    expect(sm.restore(s)).toBe(true);
    expect(sm.isLearner).toBe(true);
  });

  it('a learner becomes a voter by restoring a snapshot [TestRestoreLearnerPromotion]', () => {
    const s = snapshot(11, 11, { voters: [1, 2, 3] });
    const sm = newTestLearnerRaft(3, 10, 1, newTestMemoryStorage(withPeers(1, 2), withLearners(3)));
    expect(sm.isLearner).toBe(true);
    expect(sm.restore(s)).toBe(true);
    expect(sm.isLearner).toBe(false);
  });

  it('a learner receives a snapshot from the leader [TestLearnerReceiveSnapshot]', () => {
    const s = snapshot(11, 11, { voters: [1], learners: [2] });
    const store = newTestMemoryStorage(withPeers(1), withLearners(2));
    const n1 = newTestLearnerRaft(1, 10, 1, store);
    const n2 = newTestLearnerRaft(2, 10, 1, newTestMemoryStorage(withPeers(1), withLearners(2)));
    n1.restore(s);
    const snap = n1.raftLog.nextUnstableSnapshot()!;
    store.applySnapshot(snap);
    n1.appliedSnap(snap);
    const nt = newNetwork(n1, n2);
    setRandomizedElectionTimeout(n1, n1.electionTimeout);
    for (let i = 0; i < n1.electionTimeout; i++) n1.tick();
    nt.send(beat(1));
    expect(n2.raftLog.committed).toBe(n1.raftLog.committed);
    expect(n2.raftLog.committed).toBeGreaterThanOrEqual(11);
  });

  it('an old snapshot is ignored; one the log already has only fast-forwards commit [TestRestoreIgnoreSnapshot]', () => {
    const commit = 1;
    const sm = newTestRaft(1, 10, 1, newTestMemoryStorage(withPeers(1, 2)));
    sm.raftLog.append(index(1).terms(1, 1, 1));
    sm.raftLog.commitTo(commit);
    const s = snapshot(commit, 1, { voters: [1, 2] });
    expect(sm.restore(s)).toBe(false);
    expect(sm.raftLog.committed).toBe(commit);
    s.metadata.index = commit + 1;
    expect(sm.restore(s)).toBe(false);
    expect(sm.raftLog.committed).toBe(commit + 1);
    expect(sm.raftLog.lastIndex()).toBe(3);
  });

  it('a follower behind the compacted log gets a snapshot [TestProvideSnap]', () => {
    const sm = newTestRaft(1, 10, 1, newTestMemoryStorage(withPeers(1)));
    sm.restore(snapshot(11, 11, { voters: [1, 2] }));
    sm.becomeCandidate();
    sm.becomeLeader();
    // node 2 needs a snapshot
    pr(sm, 2).next = sm.raftLog.firstIndex();
    sm.step(msg({ from: 2, to: 1, type: MsgAppResp, index: pr(sm, 2).next - 1, reject: true }));
    const msgs = readMessages(sm);
    expect(msgs.map((m) => m.type)).toEqual([MsgSnap]);
  });

  it('no snapshot is sent to a follower that is not recently active [TestIgnoreProvidingSnap]', () => {
    const sm = newTestRaft(1, 10, 1, newTestMemoryStorage(withPeers(1)));
    sm.restore(snapshot(11, 11, { voters: [1, 2] }));
    sm.becomeCandidate();
    sm.becomeLeader();
    pr(sm, 2).next = sm.raftLog.firstIndex() - 1;
    pr(sm, 2).recentActive = false;
    sm.step(propMsg(1, 1, bytes('somedata')));
    expect(readMessages(sm)).toEqual([]);
  });

  it('a snapshot message makes its sender the leader [TestRestoreFromSnapMsg]', () => {
    const sm = newTestRaft(2, 10, 1, newTestMemoryStorage(withPeers(1, 2)));
    sm.step(msg({ type: MsgSnap, from: 1, term: 2, snapshot: snapshot(11, 11, { voters: [1, 2] }) }));
    expect(sm.lead).toBe(1);
    expect(sm.term).toBe(2);
    expect(sm.raftLog.committed).toBe(11);
  });

  it('a slow node catches up through a snapshot [TestSlowNodeRestore]', () => {
    const nt = newNetwork(null, null, null);
    nt.send(hup(1));
    nt.isolate(3);
    for (let j = 0; j <= 100; j++) nt.send(propMsg(1, 1));
    const lead = nt.raft(1);
    nextEnts(lead, nt.storage.get(1)!);
    nt.storage.get(1)!.createSnapshot(lead.raftLog.applied, confState({ voters: lead.trk.voterNodes() }), EMPTY_BYTES);
    nt.storage.get(1)!.compact(lead.raftLog.applied);

    nt.recover();
    // Heartbeats until the leader knows 3 is active again.
    for (let i = 0; !pr(lead, 3).recentActive; i++) {
      expect(i).toBeLessThan(100);
      nt.send(beat(1));
    }
    // trigger a snapshot
    nt.send(propMsg(1, 1));
    const follower = nt.raft(3);
    // trigger a commit
    nt.send(propMsg(1, 1));
    expect(follower.raftLog.committed).toBe(lead.raftLog.committed);
  });
});

// =============================================================================================
describe('bad input from the network is refused or ignored, and never corrupts state', () => {
  // The RawNode is the boundary: what a peer sends arrives through RawNode.step().

  /** A follower at term 2 with log (1,1) (2,1) (3,2), commit 1, following node 2. */
  function follower(): { rn: RawNode; storage: ReturnType<typeof newTestMemoryStorage> } {
    const storage = storageWithEntries(index(1).terms(1, 1, 2), withPeers(1, 2, 3));
    storage.setHardState({ term: 2, vote: 2, commit: 1 });
    const rn = new RawNode(newTestConfig(1, 10, 1, storage));
    rn.step(msg({ from: 2, to: 1, type: MsgHeartbeat, term: 2, commit: 1 }));
    drain(rn, storage);
    expect(raftOf(rn).lead).toBe(2);
    return { rn, storage };
  }

  /** A leader of term 1 over (1 2 3) with its empty entry durable. */
  function leader(): { rn: RawNode; storage: ReturnType<typeof newTestMemoryStorage> } {
    const storage = newTestMemoryStorage(withPeers(1, 2, 3));
    const rn = new RawNode(newTestConfig(1, 10, 1, storage));
    rn.campaign();
    drain(rn, storage);
    rn.step(msg({ from: 2, to: 1, type: MsgVoteResp, term: 1 }));
    drain(rn, storage);
    expect(raftOf(rn).state).toBe(StateLeader);
    return { rn, storage };
  }

  function drain(rn: RawNode, storage: ReturnType<typeof newTestMemoryStorage>): void {
    while (rn.hasReady()) {
      const rd = rn.ready();
      if (rd.hardState.term !== 0 || rd.hardState.vote !== 0 || rd.hardState.commit !== 0) storage.setHardState(rd.hardState);
      storage.append(rd.entries);
      rn.advance(rd);
    }
  }

  /** Everything a bad message could corrupt. */
  function fingerprint(rn: RawNode): unknown {
    const r = raftOf(rn);
    return {
      hardState: r.hardState(),
      state: r.state,
      lead: r.lead,
      log: ltoa(r.raftLog),
      committed: r.raftLog.committed,
      snapshotPending: r.raftLog.hasNextOrInProgressSnapshot(),
      voters: r.trk.voterNodes(),
      learners: r.trk.learnerNodes(),
      progress: r.state === StateLeader ? r.trk.voterNodes().map((id) => [id, pr(r, id).match, pr(r, id).next]) : [],
      outbox: r.msgs.length + r.msgsAfterAppend.length,
    };
  }

  /** Steps `m`: it must be refused with a StepError or ignored, and change nothing either way. */
  function expectRefusedOrIgnored(rn: RawNode, m: Message, label: string): void {
    const before = fingerprint(rn);
    try {
      rn.step(m);
    } catch (err) {
      expect(err, `${label}: only a StepError may come out, got ${String(err)}`).toBeInstanceOf(StepError);
    }
    expect(fingerprint(rn), label).toEqual(before);
  }

  it('a message of an unknown type is refused with StepError', () => {
    const { rn } = follower();
    const before = fingerprint(rn);
    for (const type of [99, -1, 1.5]) {
      expect(() => rn.step(msg({ type: type as MessageType, from: 2, to: 1, term: 2 })), `type ${type}`).toThrow(StepError);
    }
    expect(fingerprint(rn)).toEqual(before);
  });

  it('local-only message types from a peer are refused with StepError', () => {
    const { rn } = follower();
    const before = fingerprint(rn);
    for (const type of [
      MsgHup,
      MsgBeat,
      MsgUnreachable,
      MsgSnapStatus,
      MsgCheckQuorum,
      MsgStorageAppend,
      MsgStorageAppendResp,
      MsgStorageApply,
      MsgStorageApplyResp,
    ]) {
      expect(() => rn.step(msg({ type, from: 2, to: 1, term: 2 })), MessageType[type]).toThrow(StepError);
    }
    expect(fingerprint(rn)).toEqual(before);
    // A local MsgHup is what campaign() is for: it still works.
    rn.campaign();
    expect(raftOf(rn).state).toBe(StateCandidate);
  });

  it('responses from a node outside the configuration are refused with StepPeerNotFoundError', () => {
    const { rn } = leader();
    const before = fingerprint(rn);
    for (const type of [MsgAppResp, MsgVoteResp, MsgHeartbeatResp, MsgPreVoteResp, MsgReadIndexResp]) {
      let caught: unknown;
      try {
        rn.step(msg({ type, from: 9, to: 1, term: raftOf(rn).term, index: 1 }));
      } catch (err) {
        caught = err;
      }
      expect(caught, MessageType[type]).toBeInstanceOf(StepPeerNotFoundError);
      expect(caught, MessageType[type]).toBeInstanceOf(StepError);
      expect((caught as PontoonError).code).toBe('ERR_STEP');
    }
    expect(fingerprint(rn)).toEqual(before);
    expect(raftOf(rn).trk.progress.has(9)).toBe(false);
  });

  it('an append whose entries do not extend (index, logTerm) contiguously is refused', () => {
    const { rn } = follower();
    const app = (init: Partial<Message>): Message => msg({ type: MsgApp, from: 2, to: 1, term: 2, logTerm: 1, index: 2, commit: 1, ...init });
    const cases: [string, Message][] = [
      ['a gap after index', app({ entries: [entry({ index: 4, term: 2 })] })],
      ['a gap between entries', app({ entries: [entry({ index: 3, term: 2 }), entry({ index: 5, term: 2 })] })],
      ['indices going down', app({ entries: [entry({ index: 3, term: 2 }), entry({ index: 2, term: 2 })] })],
      ['an entry overlapping index', app({ entries: [entry({ index: 2, term: 2 })] })],
      ['terms going down', app({ entries: [entry({ index: 3, term: 2 }), entry({ index: 4, term: 1 })] })],
      ['an entry term below logTerm', app({ logTerm: 2, index: 3, entries: [entry({ index: 4, term: 1 })] })],
      ['an entry term above the message term', app({ entries: [entry({ index: 3, term: 3 })] })],
      ['logTerm above the message term', app({ logTerm: 3 })],
      ['a negative index', app({ index: -1 })],
      ['a fractional commit', app({ commit: 1.5 })],
      ['a NaN term', app({ term: Number.NaN })],
      ['an unknown entry type', app({ entries: [{ index: 3, term: 2, type: 7 as EntryType, data: EMPTY_BYTES }] })],
      ['entry data that is not bytes', app({ entries: [{ index: 3, term: 2, type: EntryType.EntryNormal, data: 'x' as unknown as Uint8Array }] })],
      ['entries that are not an array', app({ entries: {} as unknown as Entry[] })],
    ];
    for (const [label, m] of cases) {
      const before = fingerprint(rn);
      expect(() => rn.step(m), label).toThrow(StepError);
      expect(fingerprint(rn), label).toEqual(before);
    }
    // A well-formed append still works afterwards.
    rn.step(app({ entries: [entry({ index: 3, term: 2 }), entry({ index: 4, term: 2 })], commit: 4 }));
    expect(raftOf(rn).raftLog.lastIndex()).toBe(4);
    expect(raftOf(rn).raftLog.committed).toBe(4);
  });

  it('other malformed requests are refused with StepError', () => {
    const { rn } = follower();
    const cases: [string, Message][] = [
      ['a heartbeat committing beyond the log', msg({ type: MsgHeartbeat, from: 2, to: 1, term: 2, commit: 4 })],
      ['a snapshot message without a snapshot', msg({ type: MsgSnap, from: 2, to: 1, term: 2 })],
      [
        'a snapshot with a malformed conf state',
        msg({
          type: MsgSnap,
          from: 2,
          to: 1,
          term: 2,
          snapshot: { data: EMPTY_BYTES, metadata: { index: 20, term: 2, confState: { voters: [1, -2] } as ConfState } },
        }),
      ],
      ['a proposal without entries', msg({ type: MsgProp, from: 2, to: 1 })],
      ['a read request without a context', msg({ type: MsgReadIndex, from: 2, to: 1 })],
      [
        'a read request with two contexts',
        msg({ type: MsgReadIndex, from: 2, to: 1, entries: [entry({ data: bytes('a') }), entry({ data: bytes('b') })] }),
      ],
      ['a context that is not bytes', msg({ type: MsgHeartbeat, from: 2, to: 1, term: 2, commit: 1, context: 'x' as unknown as Uint8Array })],
    ];
    for (const [label, m] of cases) {
      const before = fingerprint(rn);
      expect(() => rn.step(m), label).toThrow(StepError);
      expect(fingerprint(rn), label).toEqual(before);
    }
  });

  it('messages of a stale term are ignored and change nothing (§5.1)', () => {
    const { rn } = follower();
    const stale: Message[] = [
      // An old leader's append that conflicts with our (uncommitted) entry 3.
      msg({ type: MsgApp, from: 3, to: 1, term: 1, logTerm: 1, index: 2, commit: 3, entries: [entry({ index: 3, term: 1 })] }),
      msg({ type: MsgHeartbeat, from: 3, to: 1, term: 1, commit: 3 }),
      msg({ type: MsgSnap, from: 3, to: 1, term: 1, snapshot: snapshot(20, 1, { voters: [1, 2, 3] }) }),
      msg({ type: MsgVote, from: 3, to: 1, term: 1, logTerm: 5, index: 50 }),
      msg({ type: MsgTimeoutNow, from: 3, to: 1, term: 1 }),
      msg({ type: MsgAppResp, from: 3, to: 1, term: 1, index: 3 }),
      msg({ type: MsgVoteResp, from: 3, to: 1, term: 1 }),
    ];
    for (const m of stale) expectRefusedOrIgnored(rn, m, `stale ${MessageType[m.type]}`);
    expect(raftOf(rn).raftLog.committed).toBe(1);
    expect(raftOf(rn).raftLog.lastTerm()).toBe(2);
  });

  it('a stale PreVote is answered with a rejection carrying our term, and changes nothing else', () => {
    const { rn } = follower();
    const before = fingerprint(rn) as { outbox: number };
    rn.step(msg({ type: MsgPreVote, from: 3, to: 1, term: 1, logTerm: 5, index: 50 }));
    const r = raftOf(rn);
    expect(r.msgsAfterAppend.concat(r.msgs).map((m) => [m.type, m.to, m.term, m.reject])).toEqual([[MsgPreVoteResp, 3, 2, true]]);
    expect({ ...(fingerprint(rn) as object), outbox: before.outbox }).toEqual(before);
  });

  // Term 0 marks a message the node made itself (etcd's convention). A peer's MsgHeartbeat,
  // MsgApp or MsgSnap without a term must not be taken for one: the follower would commit or
  // install whatever it says, outside of any term.
  for (const [label, m] of [
    ['MsgHeartbeat', msg({ type: MsgHeartbeat, from: 3, to: 1, term: 0, commit: 3 })],
    ['MsgApp', msg({ type: MsgApp, from: 3, to: 1, term: 0, logTerm: 2, index: 3, commit: 3 })],
    ['MsgSnap', msg({ type: MsgSnap, from: 3, to: 1, term: 0, snapshot: snapshot(20, 2, { voters: [1, 2, 3] }) })],
  ] as const) {
    it(`a ${label} without a term from a peer neither commits, installs, nor changes the leader`, () => {
      const { rn } = follower();
      expectRefusedOrIgnored(rn, m, `term-0 ${label}`);
    });
  }

  // etcd panics here too (a vote response must carry a term); for Pontoon a peer's malformed
  // request is a typed error, not an invariant violation.
  for (const type of [MsgVote, MsgPreVote]) {
    it(`a ${MessageType[type]} without a term from a peer is refused or ignored, never an invariant failure`, () => {
      // A follower that has not voted and knows no leader: it would grant a well-formed request.
      const storage = storageWithEntries(index(1).terms(1, 1, 2), withPeers(1, 2, 3));
      storage.setHardState({ term: 2, vote: 0, commit: 1 });
      const rn = new RawNode(newTestConfig(1, 10, 1, storage));
      try {
        rn.step(msg({ type, from: 3, to: 1, term: 0, logTerm: 9, index: 9 }));
      } catch (err) {
        expect(err, `only a StepError may come out, got ${String(err)}`).toBeInstanceOf(StepError);
      }
      const r = raftOf(rn);
      expect(r.hardState()).toEqual({ term: 2, vote: 0, commit: 1 });
      expect(r.state).toBe(StateFollower);
      // No grant went out (a rejection would be harmless).
      expect(r.msgs.concat(r.msgsAfterAppend).filter((x) => !x.reject)).toEqual([]);
    });
  }

  it('a snapshot whose configuration is inconsistent is refused and leaves the log and configuration alone', () => {
    const { rn } = follower();
    // 3 is both a voter and a learner: no configuration looks like that.
    const bad = snapshot(20, 2, { voters: [1, 2, 3], learners: [3] });
    expectRefusedOrIgnored(rn, msg({ type: MsgSnap, from: 2, to: 1, term: 2, snapshot: bad }), 'voter and learner at once');
    // The node still works: a good snapshot is installed.
    rn.step(msg({ type: MsgSnap, from: 2, to: 1, term: 2, snapshot: snapshot(20, 2, { voters: [1, 2, 3] }) }));
    expect(raftOf(rn).raftLog.committed).toBe(20);
  });

  // Networks duplicate messages, and an in-process transport (or a simulator) may hand the same
  // object to step() twice. The leader must not alias the proposal's entry objects in its log.
  it('a forwarded proposal delivered twice appends two entries, each keeping its own index', () => {
    const { rn } = leader();
    const m = msg({ type: MsgProp, from: 2, to: 1, entries: [entry({ data: bytes('dup') })] });
    rn.step(m);
    rn.step(m);
    const ents = raftOf(rn).raftLog.allEntries();
    expect(ents.map((e) => [e.index, e.term])).toEqual([
      [1, 1],
      [2, 1],
      [3, 1],
    ]);
  });

  it("acks beyond the leader's log neither move match past it nor commit what does not exist", () => {
    const { rn } = leader();
    const last = raftOf(rn).raftLog.lastIndex();
    for (const from of [2, 3]) {
      try {
        rn.step(msg({ type: MsgAppResp, from, to: 1, term: raftOf(rn).term, index: last + 100 }));
      } catch (err) {
        expect(err, `only a StepError may come out, got ${String(err)}`).toBeInstanceOf(StepError);
      }
      expect(pr(raftOf(rn), from).match, `match of ${from}`).toBeLessThanOrEqual(last);
      expect(raftOf(rn).raftLog.committed).toBeLessThanOrEqual(raftOf(rn).raftLog.lastIndex());
    }
    expect(raftOf(rn).state).toBe(StateLeader);
  });
});
