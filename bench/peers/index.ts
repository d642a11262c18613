/**
 * bench/peers (on demand: `pnpm bench peers`): the cluster suite's write workload on other
 * systems on this machine, in one run with ours, each reported as a ratio to ours.
 *
 * - Pontoon: the cluster suite's harness (3 RaftNode processes, SQLite synchronous=FULL + TCP).
 * - etcd 3.4 from Debian: 3 members on 127.0.0.1, default durability, driven by `etcd3`.
 * - `@markwylde/liferaft` and `skiff`, the JavaScript Raft libraries a Node user would
 *   otherwise pick, where they install.
 *
 * Every system gets 3 nodes on 127.0.0.1 and one client process keeping 1, 8, 64 and 256
 * writes of 128 B and 1 KiB in flight. The suite installs what it needs (apt-get, and npm into
 * bench/peers/.deps, outside the workspace lockfile). Targets (issue 7): ours at 64 in flight
 * >= 6x etcd's puts/s; ours >= 10x the JavaScript peers' commits/s.
 */
import os from 'node:os';
import { formatCount, formatNs, formatTable } from '../lib/report.js';
import type { Chart, Suite, SuiteOptions, SuiteReport } from '../lib/suite.js';
import { measureEtcd, measureJsRaft, measurePontoon } from './systems.js';
import type { PeerLevelResult, SystemName, SystemResult, Workload } from './systems.js';

const PAYLOAD_BYTES = [128, 1024] as const;
const IN_FLIGHT = [1, 8, 64, 256] as const;
const SYSTEMS: readonly SystemName[] = ['pontoon', 'etcd', 'liferaft', 'skiff'];

/** Issue 7's targets, as ratios of our commits/s to the peer's. */
const ETCD_TARGET = { inFlight: 64, ratio: 6 };
const JS_TARGET = { ratio: 10 };

interface Row {
  system: SystemName;
  level: PeerLevelResult;
  ratio: number | undefined;
}

function payloadName(bytes: number): string {
  return bytes >= 1024 ? `${bytes / 1024} KiB` : `${bytes} B`;
}

function ratioText(r: number | undefined): string {
  return r === undefined || !Number.isFinite(r) ? '-' : `${r >= 100 ? r.toFixed(0) : r.toPrecision(3)}x`;
}

function loadText(): string {
  return os.loadavg().map((l) => l.toFixed(2)).join(', ');
}

function ours(results: readonly SystemResult[], payloadBytes: number, inFlight: number): PeerLevelResult | undefined {
  return results.find((r) => r.system === 'pontoon')?.levels.find((l) => l.payloadBytes === payloadBytes && l.inFlight === inFlight);
}

/** ours / peer commits/s at the same level (undefined when either was not measured). */
function ratioAt(results: readonly SystemResult[], level: PeerLevelResult): number | undefined {
  const mine = ours(results, level.payloadBytes, level.inFlight);
  if (mine === undefined || level.commitsPerSec === 0) return undefined;
  return mine.commitsPerSec / level.commitsPerSec;
}

function targetLines(results: readonly SystemResult[]): string[] {
  const lines: string[] = [];
  const verdict = (r: number | undefined, want: number): string =>
    r === undefined ? 'not measured' : r >= want ? 'met' : 'MISSED';
  const etcd = results.find((r) => r.system === 'etcd');
  for (const payloadBytes of PAYLOAD_BYTES) {
    const level = etcd?.levels.find((l) => l.payloadBytes === payloadBytes && l.inFlight === ETCD_TARGET.inFlight);
    const r = level === undefined ? undefined : ratioAt(results, level);
    lines.push(
      `ours >= ${ETCD_TARGET.ratio}x etcd at ${ETCD_TARGET.inFlight} in flight, ${payloadName(payloadBytes)}: ${ratioText(r)} (${verdict(r, ETCD_TARGET.ratio)})`,
    );
  }
  for (const system of ['liferaft', 'skiff'] as const) {
    const peer = results.find((r) => r.system === system);
    if (peer === undefined) continue;
    if (peer.unavailable !== undefined) {
      lines.push(`ours >= ${JS_TARGET.ratio}x ${system}: not measured (${peer.unavailable})`);
      continue;
    }
    // A level where the peer acknowledged nothing has no ratio; it is counted, not hidden.
    const progressed = peer.levels.filter((l) => l.commitsPerSec > 0);
    const ratios = progressed.map((l) => ratioAt(results, l)).filter((r): r is number => r !== undefined);
    const min = ratios.length > 0 && ratios.length === progressed.length ? Math.min(...ratios) : undefined;
    const lowest = min === undefined ? undefined : progressed.find((l) => ratioAt(results, l) === min);
    const where = lowest === undefined ? '' : ` at ${payloadName(lowest.payloadBytes)} x ${lowest.inFlight}`;
    const stalled = peer.levels.length - progressed.length + (PAYLOAD_BYTES.length * IN_FLIGHT.length - peer.levels.length);
    const stalls = stalled > 0 ? `; ${stalled} of ${PAYLOAD_BYTES.length * IN_FLIGHT.length} levels without a number (stalled)` : '';
    lines.push(`ours >= ${JS_TARGET.ratio}x ${system} at every level: lowest ${ratioText(min)}${where} (${verdict(min, JS_TARGET.ratio)})${stalls}`);
  }
  return lines;
}

function charts(results: readonly SystemResult[]): Chart[] {
  const measured = results.filter((r) => r.levels.length > 0);
  const out: Chart[] = [];
  for (const payloadBytes of PAYLOAD_BYTES) {
    out.push({
      kind: 'throughput',
      title: `Commits/s against writes in flight, ${payloadName(payloadBytes)} (3 nodes, 127.0.0.1)`,
      series: measured.map((r) => ({
        name: r.system,
        points: r.levels.filter((l) => l.payloadBytes === payloadBytes).map((l) => [l.inFlight, l.commitsPerSec] as const),
      })),
    });
  }
  for (const payloadBytes of PAYLOAD_BYTES) {
    out.push({
      kind: 'cdf',
      title: `Write latency at 1 in flight, ${payloadName(payloadBytes)}`,
      series: measured.flatMap((r) => {
        const level = r.levels.find((l) => l.payloadBytes === payloadBytes && l.inFlight === 1);
        return level === undefined ? [] : [{ name: r.system, points: level.cdf }];
      }),
    });
  }
  return out.filter((c) => c.series.some((s) => s.points.length > 0));
}

function report(results: readonly SystemResult[], loadBefore: string, loadAfter: string, wallMs: number): string {
  const rows: Row[] = results.flatMap((r) => r.levels.map((level) => ({ system: r.system, level, ratio: r.system === 'pontoon' ? undefined : ratioAt(results, level) })));
  const table = formatTable(rows, [
    { header: 'system', align: 'left', cell: (r) => r.system },
    { header: 'payload', cell: (r) => payloadName(r.level.payloadBytes) },
    { header: 'in flight', cell: (r) => String(r.level.inFlight) },
    { header: 'commits/s', cell: (r) => formatCount(r.level.commitsPerSec) },
    { header: 'p50', cell: (r) => (r.level.latency.count > 0 ? formatNs(r.level.latency.p50Ns) : '-') },
    { header: 'p99', cell: (r) => (r.level.latency.count > 0 ? formatNs(r.level.latency.p99Ns) : '-') },
    { header: 'failed', cell: (r) => (r.level.errors > 0 ? String(r.level.errors) : '') },
    { header: 'ours ÷ this', cell: (r) => (r.system === 'pontoon' ? '' : ratioText(r.ratio)) },
  ]);
  const systems = results.map((r) => {
    const head = `${r.system}: ${r.version}; durable: ${r.durable}`;
    const status = r.unavailable !== undefined ? [`  NOT MEASURED: ${r.unavailable}`] : [];
    return [head, ...status, ...r.notes.map((n) => `  ${n}`)].join('\n');
  });
  const failures = rows.filter((r) => r.level.errors > 0).map((r) => `${r.system} ${payloadName(r.level.payloadBytes)} x ${r.level.inFlight}: first failure: ${r.level.firstError}`);
  return [
    table,
    '',
    'targets (issue 7):',
    ...targetLines(results).map((l) => `  ${l}`),
    '',
    ...systems,
    ...(failures.length > 0 ? ['', ...failures] : []),
    '',
    `load average (1, 5, 15 min): ${loadBefore} before, ${loadAfter} after; ${os.cpus().length} cores; suite took ${(wallMs / 1000).toFixed(0)} s`,
  ].join('\n');
}

export const peersSuite: Suite = {
  name: 'peers',
  description: 'the cluster write workload on etcd, liferaft and skiff beside ours, as ratios (installs them)',
  // Eight levels per system; the default run takes about 4 minutes once everything is installed.
  defaults: { runs: 1, durationMs: 3000, warmupRuns: 1 },
  onDemand: true,
  async run(options: SuiteOptions, log: (line: string) => void): Promise<SuiteReport> {
    const started = performance.now();
    const loadBefore = loadText();
    const work: Workload = {
      payloadBytes: PAYLOAD_BYTES,
      inFlight: IN_FLIGHT,
      durationMs: options.durationMs,
      // The cluster harness warms each level up for a quarter of its duration: the same here.
      warmupMs: options.warmupRuns > 0 ? Math.round(options.durationMs / 4) : 0,
      runs: options.runs,
    };
    // --filter takes system names, comma-separated: `--filter etcd,liferaft`.
    const wanted = options.filter?.split(',').map((f) => f.trim());
    const selected = SYSTEMS.filter((s) => wanted === undefined || wanted.some((f) => s.includes(f)));
    const results: SystemResult[] = [];
    for (const system of selected) {
      log(`peers: ${system}`);
      if (system === 'pontoon') results.push(await measurePontoon(work, log));
      else if (system === 'etcd') results.push(await measureEtcd(work, log));
      else results.push(await measureJsRaft(system, work, log));
    }
    const wallMs = performance.now() - started;
    const loadAfter = loadText();
    return {
      text: report(results, loadBefore, loadAfter, wallMs),
      results: { workload: work, loadAverageBefore: loadBefore, loadAverageAfter: loadAfter, wallMs, systems: results },
      charts: charts(results),
    };
  },
};
