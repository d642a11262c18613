/**
 * The raft core's safety property (packages/raft/test/safety.property.test.ts) with every node's
 * log in a SqliteLogStore: the same random fault schedules and cluster options, the same
 * SafetyChecker after every step and liveness after healing, with crashes that lose or keep
 * (a prefix of) the writes in flight and restarts that recover each node from its directory
 * (test/support/store-cluster.ts).
 *
 * A fixed seed and a bounded number of runs; on failure fast-check prints the seed and path that
 * replay it, and the error names the invariant, the step, every node's state (live and on disk),
 * the last events and the schedule. `PONTOON_STORE_SAFETY_RUNS=200` runs more.
 */
import fc from 'fast-check';
import { afterAll, expect, it } from 'vitest';
import { simOptionsArb, type Step, stepArb } from '@pontoon/sim/rawnode';
import { runStoreSchedule, type StoreRunStats } from './support/store-cluster.js';
import { TempDirs } from './support/temp-dir.js';

const SEED = 0x5afe5;
const RUNS = Number(process.env['PONTOON_STORE_SAFETY_RUNS'] ?? 30);
const MAX_STEPS = 250;
/** Stops generating (and shrinking) in time for the report to print within the test's timeout. */
const TIME_LIMIT_MS = 45_000;

/**
 * A node's disk stalls while the cluster goes on (proposals, deliveries: its acknowledgements
 * queue up behind its writes), then the node crashes or restarts: the crash that decides which
 * writes in flight survive. The raft suite's schedules reach it rarely (a stall is usually healed
 * first), so it is added here as one compound step.
 */
const crashWithWritesInFlight: fc.Arbitrary<Step[]> = fc
  .record({
    node: fc.integer({ min: 1, max: 15 }),
    proposers: fc.array(fc.integer({ min: 1, max: 15 }), { minLength: 1, maxLength: 4 }),
    end: fc.constantFrom('crash' as const, 'restart' as const),
  })
  .map(({ node, proposers, end }) => [
    { t: 'stall', node },
    ...proposers.flatMap((p): Step[] => [{ t: 'propose', node: p }, { t: 'flush', shuffle: 0 }, { t: 'flush', shuffle: 0 }]),
    { t: end, node },
  ]);

/** The raft suite's calm (1) and stormy (4) schedules, with the compound step mixed in. */
function scheduleArb(maxSteps: number): fc.Arbitrary<Step[]> {
  const schedule = (faultWeight: number): fc.Arbitrary<Step[]> =>
    fc
      .array(fc.oneof({ weight: 80, arbitrary: stepArb(faultWeight).map((s) => [s]) }, { weight: faultWeight, arbitrary: crashWithWritesInFlight }), {
        minLength: 1,
        maxLength: maxSteps,
        size: 'max',
      })
      .map((groups) => groups.flat());
  return fc.oneof(schedule(1), schedule(4));
}

const temp = new TempDirs();
afterAll(() => temp.cleanup());

it(`Raft stays safe and live with SqliteLogStore under crashes and restarts (${RUNS} schedules of up to ${MAX_STEPS} steps)`, async () => {
  const stats: StoreRunStats[] = [];
  const property = fc.asyncProperty(simOptionsArb, scheduleArb(MAX_STEPS), async (opts, steps) => {
    stats.push(await runStoreSchedule(opts, steps, temp));
  });
  const details = await fc.check(property, { seed: SEED, numRuns: RUNS, interruptAfterTimeLimit: TIME_LIMIT_MS, verbose: fc.VerbosityLevel.None });
  if (details.failed) {
    // fast-check's report leads with "seed: <n>, path: <p>": what replays the failure.
    throw new Error(`${fc.defaultReportMessage(details)}\n(seed ${SEED}; replay with { seed: ${details.seed}, path: "${details.counterexamplePath}" })`, {
      cause: details.errorInstance,
    });
  }
  // The runs must have exercised what this test is for.
  const total = (k: keyof StoreRunStats['counts']): number => stats.reduce((sum, s) => sum + s.counts[k], 0);
  expect(stats.length).toBeGreaterThanOrEqual(Math.min(RUNS, 10));
  expect(total('restarts')).toBeGreaterThan(0);
  expect(total('lostWrites')).toBeGreaterThan(0);
  expect(total('survivingUnackedWrites')).toBeGreaterThan(0);
  expect(total('compactions')).toBeGreaterThan(0);
  expect(stats.reduce((sum, s) => sum + s.committed, 0)).toBeGreaterThan(RUNS * 5);
  if (process.env['PONTOON_STORE_SAFETY_STATS']) {
    console.log(
      `${stats.length} runs: ${total('appends')} appends, ${total('restarts')} restarts, ${total('lostWrites')} writes lost in crashes, ` +
        `${total('survivingUnackedWrites')} unacknowledged writes kept, ${total('compactions')} compactions, ` +
        `${stats.reduce((sum, s) => sum + s.committed, 0)} entries committed`,
    );
  }
}, 90_000);
