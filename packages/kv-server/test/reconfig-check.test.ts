/**
 * etcd's strict reconfiguration check as pure functions. The cases are those a real etcd 3.4.23
 * answered (reconfig-check.etcd.test.ts runs them on processes): a member added but never
 * started, a stopped member, a member up for less than 5 s.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { helpText, parseCommandLine } from '../src/cli/index.js';
import { CommandLineError } from '../src/errors.js';
import { EtcdError } from '../src/etcd-errors.js';
import { checkAddMember, checkPromoteMember, checkRemoveMember, HEALTH_INTERVAL_MS, type ReconfigView } from '../src/server/reconfig-check.js';

const NOT_ENOUGH_STARTED = 'MemberNotEnoughStarted';
const UNHEALTHY = 'Unhealthy';
const UP = HEALTH_INTERVAL_MS + 1;

/** Which etcd error `fn` throws, by name; undefined if it passes. */
function refusal(fn: () => void): string | undefined {
  try {
    fn();
    return undefined;
  } catch (err) {
    if (err instanceof EtcdError) return err.etcdName;
    throw err;
  }
}

function view(v: Partial<ReconfigView> & Pick<ReconfigView, 'voters'>): ReconfigView {
  return { viewer: 1, learners: [], started: new Set(v.voters), contactMs: {}, ...v };
}

/** Three started voters, 1 viewing, 2 and 3 in contact for `ms2` and `ms3` (undefined: out of contact). */
function three(ms2: number | undefined, ms3: number | undefined, extra: Partial<ReconfigView> = {}): ReconfigView {
  const contactMs: Record<number, number> = {};
  if (ms2 !== undefined) contactMs[2] = ms2;
  if (ms3 !== undefined) contactMs[3] = ms3;
  return view({ voters: [1, 2, 3], contactMs, ...extra });
}

describe('checkAddMember', () => {
  it('adds to a healthy cluster; refuses any add (a learner too) while a voter is down or up for less than 5 s', () => {
    expect(refusal(() => checkAddMember(three(UP, UP), false))).toBeUndefined();
    expect(refusal(() => checkAddMember(three(UP, UP), true))).toBeUndefined();
    for (const learner of [false, true]) {
      expect(refusal(() => checkAddMember(three(UP, undefined), learner))).toBe(UNHEALTHY);
      expect(refusal(() => checkAddMember(three(undefined, undefined), learner))).toBe(UNHEALTHY);
      // etcd's isConnectedSince: connected strictly longer than HealthInterval.
      expect(refusal(() => checkAddMember(three(UP, HEALTH_INTERVAL_MS), learner))).toBe(UNHEALTHY);
      expect(refusal(() => checkAddMember(three(UP, 0), learner))).toBe(UNHEALTHY);
    }
  });

  it('refuses a voter while an added member has not started (Unhealthy: it is not connected either)', () => {
    const added = view({ voters: [1, 2, 3, 4], started: new Set([1, 2, 3]), contactMs: { 2: UP, 3: UP } });
    expect(refusal(() => checkAddMember(added, false))).toBe(UNHEALTHY);
    expect(refusal(() => checkAddMember(added, true))).toBe(UNHEALTHY);
  });

  it('one member: grows to two (etcd\'s restore procedure), then refuses another voter as not enough started', () => {
    expect(refusal(() => checkAddMember(view({ voters: [1] }), false))).toBeUndefined();
    const grown = view({ voters: [1, 4], started: new Set([1]) });
    expect(refusal(() => checkAddMember(grown, false))).toBe(NOT_ENOUGH_STARTED);
    // A learner is not counted: what refuses it is the unstarted voter being out of contact.
    expect(refusal(() => checkAddMember(grown, true))).toBe(UNHEALTHY);
  });
});

describe('checkRemoveMember', () => {
  it('removes a stopped voter, refuses a running one when the rest connected would be no quorum', () => {
    expect(refusal(() => checkRemoveMember(three(UP, UP), 2))).toBeUndefined();
    expect(refusal(() => checkRemoveMember(three(UP, UP), 1))).toBeUndefined();
    // 3 is stopped: removing it is safe, removing 2 or the viewer would leave one connected of two.
    expect(refusal(() => checkRemoveMember(three(UP, undefined), 3))).toBeUndefined();
    expect(refusal(() => checkRemoveMember(three(UP, undefined), 2))).toBe(UNHEALTHY);
    expect(refusal(() => checkRemoveMember(three(UP, undefined), 1))).toBe(UNHEALTHY);
    expect(refusal(() => checkRemoveMember(three(undefined, undefined), 1))).toBe(UNHEALTHY);
    // In contact, but for less than 5 s: it counts as removable-with-a-check, and not as connected.
    expect(refusal(() => checkRemoveMember(three(UP, 10), 2))).toBe(UNHEALTHY);
  });

  it('refuses a removal that leaves fewer started voters than a quorum', () => {
    const grown = view({ voters: [1, 4], started: new Set([1]) });
    expect(refusal(() => checkRemoveMember(grown, 1))).toBe(NOT_ENOUGH_STARTED);
    expect(refusal(() => checkRemoveMember(grown, 4))).toBeUndefined();
    expect(refusal(() => checkRemoveMember(view({ voters: [1] }), 1))).toBe(NOT_ENOUGH_STARTED);
    // Five voters, two never started: removing a started one leaves 2 started of 4.
    const five = view({ voters: [1, 2, 3, 4, 5], started: new Set([1, 2, 3]), contactMs: { 2: UP, 3: UP } });
    expect(refusal(() => checkRemoveMember(five, 2))).toBe(NOT_ENOUGH_STARTED);
    expect(refusal(() => checkRemoveMember(five, 5))).toBeUndefined();
  });

  it('never checks a learner; an unknown id passes to the not-found answer unless too few started', () => {
    expect(refusal(() => checkRemoveMember(three(undefined, undefined, { learners: [9] }), 9))).toBeUndefined();
    expect(refusal(() => checkRemoveMember(three(undefined, undefined), undefined))).toBeUndefined();
    expect(refusal(() => checkRemoveMember(view({ voters: [1, 4], started: new Set([1]) }), undefined))).toBe(NOT_ENOUGH_STARTED);
  });
});

describe('checkPromoteMember', () => {
  it('counts the learner as started; refuses when the started voters and it are no quorum', () => {
    expect(refusal(() => checkPromoteMember(three(undefined, undefined, { learners: [9] })))).toBeUndefined();
    expect(refusal(() => checkPromoteMember(view({ voters: [1, 2, 3], started: new Set([1]), learners: [9] })))).toBe(NOT_ENOUGH_STARTED);
    expect(refusal(() => checkPromoteMember(view({ voters: [1, 2, 3, 4], started: new Set([1, 2]), learners: [9] })))).toBeUndefined();
  });
});

/** A cluster: voters 1..n (1 views), learners after them, each started or not, in contact or not. */
const cluster = fc
  .record({
    voters: fc.integer({ min: 1, max: 7 }),
    learners: fc.integer({ min: 0, max: 2 }),
    started: fc.array(fc.boolean(), { minLength: 9, maxLength: 9 }),
    contact: fc.array(fc.option(fc.integer({ min: 0, max: 3 * HEALTH_INTERVAL_MS })), { minLength: 9, maxLength: 9 }),
  })
  .map(({ voters, learners, started, contact }) => {
    const ids = Array.from({ length: voters + learners }, (_, i) => i + 1);
    const contactMs: Record<number, number> = {};
    for (const id of ids) if (id !== 1 && contact[id] !== null) contactMs[id] = contact[id]!;
    return {
      viewer: 1,
      voters: ids.slice(0, voters),
      learners: ids.slice(voters),
      started: new Set(ids.filter((id) => id === 1 || started[id])),
      contactMs,
    } satisfies ReconfigView;
  });

describe('properties', () => {
  // A fixed seed that always runs, plus a fresh one each run; fast-check's failure report
  // starts with the seed and path that replay it.
  it.each([['fixed', 20_261_207], ['fresh', Date.now() % 2 ** 31]])('(%s seed %i)', (_kind, seed) => {
    const runs = 500;
    const details = fc.check(
      fc.property(cluster, fc.integer({ min: 1, max: 9 }), (v, target) => {
        const healthy: ReconfigView = {
          ...v,
          started: new Set([...v.voters, ...v.learners]),
          contactMs: Object.fromEntries([...v.voters, ...v.learners].filter((id) => id !== 1).map((id) => [id, UP])),
        };
        // A cluster whose members all run and answer refuses nothing but removing its last voter.
        expect(refusal(() => checkAddMember(healthy, false))).toBeUndefined();
        expect(refusal(() => checkAddMember(healthy, true))).toBeUndefined();
        expect(refusal(() => checkPromoteMember(healthy))).toBeUndefined();
        if (v.voters.length > 1) expect(refusal(() => checkRemoveMember(healthy, target))).toBeUndefined();
        // A learner's removal is never checked; adding one never counts started members.
        for (const l of v.learners) expect(refusal(() => checkRemoveMember(v, l))).toBeUndefined();
        expect(refusal(() => checkAddMember(v, true))).not.toBe(NOT_ENOUGH_STARTED);
        // What an accepted voter add leaves: a quorum of started voters (a restore aside), and
        // every voter connected.
        if (refusal(() => checkAddMember(v, false)) === undefined) {
          const started = v.voters.filter((id) => v.started.has(id)).length;
          expect(started >= Math.floor((v.voters.length + 1) / 2) + 1 || (v.voters.length === 1 && started === 1)).toBe(true);
          expect(v.voters.every((id) => id === 1 || (v.contactMs[id] ?? 0) > HEALTH_INTERVAL_MS)).toBe(true);
        }
        // Removing a running voter leaves a quorum of connected voters among the rest.
        if (v.voters.includes(target) && (target === 1 || v.contactMs[target] !== undefined) && refusal(() => checkRemoveMember(v, target)) === undefined) {
          const rest = v.voters.filter((id) => id !== target);
          const connected = rest.filter((id) => id === 1 || (v.contactMs[id] ?? 0) > HEALTH_INTERVAL_MS).length;
          expect(connected).toBeGreaterThanOrEqual(Math.floor(rest.length / 2) + 1);
        }
      }),
      { seed, numRuns: runs },
    );
    if (details.failed) throw new Error(fc.defaultReportMessage(details) ?? `failed with seed ${seed}`);
    expect(details.numRuns).toBe(runs);
  });
});

describe('--strict-reconfig-check on the command line', () => {
  const serve = (argv: readonly string[], env: Record<string, string> = {}) => {
    const parsed = parseCommandLine(argv, env);
    if (parsed.command !== 'serve') throw new Error(`expected serve, got ${parsed.command}`);
    return parsed;
  };

  it('is on by default, off with the flag or ETCD_STRICT_RECONFIG_CHECK, and no longer an ignored flag', () => {
    expect(serve([]).config.strictReconfigCheck).toBe(true);
    const { config, warnings } = serve(['--strict-reconfig-check=false']);
    expect(config.strictReconfigCheck).toBe(false);
    expect(config.ignoredFlags).toEqual([]);
    expect(warnings.join('\n')).not.toContain('strict-reconfig-check');
    // A Go bool flag takes its value after `=` only: the next word is an argument, refused.
    expect(() => serve(['--strict-reconfig-check', 'false'])).toThrow(CommandLineError);
    expect(serve([], { ETCD_STRICT_RECONFIG_CHECK: 'false' }).config.strictReconfigCheck).toBe(false);
    expect(serve(['--strict-reconfig-check']).config.strictReconfigCheck).toBe(true);
    expect(() => serve(['--strict-reconfig-check=maybe'])).toThrow(CommandLineError);
    expect(helpText()).toContain('--strict-reconfig-check');
  });
});
