/**
 * Many runs, one seed each, and what to do with a failure: shrink its schedule to a minimal
 * one that still fails, and replay it with a trace.
 */
import type { StateMachine } from '@pontoon/raft';
import { LEASE_CLOCK_DRIFT, scheduleForSeed } from '../faults/arbitraries.js';
import type { FaultOptions } from '../faults/arbitraries.js';
import type { Fault, FaultSchedule } from '../faults/schedule.js';
import { formatSchedule } from '../faults/schedule.js';
import type { SimulationConfig, SimulationResult } from './simulation.js';
import { simulate } from './simulation.js';

/** The fault options a config draws its schedules with (lease reads: clocks within LEASE_CLOCK_DRIFT of the true rate). */
export function faultOptionsOf<SM extends StateMachine, I, O, S>(config: SimulationConfig<SM, I, O, S>): FaultOptions {
  const r = config.raft;
  const base: FaultOptions = { electionTimeoutMs: (r?.tickMs ?? 10) * (r?.electionTicks ?? 10), ...config.faults };
  if (base.maxClockDrift !== undefined || config.raft?.leaseBasedReads !== true) return base;
  return { ...base, maxClockDrift: LEASE_CLOCK_DRIFT };
}

/** The schedule a config runs for `seed` when none is given. */
export function scheduleOf<SM extends StateMachine, I, O, S>(config: SimulationConfig<SM, I, O, S>, seed: number): FaultSchedule {
  return scheduleForSeed(seed, config.nodes ?? 3, faultOptionsOf(config));
}

/** A failure, shrunk. */
export interface Failure<I, O> {
  seed: number;
  /** The schedule the seed drew. */
  schedule: FaultSchedule;
  /** The smallest schedule found that still fails with the same seed. */
  shrunk: FaultSchedule;
  /** The result of the run with the shrunk schedule. */
  result: SimulationResult<I, O>;
  /** Runs the shrinking took. */
  shrinkRuns: number;
}

/** What explore() found. */
export interface ExploreReport<I, O> {
  runs: number;
  passed: number;
  /** Runs whose linearizability check spent its step budget (each also a failure). */
  inconclusive: number;
  failures: Failure<I, O>[];
  virtualMs: number;
  wallMs: number;
}

export interface ExploreOptions<I, O> {
  runs: number;
  /** The first run's seed; run k uses seed + k. Default 1. */
  seed?: number;
  /** Shrink failures (default true). */
  shrink?: boolean;
  /** Stop at the first failure (default false). */
  stopOnFailure?: boolean;
  /** Called after every run. */
  onRun?: (result: SimulationResult<I, O>, index: number) => void;
}

/** Runs `runs` seeds, each with the schedule it draws; shrinks each failure. */
export async function explore<SM extends StateMachine, I, O, S>(
  config: SimulationConfig<SM, I, O, S>,
  options: ExploreOptions<I, O>,
): Promise<ExploreReport<I, O>> {
  const start = performance.now();
  const base = options.seed ?? 1;
  const report: ExploreReport<I, O> = { runs: 0, passed: 0, inconclusive: 0, failures: [], virtualMs: 0, wallMs: 0 };
  for (let k = 0; k < options.runs; k++) {
    const seed = base + k;
    const schedule = scheduleOf(config, seed);
    const result = await simulate(config, seed, schedule);
    report.runs++;
    report.virtualMs += result.stats.virtualMs;
    if (result.linearizability === 'unknown') report.inconclusive++;
    options.onRun?.(result, k);
    if (result.ok) {
      report.passed++;
      continue;
    }
    if (options.shrink === false) {
      report.failures.push({ seed, schedule, shrunk: schedule, result, shrinkRuns: 0 });
    } else {
      const s = await shrink(config, seed, schedule);
      report.failures.push({ seed, schedule, shrunk: s.schedule, result: s.result, shrinkRuns: s.runs });
    }
    if (options.stopOnFailure === true) break;
  }
  report.wallMs = performance.now() - start;
  return report;
}

/**
 * Shrinks a failing schedule, keeping the seed: drops faults while the run still fails, then
 * halves durations. Greedy (each step keeps the first smaller schedule that fails), bounded by
 * `maxRuns` simulations.
 */
export async function shrink<SM extends StateMachine, I, O, S>(
  config: SimulationConfig<SM, I, O, S>,
  seed: number,
  schedule: FaultSchedule,
  maxRuns = 80,
): Promise<{ schedule: FaultSchedule; result: SimulationResult<I, O>; runs: number }> {
  let best = schedule;
  let bestResult = await simulate(config, seed, schedule);
  let runs = 1;
  if (bestResult.ok) return { schedule, result: bestResult, runs };
  const attempt = async (candidate: FaultSchedule): Promise<boolean> => {
    if (runs >= maxRuns) return false;
    runs++;
    const r = await simulate(config, seed, candidate);
    if (r.ok) return false;
    best = candidate;
    bestResult = r;
    return true;
  };
  let progress = true;
  while (progress && runs < maxRuns) {
    progress = false;
    for (let i = best.faults.length - 1; i >= 0; i--) {
      if (await attempt({ faults: best.faults.filter((_, j) => j !== i) })) progress = true;
    }
    for (let i = 0; i < best.faults.length; i++) {
      const f = best.faults[i]!;
      const shorter = halve(f);
      if (shorter === undefined) continue;
      if (await attempt({ faults: best.faults.map((g, j) => (j === i ? shorter : g)) })) progress = true;
    }
  }
  return { schedule: best, result: bestResult, runs };
}

function halve(f: Fault): Fault | undefined {
  if (f.kind === 'crash' || f.kind === 'powerLoss') return f.downMs >= 20 ? { ...f, downMs: Math.floor(f.downMs / 2) } : undefined;
  return f.durationMs >= 20 ? { ...f, durationMs: Math.floor(f.durationMs / 2) } : undefined;
}

/**
 * Runs `seed` again (with `schedule`, or the one the seed draws) and records a trace of it:
 * the same seed and schedule give the same run, step for step.
 */
export function replay<SM extends StateMachine, I, O, S>(
  config: SimulationConfig<SM, I, O, S>,
  seed: number,
  schedule?: FaultSchedule,
  onLine?: (line: string) => void,
): Promise<SimulationResult<I, O>> {
  return simulate(config, seed, schedule ?? scheduleOf(config, seed), { trace: onLine ?? true });
}

/** A failure as text: seed, violations, the shrunk schedule, and how to replay it. */
export function formatFailure<I, O>(f: Failure<I, O>): string {
  const lines = [`seed ${f.seed}: ${f.result.violations.length} violation(s)`];
  for (const v of f.result.violations) lines.push(`  [${v.property} at ${v.time} ms] ${v.message}`);
  lines.push(`  shrunk schedule (${f.shrunk.faults.length} of ${f.schedule.faults.length} faults, ${f.shrinkRuns} runs):`);
  lines.push(...formatSchedule(f.shrunk).split('\n').map((l) => `    ${l}`));
  lines.push(`  replay: pnpm sim --replay ${f.seed}   (or replay(config, ${f.seed}, schedule))`);
  return lines.join('\n');
}
