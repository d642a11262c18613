/**
 * The rules of the Raft paper (https://raft.github.io/raft.pdf), §5, one test per rule, ported
 * from etcd raft's raft_paper_test.go. Each test sets up a state in the plainest way, drives it
 * with step()/tick(), and checks the outgoing messages and the resulting state. The etcd test
 * each one ports is named in brackets.
 */
import { describe, expect, it } from 'vitest';
import { MessageType, StateType, None } from '../src/types.js';
import type { Entry, Message } from '../src/types.js';
import type { Raft } from '../src/raft.js';
import {
  acceptAndReply,
  advanceMessagesAfterAppend,
  blackHole,
  bytes,
  commitNoopEntry,
  entry,
  hup,
  idsBySize,
  index,
  ltoa,
  msg,
  mustAppendEntry,
  newNetwork,
  newTestMemoryStorage,
  newTestRaft,
  propMsg,
  readMessages,
  sortMessages,
  storageWithEntries,
  withPeers,
} from './support/network.js';

const { MsgApp, MsgAppResp, MsgHeartbeat, MsgVote, MsgVoteResp } = MessageType;
const { StateFollower, StateCandidate, StateLeader } = StateType;

function raft3(): Raft {
  return newTestRaft(1, 10, 1, newTestMemoryStorage(withPeers(1, 2, 3)));
}

describe('§5.1 terms', () => {
  // If one server's current term is smaller than the other's, it updates its current term to
  // the larger value. If a candidate or leader discovers that its term is out of date, it
  // immediately reverts to follower state.
  for (const [name, state] of [
    ['follower', StateFollower],
    ['candidate', StateCandidate],
    ['leader', StateLeader],
  ] as const) {
    it(`a ${name} adopts a larger term from any message and becomes follower [Test${name[0]!.toUpperCase()}${name.slice(1)}UpdateTermFromMessage]`, () => {
      const r = raft3();
      if (state === StateFollower) r.becomeFollower(1, 2);
      else if (state === StateCandidate) r.becomeCandidate();
      else {
        r.becomeCandidate();
        r.becomeLeader();
      }
      r.step(msg({ type: MsgApp, term: 2 }));
      expect(r.term).toBe(2);
      expect(r.state).toBe(StateFollower);
    });
  }

  // A server that receives a request with a stale term number rejects it (etcd, and we, ignore
  // it): nothing about the receiver changes.
  it('a request with a stale term is ignored and changes nothing [TestRejectStaleTermMessage]', () => {
    const r = raft3();
    r.loadState({ term: 2, vote: 0, commit: 0 });
    r.electionElapsed = 3;
    r.step(
      msg({
        type: MsgApp,
        from: 2,
        to: 1,
        term: r.term - 1,
        logTerm: 0,
        index: 0,
        entries: [entry({ index: 1, term: 1 })],
        commit: 1,
      }),
    );
    expect(r.term).toBe(2);
    expect(r.lead).toBe(None);
    expect(r.raftLog.lastIndex()).toBe(0);
    expect(r.raftLog.committed).toBe(0);
    // A step function that saw the append would have reset the election clock.
    expect(r.electionElapsed).toBe(3);
    expect(readMessages(r)).toEqual([]);
  });
});

describe('§5.2 leader election', () => {
  it('servers start up as followers [TestStartAsFollower]', () => {
    expect(raft3().state).toBe(StateFollower);
  });

  // A leader sends periodic heartbeats (AppendEntries without entries) to all followers.
  it('on a heartbeat tick the leader sends an empty MsgHeartbeat to every follower [TestLeaderBcastBeat]', () => {
    const hi = 1;
    const r = newTestRaft(1, 10, hi, newTestMemoryStorage(withPeers(1, 2, 3)));
    r.becomeCandidate();
    r.becomeLeader();
    for (let i = 0; i < 10; i++) mustAppendEntry(r, entry({ index: i + 1 }));
    for (let i = 0; i < hi; i++) r.tick();
    expect(sortMessages(readMessages(r))).toEqual([
      msg({ from: 1, to: 2, term: 1, type: MsgHeartbeat, commit: 0 }),
      msg({ from: 1, to: 3, term: 1, type: MsgHeartbeat, commit: 0 }),
    ]);
  });

  // A follower that hears nothing over an election timeout starts an election: it increments
  // its term, becomes candidate, votes for itself and sends RequestVote to every other server.
  // A candidate that fails to win does the same when its timeout passes.
  for (const [name, state] of [
    ['TestFollowerStartElection', StateFollower],
    ['TestCandidateStartNewElection', StateCandidate],
  ] as const) {
    it(`a ${state === StateFollower ? 'follower' : 'candidate'} without word over an election timeout starts a new election [${name}]`, () => {
      const et = 10;
      const r = newTestRaft(1, et, 1, newTestMemoryStorage(withPeers(1, 2, 3)));
      if (state === StateFollower) r.becomeFollower(1, 2);
      else r.becomeCandidate();
      for (let i = 1; i < 2 * et; i++) r.tick();
      advanceMessagesAfterAppend(r);

      expect(r.term).toBe(2);
      expect(r.state).toBe(StateCandidate);
      expect(r.trk.votes.get(r.id)).toBe(true);
      expect(sortMessages(readMessages(r))).toEqual([
        msg({ from: 1, to: 2, term: 2, type: MsgVote, index: 0, logTerm: 0 }),
        msg({ from: 1, to: 3, term: 2, type: MsgVote, index: 0, logTerm: 0 }),
      ]);
    });
  }

  // In one round of RequestVote a candidate (a) wins with a majority of votes, (b) loses to a
  // majority of rejections, or (c) stays candidate when neither happens.
  it('one round of RequestVote wins, loses, or stays undecided by majority [TestLeaderElectionInOneRoundRPC]', () => {
    const tests: [number, Record<number, boolean>, StateType][] = [
      // win the election when receiving votes from a majority of the servers
      [1, {}, StateLeader],
      [3, { 2: true, 3: true }, StateLeader],
      [3, { 2: true }, StateLeader],
      [5, { 2: true, 3: true, 4: true, 5: true }, StateLeader],
      [5, { 2: true, 3: true, 4: true }, StateLeader],
      [5, { 2: true, 3: true }, StateLeader],
      // return to follower state if it receives vote denial from a majority
      [3, { 2: false, 3: false }, StateFollower],
      [5, { 2: false, 3: false, 4: false, 5: false }, StateFollower],
      [5, { 2: true, 3: false, 4: false, 5: false }, StateFollower],
      // stay in candidate if it does not obtain the majority
      [3, {}, StateCandidate],
      [5, { 2: true }, StateCandidate],
      [5, { 2: false, 3: false }, StateCandidate],
      [5, {}, StateCandidate],
    ];
    for (const [i, [size, votes, state]] of tests.entries()) {
      const r = newTestRaft(1, 10, 1, newTestMemoryStorage(withPeers(...idsBySize(size))));
      r.step(hup(1));
      advanceMessagesAfterAppend(r);
      for (const [id, vote] of Object.entries(votes)) {
        r.step(msg({ from: Number(id), to: 1, term: r.term, type: MsgVoteResp, reject: !vote }));
      }
      expect(r.state, `#${i}`).toBe(state);
      expect(r.term, `#${i}`).toBe(1);
    }
  });

  // Each server votes for at most one candidate in a given term, first-come-first-served.
  it('a follower votes for at most one candidate per term, first come first served [TestFollowerVote]', () => {
    const tests: [number, number, boolean][] = [
      [None, 2, false],
      [None, 3, false],
      [2, 2, false],
      [3, 3, false],
      [2, 3, true],
      [3, 2, true],
    ];
    for (const [i, [vote, nvote, wreject]] of tests.entries()) {
      const r = raft3();
      r.loadState({ term: 1, vote, commit: 0 });
      r.step(msg({ from: nvote, to: 1, term: 1, type: MsgVote }));
      expect(r.msgsAfterAppend, `#${i}`).toEqual([
        msg({ from: 1, to: nvote, term: 1, type: MsgVoteResp, reject: wreject }),
      ]);
    }
  });

  // A candidate that receives AppendEntries from a leader whose term is at least its own
  // recognizes the leader as legitimate and returns to follower state.
  it('a candidate hearing AppendEntries of a term >= its own falls back to follower [TestCandidateFallback]', () => {
    for (const [i, term] of [1, 2].entries()) {
      const r = raft3();
      r.step(hup(1));
      expect(r.state, `#${i}`).toBe(StateCandidate);
      r.step(msg({ from: 2, to: 1, term, type: MsgApp }));
      expect(r.state, `#${i}`).toBe(StateFollower);
      expect(r.term, `#${i}`).toBe(term);
    }
  });

  // Election timeouts are chosen randomly from a fixed interval, [et, 2et).
  for (const [name, state] of [
    ['TestFollowerElectionTimeoutRandomized', StateFollower],
    ['TestCandidateElectionTimeoutRandomized', StateCandidate],
  ] as const) {
    it(`a ${state === StateFollower ? 'follower' : 'candidate'}'s election timeout takes every value of [et, 2et) [${name}]`, () => {
      const et = 10;
      const r = raft3();
      const timeouts = new Set<number>();
      for (let round = 0; round < 50 * et; round++) {
        if (state === StateFollower) r.becomeFollower(r.term + 1, 2);
        else r.becomeCandidate();
        let time = 0;
        while (readMessages(r).length === 0) {
          r.tick();
          time++;
        }
        timeouts.add(time);
      }
      for (let d = et; d < 2 * et; d++) expect(timeouts.has(d), `timeout in ${d} ticks should happen`).toBe(true);
      // And never outside the interval.
      for (const d of timeouts) expect(d >= et && d < 2 * et, `timeout ${d}`).toBe(true);
    });
  }

  // Randomized timeouts mean that in most cases only one server times out at a time, which
  // makes split votes rare.
  for (const [name, state] of [
    ['TestFollowersElectionTimeoutNonconflict', StateFollower],
    ['TestCandidatesElectionTimeoutNonconflict', StateCandidate],
  ] as const) {
    it(`${state === StateFollower ? 'followers' : 'candidates'} rarely time out in the same tick [${name}]`, () => {
      const et = 10;
      const size = 5;
      const ids = idsBySize(size);
      const rs = ids.map((id) => newTestRaft(id, et, 1, newTestMemoryStorage(withPeers(...ids))));
      let conflicts = 0;
      for (let round = 0; round < 1000; round++) {
        for (const r of rs) {
          if (state === StateFollower) r.becomeFollower(r.term + 1, None);
          else r.becomeCandidate();
        }
        let timeoutNum = 0;
        while (timeoutNum === 0) {
          for (const r of rs) {
            r.tick();
            if (readMessages(r).length > 0) timeoutNum++;
          }
        }
        if (timeoutNum > 1) conflicts++;
      }
      expect(conflicts / 1000).toBeLessThanOrEqual(0.3);
    });
  }
});

describe('§5.3 log replication', () => {
  // On a client proposal the leader appends a new entry to its log, then sends AppendEntries
  // in parallel to every other server, with the index and term of the entry just before the
  // new ones. It also writes the new entry to stable storage.
  it('the leader appends a proposal and sends it with the preceding (index, term) [TestLeaderStartReplication]', () => {
    const s = newTestMemoryStorage(withPeers(1, 2, 3));
    const r = newTestRaft(1, 10, 1, s);
    r.becomeCandidate();
    r.becomeLeader();
    commitNoopEntry(r, s);
    const li = r.raftLog.lastIndex();

    r.step(propMsg(1, 1, bytes('some data')));

    expect(r.raftLog.lastIndex()).toBe(li + 1);
    expect(r.raftLog.committed).toBe(li);
    const wents = [entry({ index: li + 1, term: 1, data: bytes('some data') })];
    expect(sortMessages(readMessages(r))).toEqual([
      msg({ from: 1, to: 2, term: 1, type: MsgApp, index: li, logTerm: 1, entries: wents, commit: li }),
      msg({ from: 1, to: 3, term: 1, type: MsgApp, index: li, logTerm: 1, entries: wents, commit: li }),
    ]);
    expect(r.raftLog.nextUnstableEnts()).toEqual(wents);
  });

  // Once an entry is safely replicated the leader hands it out to be applied, and it includes
  // the highest committed index in later AppendEntries so that followers learn of it.
  it('a replicated entry is committed, handed out, and its commit index sent on [TestLeaderCommitEntry]', () => {
    const s = newTestMemoryStorage(withPeers(1, 2, 3));
    const r = newTestRaft(1, 10, 1, s);
    r.becomeCandidate();
    r.becomeLeader();
    commitNoopEntry(r, s);
    const li = r.raftLog.lastIndex();
    r.step(propMsg(1, 1, bytes('some data')));
    for (const m of readMessages(r)) r.step(acceptAndReply(m));

    expect(r.raftLog.committed).toBe(li + 1);
    expect(r.raftLog.nextCommittedEnts(true)).toEqual([entry({ index: li + 1, term: 1, data: bytes('some data') })]);
    const msgs = sortMessages(readMessages(r));
    expect(msgs.length).toBe(2);
    msgs.forEach((m, i) => {
      expect(m.to).toBe(i + 2);
      expect(m.type).toBe(MsgApp);
      expect(m.commit).toBe(li + 1);
    });
  });

  // An entry is committed once the leader that created it has replicated it on a majority.
  it('an entry commits once a majority (the leader included) has it [TestLeaderAcknowledgeCommit]', () => {
    const tests: [number, number[], boolean][] = [
      [1, [], true],
      [3, [], false],
      [3, [2], true],
      [3, [2, 3], true],
      [5, [], false],
      [5, [2], false],
      [5, [2, 3], true],
      [5, [2, 3, 4], true],
      [5, [2, 3, 4, 5], true],
    ];
    for (const [i, [size, acceptors, wack]] of tests.entries()) {
      const s = newTestMemoryStorage(withPeers(...idsBySize(size)));
      const r = newTestRaft(1, 10, 1, s);
      r.becomeCandidate();
      r.becomeLeader();
      commitNoopEntry(r, s);
      const li = r.raftLog.lastIndex();
      r.step(propMsg(1, 1, bytes('some data')));
      advanceMessagesAfterAppend(r);
      for (const m of r.msgs.slice()) {
        if (acceptors.includes(m.to)) r.step(acceptAndReply(m));
      }
      expect(r.raftLog.committed > li, `#${i}`).toBe(wack);
    }
  });

  // Committing an entry commits every preceding entry, including those of previous leaders,
  // and they are applied in log order.
  it('committing an entry commits all preceding ones, from earlier leaders too [TestLeaderCommitPrecedingEntries]', () => {
    const tests = [[], index(1).terms(2), index(1).terms(1, 2), index(1).terms(1)];
    for (const [i, tt] of tests.entries()) {
      const storage = storageWithEntries(tt, withPeers(1, 2, 3));
      const r = newTestRaft(1, 10, 1, storage);
      r.loadState({ term: 2, vote: 0, commit: 0 });
      r.becomeCandidate();
      r.becomeLeader();
      r.step(propMsg(1, 1, bytes('some data')));
      for (const m of readMessages(r)) r.step(acceptAndReply(m));

      const li = tt.length;
      expect(r.raftLog.nextCommittedEnts(true), `#${i}`).toEqual([
        ...tt,
        entry({ term: 3, index: li + 1 }),
        entry({ term: 3, index: li + 2, data: bytes('some data') }),
      ]);
    }
  });

  // Once a follower learns that an entry is committed, it applies it (in log order).
  it('a follower applies the entries it learns are committed, in order [TestFollowerCommitEntry]', () => {
    const tests = [
      { ents: [entry({ term: 1, index: 1, data: bytes('some data') })], commit: 1 },
      {
        ents: [entry({ term: 1, index: 1, data: bytes('some data') }), entry({ term: 1, index: 2, data: bytes('some data2') })],
        commit: 2,
      },
      {
        ents: [entry({ term: 1, index: 1, data: bytes('some data2') }), entry({ term: 1, index: 2, data: bytes('some data') })],
        commit: 2,
      },
      {
        ents: [entry({ term: 1, index: 1, data: bytes('some data') }), entry({ term: 1, index: 2, data: bytes('some data2') })],
        commit: 1,
      },
    ];
    for (const [i, tt] of tests.entries()) {
      const r = raft3();
      r.becomeFollower(1, 2);
      r.step(msg({ from: 2, to: 1, type: MsgApp, term: 1, entries: tt.ents.map((e) => entry(e)), commit: tt.commit }));
      expect(r.raftLog.committed, `#${i}`).toBe(tt.commit);
      expect(r.raftLog.nextCommittedEnts(true), `#${i}`).toEqual(tt.ents.slice(0, tt.commit));
    }
  });

  // A follower that has no entry with the index and term that AppendEntries says precede the
  // new entries refuses them; otherwise it accepts.
  it('a follower refuses AppendEntries whose preceding (index, term) it lacks [TestFollowerCheckMsgApp]', () => {
    const ents = [entry({ term: 1, index: 1 }), entry({ term: 2, index: 2 })];
    const tests: [number, number, number, boolean, number, number][] = [
      // match with committed entries
      [0, 0, 1, false, 0, 0],
      [1, 1, 1, false, 0, 0],
      // match with uncommitted entries
      [2, 2, 2, false, 0, 0],
      // unmatch with existing entry
      [1, 2, 2, true, 1, 1],
      // unexisting entry
      [3, 3, 3, true, 2, 2],
    ];
    for (const [i, [term, idx, windex, wreject, wrejectHint, wlogterm]] of tests.entries()) {
      const storage = storageWithEntries(ents, withPeers(1, 2, 3));
      const r = newTestRaft(1, 10, 1, storage);
      r.loadState({ term: 0, vote: 0, commit: 1 });
      r.becomeFollower(2, 2);
      r.step(msg({ from: 2, to: 1, type: MsgApp, term: 2, logTerm: term, index: idx }));
      const expected = wreject
        ? msg({ from: 1, to: 2, type: MsgAppResp, term: 2, index: windex, reject: true, rejectHint: wrejectHint, logTerm: wlogterm })
        : msg({ from: 1, to: 2, type: MsgAppResp, term: 2, index: windex });
      expect(readMessages(r), `#${i}`).toEqual([expected]);
    }
  });

  // On a valid AppendEntries a follower deletes a conflicting entry and all that follow it,
  // appends the new entries it lacks, and writes them to stable storage.
  it('a follower truncates at the first conflict and appends what it lacks [TestFollowerAppendEntries]', () => {
    const tests: [number, number, Entry[], Entry[], Entry[]][] = [
      [2, 2, index(3).terms(3), index(1).terms(1, 2, 3), index(3).terms(3)],
      [1, 1, index(2).terms(3, 4), index(1).terms(1, 3, 4), index(2).terms(3, 4)],
      [0, 0, index(1).terms(1), index(1).terms(1, 2), []],
      [0, 0, index(1).terms(3), index(1).terms(3), index(1).terms(3)],
    ];
    for (const [i, [idx, term, ents, wents, wunstable]] of tests.entries()) {
      const storage = storageWithEntries([entry({ term: 1, index: 1 }), entry({ term: 2, index: 2 })], withPeers(1, 2, 3));
      const r = newTestRaft(1, 10, 1, storage);
      r.becomeFollower(2, 2);
      r.step(msg({ from: 2, to: 1, type: MsgApp, term: 2, logTerm: term, index: idx, entries: ents }));
      expect(r.raftLog.allEntries(), `#${i}`).toEqual(wents);
      expect(r.raftLog.nextUnstableEnts(), `#${i}`).toEqual(wunstable);
    }
  });

  // Figure 7: whatever a follower's log looks like (missing entries, extra uncommitted ones,
  // both), the leader brings it into consistency with its own.
  it('the leader brings any follower log of figure 7 into agreement with its own [TestLeaderSyncFollowerLog]', () => {
    const ents = index(0).terms(0, 1, 1, 1, 4, 4, 5, 5, 6, 6, 6);
    const term = 8;
    const followers = [
      index(0).terms(0, 1, 1, 1, 4, 4, 5, 5, 6, 6),
      index(0).terms(0, 1, 1, 1, 4, 4),
      index(0).terms(0, 1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 6),
      index(0).terms(0, 1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 7, 7),
      index(0).terms(0, 1, 1, 1, 4, 4, 4, 4),
      index(0).terms(0, 1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3),
    ];
    for (const [i, tt] of followers.entries()) {
      const leadStorage = storageWithEntries(ents, withPeers(1, 2, 3));
      const lead = newTestRaft(1, 10, 1, leadStorage);
      lead.loadState({ commit: lead.raftLog.lastIndex(), term, vote: 0 });
      const followerStorage = storageWithEntries(tt, withPeers(1, 2, 3));
      const follower = newTestRaft(2, 10, 1, followerStorage);
      follower.loadState({ term: term - 1, vote: 0, commit: 0 });
      // A three-node cluster: the follower may have a more up-to-date log than the leader, so
      // the leader needs the vote of the third node to win.
      const n = newNetwork(lead, follower, blackHole);
      n.send(hup(1));
      // The election happens in the term after the one loaded above.
      n.send(msg({ from: 3, to: 1, type: MsgVoteResp, term: term + 1 }));
      n.send(propMsg(1, 1));

      expect(lead.state, `#${i}`).toBe(StateLeader);
      expect(ltoa(follower.raftLog), `#${i}`).toEqual(ltoa(lead.raftLog));
      expect(follower.raftLog.committed, `#${i}`).toBe(lead.raftLog.committed);
    }
  });
});

describe('§5.4 safety', () => {
  // RequestVote carries the index and term of the candidate's last log entry, and goes to
  // every other server.
  it("a vote request carries the candidate's last log index and term [TestVoteRequest]", () => {
    const tests: [Entry[], number][] = [
      [index(1).terms(1), 2],
      [index(1).terms(1, 2), 3],
    ];
    for (const [j, [ents, wterm]] of tests.entries()) {
      const r = raft3();
      r.step(msg({ from: 2, to: 1, type: MsgApp, term: wterm - 1, logTerm: 0, index: 0, entries: ents }));
      readMessages(r);
      for (let i = 1; i < r.electionTimeout * 2; i++) r.tickElection();

      const msgs = sortMessages(readMessages(r));
      expect(msgs.length, `#${j}`).toBe(2);
      const last = ents[ents.length - 1]!;
      msgs.forEach((m: Message, i) => {
        expect(m.type, `#${j}.${i}`).toBe(MsgVote);
        expect(m.to, `#${j}.${i}`).toBe(i + 2);
        expect(m.term, `#${j}.${i}`).toBe(wterm);
        expect(m.index, `#${j}.${i}`).toBe(last.index);
        expect(m.logTerm, `#${j}.${i}`).toBe(last.term);
      });
    }
  });

  // §5.4.1: a voter denies its vote if its own log is more up-to-date than the candidate's.
  it("a voter denies its vote when its log is more up-to-date than the candidate's [TestVoter]", () => {
    const tests: [Entry[], number, number, boolean][] = [
      // same logterm
      [index(1).terms(1), 1, 1, false],
      [index(1).terms(1), 1, 2, false],
      [index(1).terms(1, 1), 1, 1, true],
      // candidate higher logterm
      [index(1).terms(1), 2, 1, false],
      [index(1).terms(1), 2, 2, false],
      [index(1).terms(1, 1), 2, 1, false],
      // voter higher logterm
      [index(1).terms(2), 1, 1, true],
      [index(1).terms(2), 1, 2, true],
      [index(1).terms(2, 2), 1, 1, true],
      [index(1).terms(1, 1), 1, 1, true],
    ];
    for (const [i, [ents, logterm, idx, wreject]] of tests.entries()) {
      const r = newTestRaft(1, 10, 1, storageWithEntries(ents, withPeers(1, 2)));
      r.step(msg({ from: 2, to: 1, type: MsgVote, term: 3, logTerm: logterm, index: idx }));
      const msgs = readMessages(r);
      expect(msgs.length, `#${i}`).toBe(1);
      expect(msgs[0]!.type, `#${i}`).toBe(MsgVoteResp);
      expect(msgs[0]!.reject, `#${i}`).toBe(wreject);
    }
  });

  // §5.4.2: only entries of the leader's current term are committed by counting replicas.
  it("only entries of the leader's current term are committed by counting replicas [TestLeaderOnlyCommitsLogFromCurrentTerm]", () => {
    const ents = [entry({ term: 1, index: 1 }), entry({ term: 2, index: 2 })];
    const tests: [number, number][] = [
      // do not commit log entries in previous terms
      [1, 0],
      [2, 0],
      // commit log in current term
      [3, 3],
    ];
    for (const [i, [idx, wcommit]] of tests.entries()) {
      const r = newTestRaft(1, 10, 1, storageWithEntries(ents, withPeers(1, 2)));
      r.loadState({ term: 2, vote: 0, commit: 0 });
      // become leader at term 3
      r.becomeCandidate();
      r.becomeLeader();
      readMessages(r);
      // propose an entry of the current term
      r.step(propMsg(1, 1));
      r.step(msg({ from: 2, to: 1, type: MsgAppResp, term: r.term, index: idx }));
      advanceMessagesAfterAppend(r);
      expect(r.raftLog.committed, `#${i}`).toBe(wcommit);
    }
  });
});
