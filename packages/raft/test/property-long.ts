/**
 * The Raft safety property (safety.property.test.ts) over many runs with random seeds, for
 * hunting rare bugs outside CI.
 *
 *   pnpm --filter @pontoon/raft property:long -- --runs 2000
 *     [--seed N]              first batch seed (default: random); batch k uses seed N + k
 *     [--batch 100]           runs per batch (one fast-check seed each; progress per batch)
 *     [--max-steps 1500]      longest schedule
 *     [--shrink-seconds 300]  time allowed to shrink a failure
 *     [--storage sync|async|both]  the Ready contract, etcd's AsyncStorageWrites, or either per run
 *     [--replay FILE]         run one saved failure (written on failure) and print its report
 *     [--bug ack-before-persist|forget-vote]  plant a driver bug (to see a failure report)
 *
 * On failure it prints the seed, the shrunk schedule and the error (invariant, step, every
 * node's state, the last events), saves the shrunk failure for --replay, and exits with 1.
 */
import { randomInt } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import {
  failedStep,
  formatSchedule,
  type PlantedBug,
  runSchedule,
  type RunStats,
  scheduleArb,
  type SimOptions,
  simOptionsArb,
  type Step,
} from '@pontoon/sim/rawnode';

interface Args {
  runs: number;
  seed: number;
  batch: number;
  maxSteps: number;
  shrinkSeconds: number;
  replay: string | undefined;
  bug: PlantedBug | undefined;
  storage: 'sync' | 'async' | 'both';
}

function parseArgs(argv: string[]): Args {
  const args: Args = {
    runs: 2000,
    seed: randomInt(1, 0x7fffffff),
    batch: 100,
    maxSteps: 1500,
    shrinkSeconds: 300,
    replay: undefined,
    bug: undefined,
    storage: 'both',
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    // pnpm passes the `--` that separates its own options through.
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
      case '--storage': {
        const v = value();
        if (v !== 'sync' && v !== 'async' && v !== 'both') throw new Error(`--storage: sync, async or both, not ${v}`);
        args.storage = v;
        break;
      }
      case '--replay':
        args.replay = value();
        break;
      case '--bug': {
        const b = value();
        if (b !== 'ack-before-persist' && b !== 'forget-vote') throw new Error(`unknown bug ${b}`);
        args.bug = b;
        break;
      }
      case '--help':
      case '-h':
        console.log(
          'usage: property:long -- [--runs N] [--seed N] [--batch N] [--max-steps N] [--shrink-seconds N] ' +
            '[--storage sync|async|both] [--replay FILE] [--bug B]',
        );
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

type Failure = [SimOptions, Step[]];

/**
 * `shrinkUntil`: a time past which candidates are skipped (not run), which ends a shrink with the
 * smallest failure found so far; fast-check's own time limit would instead count the interrupted
 * check as a pass.
 */
function property(a: Args, totals: Totals | undefined, shrinkUntil?: number) {
  const opts = simOptionsArb.map(
    (o): SimOptions => ({
      ...o,
      bug: a.bug,
      asyncStorageWrites: a.storage === 'both' ? o.asyncStorageWrites : a.storage === 'async',
    }),
  );
  return fc.property(opts, scheduleArb(a.maxSteps), (o, steps) => {
    fc.pre(shrinkUntil === undefined || Date.now() < shrinkUntil);
    const stats = runSchedule(o, steps);
    totals?.add(stats);
  });
}

/**
 * Shrinks a failure, starting from the steps it needed (those after the failing step cannot
 * matter, and every shrink attempt would replay them). The schedule arbitrary shrinks values it
 * did not generate, so the cut schedule is given to fast-check as an example.
 */
function shrink(a: Args, seed: number, failure: Failure, err: unknown): { details: fc.RunDetails<Failure>; stopped: boolean } {
  const [opts, steps] = failure;
  const last = failedStep(err) ?? steps.length - 1;
  const until = Date.now() + a.shrinkSeconds * 1000;
  const details: fc.RunDetails<Failure> = fc.check(property(a, undefined, until), {
    seed,
    numRuns: 1,
    examples: [[opts, steps.slice(0, last + 1)]],
    verbose: fc.VerbosityLevel.None,
  });
  return { details, stopped: Date.now() >= until };
}

function encode(f: Failure): string {
  return JSON.stringify({ options: f[0], steps: f[1] }, (_k, v: unknown) => (v === Infinity ? 'Infinity' : v), 1);
}

function decode(text: string): Failure {
  const { options, steps } = JSON.parse(text, (_k, v: unknown) => (v === 'Infinity' ? Infinity : v)) as {
    options: SimOptions;
    steps: Step[];
  };
  return [options, steps];
}

function report(err: unknown, failure: Failure): void {
  console.log(`\n${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`);
  const [o, steps] = failure;
  console.log(`\nshrunk schedule (${steps.length} steps; node ids folded onto ${o.nodeCount} nodes):`);
  console.log(formatSchedule(steps, o.nodeCount));
}

function replay(file: string): void {
  const failure = decode(readFileSync(file, 'utf8'));
  try {
    runSchedule(failure[0], failure[1]);
  } catch (err) {
    report(err, failure);
    process.exit(1);
  }
  console.log(`${file}: passes`);
}

function main(): void {
  const a = parseArgs(process.argv.slice(2));
  if (a.replay !== undefined) {
    replay(a.replay);
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
      console.log(
        `\nFAILED: run ${done + found.numRuns}, seed ${seed} (replay: --seed ${seed} --runs ${numRuns} --batch ${numRuns} ` +
          `--max-steps ${a.maxSteps} --storage ${a.storage}${a.bug === undefined ? '' : ` --bug ${a.bug}`})`,
      );
      console.log(`shrinking (up to ${a.shrinkSeconds} s)...`);
      const { details: shrunk, stopped } = shrink(a, seed, found.counterexample!, found.errorInstance);
      const best = shrunk.failed ? shrunk : found;
      console.log(`shrunk ${best.numShrinks} times${stopped ? ` (stopped after ${a.shrinkSeconds} s)` : ''}`);
      report(best.errorInstance, best.counterexample!);
      const file = join(tmpdir(), `pontoon-safety-failure-${seed}.json`);
      writeFileSync(file, encode(best.counterexample!));
      console.log(`\nsaved; replay: pnpm --filter @pontoon/raft property:long -- --replay ${file}`);
      process.exit(1);
    }
    done += numRuns;
    const secs = ((Date.now() - started) / 1000).toFixed(1);
    console.log(`${done}/${a.runs} runs ok (seed ${seed}), ${secs} s; ${totals.toString()}`);
  }
  console.log(`all ${a.runs} runs passed`);
}

main();
