/** A follower's progress (etcd's tracker/progress_test.go) and the tracker around it. */

import { describe, expect, it } from 'vitest';
import { Changer } from '../src/confchange/changer.js';
import { confChangesFromString } from './support/conf-change-text.js';
import { INDEX_INFINITY, VoteResult } from '../src/quorum/quorum.js';
import { Inflights } from '../src/tracker/inflights.js';
import { Progress, progressMapToString } from '../src/tracker/progress.js';
import { ProgressTracker } from '../src/tracker/progress-tracker.js';
import { ProgressStateType } from '../src/tracker/state.js';

const { StateProbe, StateReplicate, StateSnapshot } = ProgressStateType;

describe('Progress', () => {
  it('prints as etcd does', () => {
    const ins = new Inflights(1, 0);
    ins.add(123, 1);
    const pr = new Progress({
      match: 2,
      next: 3,
      state: StateSnapshot,
      pendingSnapshot: 123,
      recentActive: false,
      msgAppFlowPaused: true,
      isLearner: true,
      inflights: ins,
    });
    expect(pr.toString()).toBe('StateSnapshot match=2 next=3 learner paused pendingSnap=123 inactive inflight=1[full]');

    const rep = new Progress({ match: 14, next: 15, state: StateReplicate, recentActive: true, inflights: new Inflights(2, 0) });
    rep.inflights.add(13, 1);
    expect(rep.toString()).toBe('StateReplicate match=14 next=15 inflight=1');
    rep.inflights.add(14, 1);
    expect(rep.toString()).toBe('StateReplicate match=14 next=15 inflight=2[full]');

    const snap = new Progress({ next: 1, recentActive: true, inflights: new Inflights(256, 0) });
    snap.becomeSnapshot(4);
    expect(snap.toString()).toBe('StateSnapshot match=0 next=5 paused pendingSnap=4');
  });

  it('is paused as its state and flag say', () => {
    const cases: [ProgressStateType, boolean, boolean][] = [
      [StateProbe, false, false],
      [StateProbe, true, true],
      [StateReplicate, false, false],
      [StateReplicate, true, true],
      [StateSnapshot, false, true],
      [StateSnapshot, true, true],
    ];
    for (const [state, paused, want] of cases) {
      const p = new Progress({ state, msgAppFlowPaused: paused, inflights: new Inflights(256, 0) });
      expect(p.isPaused(), `${ProgressStateType[state]} paused=${paused}`).toBe(want);
    }
  });

  it('resumes on maybeUpdate and maybeDecrTo', () => {
    const p = new Progress({ next: 2, msgAppFlowPaused: true, inflights: new Inflights(256, 0) });
    p.maybeDecrTo(1, 1);
    expect(p.msgAppFlowPaused).toBe(false);
    p.msgAppFlowPaused = true;
    p.maybeUpdate(2);
    expect(p.msgAppFlowPaused).toBe(false);
  });

  it('becomes probe from match + 1, or after a delivered snapshot', () => {
    const match = 1;
    const cases: [Progress, number][] = [
      [new Progress({ state: StateReplicate, match, next: 5, inflights: new Inflights(256, 0) }), 2],
      // snapshot finished
      [new Progress({ state: StateSnapshot, match, next: 5, pendingSnapshot: 10, inflights: new Inflights(256, 0) }), 11],
      // snapshot failed
      [new Progress({ state: StateSnapshot, match, next: 5, pendingSnapshot: 0, inflights: new Inflights(256, 0) }), 2],
    ];
    for (const [p, wnext] of cases) {
      p.becomeProbe();
      expect(p.state).toBe(StateProbe);
      expect(p.match).toBe(match);
      expect(p.next).toBe(wnext);
    }
  });

  it('becomes replicate from match + 1', () => {
    const p = new Progress({ state: StateProbe, match: 1, next: 5, inflights: new Inflights(256, 0) });
    p.becomeReplicate();
    expect(p.state).toBe(StateReplicate);
    expect(p.match).toBe(1);
    expect(p.next).toBe(2);
  });

  it('becomes snapshot with the snapshot index', () => {
    const p = new Progress({ state: StateProbe, match: 1, next: 5, inflights: new Inflights(256, 0) });
    p.becomeSnapshot(10);
    expect(p.state).toBe(StateSnapshot);
    expect(p.match).toBe(1);
    expect(p.pendingSnapshot).toBe(10);
    expect(p.next).toBe(11);
    expect(p.sentCommit).toBe(10);
  });

  it('updates match and next on acknowledgements', () => {
    const prevM = 3;
    const prevN = 5;
    const cases: [number, number, number, boolean][] = [
      [prevM - 1, prevM, prevN, false], // do not decrease match, next
      [prevM, prevM, prevN, false], // do not decrease next
      [prevM + 1, prevM + 1, prevN, true], // increase match, do not decrease next
      [prevM + 2, prevM + 2, prevN + 1, true], // increase match, next
    ];
    for (const [update, wm, wn, wok] of cases) {
      const p = new Progress({ match: prevM, next: prevN, inflights: new Inflights(256, 0) });
      expect(p.maybeUpdate(update)).toBe(wok);
      expect(p.match).toBe(wm);
      expect(p.next).toBe(wn);
    }
  });

  it('decreases next on genuine rejections only', () => {
    // state, match, next, rejected, hint, result, next after
    const cases: [ProgressStateType, number, number, number, number, boolean, number][] = [
      [StateReplicate, 5, 10, 5, 5, false, 10], // rejected is not greater than match
      [StateReplicate, 5, 10, 4, 4, false, 10], // rejected is not greater than match
      [StateReplicate, 5, 10, 9, 9, true, 6], // rejected > match: back to match + 1
      [StateProbe, 0, 0, 0, 0, false, 0], // next - 1 != rejected
      [StateProbe, 0, 10, 5, 5, false, 10], // next - 1 != rejected
      [StateProbe, 0, 10, 9, 9, true, 9], // next > 1: decremented by 1
      [StateProbe, 0, 2, 1, 1, true, 1], // next > 1: decremented by 1
      [StateProbe, 0, 1, 0, 0, true, 1], // next <= 1: reset to 1
      [StateProbe, 0, 10, 9, 2, true, 3], // decrease to min(rejected, hint + 1)
      [StateProbe, 0, 10, 9, 0, true, 1], // hint + 1 below 1: reset to 1
    ];
    for (const [state, m, n, rejected, hint, w, wn] of cases) {
      const p = new Progress({ state, match: m, next: n, inflights: new Inflights(256, 0) });
      expect(p.maybeDecrTo(rejected, hint), `${ProgressStateType[state]} m=${m} n=${n} rej=${rejected}`).toBe(w);
      expect(p.match).toBe(m);
      expect(p.next).toBe(wn);
    }
  });

  it('tracks sent entries and pauses when the window fills', () => {
    const p = new Progress({ match: 4, next: 5, inflights: new Inflights(2, 0) });
    p.becomeReplicate();
    p.sentEntries(3, 30);
    expect(p.next).toBe(8);
    expect(p.msgAppFlowPaused).toBe(false);
    p.sentEntries(2, 20);
    expect(p.next).toBe(10);
    expect(p.inflights.count()).toBe(2);
    expect(p.msgAppFlowPaused).toBe(true);
    expect(p.isPaused()).toBe(true);
    // An empty append (a probe) while full keeps the flow paused.
    p.sentEntries(0, 0);
    expect(p.msgAppFlowPaused).toBe(true);
    p.inflights.freeLE(7);
    p.sentEntries(0, 0);
    expect(p.msgAppFlowPaused).toBe(false);

    const probe = new Progress({ match: 4, next: 5, inflights: new Inflights(2, 0) });
    probe.sentEntries(0, 0);
    expect(probe.msgAppFlowPaused).toBe(false);
    probe.sentEntries(1, 10);
    expect(probe.msgAppFlowPaused).toBe(true);
    expect(probe.next).toBe(5); // a probe does not move next
    expect(probe.inflights.count()).toBe(0);

    const snap = new Progress({ next: 5, inflights: new Inflights(2, 0) });
    snap.becomeSnapshot(7);
    expect(() => snap.sentEntries(1, 1)).toThrow(/unhandled state StateSnapshot/);
  });

  it('bumps the follower commit only while it can advance', () => {
    const p = new Progress({ match: 4, next: 8, inflights: new Inflights(4, 0) });
    expect(p.canBumpCommit(5)).toBe(true);
    p.setSentCommit(5);
    expect(p.canBumpCommit(5)).toBe(false);
    expect(p.canBumpCommit(6)).toBe(true);
    p.setSentCommit(7); // next - 1: the follower can commit everything it has been sent
    expect(p.canBumpCommit(9)).toBe(false);
    // A rejection regresses sentCommit with next.
    p.becomeReplicate();
    p.next = 8;
    expect(p.maybeDecrTo(6, 5)).toBe(true);
    expect(p.next).toBe(5);
    expect(p.sentCommit).toBe(4);
    p.becomeProbe();
    expect(p.sentCommit).toBe(4);
  });

  it('prints a progress map sorted by id', () => {
    const m = new Map([
      [10, new Progress({ next: 1, recentActive: true, inflights: new Inflights(1, 0) })],
      [2, new Progress({ next: 3, match: 2, isLearner: true, recentActive: true, inflights: new Inflights(1, 0) })],
    ]);
    expect(progressMapToString(m)).toBe('2: StateProbe match=2 next=3 learner\n10: StateProbe match=0 next=1\n');
  });
});

describe('ProgressTracker', () => {
  const tracker = (ops: string): ProgressTracker => {
    const tr = new ProgressTracker(10, 0);
    for (const cc of confChangesFromString(ops)) {
      const [cfg, prs] = new Changer(tr, 1).simple(cc);
      tr.config = cfg;
      tr.progress = prs;
    }
    return tr;
  };

  it('visits peers in ascending id order, across membership changes', () => {
    const tr = tracker('v30 v1 v200 v7 l5 l40');
    const seen: number[] = [];
    tr.visit((id) => seen.push(id));
    expect(seen).toEqual([1, 5, 7, 30, 40, 200]);

    const [cfg, prs] = new Changer(tr, 1).simple(...confChangesFromString('r7 l3'));
    tr.config = cfg;
    tr.progress = prs;
    seen.length = 0;
    tr.visit((id) => seen.push(id));
    expect(seen).toEqual([1, 3, 5, 30, 40, 200]);

    // In-place edits of the map are picked up too.
    tr.progress.set(2, tr.progress.get(1)!.clone());
    tr.progress.delete(200);
    seen.length = 0;
    tr.visit((id) => seen.push(id));
    expect(seen).toEqual([1, 2, 3, 5, 30, 40]);
  });

  it('computes the committed index from voters only', () => {
    const tr = tracker('v1 v2 v3 l4');
    const match = (id: number, m: number): void => {
      tr.progress.get(id)!.match = m;
    };
    match(1, 5);
    match(2, 3);
    match(3, 1);
    match(4, 100);
    expect(tr.committed()).toBe(3);
    match(3, 4);
    expect(tr.committed()).toBe(4);
    expect(new ProgressTracker(1, 0).committed()).toBe(INDEX_INFINITY);
  });

  it('reports its configuration', () => {
    const tr = tracker('v3 v1 l9 l4');
    expect(tr.voterNodes()).toEqual([1, 3]);
    expect(tr.learnerNodes()).toEqual([4, 9]);
    expect(tr.isSingleton()).toBe(false);
    expect(tracker('v1').isSingleton()).toBe(true);
    expect(tracker('v1').learnerNodes()).toEqual([]);
    expect(tr.confState()).toEqual({ voters: [1, 3], votersOutgoing: [], learners: [4, 9], learnersNext: [], autoLeave: false });
    const [cfg, prs] = new Changer(tr, 1).enterJoint(true, ...confChangesFromString('v5 l3'));
    tr.config = cfg;
    tr.progress = prs;
    expect(tr.config.toString()).toBe('voters=(1 5)&&(1 3) learners=(4 9) learners_next=(3) autoleave');
    expect(tr.confState()).toEqual({ voters: [1, 5], votersOutgoing: [1, 3], learners: [4, 9], learnersNext: [3], autoLeave: true });
    expect(tr.voterNodes()).toEqual([1, 3, 5]);
    const clone = tr.config.clone();
    expect(clone.toString()).toBe(tr.config.toString());
    clone.voters.incoming.ids.add(77);
    clone.learners!.add(78);
    expect(tr.config.toString()).toBe('voters=(1 5)&&(1 3) learners=(4 9) learners_next=(3) autoleave');
  });

  it('tallies votes', () => {
    const tr = tracker('v1 v2 v3 v4 v5 l6');
    tr.recordVote(1, true);
    tr.recordVote(6, true); // a learner's vote does not count
    tr.recordVote(2, false);
    tr.recordVote(2, true); // only the first vote counts
    expect(tr.tallyVotes()).toEqual({ granted: 1, rejected: 1, result: VoteResult.VotePending });
    tr.recordVote(3, true);
    tr.recordVote(4, true);
    expect(tr.tallyVotes()).toEqual({ granted: 3, rejected: 1, result: VoteResult.VoteWon });
    tr.resetVotes();
    tr.recordVote(1, false);
    tr.recordVote(2, false);
    tr.recordVote(3, false);
    expect(tr.tallyVotes().result).toBe(VoteResult.VoteLost);
  });

  it('knows whether a quorum is active', () => {
    const tr = tracker('v1 v2 v3 l4');
    for (const pr of tr.progress.values()) pr.recentActive = false;
    tr.progress.get(4)!.recentActive = true;
    tr.progress.get(1)!.recentActive = true;
    expect(tr.quorumActive()).toBe(false);
    tr.progress.get(3)!.recentActive = true;
    expect(tr.quorumActive()).toBe(true);
  });
});
