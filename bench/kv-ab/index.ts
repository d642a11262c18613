/**
 * bench/kv-ab (on demand): is a change to pontoon-kv faster? This checkout's pontoon-kv (B)
 * against another build of it (A: the clone named by `PONTOON_KV_AB_BASE`, installed, its
 * `node_modules/.bin/pontoon-kv`), 3 members each as separate processes on 127.0.0.1 with fsync on,
 * the same `etcd3` client putting 256 B values to each leader.
 *
 * On these shared machines a pass's rate drifts by 10-30% from one minute to the next, so
 * separate passes of A and B (bench/kv's way, which compares systems far apart) cannot see a
 * change of a few percent. Here both clusters run at once and the client alternates between them
 * in short windows (A B, then B A, ...): a drift hits both sides alike. With A and B the same
 * build, the two sides came out within 3-4% of each other in rate and CPU per put.
 *
 *   PONTOON_KV_AB_BASE=../main-clone pnpm bench kv-ab [--runs N] [--duration MS] [--warmup N] [--filter 'put x 1']
 *
 * `--runs`: windows per side and level (default 8); `--duration`: one window (default 1500 ms);
 * `--warmup`: unmeasured windows per side before each level (default 2).
 */
import fs from 'node:fs';
import path from 'node:path';
import { Etcd3 } from 'etcd3';
import { PONTOON_KV_BIN, startPontoonKvCluster } from 'pontoon-kv/testing';
import type { PontoonKvCluster } from 'pontoon-kv/testing';
import { findLeader } from '../lib/etcd-leader.js';
import { newHistogram, summarize } from '../lib/histogram.js';
import type { Histogram, LatencySummary } from '../lib/histogram.js';
import { formatCount, formatNs, formatTable, median } from '../lib/report.js';
import type { Suite, SuiteOptions, SuiteReport } from '../lib/suite.js';
import { type WindowCpu, procUnavailableReason, startCpuWindow } from '../kv/process-cpu.js';

/** The levels: puts of 256 B at this many in flight. */
export const AB_LEVELS: readonly { name: string; inFlight: number }[] = [
  { name: 'put x 1', inFlight: 1 },
  { name: 'put x 64', inFlight: 64 },
];

const VALUE_BYTES = 256;
/** Keys the puts cycle through, as bench/kv's put levels. */
const KEY_SPACE = 10_000;
/** Unmeasured puts at 64 in flight on each fresh cluster, so that V8 has optimized its code. */
const CLUSTER_WARMUP_MS = 5_000;

/** The `pontoon-kv` command of the clone `PONTOON_KV_AB_BASE` names; a clear error without one. */
export function baseCommand(env: NodeJS.ProcessEnv): { dir: string; command: string } {
  const raw = env.PONTOON_KV_AB_BASE;
  if (raw === undefined || raw === '') {
    throw new Error('kv-ab: set PONTOON_KV_AB_BASE to the clone to compare with (A), installed (`npx -y pnpm@10 install --frozen-lockfile` there)');
  }
  const dir = path.resolve(raw);
  const command = path.join(dir, 'node_modules', '.bin', 'pontoon-kv');
  if (!fs.existsSync(command)) {
    throw new Error(`kv-ab: PONTOON_KV_AB_BASE=${raw}: ${command} does not exist (is it a clone of this repository, installed?)`);
  }
  return { dir, command };
}

export interface AbSideResult {
  /** Puts per second over all measured windows. */
  putsPerSec: number;
  /** The median of the windows' rates, and the lowest and highest. */
  windowRates: { median: number; min: number; max: number };
  latency: LatencySummary;
  /** µs of CPU per put (user + system, all threads; undefined without /proc). */
  cpuPerPut: { client: number; servers: number; leader: number } | undefined;
}

export interface AbLevelResult {
  name: string;
  inFlight: number;
  a: AbSideResult;
  b: AbSideResult;
}

export interface AbResults {
  base: string;
  windows: number;
  windowMs: number;
  warmupWindows: number;
  levels: AbLevelResult[];
}

interface Side {
  readonly cluster: PontoonKvCluster;
  readonly client: Etcd3;
  readonly pids: number[];
  readonly leader: number;
}

interface Tally {
  histogram: Histogram;
  puts: number;
  wallMs: number;
  rates: number[];
  cpu: { client: number; servers: number; leader: number };
}

async function startSide(command: string): Promise<Side> {
  const cluster = await startPontoonKvCluster({ size: 3, clusterToken: 'pontoon-kv-ab', command, readyTimeoutMs: 120_000 });
  try {
    const leaderHost = await findLeader(Etcd3, cluster.endpoints, 30_000);
    const pids = cluster.members.map((m) => m.process!.pid!);
    return { cluster, client: new Etcd3({ hosts: leaderHost }), pids, leader: cluster.endpoints.indexOf(leaderHost) };
  } catch (err) {
    await cluster.stop();
    throw err;
  }
}

async function stopSide(side: Side | undefined): Promise<void> {
  if (side === undefined) return;
  side.client.close();
  await side.cluster.stop();
}

let nextKey = 0;
const value = Buffer.alloc(VALUE_BYTES, 0x61);

/** A closed loop of `inFlight` puts for `ms`; records each put's latency when `tally` is given. */
async function window(side: Side, inFlight: number, ms: number, tally: Tally | undefined): Promise<void> {
  const cpu = tally !== undefined && procUnavailableReason() === undefined ? startCpuWindow({ client: process.pid, members: side.pids, leader: side.leader }) : undefined;
  const started = performance.now();
  const deadline = started + ms;
  let puts = 0;
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (performance.now() < deadline) {
        const key = `bench/put/${String(nextKey++ % KEY_SPACE).padStart(5, '0')}`;
        const t = performance.now();
        await side.client.put(key).value(value).exec();
        tally?.histogram.recordValue(Math.max(1, Math.round((performance.now() - t) * 1e6)));
        puts++;
      }
    }),
  );
  if (tally === undefined) return;
  const wallMs = performance.now() - started;
  tally.puts += puts;
  tally.wallMs += wallMs;
  tally.rates.push(puts / (wallMs / 1000));
  if (cpu !== undefined) {
    const used: WindowCpu = cpu.stop();
    tally.cpu.client += used.client;
    tally.cpu.servers += used.servers;
    tally.cpu.leader += used.leader;
  }
}

function summarizeSide(t: Tally): AbSideResult {
  const sorted = [...t.rates].sort((x, y) => x - y);
  return {
    putsPerSec: t.puts / (t.wallMs / 1000),
    windowRates: { median: median(sorted), min: sorted[0]!, max: sorted[sorted.length - 1]! },
    latency: summarize(t.histogram),
    cpuPerPut:
      procUnavailableReason() === undefined
        ? { client: t.cpu.client / t.puts, servers: t.cpu.servers / t.puts, leader: t.cpu.leader / t.puts }
        : undefined,
  };
}

export interface AbOptions {
  /** The other build's `pontoon-kv` command (A). */
  baseCommand: string;
  /** This checkout's (B); default PONTOON_KV_BIN. */
  command?: string;
  windows: number;
  windowMs: number;
  warmupWindows: number;
  filter: string | undefined;
  /** Unmeasured puts on each fresh cluster before the levels (default 5 s at 64 in flight). */
  clusterWarmupMs?: number;
  log: (line: string) => void;
}

/** Starts both clusters, runs every level with alternating windows, stops both. */
export async function runKvAb(o: AbOptions): Promise<AbLevelResult[]> {
  const levels = AB_LEVELS.filter((l) => o.filter === undefined || l.name.includes(o.filter));
  if (levels.length === 0) throw new Error(`kv-ab: no level matches --filter ${o.filter} (levels: ${AB_LEVELS.map((l) => l.name).join(', ')})`);
  let a: Side | undefined;
  let b: Side | undefined;
  try {
    o.log('kv-ab: starting A (base) and B (this checkout)');
    a = await startSide(o.baseCommand);
    b = await startSide(o.command ?? PONTOON_KV_BIN);
    const warm = o.clusterWarmupMs ?? CLUSTER_WARMUP_MS;
    for (const side of [a, b]) await window(side, 64, warm, undefined);
    const out: AbLevelResult[] = [];
    for (const level of levels) {
      const tallies = [a, b].map(() => ({ histogram: newHistogram(), puts: 0, wallMs: 0, rates: [], cpu: { client: 0, servers: 0, leader: 0 } }) as Tally);
      for (let w = 0; w < o.warmupWindows; w++) for (const side of [a, b]) await window(side, level.inFlight, o.windowMs, undefined);
      for (let w = 0; w < o.windows; w++) {
        // A B, then B A: each side goes first as often as the other.
        const order = w % 2 === 0 ? [0, 1] : [1, 0];
        for (const i of order) await window(i === 0 ? a : b, level.inFlight, o.windowMs, tallies[i]);
      }
      const result = { name: level.name, inFlight: level.inFlight, a: summarizeSide(tallies[0]!), b: summarizeSide(tallies[1]!) };
      o.log(`kv-ab: ${level.name}: A ${Math.round(result.a.putsPerSec)}/s, B ${Math.round(result.b.putsPerSec)}/s`);
      out.push(result);
    }
    return out;
  } finally {
    await Promise.all([stopSide(a), stopSide(b)]);
  }
}

function ratio(b: number, a: number): string {
  return a > 0 ? `${(b / a).toFixed(3)}x` : '-';
}

/** The report: per level, A, B and B / A for each figure. */
export function kvAbReport(r: AbResults): string {
  const rows: { figure: string; a: string; b: string; ratio: string }[] = [];
  for (const l of r.levels) {
    const add = (figure: string, a: number, b: number, fmt: (v: number) => string): void => {
      rows.push({ figure: `${l.name}: ${figure}`, a: fmt(a), b: fmt(b), ratio: ratio(b, a) });
    };
    add('puts/s', l.a.putsPerSec, l.b.putsPerSec, formatCount);
    add('puts/s, median window', l.a.windowRates.median, l.b.windowRates.median, formatCount);
    add('p50', l.a.latency.p50Ns, l.b.latency.p50Ns, formatNs);
    add('p99', l.a.latency.p99Ns, l.b.latency.p99Ns, formatNs);
    const ca = l.a.cpuPerPut;
    const cb = l.b.cpuPerPut;
    if (ca !== undefined && cb !== undefined) {
      const us = (v: number): string => `${v.toFixed(0)} µs`;
      add('leader CPU per put', ca.leader, cb.leader, us);
      add('servers CPU per put (all members)', ca.servers, cb.servers, us);
      add('client CPU per put', ca.client, cb.client, us);
    }
  }
  const table = formatTable(rows, [
    { header: 'figure', align: 'left', cell: (x) => x.figure },
    { header: 'A (base)', cell: (x) => x.a },
    { header: 'B (this checkout)', cell: (x) => x.b },
    { header: 'B / A', cell: (x) => x.ratio },
  ]);
  const spread = r.levels
    .map((l) => `  ${l.name}: window rates A ${formatCount(l.a.windowRates.min)}-${formatCount(l.a.windowRates.max)}/s, B ${formatCount(l.b.windowRates.min)}-${formatCount(l.b.windowRates.max)}/s`)
    .join('\n');
  return [
    table,
    '',
    `A: ${r.base}; B: this checkout. Both 3-member clusters up at once; per level ${r.warmupWindows} unmeasured and ${r.windows} measured windows of ${r.windowMs} ms per side, alternating A B / B A; values ${VALUE_BYTES} B over ${formatCount(KEY_SPACE)} keys, etcd3 client in this process putting to each leader`,
    'the same build on both sides came out within 3-4% (rate and CPU per put): a smaller B / A is noise',
    spread,
  ].join('\n');
}

export const kvAbSuite: Suite = {
  name: 'kv-ab',
  description: 'this checkout\'s pontoon-kv (B) against another build (A, PONTOON_KV_AB_BASE): both up at once, alternating windows of puts at 1 and 64 in flight',
  defaults: { runs: 8, durationMs: 1500, warmupRuns: 2 },
  onDemand: true,
  async run(options: SuiteOptions, log: (line: string) => void): Promise<SuiteReport> {
    const base = baseCommand(process.env);
    const levels = await runKvAb({
      baseCommand: base.command,
      windows: options.runs,
      windowMs: options.durationMs,
      warmupWindows: options.warmupRuns,
      filter: options.filter,
      log,
    });
    const results: AbResults = { base: base.dir, windows: options.runs, windowMs: options.durationMs, warmupWindows: options.warmupRuns, levels };
    return { text: kvAbReport(results), results };
  },
};
