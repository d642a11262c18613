/**
 * The safety simulation of safety.property.test.ts, alone, for mutation runs
 * (vitest.mutation.config.ts includes this file instead of safety.property.test.ts; CI does not
 * run it, its name does not end in .test.ts).
 *
 * Every surviving mutant runs every test that covers it. safety.property.test.ts also checks the
 * checker itself against planted bugs with up to 700 extra schedules, which says nothing about a
 * mutant of the core but costs seconds per mutant; only the schedules over the real core are
 * kept here, with the same seeds and a smaller count (PONTOON_SAFETY_RUNS,
 * PONTOON_SAFETY_LONG_RUNS).
 */
import fc from 'fast-check';
import { describe, it } from 'vitest';
import {
  runSchedule,
  scheduleArb,
  simOptionsArb,
} from '@pontoon/sim/rawnode';

const SEED = 0x5afe7;
const SHORT = { runs: Number(process.env['PONTOON_SAFETY_RUNS'] ?? 30), maxSteps: 400 };
const LONG = { runs: Number(process.env['PONTOON_SAFETY_LONG_RUNS'] ?? 10), maxSteps: 1500 };

function safetyProperty(maxSteps: number) {
  return fc.property(simOptionsArb, scheduleArb(maxSteps), (o, steps) => {
    runSchedule(o, steps);
  });
}

describe('Raft safety on a simulated cluster under faults (mutation run)', () => {
  it(`keeps every safety invariant and recovers after healing (${SHORT.runs} short schedules)`, () => {
    fc.assert(safetyProperty(SHORT.maxSteps), { seed: SEED, numRuns: SHORT.runs, verbose: fc.VerbosityLevel.None });
  }, 120_000);

  it(`keeps every safety invariant and recovers after healing (${LONG.runs} long schedules)`, () => {
    fc.assert(safetyProperty(LONG.maxSteps), { seed: SEED + 1, numRuns: LONG.runs, verbose: fc.VerbosityLevel.None });
  }, 120_000);
});
