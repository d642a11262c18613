/**
 * The Raft safety property (safety.property.test.ts) over many runs with random seeds, for
 * hunting rare bugs outside CI.
 *
 *   pnpm --filter @pontoon/raft property:long -- --runs 2000
 *     [--seed N]            first batch seed (default: random); batch k uses seed N + k
 *     [--batch 100]         runs per batch (one seed each; progress is printed per batch)
 *     [--max-steps 400]     longest schedule
 *     [--shrink-seconds 300] time allowed to shrink a failure
 *     [--path P]            with --seed: replay (and shrink) one counterexample
 *     [--bug ack-before-persist|forget-vote]  plant a driver bug (to see a failure report)
 *
 * On failure it prints the seed and path that replay it, the shrunk schedule, and the error
 * (invariant, step, every node's state, last events), and exits with status 1.
 */
import { randomInt } from 'node:crypto';
import fc from 'fast-check';
import { formatSchedule, scheduleArb, simOptionsArb } from './support/fault-schedule.js';
import type { Step } from './support/fault-schedule.js';
import { runSchedule } from './support/schedule-runner.js';
import type { RunStats } from './support/schedule-runner.js';
import type { PlantedBug, SimOptions } from './support/sim-network.js';

interface Args {
  runs: number;
  seed: number;
  batch: number;
  maxSteps: number;
  shrinkSeconds: number;
  path: string | undefined;
  bug: PlantedBug | undefined;
}

function parseArgs(argv: string[]): Args {
  const args: Args = {
    runs: 2000,
    seed: randomInt(1, 0x7fffffff),
    batch: 100,
    maxSteps: 400,
    shrinkSeconds: 300,
    path: undefined,
    bug: undefined,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') continue;
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    const int = (): number => {
      const v = Number(value());
      if (!Number.isSafeInteger(v) || v < 0) throw new Error(`${a} needs a non-negative integer`);
      return v;
    };
    switch (a) {
      case '--runs':
        args.runs = int();
        break;
      case '--seed':
        args.seed = int();
        break;
      case '--batch':
        args.batch = Math.max(1, int());
        break;
      case '--max-steps':
        args.maxSteps = Math.max(1, int());
        break;
      case '--shrink-seconds':
        args.shrinkSeconds = int();
        break;
      case '--path':
        args.path = value();
        break;
      case '--bug': {
        const b = value();
        if (b !== 'ack-before-persist' && b !== 'forget-vote') throw new Error(`unknown bug ${b}`);
        args.bug = b;
        break;
      }
      case '--help':
      case '-h':
        console.log('usage: property:long -- [--runs N] [--seed N] [--batch N] [--max-steps N] [--shrink-seconds N] [--path P] [--bug B]');
        process.exit(0);
        break;
      default:
        throw new Error(`unknown argument ${a}`);
    }
  }
  return args;
}

/** Totals over passing runs, to show what the schedules exercised. */
class Totals {
  runs = 0;
  leaderTerms = 0;
  committed = 0;
  snapshots = 0;
  restarts = 0;
  maxLiveness = 0;
  add(s: RunStats): void {
    this.runs++;
    this.leaderTerms += s.leaderTerms;
    this.committed += s.committed;
    this.snapshots += s.counts.snapshotsDelivered;
    this.restarts += s.counts.restarts;
    this.maxLiveness = Math.max(this.maxLiveness, s.livenessTicks);
  }
  toString(): string {
    const avg = (x: number): string => (this.runs === 0 ? '0' : (x / this.runs).toFixed(1));
    return (
      `avg per run: ${avg(this.leaderTerms)} leader terms, ${avg(this.committed)} committed entries, ` +
      `${avg(this.snapshots)} snapshots delivered, ${avg(this.restarts)} restarts; ` +
      `slowest recovery ${this.maxLiveness} ticks`
    );
  }
}

function property(a: Args, totals: Totals | undefined) {
  const opts = a.bug === undefined ? simOptionsArb : simOptionsArb.map((o): SimOptions => ({ ...o, bug: a.bug }));
  return fc.property(opts, scheduleArb(a.maxSteps), (o, steps) => {
    const stats = runSchedule(o, steps);
    totals?.add(stats);
  });
}

function report(seed: number, details: fc.RunDetails<[SimOptions, Step[]]>, a: Args): void {
  console.log(`\nFAILED with seed ${seed}`);
  console.log(fc.defaultReportMessage(details) ?? '');
  const err = details.errorInstance;
  if (err !== null) console.log(`\n${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`);
  const ce = details.counterexample;
  if (ce !== null) {
    const [o, steps] = ce;
    console.log(`\nshrunk schedule (${steps.length} steps; node ids folded onto ${o.nodeCount} nodes):`);
    console.log(formatSchedule(steps, o.nodeCount));
  }
  const path = details.counterexamplePath ?? '';
  console.log(
    `\nreplay: pnpm --filter @pontoon/raft property:long -- --seed ${seed} --path ${path} --max-steps ${a.maxSteps}` +
      (a.bug === undefined ? '' : ` --bug ${a.bug}`),
  );
}

/** Shrinks the failure at `path` of `seed`, within the time allowed. */
function shrink(a: Args, seed: number, path: string): fc.RunDetails<[SimOptions, Step[]]> {
  return fc.check(property(a, undefined), {
    seed,
    path,
    // Seed, path and the shrunk counterexample are reported at every level; level 1 would add
    // every failure met while shrinking, which for long schedules is megabytes.
    verbose: fc.VerbosityLevel.None,
    interruptAfterTimeLimit: a.shrinkSeconds * 1000,
  });
}

function main(): void {
  const a = parseArgs(process.argv.slice(2));
  if (a.path !== undefined) {
    const details = shrink(a, a.seed, a.path);
    if (details.failed) {
      report(a.seed, details, a);
      process.exit(1);
    }
    console.log(`seed ${a.seed} path ${a.path}: passes`);
    return;
  }
  console.log(`property:long: ${a.runs} runs, batches of ${a.batch} from seed ${a.seed}, schedules up to ${a.maxSteps} steps`);
  const totals = new Totals();
  const started = Date.now();
  let done = 0;
  for (let k = 0; done < a.runs; k++) {
    const seed = (a.seed + k) % 0x7fffffff;
    const numRuns = Math.min(a.batch, a.runs - done);
    // Find first, without shrinking; then shrink under a time limit.
    const found = fc.check(property(a, totals), { seed, numRuns, endOnFailure: true });
    if (found.failed) {
      console.log(`run ${done + found.numRuns}: failure with seed ${seed}; shrinking (up to ${a.shrinkSeconds} s)...`);
      const shrunk = shrink(a, seed, found.counterexamplePath ?? '');
      report(seed, shrunk.failed ? shrunk : found, a);
      process.exit(1);
    }
    done += numRuns;
    const secs = ((Date.now() - started) / 1000).toFixed(1);
    console.log(`${done}/${a.runs} runs ok (seed ${seed}), ${secs} s; ${totals.toString()}`);
  }
  console.log(`all ${a.runs} runs passed`);
}

main();
