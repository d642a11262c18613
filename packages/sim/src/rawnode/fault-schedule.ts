/**
 * Fault schedules: what happens to a simulated cluster, step by step, as plain data that
 * fast-check generates and shrinks. Node ids are drawn from 1..15 and folded onto the cluster's
 * size, and message choices are indices folded onto what is in flight, so that removing one
 * step leaves the others meaningful: that is what lets a failure shrink to a short schedule.
 */
import fc from 'fast-check';
import type { SimOptions } from './sim-network.js';
import { defaultSimOptions } from './sim-network.js';

export type Step =
  /** Ticks every node that is up (or only `node`: uneven clocks), `count` times. */
  | { t: 'tick'; node: number | null; count: number }
  /** Delivers one in-flight message, chosen by `pick`: reordering and delay. */
  | { t: 'deliver'; pick: number }
  /** Delivers everything in flight, in send order (shuffle 0) or shuffled. */
  | { t: 'flush'; shuffle: number }
  /** Loses one in-flight message. */
  | { t: 'drop'; pick: number }
  /** Sends one in-flight message a second time. */
  | { t: 'duplicate'; pick: number }
  | { t: 'propose'; node: number }
  | { t: 'campaign'; node: number }
  | { t: 'transfer'; node: number; to: number }
  /** Cuts `side` off from the rest, both ways. */
  | { t: 'partition'; side: number[] }
  /** Cuts the current leader (of the highest term) off from everyone: Figure 8's trigger. */
  | { t: 'isolate-leader' }
  /** Crashes the current leader (of the highest term). */
  | { t: 'crash-leader' }
  /** Cuts one direction of one link. */
  | { t: 'cut'; from: number; to: number }
  /** Ends every fault: restores every link, restarts crashed nodes, unstalls disks. */
  | { t: 'heal' }
  | { t: 'crash'; node: number }
  /** Restarts a node from its storage (crashing it first if it is up). */
  | { t: 'restart'; node: number }
  /**
   * The node's disk stops completing writes until unstalled or crashed: it takes no Ready (with
   * asyncStorageWrites, its append thread stops).
   */
  | { t: 'stall'; node: number }
  | { t: 'unstall'; node: number }
  /** Snapshots the node's state machine `keep` entries back from applied and compacts. */
  | { t: 'compact'; node: number; keep: number };

// 15 folds evenly onto both 3 and 5 nodes.
const nodeArb = fc.integer({ min: 1, max: 15 });
const pickArb = fc.nat({ max: 63 });

/**
 * One step. Steps that make progress (time, delivery, proposals, compaction) keep their weights;
 * faults get `faultWeight` times theirs, so that calm runs (1) build long logs and leaders that
 * last, and stormy runs (4) change leaders often over divergent logs.
 */
export function stepArb(faultWeight: number): fc.Arbitrary<Step> {
  const f = (w: number): number => w * faultWeight;
  const step = (weight: number, arbitrary: fc.Arbitrary<Step>) => ({ weight, arbitrary });
  const t = <T extends Step['t']>(name: T) => fc.constant(name);
  const count = fc.integer({ min: 1, max: 4 });
  return fc.oneof(
    step(80, fc.record({ t: t('tick'), node: fc.constant(null), count })),
    step(f(2), fc.record({ t: t('tick'), node: nodeArb, count })),
    step(40, fc.record({ t: t('deliver'), pick: pickArb })),
    step(80, fc.record({ t: t('flush'), shuffle: fc.oneof(fc.constant(0), fc.nat({ max: 1000 })) })),
    step(60, fc.record({ t: t('propose'), node: nodeArb })),
    step(24, fc.record({ t: t('compact'), node: nodeArb, keep: fc.integer({ min: 0, max: 3 }) })),
    step(f(3), fc.record({ t: t('drop'), pick: pickArb })),
    step(f(2), fc.record({ t: t('duplicate'), pick: pickArb })),
    step(f(1), fc.record({ t: t('campaign'), node: nodeArb })),
    step(f(1), fc.record({ t: t('transfer'), node: nodeArb, to: nodeArb })),
    step(f(2), fc.record({ t: t('partition'), side: fc.uniqueArray(nodeArb, { minLength: 1, maxLength: 2 }) })),
    step(f(1), fc.record({ t: t('cut'), from: nodeArb, to: nodeArb })),
    step(f(2), fc.record({ t: t('isolate-leader') })),
    step(f(2), fc.record({ t: t('crash-leader') })),
    // Healing is not scaled down: faults stay transient in calm runs too.
    step(16, fc.record({ t: t('heal') })),
    step(f(1), fc.record({ t: t('crash'), node: nodeArb })),
    step(f(3), fc.record({ t: t('restart'), node: nodeArb })),
    step(f(1), fc.record({ t: t('stall'), node: nodeArb })),
    step(12, fc.record({ t: t('unstall'), node: nodeArb })),
  );
}

/** A schedule of up to `maxSteps` steps, calm or stormy. */
export function scheduleArb(maxSteps: number): fc.Arbitrary<Step[]> {
  const schedule = (faultWeight: number): fc.Arbitrary<Step[]> =>
    fc.array(stepArb(faultWeight), { minLength: 1, maxLength: maxSteps, size: 'max' });
  return fc.oneof(schedule(1), schedule(4));
}

/** The cluster set-up of a run: size, PreVote/CheckQuorum, flow control, restart model. */
export const simOptionsArb: fc.Arbitrary<SimOptions> = fc
  .record({
    nodeCount: fc.constantFrom(3, 5),
    preVote: fc.boolean(),
    checkQuorum: fc.boolean(),
    // Not shrunk: a different seed is a different run, not a simpler one.
    seed: fc.noShrink(fc.integer({ min: 1, max: 0x7fffffff })),
    init: fc.constantFrom('bootstrap' as const, 'conf-state' as const),
    restart: fc.constantFrom('replay' as const, 'durable' as const),
    asyncStorageWrites: fc.boolean(),
    // Small messages and a tiny inflight window exercise flow control and probing. 1 byte means
    // one entry per append (and per Ready's committed entries): acks then cover old-term entries
    // without the new leader's entry, the Figure 8 situation. (Not 0, which should mean the same
    // but makes the core throw on the first commit: maxCommittedSizePerReady resolves to 0.)
    maxSizePerMsg: fc.constantFrom(Infinity, 64, 1),
    maxInflightMsgs: fc.constantFrom(256, 2),
    compactEvery: fc.constantFrom(Infinity, 3, 12),
  })
  .map((o) => ({ ...defaultSimOptions, ...o }));

/** A node id from the schedule folded onto a cluster of `n` nodes. */
export function foldNode(id: number, n: number): number {
  return ((id - 1) % n) + 1;
}

/** One step as a short line of text, with node ids folded onto a cluster of `n` nodes. */
export function formatStep(s: Step, n = 15): string {
  const id = (x: number): number => foldNode(x, n);
  switch (s.t) {
    case 'tick':
      return `tick ${s.node === null ? 'all' : `node ${id(s.node)}`} x${s.count}`;
    case 'deliver':
    case 'drop':
    case 'duplicate':
      return `${s.t} #${s.pick}`;
    case 'flush':
      return s.shuffle === 0 ? 'flush' : `flush shuffled(${s.shuffle})`;
    case 'propose':
    case 'campaign':
    case 'crash':
    case 'restart':
    case 'stall':
    case 'unstall':
      return `${s.t} ${id(s.node)}`;
    case 'transfer':
      return `transfer ${id(s.node)} -> ${id(s.to)}`;
    case 'partition':
      return `partition [${[...new Set(s.side.map(id))].join(',')}]`;
    case 'cut':
      return `cut ${id(s.from)} -> ${id(s.to)}`;
    case 'heal':
    case 'isolate-leader':
    case 'crash-leader':
      return s.t;
    case 'compact':
      return `compact ${id(s.node)} keep ${s.keep}`;
  }
}

/** A schedule as numbered lines, node ids folded onto a cluster of `n` nodes. */
export function formatSchedule(steps: readonly Step[], n = 15): string {
  return steps.map((s, i) => `${String(i).padStart(3)}: ${formatStep(s, n)}`).join('\n');
}
