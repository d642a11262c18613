/**
 * pnpm sim --runs N --nodes K [--seed S] [--proposals P] [--clients C] [--lease]
 *          [--replay SEED [--schedule JSON]]
 *
 * Runs N seeds of the KV simulation (each with the fault schedule its seed draws), shows
 * progress on stderr, prints a summary and, for each failure, the seed and the shrunk schedule.
 * --replay runs one seed with a full trace. Exits 1 when a run failed.
 */
import { parseArgs } from 'node:util';
import { explore, formatFailure, replay } from '../sim/explore.js';
import type { FaultSchedule } from '../faults/schedule.js';
import { formatSchedule } from '../faults/schedule.js';
import { kvSimulation } from '../kv/kv-simulation.js';

const USAGE = 'usage: pnpm sim --runs N --nodes 3|5 [--seed S] [--proposals P] [--clients C] [--lease] [--replay SEED [--schedule JSON]]';

function int(name: string, v: string | undefined, dflt: number): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 0) {
    process.stderr.write(`--${name} must be a non-negative integer, got ${v}\n${USAGE}\n`);
    process.exit(2);
  }
  return n;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      runs: { type: 'string' },
      nodes: { type: 'string' },
      seed: { type: 'string' },
      proposals: { type: 'string' },
      clients: { type: 'string' },
      lease: { type: 'boolean' },
      replay: { type: 'string' },
      schedule: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help === true) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const nodes = int('nodes', values.nodes, 3);
  const config = kvSimulation({
    nodes,
    writes: int('proposals', values.proposals, 200),
    clients: int('clients', values.clients, 5),
    leaseReads: values.lease === true,
  });

  if (values.replay !== undefined) {
    const seed = int('replay', values.replay, 1);
    const schedule = values.schedule === undefined ? undefined : (JSON.parse(values.schedule) as FaultSchedule);
    const r = await replay(config, seed, schedule, (line) => process.stdout.write(`${line}\n`));
    process.stdout.write(`\nseed ${seed}, schedule:\n${formatSchedule(r.schedule)}\n`);
    process.stdout.write(`${r.ok ? 'PASSED' : 'FAILED'} (linearizability: ${r.linearizability}, ${r.stats.virtualMs.toFixed(0)} virtual ms)\n`);
    return r.ok ? 0 : 1;
  }

  const runs = int('runs', values.runs, 100);
  const tty = process.stderr.isTTY === true;
  let failed = 0;
  const report = await explore(config, {
    runs,
    seed: int('seed', values.seed, 1),
    onRun: (r, k) => {
      if (!r.ok) failed++;
      const done = k + 1;
      if (tty) {
        const width = 30;
        const filled = Math.round((done / runs) * width);
        process.stderr.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${runs} runs, ${failed} failed `);
        if (done === runs) process.stderr.write('\n');
      } else if (done === runs || done % Math.max(1, Math.floor(runs / 10)) === 0) {
        process.stderr.write(`${done}/${runs} runs, ${failed} failed\n`);
      }
    },
  });
  const secs = report.wallMs / 1000;
  const lines = [
    `runs: ${report.runs} (${nodes} nodes, ${values.lease === true ? 'lease' : 'ReadIndex'} reads)`,
    `passed: ${report.passed}`,
    `failures: ${report.failures.length}${report.failures.length > 0 ? ` (seeds ${report.failures.map((f) => f.seed).join(', ')})` : ''}`,
    `linearizability inconclusive (step budget spent; counted as failures): ${report.inconclusive}`,
    `schedules/s: ${(report.runs / secs).toFixed(1)} (${secs.toFixed(1)} s wall, shrinking included)`,
    `virtual time simulated: ${(report.virtualMs / 1000).toFixed(1)} s`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  for (const f of report.failures) process.stdout.write(`\n${formatFailure(f)}\n`);
  return report.failures.length > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(2);
  },
);
