/**
 * Runs a fault schedule on a SimNetwork, checking every invariant after every step; then heals
 * every fault and checks liveness: a leader is elected and a new proposal is applied everywhere
 * within a bound of ticks.
 */
import { foldNode, formatSchedule, formatStep } from './fault-schedule.js';
import type { Step } from './fault-schedule.js';
import { SafetyViolation } from './safety-checker.js';
import { SimNetwork } from './sim-network.js';
import type { SimOptions } from './sim-network.js';

export interface RunLimits {
  /** Ticks allowed after healing for a leader to be elected and a proposal to be applied. */
  livenessTicks: number;
}

export const defaultRunLimits: RunLimits = { livenessTicks: 300 };

/** What a run did; for statistics over many runs. */
export interface RunStats {
  steps: number;
  /** Terms that had a leader. */
  leaderTerms: number;
  maxTerm: number;
  /** Entries known committed at the end. */
  committed: number;
  /** Ticks the healed cluster needed to apply a new proposal everywhere. */
  livenessTicks: number;
  counts: SimNetwork['counts'];
}

export function applyStep(sim: SimNetwork, s: Step): void {
  const n = sim.opts.nodeCount;
  switch (s.t) {
    case 'tick':
      for (let i = 0; i < s.count; i++) sim.tick(s.node === null ? undefined : foldNode(s.node, n));
      return;
    case 'deliver':
      sim.deliver(s.pick);
      return;
    case 'flush':
      sim.flush(s.shuffle);
      return;
    case 'drop':
      sim.drop(s.pick);
      return;
    case 'duplicate':
      sim.duplicate(s.pick);
      return;
    case 'propose':
      sim.propose(foldNode(s.node, n));
      return;
    case 'campaign':
      sim.campaign(foldNode(s.node, n));
      return;
    case 'transfer':
      sim.transferLeadership(foldNode(s.node, n), foldNode(s.to, n));
      return;
    case 'partition':
      sim.partition(s.side.map((id) => foldNode(id, n)));
      return;
    case 'cut':
      sim.cutLink(foldNode(s.from, n), foldNode(s.to, n));
      return;
    case 'heal':
      healAll(sim);
      return;
    case 'isolate-leader': {
      const leader = sim.currentLeader();
      if (leader !== undefined) sim.partition([leader.id]);
      return;
    }
    case 'crash-leader': {
      const leader = sim.currentLeader();
      if (leader !== undefined) sim.crash(leader.id);
      return;
    }
    case 'crash':
      sim.crash(foldNode(s.node, n));
      return;
    case 'restart':
      sim.restart(foldNode(s.node, n));
      return;
    case 'stall':
      sim.stallDisk(foldNode(s.node, n));
      return;
    case 'unstall':
      sim.unstallDisk(foldNode(s.node, n));
      return;
    case 'compact':
      sim.compact(foldNode(s.node, n), s.keep);
      return;
  }
}

/** Runs `steps`, then the liveness check. Throws SafetyViolation (or a core error) on failure. */
export function runSchedule(opts: SimOptions, steps: readonly Step[], limits: RunLimits = defaultRunLimits): RunStats {
  const sim = new SimNetwork(opts);
  for (let i = 0; i < steps.length; i++) {
    const s = steps[i]!;
    try {
      applyStep(sim, s);
      sim.processReadies();
      sim.check();
    } catch (err) {
      const context = scheduleSoFar(opts, steps, i + 1);
      throw failedAt(sim.explain(err, `step ${i}: ${formatStep(s, opts.nodeCount)}`, context), i);
    }
  }
  let livenessTicks: number;
  try {
    livenessTicks = checkLiveness(sim, limits.livenessTicks);
  } catch (err) {
    const context = scheduleSoFar(opts, steps, steps.length);
    throw failedAt(sim.explain(err, 'liveness phase (all faults healed)', context), steps.length - 1);
  }
  return {
    steps: steps.length,
    leaderTerms: sim.checker.leaders.size,
    maxTerm: sim.checker.maxTerm,
    committed: sim.checker.committedEntries().size,
    livenessTicks,
    counts: { ...sim.counts },
  };
}

const failureStep = new WeakMap<Error, number>();

function failedAt(err: Error, step: number): Error {
  failureStep.set(err, step);
  return err;
}

/**
 * The index of the last step a failed run needed (the step that broke an invariant, or the last
 * one when liveness failed): the steps after it can be cut before shrinking.
 */
export function failedStep(err: unknown): number | undefined {
  return err instanceof Error ? failureStep.get(err) : undefined;
}

function scheduleSoFar(opts: SimOptions, steps: readonly Step[], upTo: number): string {
  const o = { ...opts, maxSizePerMsg: String(opts.maxSizePerMsg), compactEvery: String(opts.compactEvery) };
  return (
    `options: ${JSON.stringify(o)}\n` +
    `schedule (node ids folded onto ${opts.nodeCount} nodes):\n${formatSchedule(steps.slice(0, upTo), opts.nodeCount)}`
  );
}

/** Heals every fault: links, crashed nodes, stalled disks. */
export function healAll(sim: SimNetwork): void {
  sim.healNetwork();
  for (const n of sim.nodes) {
    if (!n.up) sim.restart(n.id);
    sim.unstallDisk(n.id);
  }
}

/**
 * After healing, with a network that delivers everything: within `bound` ticks a leader must be
 * elected and a command proposed to it applied by every node. A proposal can still be lost (its
 * leader deposed before replicating it), so one is re-proposed after an election timeout.
 */
export function checkLiveness(sim: SimNetwork, bound: number): number {
  healAll(sim);
  sim.processReadies();
  sim.check();
  const markers: string[] = [];
  let proposedAt = -Infinity;
  const retryAfter = 2 * sim.opts.electionTick;
  for (let tick = 1; tick <= bound; tick++) {
    sim.tick();
    sim.processReadies();
    for (let round = 0; sim.inFlight.length > 0 && round < 50; round++) {
      sim.flush();
      sim.processReadies();
    }
    sim.check();
    if (markers.some((m) => sim.nodes.every((n) => n.sm.has(m)))) return tick;
    if (tick - proposedAt >= retryAfter) {
      const leader = sim.currentLeader();
      if (leader !== undefined) {
        const marker = sim.propose(leader.id, `liveness-${tick}`);
        if (marker !== undefined) {
          markers.push(marker);
          proposedAt = tick;
        }
      }
    }
  }
  throw new SafetyViolation(
    'liveness',
    `no leader got a proposal applied on every node within ${bound} ticks after healing ` +
      `(leaders: ${sim.leaders().map((n) => n.id).join(',') || 'none'}, proposed: ${markers.join(',') || 'nothing'})`,
  );
}
