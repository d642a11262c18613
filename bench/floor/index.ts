/**
 * bench/floor: the machine's floor (floor.ts) as a suite of its own, with its table and charts.
 */
import type { LatencySummary } from '../lib/histogram.js';
import { formatCount, formatNs, formatTable } from '../lib/report.js';
import type { Chart, Suite, SuiteOptions, SuiteReport } from '../lib/suite.js';
import { runFloor } from './floor.js';
import type { FloorResults, ReplicatorLevel } from './floor.js';

/** The concurrency levels and payloads of the issue's `cluster` suite, which the floor is the bar for. */
export const FLOOR_LEVELS: readonly number[] = [1, 8, 64, 256];
export const FLOOR_PAYLOAD_BYTES: readonly number[] = [128, 1024];

export function payloadLabel(bytes: number): string {
  return bytes % 1024 === 0 ? `${bytes / 1024} KiB` : `${bytes} B`;
}

/** The floor's tables: the single-operation figures, then the replicator at every level. */
export function floorText(r: FloorResults): string {
  const figures: { name: string; s: LatencySummary }[] = [
    { name: 'fdatasync of a 128 B append', s: r.fdatasync },
    { name: 'one-row SQLite commit (WAL, FULL)', s: r.sqliteCommit },
    { name: 'loopback TCP round trip (2 processes)', s: r.loopbackRtt },
  ];
  const first = formatTable(figures, [
    { header: 'floor', align: 'left', cell: (f) => f.name },
    { header: 'samples', cell: (f) => formatCount(f.s.count) },
    { header: 'p50', cell: (f) => formatNs(f.s.p50Ns) },
    { header: 'p99', cell: (f) => formatNs(f.s.p99Ns) },
    { header: 'p99.9', cell: (f) => formatNs(f.s.p999Ns) },
  ]);
  const second = formatTable(r.replicator, [
    { header: 'replicator', align: 'left', cell: (l: ReplicatorLevel) => payloadLabel(l.payloadBytes) },
    { header: 'in flight', cell: (l) => String(l.inFlight) },
    { header: 'commits/s', cell: (l) => formatCount(l.commitsPerSec) },
    { header: 'commits', cell: (l) => formatCount(l.latency.count) },
    { header: 'p50', cell: (l) => formatNs(l.latency.p50Ns) },
    { header: 'p99', cell: (l) => formatNs(l.latency.p99Ns) },
    { header: 'p99.9', cell: (l) => formatNs(l.latency.p999Ns) },
  ]);
  const third = formatTable(r.replicator, [
    { header: 'replicator cost', align: 'left', cell: (l: ReplicatorLevel) => `${payloadLabel(l.payloadBytes)}, ${l.inFlight} in flight` },
    { header: 'leader CPU/entry', cell: (l) => `${l.cost.leaderCpuMicrosPerEntry.toFixed(1)} µs` },
    { header: 'follower CPU/entry', cell: (l) => `${l.cost.followerCpuMicrosPerEntry.toFixed(1)} µs` },
    { header: 'leader fsyncs/s', cell: (l) => formatCount(l.cost.leaderFsyncsPerSec) },
    { header: 'entries/fsync', cell: (l) => l.cost.leaderEntriesPerFsync.toFixed(1) },
  ]);
  const writer = r.writer === 'main' ? "the event loop's thread" : 'a worker thread';
  return `${first}\n\n${second}\n\n${third}\n\nreplicas commit to SQLite on ${writer}; CPU is per entry made durable, whole process`;
}

/** Latency CDFs per payload (one line per level), throughput against concurrency, and the single-operation p50s. */
export function floorCharts(r: FloorResults): Chart[] {
  const payloads = [...new Set(r.replicator.map((l) => l.payloadBytes))];
  const charts: Chart[] = payloads.map((p) => ({
    kind: 'cdf',
    title: `replicator latency, ${payloadLabel(p)} entries`,
    series: r.replicator.filter((l) => l.payloadBytes === p).map((l) => ({ name: `${l.inFlight} in flight`, points: l.cdf })),
  }));
  charts.push({
    kind: 'throughput',
    title: 'replicator commits/s against entries in flight',
    series: payloads.map((p) => ({
      name: payloadLabel(p),
      points: r.replicator.filter((l) => l.payloadBytes === p).map((l) => [l.inFlight, l.commitsPerSec] as const),
    })),
  });
  const one = r.replicator.filter((l) => l.inFlight === 1);
  const labels = ['fdatasync', 'SQLite commit', 'loopback RTT', ...one.map((l) => `replicator ${payloadLabel(l.payloadBytes)}, 1 in flight`)];
  const p50s = [r.fdatasync.p50Ns, r.sqliteCommit.p50Ns, r.loopbackRtt.p50Ns, ...one.map((l) => l.latency.p50Ns)];
  const p99s = [r.fdatasync.p99Ns, r.sqliteCommit.p99Ns, r.loopbackRtt.p99Ns, ...one.map((l) => l.latency.p99Ns)];
  charts.push({
    kind: 'bars',
    title: 'one operation at a time',
    unit: 'µs',
    labels,
    series: [
      { name: 'p50', points: p50s.map((ns, i) => [i, ns / 1e3] as const) },
      { name: 'p99', points: p99s.map((ns, i) => [i, ns / 1e3] as const) },
    ],
  });
  return charts;
}

export const floorSuite: Suite = {
  name: 'floor',
  description: "the machine's floor: fdatasync, SQLite commit, loopback RTT, a minimal replicator with no Raft",
  defaults: { runs: 3, durationMs: 1500 },
  async run(options: SuiteOptions, log: (line: string) => void): Promise<SuiteReport> {
    const results = await runFloor({
      levels: FLOOR_LEVELS,
      payloadBytes: FLOOR_PAYLOAD_BYTES,
      durationMs: options.durationMs,
      runs: options.runs,
      log,
    });
    return { text: floorText(results), results, charts: floorCharts(results) };
  },
};
