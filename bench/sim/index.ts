/**
 * bench/sim: how fast the simulator explores. Schedules per second for a 3-node cluster, 1,000
 * proposals (writes that reach the log) per schedule, under the random faults each seed draws,
 * on one core: the whole run (cluster, clients, fault injection, every safety checker), with and
 * without the linearizability check of the client history. Then the checker's time on the c50
 * kv histories (bench/sim/checker.ts).
 *
 * Time is process CPU time as well as wall time: the simulator is single-threaded, so CPU time
 * is the cost of a schedule even on a machine shared with other work.
 */
import { explore, kvSimulation } from '@pontoon/sim';
import { formatTable, median } from '../lib/report.js';
import type { Suite, SuiteOptions, SuiteReport } from '../lib/suite.js';
import { measureChecker } from './checker.js';

const PROPOSALS = 1000;

interface SimConfig {
  name: string;
  nodes: number;
  leaseReads: boolean;
  linearizability: boolean;
}

const CONFIGS: SimConfig[] = [
  { name: '3 nodes, ReadIndex, all checkers', nodes: 3, leaseReads: false, linearizability: true },
  { name: '3 nodes, ReadIndex, no linearizability check', nodes: 3, leaseReads: false, linearizability: false },
  { name: '3 nodes, lease reads, all checkers', nodes: 3, leaseReads: true, linearizability: true },
];

interface RunResult {
  schedules: number;
  failures: number;
  wallMs: number;
  cpuMs: number;
  schedulesPerSec: number;
  schedulesPerCpuSec: number;
  virtualSecPerSchedule: number;
}

interface ConfigResult {
  name: string;
  runs: RunResult[];
  medianSchedulesPerSec: number;
  medianSchedulesPerCpuSec: number;
  virtualSecPerSchedule: number;
}

function configOf(c: SimConfig): ReturnType<typeof kvSimulation> {
  const config = kvSimulation({
    nodes: c.nodes,
    writes: PROPOSALS,
    clients: 32,
    keys: 32,
    leaseReads: c.leaseReads,
    disk: { tearOnCrash: true },
  });
  if (!c.linearizability) delete config.model;
  return config;
}

/** Runs schedules (consecutive seeds from `seed`) until `durationMs` of wall time has passed. */
async function measure(c: SimConfig, durationMs: number, seed: number): Promise<RunResult> {
  const config = configOf(c);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let schedules = 0;
  let failures = 0;
  let virtualMs = 0;
  while (schedules < 3 || performance.now() - t0 < durationMs) {
    const r = await explore(config, { runs: 1, seed: seed + schedules, shrink: false });
    schedules++;
    failures += r.failures.length;
    virtualMs += r.virtualMs;
  }
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const cpuMs = (cpu.user + cpu.system) / 1000;
  return {
    schedules,
    failures,
    wallMs,
    cpuMs,
    schedulesPerSec: (schedules / wallMs) * 1000,
    schedulesPerCpuSec: (schedules / cpuMs) * 1000,
    virtualSecPerSchedule: virtualMs / schedules / 1000,
  };
}

export const simSuite: Suite = {
  name: 'sim',
  description: `simulator: schedules/s (3 nodes, ${PROPOSALS} proposals, random faults) and the linearizability checker on c50 histories`,
  defaults: { runs: 3, durationMs: 5000, warmupRuns: 1 },
  async run(options: SuiteOptions, log: (line: string) => void): Promise<SuiteReport> {
    const results: ConfigResult[] = [];
    for (const c of CONFIGS) {
      if (options.filter !== undefined && !c.name.includes(options.filter)) continue;
      let seed = 1;
      for (let w = 0; w < options.warmupRuns; w++) {
        const r = await measure(c, Math.min(options.durationMs, 2000), seed);
        seed += r.schedules;
      }
      const runs: RunResult[] = [];
      for (let k = 0; k < options.runs; k++) {
        const r = await measure(c, options.durationMs, seed);
        seed += r.schedules;
        runs.push(r);
        log(`sim ${c.name}: ${r.schedulesPerSec.toFixed(1)} schedules/s (${r.schedulesPerCpuSec.toFixed(1)} per CPU s), ${r.failures} failed`);
      }
      results.push({
        name: c.name,
        runs,
        medianSchedulesPerSec: median(runs.map((r) => r.schedulesPerSec)),
        medianSchedulesPerCpuSec: median(runs.map((r) => r.schedulesPerCpuSec)),
        virtualSecPerSchedule: median(runs.map((r) => r.virtualSecPerSchedule)),
      });
    }
    const table = formatTable(results, [
      { header: 'configuration', align: 'left', cell: (r) => r.name },
      { header: 'schedules/s', cell: (r) => r.medianSchedulesPerSec.toFixed(1) },
      { header: 'per CPU s', cell: (r) => r.medianSchedulesPerCpuSec.toFixed(1) },
      { header: 'virtual s/schedule', cell: (r) => r.virtualSecPerSchedule.toFixed(2) },
      { header: 'failed', cell: (r) => String(r.runs.reduce((n, x) => n + x.failures, 0)) },
    ]);
    const checker = options.filter === undefined || 'checker'.includes(options.filter) ? await measureChecker(log) : undefined;
    const text = [
      `Simulation: ${PROPOSALS} proposals per schedule, 32 clients over 32 keys, random faults (seeded), target >= 20 schedules/s`,
      table,
      ...(checker === undefined ? [] : ['', 'Linearizability checker on c50 kv histories', checker.text]),
    ].join('\n');
    return { text, results: { simulation: results, checker: checker?.results } };
  },
};
