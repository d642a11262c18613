/**
 * Membership changes: etcd's confchange scenario files (semantics of confchange/
 * datadriven_test.go), and confchange/quick_test.go and restore_test.go as properties.
 */

import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { confStateEquivalent } from '../src/conf-change.js';
import { confChangesFromString } from './support/conf-change-text.js';
import { Changer, type ChangeResult, describeConfChanges } from '../src/confchange/changer.js';
import { restore } from '../src/confchange/restore.js';
import { ConfChangeError } from '../src/errors.js';
import { type ProgressMap } from '../src/tracker/progress.js';
import { ProgressTracker, type TrackerConfig } from '../src/tracker/progress-tracker.js';
import { type ConfChangeSingle, ConfChangeType, type ConfState } from '../src/types.js';
import { confChangeHandler, type ConfChangeStats } from './conformance/confchange-handler.js';
import { describeMismatch, runDatadrivenFile, runDatadrivenText } from './conformance/datadriven.js';
import { suiteFiles } from './conformance/suites.js';

const DATA_DIR = fileURLToPath(new URL('../../../../shared/conformance/etcd-raft/confchange', import.meta.url));

/** Installs a change result into the tracker, as raft does when it applies a conf change. */
function install(tr: ProgressTracker, [cfg, trk]: ChangeResult): void {
  tr.config = cfg;
  tr.progress = trk;
}

// The handler is the conformance suite's: conformance/confchange-handler.ts.
describe('confchange conformance (etcd-raft/confchange)', () => {
  const files = suiteFiles(DATA_DIR);

  it('finds the scenario files', () => {
    expect(files.length).toBeGreaterThan(0);
  });

  for (const file of files) {
    it(basename(file), () => {
      const stats: ConfChangeStats = { refused: 0, sameWording: 0 };
      const results = runDatadrivenFile(file, confChangeHandler(stats));
      const failed = results.filter((r) => !r.ok);
      console.log(
        `confchange/${basename(file)}: ${results.length - failed.length}/${results.length} cases passed ` +
          `(${stats.refused} refused changes, ${stats.sameWording} worded as etcd)`,
      );
      expect(failed.map((r) => describeMismatch(r)).join('\n\n')).toBe('');
      expect(results.length).toBeGreaterThan(0);
    });
  }
});

describe('confchange scenario handler: errors', () => {
  const run = (text: string): { ok: boolean[]; stats: ConfChangeStats } => {
    const stats: ConfChangeStats = { refused: 0, sameWording: 0 };
    const ok = runDatadrivenText(text, 'synthetic', confChangeHandler(stats)).map((r) => r.ok);
    return { ok, stats };
  };
  const voter1 = 'simple\nv1\n----\nvoters=(1)\n1: StateProbe match=0 next=1\n\n';

  it('passes a refused change worded as etcd', () => {
    expect(run(`${voter1}simple\nr1\n----\nremoved all voters\n`)).toEqual({
      ok: [true, true],
      stats: { refused: 1, sameWording: 1 },
    });
  });

  it('passes a refused change in other words: same kind of error (ConfChangeError)', () => {
    expect(run(`${voter1}simple\nr1\n----\ncannot remove the last voter\n`)).toEqual({
      ok: [true, true],
      stats: { refused: 1, sameWording: 0 },
    });
  });

  it('fails a change etcd refused but we applied', () => {
    expect(run(`${voter1}simple\nv2\n----\nsome etcd error\n`).ok).toEqual([true, false]);
  });

  it('fails a change we refused but etcd applied', () => {
    const ok = run(`${voter1}simple\nr1\n----\nvoters=()\n`).ok;
    expect(ok).toEqual([true, false]);
  });

  it('takes only a one-line output for an error', () => {
    // Refused (removed all voters), while the expected output has two lines: not an etcd error.
    const ok = run(`${voter1}simple\nr1\n----\nremoved all voters\nand more\n`).ok;
    expect(ok).toEqual([true, false]);
  });
});

describe('confchange errors', () => {
  const setup = (ops: string): ProgressTracker => {
    const tr = new ProgressTracker(10, 0);
    for (const cc of confChangesFromString(ops)) install(tr, new Changer(tr, 1).simple(cc));
    return tr;
  };
  const fails = (f: () => unknown, msg: string): void => {
    expect(f).toThrow(ConfChangeError);
    expect(f).toThrow(msg);
  };

  it('uses etcd wording for refused changes', () => {
    const tr = setup('v1 v2 v3');
    fails(() => new Changer(tr, 5).simple(...confChangesFromString('v4 v5')), 'more than one voter changed without entering joint config');
    fails(() => new Changer(tr, 5).simple(...confChangesFromString('r1 r2 r3')), 'removed all voters');
    fails(() => new Changer(tr, 5).leaveJoint(), "can't leave a non-joint config");
    fails(() => new Changer(new ProgressTracker(10, 0), 5).enterJoint(false), "can't make a zero-voter config joint");
    install(tr, new Changer(tr, 5).enterJoint(true, ...confChangesFromString('v4 r1')));
    fails(() => new Changer(tr, 6).enterJoint(false), 'config is already joint');
    fails(() => new Changer(tr, 6).simple(...confChangesFromString('v5')), "can't apply simple config change in joint config");
    fails(
      () => new Changer(tr, 6).simple({ type: 9 as ConfChangeType, nodeId: 5 }),
      "can't apply simple config change in joint config",
    );
    const tr2 = setup('v1');
    fails(() => new Changer(tr2, 6).simple({ type: 9 as ConfChangeType, nodeId: 5 }), 'unexpected conf type 9');
  });

  it('never modifies the tracker it is given', () => {
    const tr = setup('v1 v2 l3');
    const before = snapshot(tr);
    const prs = [...tr.progress.values()];
    new Changer(tr, 10).simple(...confChangesFromString('v3 u1 l1 v1'));
    new Changer(tr, 10).enterJoint(true, ...confChangesFromString('r1 r2 v4 l1'));
    expect(() => new Changer(tr, 10).simple(...confChangesFromString('r1 r2'))).toThrow(ConfChangeError);
    expect(snapshot(tr)).toEqual(before);
    expect([...tr.progress.values()]).toEqual(prs);
    restore(new Changer(tr, 10), { voters: [1], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false });
    expect(snapshot(tr)).toEqual(before);
  });

  it('refuses invalid trackers', () => {
    const tr = setup('v1 v2');
    tr.progress.delete(2);
    fails(() => new Changer(tr, 1).simple(), 'no progress for 2');
  });

  it('describes changes as etcd does', () => {
    expect(describeConfChanges(confChangesFromString('v1 l2 r3 u4'))).toBe(
      'ConfChangeAddNode(1) ConfChangeAddLearnerNode(2) ConfChangeRemoveNode(3) ConfChangeUpdateNode(4)',
    );
  });
});

/** Everything a Changer's result consists of, in a form toEqual compares exactly. */
function snapshotOf(cfg: TrackerConfig, trk: ProgressMap): unknown {
  return {
    incoming: cfg.voters.incoming.slice(),
    outgoing: cfg.voters.outgoing.slice(),
    learners: cfg.learners === null ? null : [...cfg.learners].sort((a, b) => a - b),
    learnersNext: cfg.learnersNext === null ? null : [...cfg.learnersNext].sort((a, b) => a - b),
    autoLeave: cfg.autoLeave,
    progress: [...trk.entries()]
      .sort(([a], [b]) => a - b)
      .map(([id, pr]) => ({
        id,
        match: pr.match,
        next: pr.next,
        sentCommit: pr.sentCommit,
        state: pr.state,
        pendingSnapshot: pr.pendingSnapshot,
        recentActive: pr.recentActive,
        msgAppFlowPaused: pr.msgAppFlowPaused,
        isLearner: pr.isLearner,
        inflights: pr.inflights.debugState(),
        inflightLimits: [pr.inflights.size, pr.inflights.maxBytes],
      })),
  };
}

function snapshot(tr: ProgressTracker): unknown {
  return snapshotOf(tr.config, tr.progress);
}

/** Random changes: 1 to 9 of any type, on nodes 2 to 10 (node 1 stays a voter throughout). */
const confChanges = fc.array(
  fc.record({
    type: fc.constantFrom(
      ConfChangeType.ConfChangeAddNode,
      ConfChangeType.ConfChangeRemoveNode,
      ConfChangeType.ConfChangeUpdateNode,
      ConfChangeType.ConfChangeAddLearnerNode,
    ),
    nodeId: fc.integer({ min: 2, max: 10 }),
  }),
  { minLength: 1, maxLength: 9 },
);

/** An initial configuration: voter 1, then 1 to 5 more voters among 1..5. */
const initialChanges = fc
  .array(fc.integer({ min: 1, max: 5 }), { minLength: 1, maxLength: 5 })
  .map((ids): ConfChangeSingle[] => [
    { type: ConfChangeType.ConfChangeAddNode, nodeId: 1 },
    ...ids.map((nodeId) => ({ type: ConfChangeType.ConfChangeAddNode, nodeId })),
  ]);

function runWithSimple(tr: ProgressTracker, ccs: readonly ConfChangeSingle[]): void {
  for (const cc of ccs) install(tr, new Changer(tr, 10).simple(cc));
}

function runWithJoint(tr: ProgressTracker, ccs: readonly ConfChangeSingle[]): void {
  const c = new Changer(tr, 10);
  const [cfg, trk] = c.enterJoint(false, ...ccs);
  // With autoLeave the result must be the same but for the flag.
  const [cfg2a, trk2a] = c.enterJoint(true, ...ccs);
  expect(cfg2a.autoLeave).toBe(true);
  cfg2a.autoLeave = false;
  expect(snapshotOf(cfg2a, trk2a)).toEqual(snapshotOf(cfg, trk));
  install(tr, [cfg2a, trk2a]);
  const [cfg2b, trk2b] = new Changer(tr, 10).leaveJoint();
  install(tr, [cfg, trk]);
  const left = new Changer(tr, 10).leaveJoint();
  expect(snapshotOf(...left)).toEqual(snapshotOf(cfg2b, trk2b));
  install(tr, left);
}

describe('confchange properties (etcd confchange/quick_test.go, restore_test.go)', () => {
  it('simple and joint changes arrive at the same configuration', () => {
    fc.assert(
      fc.property(initialChanges, confChanges, (setup, ccs) => {
        const viaSimple = new ProgressTracker(10, 0);
        runWithSimple(viaSimple, setup);
        runWithSimple(viaSimple, ccs);
        const viaJoint = new ProgressTracker(10, 0);
        runWithSimple(viaJoint, setup);
        runWithJoint(viaJoint, ccs);
        expect(snapshot(viaJoint), `setup: ${describeConfChanges(setup)}\nccs: ${describeConfChanges(ccs)}`).toEqual(
          snapshot(viaSimple),
        );
      }),
      { seed: 1000, numRuns: 1000 },
    );
  });

  /** A random valid ConfState, as etcd's rndConfChange generates them (never the empty one). */
  const confState: fc.Arbitrary<ConfState> = fc
    .record({
      nVoters: fc.integer({ min: 1, max: 5 }),
      nLearners: fc.integer({ min: 0, max: 4 }),
      nRemovedVoters: fc.integer({ min: 0, max: 2 }),
    })
    .chain(({ nVoters, nLearners, nRemovedVoters }) => {
      const total = 2 * (nVoters + nLearners + nRemovedVoters);
      const all = Array.from({ length: total }, (_, i) => i + 1);
      return fc.record({
        ids: fc.shuffledSubarray(all, { minLength: total, maxLength: total }),
        nVoters: fc.constant(nVoters),
        nLearners: fc.constant(nLearners),
        nRemovedVoters: fc.constant(nRemovedVoters),
        nOutgoingRetainedVoters: fc.integer({ min: 0, max: nVoters }),
        nLearnersNext: fc.integer({ min: 0, max: nRemovedVoters }),
        autoLeave: fc.boolean(),
      });
    })
    .map((g) => {
      let ids = g.ids;
      const voters = ids.slice(0, g.nVoters);
      ids = ids.slice(g.nVoters);
      const learners = ids.slice(0, g.nLearners);
      ids = ids.slice(g.nLearners);
      // Some incoming voters were voters before, plus the ones being removed.
      const votersOutgoing =
        g.nOutgoingRetainedVoters > 0 || g.nRemovedVoters > 0
          ? [...voters.slice(0, g.nOutgoingRetainedVoters), ...ids.slice(0, g.nRemovedVoters)]
          : [];
      // Only removed voters can be demoted to learners on leaving joint.
      const learnersNext = g.nRemovedVoters > 0 ? ids.slice(0, g.nLearnersNext) : [];
      return { voters, learners, votersOutgoing, learnersNext, autoLeave: votersOutgoing.length > 0 && g.autoLeave };
    });

  const restores = (cs: ConfState): void => {
    const tr = new ProgressTracker(20, 0);
    install(tr, restore(new Changer(tr, 10), cs));
    const sorted: ConfState = {
      voters: [...cs.voters].sort((a, b) => a - b),
      learners: [...cs.learners].sort((a, b) => a - b),
      votersOutgoing: [...cs.votersOutgoing].sort((a, b) => a - b),
      learnersNext: [...cs.learnersNext].sort((a, b) => a - b),
      autoLeave: cs.autoLeave,
    };
    const cs2 = tr.confState();
    expect(cs2).toEqual(sorted);
    expect(confStateEquivalent(cs, cs2)).toBeUndefined();
    expect(confStateEquivalent(cs2, cs)).toBeUndefined();
  };

  it('restore enacts the ConfState (unit cases)', () => {
    const cs = (v: number[], l: number[] = [], vo: number[] = [], ln: number[] = [], autoLeave = false): ConfState => ({
      voters: v,
      learners: l,
      votersOutgoing: vo,
      learnersNext: ln,
      autoLeave,
    });
    restores(cs([]));
    restores(cs([1, 2, 3]));
    restores(cs([1, 2, 3], [4, 5, 6]));
    restores(cs([1, 2, 3], [5], [1, 2, 4, 6], [4]));
    restores(cs([3, 1, 2], [5], [6, 4, 2, 1], [4], true));
  });

  it('restore enacts any valid ConfState', () => {
    fc.assert(fc.property(confState, restores), { seed: 2019, numRuns: 1000 });
  });

  it('restore refuses an invalid ConfState', () => {
    const tr = new ProgressTracker(20, 0);
    // Learners without voters.
    expect(() =>
      restore(new Changer(tr, 10), { voters: [], learners: [2], votersOutgoing: [], learnersNext: [], autoLeave: false }),
    ).toThrow('removed all voters');
    // Entering joint consensus from nothing.
    expect(() =>
      restore(new Changer(tr, 10), { voters: [], learners: [], votersOutgoing: [], learnersNext: [1], autoLeave: false }),
    ).toThrow(ConfChangeError);
  });
});
