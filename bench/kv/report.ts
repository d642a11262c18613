/**
 * The kv suite's table: one row per figure, pontoon-kv, etcd and the floor side by side, the
 * ratio pontoon-kv / etcd (above 1 is better for rates, below 1 is better for latencies, CPU per
 * operation, memory and restart time), and each compared system over the floor: for a rate, the
 * share of the floor's rate it reaches; for a latency or a CPU cost, how many times the floor's.
 * Each level has three CPU rows (µs of CPU per operation in the measured windows): the client
 * process, every server process summed, and the leader's alone.
 */
import os from 'node:os';
import { formatCount, formatNs, formatTable } from '../lib/report.js';
import type { Chart } from '../lib/suite.js';
import type { KvBenchResult, LevelCpu, LevelResult, SystemResult } from './kv-bench.js';
import { VALUE_BYTES } from './protocol.js';

export interface TableRow {
  figure: string;
  /** Values in the systems' order (pontoon-kv, etcd, floor); undefined where not measured. */
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

function cpuUs(us: number): string {
  return `${us >= 100 ? us.toFixed(0) : us.toPrecision(3)} µs`;
}

/** The CPU rows of each level, in order: label and the figure of a level's CPU. */
export const CPU_ROWS: readonly { label: string; value: (c: LevelCpu) => number }[] = [
  { label: 'client CPU per op', value: (c) => c.clientUsPerOp },
  { label: 'servers CPU per op (all members)', value: (c) => c.serversUsPerOp },
  { label: 'leader CPU per op', value: (c) => c.leaderUsPerOp },
];

/** Every figure of the table, in order; the quick test checks these rows. */
export function tableRows(r: KvBenchResult): TableRow[] {
  const rows: TableRow[] = [];
  const [first] = r.systems;
  first?.levels.forEach((l, i) => {
    const at = r.systems.map((s) => s.levels[i]!);
    const lat = l.level.kind === 'watch' ? 'ack to event ' : '';
    rows.push({ figure: `${l.name}: ${rateLabel(l)}`, values: at.map((x) => x.opsPerSec), format: formatCount });
    // A level that completed nothing has no latency, not a latency of 0.
    const p = (x: LevelResult, v: number): number | undefined => (x.latency.count > 0 ? v : undefined);
    rows.push({ figure: `${l.name}: ${lat}p50`, values: at.map((x) => p(x, x.latency.p50Ns)), format: formatNs });
    rows.push({ figure: `${l.name}: ${lat}p99`, values: at.map((x) => p(x, x.latency.p99Ns)), format: formatNs });
    for (const c of CPU_ROWS) {
      rows.push({ figure: `${l.name}: ${c.label}`, values: at.map((x) => (x.cpu === undefined ? undefined : c.value(x.cpu))), format: cpuUs });
    }
  });
  if (r.config.keys > 0 && r.systems.some((s) => s.keys !== undefined)) {
    const n = formatCount(r.config.keys);
    const mean = (xs: number[] | undefined): number | undefined => (xs === undefined ? undefined : xs.reduce((a, b) => a + b, 0) / xs.length);
    const load = (s: SystemResult): number | undefined => (s.keys === undefined ? undefined : s.keys.keys / (s.keys.load.elapsedMs / 1000));
    rows.push({ figure: `load ${n} keys (txns of 128 puts): keys/s`, values: r.systems.map(load), format: formatCount });
    rows.push({ figure: `RSS per member with ${n} keys (mean of 3)`, values: r.systems.map((s) => mean(s.keys?.rssBytes)), format: mib });
    rows.push({ figure: `restart of a member with ${n} keys`, values: r.systems.map((s) => s.keys?.restartMs), format: (ms) => formatNs(ms * 1e6) });
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

function cores(c: number): string {
  return c.toFixed(2);
}

export function kvReport(r: KvBenchResult): string {
  const names = r.systems.map((s) => s.system);
  // The warm-up runs before the levels only: a run of the key set alone has none.
  const levelsRan = r.systems.some((s) => s.levels.length > 0);
  const floorAt = names.indexOf('floor');
  const cell = (i: number) => (row: TableRow) => (row.values[i] === undefined ? '-' : row.format(row.values[i]!));
  const table = formatTable(tableRows(r), [
    { header: 'figure', align: 'left', cell: (row) => row.figure },
    ...names.map((name, i) => ({ header: name, cell: cell(i) })),
    { header: `${names[0]} / ${names[1]}`, cell: (row: TableRow) => ratio(row.values[0], row.values[1]) },
    ...(floorAt < 0
      ? []
      : names.flatMap((name, i) => (i === floorAt ? [] : [{ header: `${name} / floor`, cell: (row: TableRow) => ratio(row.values[i], row.values[floorAt]) }]))),
  ]);
  const notes: string[] = [];
  for (const s of r.systems) {
    for (const l of s.levels) {
      if (l.errors > 0) notes.push(`${s.system} ${l.name}: ${l.errors} failed; first: ${l.firstError}`);
      if (l.beforeAck !== undefined && l.latency.count > 0) {
        notes.push(`${s.system} watch: ${((100 * l.beforeAck) / l.latency.count).toFixed(1)}% of events reached their watcher before the writer had its answer (counted as 0)`);
      }
      if (l.cpu === undefined && r.cpuUnavailable === undefined) notes.push(`${s.system} ${l.name}: no CPU figures: ${l.cpuUnavailable}`);
    }
    if (s.keys !== undefined) {
      notes.push(
        `${s.system} with ${formatCount(s.keys.keys)} keys: RSS per member ${s.keys.rssBytes.map(mib).join(', ')}; restarted member ${s.keys.restartedMember} (a follower)`,
      );
    }
  }
  const put = (s: SystemResult | undefined, n: number): LevelResult | undefined => s?.levels.find((l) => l.level.kind === 'put' && l.level.inFlight === n);
  const [ours, theirs, floor] = r.systems as [SystemResult, SystemResult, SystemResult | undefined];
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
  const floor64 = put(floor, 64);
  if (floor64 !== undefined && p64[0] !== undefined && p64[1] !== undefined) {
    goals.push(
      `the floor at 64 in flight: ${formatCount(floor64.opsPerSec)} puts/s; pontoon-kv reaches ${ratio(p64[0].opsPerSec, floor64.opsPerSec)} of it, etcd ${ratio(p64[1].opsPerSec, floor64.opsPerSec)}` +
        (floor64.opsPerSec < 3 * p64[1].opsPerSec ? ` (3x etcd's rate is above the floor's: this machine and client cannot show the goal)` : ''),
    );
  }
  const busy: string[] = [];
  for (const s of r.systems) {
    for (const l of s.levels) {
      if (l.level.kind !== 'put' || l.cpu === undefined) continue;
      const c = l.cpu;
      busy.push(`  ${s.system} ${l.name}: client ${cores(c.clientCores)}, servers ${cores(c.serversCores)} (${c.serverProcesses} process${c.serverProcesses === 1 ? '' : 'es'}), leader ${cores(c.leaderCores)}`);
    }
  }
  return [
    table,
    '',
    ...(goals.length > 0 ? ['goals (issue 15):', ...goals.map((g) => `  ${g}`), ''] : []),
    ...(busy.length > 0 ? [`cores busy in the measured windows of the put levels (CPU time / window time; this machine has ${os.cpus().length}):`, ...busy, ''] : []),
    `passes: ${r.order.join(', ')} (each a fresh cluster and client process; rates are the mean of a system's passes, percentiles over all their samples)`,
    `${levelsRan ? `each fresh cluster warmed with ${r.config.serverWarmupOps.toLocaleString('en-US')} unmeasured operations, then ` : ''}per level per pass ${r.config.warmupMs} ms of warm-up and a ${r.config.durationMs} ms window; values ${VALUE_BYTES} B; client: etcd3 in its own process, puts/gets/CAS/keepalives to the leader, watchers on every member`,
    'floor: one process answering the same etcd3 client from a map in memory on three ports (no consensus, no disk), so "x / floor" of a rate is the share of what this machine reaches with this client',
    r.cpuUnavailable !== undefined
      ? `CPU: ${r.cpuUnavailable}`
      : 'CPU per op: user + system time from /proc/<pid>/stat (all threads, 10 ms ticks) over each measured window, divided by the operations it completed; servers = every member process (the floor: its one process)',
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
  const p64 = r.systems.map((s) => s.levels.find((l) => l.level.kind === 'put' && l.level.inFlight === 64));
  const cpu64: Chart = {
    kind: 'bars',
    title: 'CPU per put at 64 in flight, by process (µs of user + system time per put)',
    unit: 'µs',
    labels: CPU_ROWS.map((c) => c.label),
    series: r.systems.map((s, i) => {
      const c = p64[i]?.cpu;
      return { name: s.system, points: c === undefined ? [] : CPU_ROWS.map((row, x) => [x, row.value(c)] as const) };
    }),
  };
  return [putThroughput, cpu64].filter((c) => c.series.some((s) => s.points.length > 0));
}
