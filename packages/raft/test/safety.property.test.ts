/**
 * Raft safety under faults: random fault schedules over a deterministic simulated cluster of
 * RawNodes (@pontoon/sim/rawnode), with every invariant of the Raft paper checked after
 * every step, and liveness checked once the faults heal.
 *
 * Each run replays fixed seeds (the same schedules every time) and draws a fresh batch (new ones
 * every time; the seed is in the test's title, `PONTOON_SEED=<seed>` replays it). `pnpm --filter
 * @pontoon/raft property:long -- --runs 2000` runs many more. Every batch runs all its runs or
 * fails saying how many ran. On failure the report names the seed and path that replay it and
 * the shrunk schedule; the error itself names the invariant, the step, every node's state and
 * the last events.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { assertProperty, freshSeed } from '@pontoon/sim';
import { MessageType } from '../src/types.js';
import {
  applyStep,
  arrayLogView,
  defaultSimOptions,
  type Invariant,
  type LogView,
  type NodeView,
  type PlantedBug,
  runSchedule,
  SafetyChecker,
  SafetyViolation,
  scheduleArb,
  SimNetwork,
  type SimOptions,
  simOptionsArb,
} from '@pontoon/sim/rawnode';

/** The fixed seed: these runs replay the same schedules every time. */
const SEED = 0x5afe7;
/** The fresh batch's seed: new schedules every run. */
const FRESH_SEED = freshSeed();
/** Many short schedules (faults early in a cluster's life) and fewer long ones (deep histories). */
const SHORT = { runs: Number(process.env['PONTOON_SAFETY_RUNS'] ?? 400), maxSteps: 400 };
const LONG = { runs: Number(process.env['PONTOON_SAFETY_LONG_RUNS'] ?? 250), maxSteps: 1500 };
const FRESH = { runs: Number(process.env['PONTOON_SAFETY_FRESH_RUNS'] ?? 100), maxSteps: 400 };
/**
 * A failure found late shrinks for a long time: the bound fails the test in time for the report
 * (the partly shrunk schedule still replays) before the runner's timeout, and a batch that has
 * not finished by then fails, saying how many of its runs ran.
 */
const TIME_LIMIT_MS = 100_000;
const TEST_TIMEOUT_MS = 120_000;

function safetyProperty(maxSteps: number, bug?: PlantedBug) {
  const opts = bug === undefined ? simOptionsArb : simOptionsArb.map((o): SimOptions => ({ ...o, bug }));
  return fc.property(opts, scheduleArb(maxSteps), (o, steps) => {
    runSchedule(o, steps);
  });
}

describe('Raft safety on a simulated cluster under faults', () => {
  const invariants =
    'keeps election safety, log matching, leader completeness, state machine safety, monotonic commits ' +
    'and committed entries; recovers after healing';

  it(`${invariants} (${SHORT.runs} schedules of up to ${SHORT.maxSteps} steps, seed ${SEED})`, () => {
    assertProperty(safetyProperty(SHORT.maxSteps), { seed: SEED, numRuns: SHORT.runs, timeLimitMs: TIME_LIMIT_MS });
  }, TEST_TIMEOUT_MS);

  it(`${invariants} (${LONG.runs} schedules of up to ${LONG.maxSteps} steps, seed ${SEED + 1})`, () => {
    assertProperty(safetyProperty(LONG.maxSteps), { seed: SEED + 1, numRuns: LONG.runs, timeLimitMs: TIME_LIMIT_MS });
  }, TEST_TIMEOUT_MS);

  it(`${invariants} (${FRESH.runs} fresh schedules of up to ${FRESH.maxSteps} steps, seed ${FRESH_SEED})`, () => {
    assertProperty(safetyProperty(FRESH.maxSteps), { seed: FRESH_SEED, numRuns: FRESH.runs, timeLimitMs: TIME_LIMIT_MS });
  }, TEST_TIMEOUT_MS);
});

describe('the simulation is deterministic', () => {
  it('the same options and schedule give the same run, event for event', () => {
    const [[opts, steps]] = fc.sample(fc.tuple(simOptionsArb, scheduleArb(LONG.maxSteps)), { seed: SEED, numRuns: 1 });
    const run = (): string => {
      const sim = new SimNetwork(opts!);
      const events: string[] = [];
      for (const s of steps!) {
        applyStep(sim, s);
        sim.processReadies();
        sim.check();
        events.push(sim.trace[sim.trace.length - 1] ?? '', sim.describeNodes());
      }
      return events.join('\n');
    };
    expect(run()).toBe(run());
  });
});

/** Delivers the oldest in-flight message from `from` to `to` (of `type`, if given). */
function deliverFirst(sim: SimNetwork, from: number, to: number, type?: MessageType): void {
  const i = sim.inFlight.findIndex((f) => f.msg.from === from && f.msg.to === to && (type === undefined || f.msg.type === type));
  if (i < 0) throw new Error(`no message ${from}->${to} in flight`);
  sim.deliver(i);
  sim.processReadies();
  sim.check();
}

function step(sim: SimNetwork, action: () => void): void {
  action();
  sim.processReadies();
  sim.check();
}

function invariantOf(fn: () => void): Invariant | 'none' {
  try {
    fn();
  } catch (err) {
    if (err instanceof SafetyViolation) return err.invariant;
    throw err;
  }
  return 'none';
}

describe('the checker catches planted bugs', () => {
  const three: SimOptions = { ...defaultSimOptions, nodeCount: 3 };

  it('a node that acknowledges an append before persisting it: a committed entry is not durable on a quorum', () => {
    const sim = new SimNetwork({ ...three, bug: 'ack-before-persist' });
    step(sim, () => sim.campaign(1));
    for (let i = 0; i < 4; i++) step(sim, () => sim.flush());
    expect(sim.leaders().map((n) => n.id)).toEqual([1]);
    // Node 3 hears nothing more from the leader, and node 2's disk stops completing writes.
    step(sim, () => sim.cutLink(1, 3));
    step(sim, () => sim.stallDisk(2));
    step(sim, () => sim.propose(1, 'x'));
    step(sim, () => sim.flush()); // 1 -> 2 MsgApp: node 2 acks at once, the write is still pending
    // The leader counts node 2's ack: (x) is committed on {1, 2}, but durable only on 1.
    expect(invariantOf(() => step(sim, () => sim.flush()))).toBe('committed-entry-durable');
  });

  it('the same node without the bug keeps the invariant', () => {
    const sim = new SimNetwork(three);
    step(sim, () => sim.campaign(1));
    for (let i = 0; i < 4; i++) step(sim, () => sim.flush());
    step(sim, () => sim.cutLink(1, 3));
    step(sim, () => sim.stallDisk(2));
    step(sim, () => sim.propose(1, 'x'));
    step(sim, () => sim.flush());
    expect(sim.inFlight.some((f) => f.msg.from === 2)).toBe(false); // no ack before the write
    step(sim, () => sim.crash(2));
    step(sim, () => sim.restart(2));
    for (let i = 0; i < 5; i++) {
      step(sim, () => sim.tick());
      step(sim, () => sim.flush());
      step(sim, () => sim.flush());
    }
    // Committed once node 2 really has it, and applied everywhere the leader can reach.
    expect(sim.node(1).sm.has('x')).toBe(true);
    expect(sim.node(2).sm.has('x')).toBe(true);
  });

  it('a node that forgets its vote on restart votes twice in one term', () => {
    const sim = new SimNetwork({ ...three, bug: 'forget-vote' });
    step(sim, () => sim.campaign(1));
    step(sim, () => sim.campaign(2)); // both candidates at term 2
    deliverFirst(sim, 1, 3, MessageType.MsgVote); // 3 votes for 1
    deliverFirst(sim, 3, 1, MessageType.MsgVoteResp); // 1 wins term 2
    expect(sim.leaders().map((n) => n.id)).toEqual([1]);
    step(sim, () => sim.restart(3));
    // 3 has no vote on record for term 2 any more and grants 2's request too.
    expect(invariantOf(() => deliverFirst(sim, 2, 3, MessageType.MsgVote))).toBe('hard-state-monotonic');
  });

  it('random schedules find a forgotten vote, and fast-check shrinks the schedule', () => {
    const details = fc.check(safetyProperty(SHORT.maxSteps, 'forget-vote'), {
      seed: SEED,
      numRuns: 200,
    });
    expect(details.failed).toBe(true);
    expect(details.errorInstance).toBeInstanceOf(SafetyViolation);
    const [, steps] = details.counterexample!;
    expect(steps.length).toBeLessThanOrEqual(20);
  }, 60_000);

  it('random schedules find acknowledgements sent before persisting', () => {
    const details = fc.check(safetyProperty(SHORT.maxSteps, 'ack-before-persist'), {
      seed: SEED,
      numRuns: 500,
      endOnFailure: true,
    });
    expect(details.failed).toBe(true);
    expect((details.errorInstance as SafetyViolation).invariant).toBe('committed-entry-durable');
  }, 60_000);
});

/**
 * Found by property:long (seed 31338, shrunk to 50 steps) and reduced by hand to this scenario;
 * fixed in commit 62b517f. With asyncStorageWrites a candidate's MsgVote requests go out before
 * its new term and self-vote are durable. It used to count its own vote at once and so could win
 * with the two other votes alone; crashing before the write completed, it restarted in the
 * previous term, campaigned for the same term again, got the same votes again (Raft allows
 * repeating a vote for the same candidate) and led that term twice with different logs: two
 * entries at one (index, term), Log Matching broken. A candidate now counts its own vote only
 * once it is durable, so the first campaign never wins here.
 */
describe('regressions found by the simulator', () => {
  it('asyncStorageWrites: a candidate does not lead before its own term and vote are durable, so it cannot lead one term twice', () => {
    const sim = new SimNetwork({ ...defaultSimOptions, nodeCount: 3, asyncStorageWrites: true });
    /** Delivers every message in flight from `from` to `to`, if any. */
    const drain = (from: number, to: number): void => {
      for (let i = sim.inFlight.findIndex((f) => f.msg.from === from && f.msg.to === to); i >= 0; ) {
        step(sim, () => sim.deliver(i));
        i = sim.inFlight.findIndex((f) => f.msg.from === from && f.msg.to === to);
      }
    };
    const exchange = (a: number, b: number): void => {
      for (let i = 0; i < 6; i++) {
        drain(a, b);
        drain(b, a);
      }
    };
    const violation = invariantOf(() => {
      step(sim, () => sim.stallDisk(2)); // node 2's writes do not complete
      step(sim, () => sim.campaign(2)); // term 2: MsgVote goes out before (term 2, vote 2) is durable
      step(sim, () => sim.flush()); // nodes 1 and 3 grant (durably)
      step(sim, () => sim.cutLink(2, 3)); // node 3 will not see what node 2 does as leader
      step(sim, () => sim.flush()); // with both grants node 2 leads term 2, its own vote still pending
      step(sim, () => sim.propose(2, 'x')); // (5, term 2) = "x"
      exchange(2, 1); // node 1 gets "x"
      step(sim, () => sim.restart(2)); // back in term 1: term 2 was never persisted
      step(sim, () => sim.healNetwork());
      step(sim, () => sim.campaign(2)); // term 2 again; node 3 repeats its vote
      exchange(2, 3);
      step(sim, () => sim.propose(2, 'y')); // (5, term 2) = "y"
      step(sim, () => sim.propose(2, 'z'));
      exchange(2, 1);
      exchange(2, 3);
    });
    expect(violation).toBe('none');
  });
});

describe('the checker over fabricated histories', () => {
  const live = (id: number, term: number, log: LogView, committed: number, isLeader = false): NodeView => ({
    id,
    live: { term, isLeader, committed, log },
    durable: { log },
  });

  it('election safety: two leaders in one term', () => {
    const c = new SafetyChecker(3);
    c.observeLeader(2, 1);
    c.observeLeader(3, 2);
    expect(invariantOf(() => c.observeLeader(2, 3))).toBe('election-safety');
  });

  it('log matching: same (index, term), different entries or different pasts', () => {
    const c = new SafetyChecker(3);
    c.check([live(1, 1, arrayLogView([[1, 'a'], [1, 'b']]), 0)]);
    expect(invariantOf(() => c.check([live(2, 1, arrayLogView([[1, 'a'], [1, 'c']]), 0)]))).toBe('log-matching');
    const d = new SafetyChecker(3);
    d.check([live(1, 2, arrayLogView([[1, 'a'], [2, 'b']]), 0)]);
    // The same entry (2, term 2), but after an entry of another term: the logs differ before it.
    expect(invariantOf(() => d.check([live(2, 3, arrayLogView([[1, 'a'], [3, 'x'], [2, 'b']]), 0)]))).toBe('log-matching');
  });

  it('leader completeness: a later leader without a committed entry', () => {
    const c = new SafetyChecker(3);
    const withA = arrayLogView([[1, 'a']]);
    c.check([live(1, 1, withA, 1, true), live(2, 1, withA, 1), live(3, 1, arrayLogView([]), 0)]);
    // Node 3 leads term 2 without (1, term 1), which a quorum committed in term 1.
    const later = [live(1, 1, withA, 1), live(2, 1, withA, 1), live(3, 2, arrayLogView([[2, 'b']]), 0, true)];
    expect(invariantOf(() => c.check(later))).toBe('leader-completeness');
  });

  it('state machine safety: different entries applied at one index', () => {
    const c = new SafetyChecker(3);
    const [a] = arrayLogView([[1, 'a']]).entries();
    const [b] = arrayLogView([[1, 'b']]).entries();
    c.observeApply(1, a!);
    expect(invariantOf(() => c.observeApply(2, b!))).toBe('state-machine-safety');
  });

  it('commit monotonic: a commit index that goes down, in memory or on restart', () => {
    const c = new SafetyChecker(1);
    const log = arrayLogView([[1, 'a'], [1, 'b']]);
    c.check([live(1, 1, log, 2)]);
    expect(invariantOf(() => c.check([live(1, 1, log, 1)]))).toBe('commit-monotonic');
    const d = new SafetyChecker(3);
    d.observePersistedHardState(1, { term: 1, vote: 1, commit: 2 });
    expect(invariantOf(() => d.observeRestart(1, 1, 1))).toBe('commit-monotonic');
  });

  it('committed entry durable: a committed entry held by less than a quorum of storages', () => {
    const c = new SafetyChecker(3);
    const withA = arrayLogView([[1, 'a']]);
    const empty = arrayLogView([]);
    c.check([live(1, 1, withA, 1, true), live(2, 1, withA, 0), live(3, 1, empty, 0)]);
    const crashed = (id: number, log: LogView): NodeView => ({ id, durable: { log } });
    expect(invariantOf(() => c.check([live(1, 1, withA, 1, true), crashed(2, empty), live(3, 1, empty, 0)]))).toBe(
      'committed-entry-durable',
    );
  });

  it('accepts a correct history, including compacted prefixes', () => {
    const c = new SafetyChecker(3);
    const full = arrayLogView([[1, 'a'], [1, 'b'], [2, 'c']]);
    const compacted = arrayLogView([[2, 'c']], 3, 1);
    expect(
      invariantOf(() => c.check([live(1, 2, full, 3, true), live(2, 2, compacted, 3), live(3, 2, arrayLogView([[1, 'a']]), 1)])),
    ).toBe('none');
  });
});
