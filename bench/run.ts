/**
 * Runs benchmark suites: `pnpm bench` runs every suite but the on-demand ones, `pnpm bench core`
 * one (or several by name, on-demand ones included). Each suite prints a table and writes its
 * full results, with the machine and the git commit, as JSON under bench/results/, and beside it
 * a self-contained HTML report with the same table and the suite's charts.
 *
 *   pnpm bench [suite...] [--runs N] [--duration MS] [--warmup N] [--filter TEXT]
 *
 * New suites register in SUITES below.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { coreSuite } from './core/index.js';
import { transportSuite } from './transport/index.js';
import { storageSuite } from './storage/index.js';
import { floorSuite } from './floor/index.js';
import { clusterMemSuite } from './cluster-mem/index.js';
import { clusterSuite } from './cluster/index.js';
import { peersSuite } from './peers/index.js';
import { simSuite } from './sim/index.js';
import { stateMachineSuite } from './state-machine/index.js';
import { snapshotTransferSuite } from './snapshot-transfer/index.js';
import { kvStoreSuite } from './kv-store/index.js';
import { kvSuite } from './kv/index.js';
import { kvAbSuite } from './kv-ab/index.js';
import { renderHtmlReport } from './lib/html-report.js';
import { describeMachine, machineInfo } from './lib/machine.js';
import { writeHtml, writeResults } from './lib/results.js';
import type { Suite, SuiteOptions } from './lib/suite.js';

/** In the order `pnpm bench` runs them. */
const SUITES: readonly Suite[] = [
  coreSuite,
  transportSuite,
  storageSuite,
  floorSuite,
  clusterMemSuite,
  clusterSuite,
  stateMachineSuite,
  kvStoreSuite,
  simSuite,
  peersSuite,
  snapshotTransferSuite,
  kvSuite,
  kvAbSuite,
];

const DEFAULTS: SuiteOptions = { runs: 5, durationMs: 1000, warmupRuns: 1, filter: undefined };

const benchDir = path.dirname(fileURLToPath(import.meta.url));

function usage(): string {
  const names = SUITES.map((s) => `  ${s.name.padEnd(12)} ${s.description}${s.onDemand === true ? ' (on demand: only when named)' : ''}`).join('\n');
  return (
    'usage: pnpm bench [suite...] [--runs N] [--duration MS] [--warmup N] [--filter TEXT]\n\n' +
    `suites:\n${names}\n`
  );
}

function positiveInt(name: string, v: string | undefined, allowZero = false): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < (allowZero ? 0 : 1)) throw new Error(`--${name} must be an integer >= ${allowZero ? 0 : 1}, got ${v}`);
  return n;
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      runs: { type: 'string' },
      duration: { type: 'string' },
      warmup: { type: 'string' },
      filter: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help === true) {
    process.stdout.write(usage());
    return;
  }
  const unknown = positionals.filter((p) => !SUITES.some((s) => s.name === p));
  if (unknown.length > 0) {
    process.stderr.write(`unknown suite(s): ${unknown.join(', ')}\n\n${usage()}`);
    process.exitCode = 2;
    return;
  }
  // Named suites run in the order named; on-demand ones only when named.
  const selected =
    positionals.length === 0
      ? SUITES.filter((s) => s.onDemand !== true)
      : [...new Set(positionals)].map((name) => SUITES.find((s) => s.name === name)!);

  const machine = machineInfo(benchDir);
  process.stdout.write(`machine: ${describeMachine(machine)}\n`);
  for (const suite of selected) {
    const options: SuiteOptions = {
      ...DEFAULTS,
      ...suite.defaults,
      ...definedOnly({
        runs: positiveInt('runs', values.runs),
        durationMs: positiveInt('duration', values.duration),
        warmupRuns: positiveInt('warmup', values.warmup, true),
        filter: values.filter,
      }),
    };
    const startedAt = new Date().toISOString();
    process.stdout.write(`\n== ${suite.name}: ${suite.description}\n`);
    const report = await suite.run(options, (line) => process.stdout.write(`${line}\n`));
    process.stdout.write(`\n${report.text}\n`);
    const resultsDir = path.join(benchDir, 'results');
    const file = writeResults(resultsDir, { suite: suite.name, startedAt, machine, options, results: report.results });
    const html = renderHtmlReport({
      suite: suite.name,
      description: suite.description,
      startedAt,
      machine,
      options,
      text: report.text,
      charts: report.charts ?? [],
    });
    const htmlFile = writeHtml(resultsDir, suite.name, startedAt, html);
    process.stdout.write(`results: ${path.relative(process.cwd(), file)}\nreport: ${path.relative(process.cwd(), htmlFile)}\n`);
  }
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
