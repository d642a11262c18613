/**
 * The kv suite's table: one row per figure, pontoon-kv and etcd side by side, and the ratio
 * pontoon-kv / etcd (above 1 is better for rates, below 1 is better for latencies, memory and
 * restart time).
 */
import { formatCount, formatNs, formatTable } from '../lib/report.js';
import type { Chart } from '../lib/suite.js';
import type { KvBenchResult, LevelResult, SystemResult } from './kv-bench.js';
import { VALUE_BYTES } from './protocol.js';

export interface TableRow {
  figure: string;
  /** Values in the systems' order (pontoon-kv, etcd); undefined where not measured. */
  values: (number | undefined)[];
  format: (v: number) => string;
}

function rateLabel(l: LevelResult): string {
  switch (l.level.kind) {
    case 'put':
      return 'puts/s';
    case 'get linearizable':
    case 'get serializable':
      return 'gets/s';
    case 'txn cas':
      return 'txns/s';
    case 'watch':
      return 'events/s';
    case 'keepalive':
      return 'keepalives/s';
  }
}

function mib(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(0)} MiB`;
}

/** Every figure of the table, in order; the quick test checks these rows. */
export function tableRows(r: KvBenchResult): TableRow[] {
  const [ours, theirs] = r.systems as [SystemResult, SystemResult];
  const rows: TableRow[] = [];
  ours.levels.forEach((l, i) => {
    const e = theirs.levels[i]!;
    const lat = l.level.kind === 'watch' ? 'ack to event ' : '';
    rows.push({ figure: `${l.name}: ${rateLabel(l)}`, values: [l.opsPerSec, e.opsPerSec], format: formatCount });
    // A level that completed nothing has no latency, not a latency of 0.
    const p = (x: LevelResult, v: number): number | undefined => (x.latency.count > 0 ? v : undefined);
    rows.push({ figure: `${l.name}: ${lat}p50`, values: [p(l, l.latency.p50Ns), p(e, e.latency.p50Ns)], format: formatNs });
    rows.push({ figure: `${l.name}: ${lat}p99`, values: [p(l, l.latency.p99Ns), p(e, e.latency.p99Ns)], format: formatNs });
  });
  if (r.config.keys > 0 && (ours.keys !== undefined || theirs.keys !== undefined)) {
    const n = formatCount(r.config.keys);
    const mean = (xs: number[] | undefined): number | undefined => (xs === undefined ? undefined : xs.reduce((a, b) => a + b, 0) / xs.length);
    const load = (s: SystemResult): number | undefined => (s.keys === undefined ? undefined : s.keys.keys / (s.keys.load.elapsedMs / 1000));
    rows.push({ figure: `load ${n} keys (txns of 128 puts): keys/s`, values: [load(ours), load(theirs)], format: formatCount });
    rows.push({ figure: `RSS per member with ${n} keys (mean of 3)`, values: [mean(ours.keys?.rssBytes), mean(theirs.keys?.rssBytes)], format: mib });
    rows.push({ figure: `restart of a member with ${n} keys`, values: [ours.keys?.restartMs, theirs.keys?.restartMs], format: (ms) => formatNs(ms * 1e6) });
  }
  return rows;
}

function ratio(a: number | undefined, b: number | undefined): string {
  if (a === undefined || b === undefined || !Number.isFinite(a) || !Number.isFinite(b) || b === 0) return '-';
  const r = a / b;
  return `${r >= 100 ? r.toFixed(0) : r.toPrecision(3)}x`;
}

function loadText(l: readonly number[]): string {
  return l.map((x) => x.toFixed(2)).join(', ');
}

export function kvReport(r: KvBenchResult): string {
  const names = r.systems.map((s) => s.system);
  const table = formatTable(tableRows(r), [
    { header: 'figure', align: 'left', cell: (row) => row.figure },
    ...names.map((name, i) => ({ header: name, cell: (row: TableRow) => (row.values[i] === undefined ? '-' : row.format(row.values[i]!)) })),
    { header: `${names[0]} / ${names[1]}`, cell: (row: TableRow) => ratio(row.values[0], row.values[1]) },
  ]);
  const notes: string[] = [];
  for (const s of r.systems) {
    for (const l of s.levels) {
      if (l.errors > 0) notes.push(`${s.system} ${l.name}: ${l.errors} failed; first: ${l.firstError}`);
      if (l.beforeAck !== undefined && l.latency.count > 0) {
        notes.push(`${s.system} watch: ${((100 * l.beforeAck) / l.latency.count).toFixed(1)}% of events reached their watcher before the writer had its answer (counted as 0)`);
      }
    }
    if (s.keys !== undefined) {
      notes.push(
        `${s.system} with ${formatCount(s.keys.keys)} keys: RSS per member ${s.keys.rssBytes.map(mib).join(', ')}; restarted member ${s.keys.restartedMember} (a follower)`,
      );
    }
  }
  const put = (s: SystemResult, n: number): LevelResult | undefined => s.levels.find((l) => l.level.kind === 'put' && l.level.inFlight === n);
  const [ours, theirs] = r.systems as [SystemResult, SystemResult];
  const goals: string[] = [];
  const p64 = [put(ours, 64), put(theirs, 64)];
  if (p64[0] !== undefined && p64[1] !== undefined) {
    const x = p64[0].opsPerSec / p64[1].opsPerSec;
    goals.push(`puts/s at 64 in flight >= 3x etcd's: ${ratio(p64[0].opsPerSec, p64[1].opsPerSec)} (${x >= 3 ? 'met' : 'MISSED'})`);
  }
  const p1 = [put(ours, 1), put(theirs, 1)];
  if (p1[0] !== undefined && p1[1] !== undefined) {
    const ok = p1[0].latency.p50Ns <= p1[1].latency.p50Ns;
    goals.push(`p50 at 1 in flight <= etcd's: ${formatNs(p1[0].latency.p50Ns)} vs ${formatNs(p1[1].latency.p50Ns)} (${ok ? 'met' : 'MISSED'})`);
  }
  return [
    table,
    '',
    ...(goals.length > 0 ? ['goals (issue 15):', ...goals.map((g) => `  ${g}`), ''] : []),
    `passes: ${r.order.join(', ')} (each a fresh 3-member cluster and client process; rates are the mean of a system's passes, percentiles over all their samples)`,
    `window ${r.config.durationMs} ms per level per pass after ${r.config.warmupMs} ms of warm-up; values ${VALUE_BYTES} B; client: etcd3 in its own process, puts/gets/CAS/keepalives to the leader, watchers on every member`,
    ...notes,
    `load average (1, 5, 15 min): ${loadText(r.loadBefore)} before, ${loadText(r.loadAfter)} after; suite took ${(r.wallMs / 1000).toFixed(0)} s`,
  ].join('\n');
}

export function kvCharts(r: KvBenchResult): Chart[] {
  const putThroughput: Chart = {
    kind: 'throughput',
    title: 'Puts/s against puts in flight, 256 B (3 members, 127.0.0.1, fsync on)',
    series: r.systems.map((s) => ({
      name: s.system,
      points: s.levels.filter((l) => l.level.kind === 'put').map((l) => [l.level.inFlight, l.opsPerSec] as const),
    })),
  };
  return [putThroughput].filter((c) => c.series.some((s) => s.points.length > 0));
}
