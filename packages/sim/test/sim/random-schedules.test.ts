/**
 * The simulator run on ourselves: 360 random fault schedules from fixed seeds (the same every
 * run) over 3- and 5-node clusters, with ReadIndex and with lease reads, and a fresh batch (new
 * seeds every run: the first is in the test's title, `PONTOON_SEED=<seed>` replays the batch).
 * Schedules are short (a 1 s fault window, 40 writes) to keep CI fast; `pnpm sim` runs longer
 * ones. A failure prints its seed, the shrunk schedule and the command that replays it. Every
 * history is checked for linearizability to the end: an inconclusive check fails its run.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { explore, faultScheduleArbitrary, formatFailure, formatSchedule, freshSeed, kvSimulation, simulate } from '@pontoon/sim';
import type { KvSimulationOptions } from '@pontoon/sim';

const SHORT: KvSimulationOptions = {
  writes: 40,
  windowMs: 1000,
  maxFaults: 5,
  // Small, so that short runs take, send and install snapshots too.
  snapshotEvery: 15,
};

const FRESH_SEED = freshSeed();

const CONFIGS: Array<{ name: string; runs: number; seed: number; options: KvSimulationOptions }> = [
  { name: '3 nodes, ReadIndex reads', runs: 90, seed: 10_000, options: { ...SHORT, nodes: 3 } },
  { name: '3 nodes, lease reads', runs: 60, seed: 20_000, options: { ...SHORT, nodes: 3, leaseReads: true } },
  { name: '5 nodes, ReadIndex reads', runs: 60, seed: 30_000, options: { ...SHORT, nodes: 5 } },
  { name: '5 nodes, lease reads', runs: 40, seed: 40_000, options: { ...SHORT, nodes: 5, leaseReads: true } },
  // Deposed leaders drawn often: with ReadIndex's quorum check broken by hand in the core, 3 of
  // these 60 fail (none of the other configurations does).
  {
    name: '5 nodes, ReadIndex reads, deposed leaders',
    runs: 60,
    seed: 50_000,
    options: { ...SHORT, nodes: 5, writes: 60, maxFaults: 3, faultKinds: ['deposedLeader', 'crash', 'lossBurst'] },
  },
  { name: '3 nodes, ReadIndex reads, fresh seeds', runs: 40, seed: FRESH_SEED, options: { ...SHORT, nodes: 3 } },
  { name: '3 nodes, lease reads, fresh seeds', runs: 20, seed: FRESH_SEED, options: { ...SHORT, nodes: 3, leaseReads: true } },
];

describe('random fault schedules', () => {
  for (const c of CONFIGS) {
    it(`${c.runs} schedules: ${c.name} (seeds from ${c.seed})`, async () => {
      const report = await explore(kvSimulation(c.options), { runs: c.runs, seed: c.seed });
      const text = report.failures.map((f) => formatFailure(f)).join('\n\n');
      expect(report.failures.length, `failures (${c.name}, seeds from ${c.seed}):\n${text}`).toBe(0);
      expect(report.inconclusive, 'linearizability checks that spent their step budget').toBe(0);
      expect(report.runs).toBe(c.runs);
    });
  }

  it('50 schedules drawn and shrunk by fast-check: 3 nodes', async () => {
    const config = kvSimulation({ ...SHORT, nodes: 3 });
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 2 ** 31 - 1 }), faultScheduleArbitrary(3, config.faults), async (seed, schedule) => {
        const r = await simulate(config, seed, schedule);
        if (!r.ok) {
          const detail = r.violations.map((v) => `[${v.property}] ${v.message}`).join('\n');
          throw new Error(`seed ${seed} failed:\n${detail}\nschedule:\n${formatSchedule(schedule)}`);
        }
      }),
      { seed: 424242, numRuns: 50, endOnFailure: false },
    );
  });
});
