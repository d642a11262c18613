/**
 * bench/cluster: three RaftNode processes on 127.0.0.1 (SqliteLogStore at synchronous=FULL,
 * TcpTransport) replicating an in-memory key-value map (or the user's own state machine, see
 * workload.ts), and a client process on its own TCP connection to the leader. Every figure is
 * put beside the machine's floor (bench/floor), measured first in the same run:
 *
 * - writes: puts of 128 B and 1 KiB with 1, 8, 64 and 256 in flight (commits/s, p50/p99/p99.9;
 *   at 1 in flight at least 5,000 commits), as ratios to the minimal replicator at the same
 *   level and payload, with what the leader spent per commit (fsyncs, wire bytes, CPU);
 * - reads: linearizable reads through ReadIndex, and on a second cluster with lease-based
 *   reads, with 1 and 64 in flight;
 * - failover: SIGKILL of the leader, 20 times, time until a node reports a new leader;
 * - catch-up: a follower stopped while 100,000 entries commit, restarted, timed until it has
 *   applied them all (through a snapshot or from the log; the report says which).
 *
 * `--filter` picks sections by name: writes, reads, lease, failover, catch-up.
 */
import os from 'node:os';
import { runFloor } from '../floor/floor.js';
import type { FloorResults, ReplicatorLevel } from '../floor/floor.js';
import { FLOOR_LEVELS, FLOOR_PAYLOAD_BYTES, floorText, payloadLabel } from '../floor/index.js';
import { formatCount, formatNs, formatTable } from '../lib/report.js';
import type { Chart, Suite, SuiteOptions, SuiteReport } from '../lib/suite.js';
import { BENCH_RAFT, ClusterSession } from './harness.js';
import type { CatchUpResult, ClusterWriteResult, FailoverResult, MeasureOptions, ReadLevelResult } from './harness.js';
import { workloadModulePath } from './workload.js';

const KILLS = 20;
const CATCH_UP_ENTRIES = 100_000;
const LATENCY_MIN_COMMITS = 5_000;
const READ_LEVELS = [1, 64];

/** The targets. */
const TARGET_P50_RATIO = 1.25;
const TARGET_P99_RATIO = 1.5;
const TARGET_COMMITS_256 = 100_000;
const TARGET_FAILOVER_ELECTION_TIMEOUTS = 2;

const SECTIONS = ['writes', 'reads', 'lease', 'failover', 'catch-up'] as const;
type Section = (typeof SECTIONS)[number];

interface LoadSample {
  at: string;
  loadavg: number[];
}

export interface ClusterResults {
  workloadModule: string;
  raftOptions: typeof BENCH_RAFT;
  floor: FloorResults | null;
  writes: (ClusterWriteResult & { replicator: ReplicatorLevel | null })[];
  reads: ReadLevelResult[];
  failover: FailoverResult | null;
  catchUp: CatchUpResult | null;
  targets: TargetCheck[];
  /** The machine's load average (1, 5, 15 min) as each section started: other work skews the figures. */
  load: LoadSample[];
}

interface TargetCheck {
  target: string;
  measured: string;
  met: boolean;
}

function ratio(a: number, b: number | undefined): string {
  return b === undefined || b === 0 ? '-' : `${(a / b).toFixed(2)}x`;
}

function loadNote(s: LoadSample[]): string {
  return s.map((l) => `${l.at} ${l.loadavg.map((x) => x.toFixed(2)).join(' ')}`).join('; ');
}

function targetsOf(r: ClusterResults): TargetCheck[] {
  const out: TargetCheck[] = [];
  for (const w of r.writes) {
    const rep = w.replicator;
    if (w.inFlight !== 1 || rep === null) continue;
    const p50 = w.latency.p50Ns / rep.latency.p50Ns;
    const p99 = w.latency.p99Ns / rep.latency.p99Ns;
    out.push({
      target: `${payloadLabel(w.payloadBytes)}, 1 in flight: p50 <= ${TARGET_P50_RATIO}x replicator`,
      measured: `${formatNs(w.latency.p50Ns)} vs ${formatNs(rep.latency.p50Ns)} = ${p50.toFixed(2)}x`,
      met: p50 <= TARGET_P50_RATIO,
    });
    out.push({
      target: `${payloadLabel(w.payloadBytes)}, 1 in flight: p99 <= ${TARGET_P99_RATIO}x replicator`,
      measured: `${formatNs(w.latency.p99Ns)} vs ${formatNs(rep.latency.p99Ns)} = ${p99.toFixed(2)}x`,
      met: p99 <= TARGET_P99_RATIO,
    });
  }
  const w256 = r.writes.find((w) => w.inFlight === 256 && w.payloadBytes === 128);
  if (w256 !== undefined) {
    out.push({
      target: `128 B, 256 in flight: >= ${formatCount(TARGET_COMMITS_256)} commits/s`,
      measured: `${formatCount(w256.commitsPerSec)}/s (replicator ${w256.replicator === null ? '-' : formatCount(w256.replicator.commitsPerSec)}/s)`,
      met: w256.commitsPerSec >= TARGET_COMMITS_256,
    });
  }
  if (r.failover !== null) {
    out.push({
      target: `failover median <= ${TARGET_FAILOVER_ELECTION_TIMEOUTS} election timeouts`,
      measured: `${r.failover.medianMs.toFixed(0)} ms = ${r.failover.medianElectionTimeouts.toFixed(2)} x ${r.failover.electionTimeoutMs} ms`,
      met: r.failover.medianElectionTimeouts <= TARGET_FAILOVER_ELECTION_TIMEOUTS,
    });
  }
  return out;
}

function report(r: ClusterResults): string {
  const parts: string[] = [];
  if (r.floor !== null) parts.push(`floor (same run)\n${floorText(r.floor)}`);
  if (r.writes.length > 0) {
    parts.push(
      `writes (puts; "x rep" = ratio to the replicator at the same level and payload)\n` +
        formatTable(r.writes, [
          { header: 'payload', align: 'left', cell: (w) => payloadLabel(w.payloadBytes) },
          { header: 'in flight', cell: (w) => String(w.inFlight) },
          { header: 'commits/s', cell: (w) => formatCount(w.commitsPerSec) },
          { header: 'x rep', cell: (w) => ratio(w.commitsPerSec, w.replicator?.commitsPerSec) },
          { header: 'commits', cell: (w) => formatCount(w.latency.count) },
          { header: 'p50', cell: (w) => formatNs(w.latency.p50Ns) },
          { header: 'x rep', cell: (w) => ratio(w.latency.p50Ns, w.replicator?.latency.p50Ns) },
          { header: 'p99', cell: (w) => formatNs(w.latency.p99Ns) },
          { header: 'x rep', cell: (w) => ratio(w.latency.p99Ns, w.replicator?.latency.p99Ns) },
          { header: 'p99.9', cell: (w) => formatNs(w.latency.p999Ns) },
        ]),
    );
    parts.push(
      'what the writes cost\n' +
        formatTable(r.writes, [
          { header: 'payload', align: 'left', cell: (w) => payloadLabel(w.payloadBytes) },
          { header: 'in flight', cell: (w) => String(w.inFlight) },
          { header: 'append p50', cell: (w) => formatNs(w.leader.leaderAppends.p50Ms * 1e6) },
          { header: 'p99', cell: (w) => formatNs(w.leader.leaderAppends.p99Ms * 1e6) },
          { header: 'follower p50', cell: (w) => formatNs(w.leader.followerAppends.p50Ms * 1e6) },
          { header: 'appends/commit', cell: (w) => w.leader.appendsPerCommit.toFixed(2) },
          { header: 'fsync/s', cell: (w) => formatCount(w.leader.fsyncsPerSec) },
          { header: 'commits/fsync', cell: (w) => w.leader.commitsPerFsync.toFixed(1) },
          { header: 'msgs/commit', cell: (w) => w.leader.messagesOutPerCommit.toFixed(2) },
          { header: 'wire B/commit', cell: (w) => w.leader.wireBytesOutPerCommit.toFixed(0) },
          { header: 'cpu µs/commit', cell: (w) => w.leader.cpuUsPerCommit.toFixed(1) },
          { header: 'cpu', cell: (w) => w.leader.cpuShare.toFixed(2) },
          { header: 'all cpu µs/commit', cell: (w) => w.leader.allCpuUsPerCommit.toFixed(1) },
        ]) +
        '\nOn the leader during the run: append = LogStore.append() until durable (the group commit and its fsync),\n' +
        "and on a follower; appends/commit counts the store's writes (commit-index-only ones included, which are\n" +
        'not fsynced); msgs and wire bytes: sent to both followers, framing included; cpu = CPU time over wall\n' +
        'time. all cpu: the three nodes and the client together, which share the cores.',
    );
  }
  if (r.reads.length > 0) {
    parts.push(
      'linearizable reads on the leader\n' +
        formatTable(r.reads, [
          { header: 'mode', align: 'left', cell: (x) => (x.mode === 'lease' ? 'lease' : 'ReadIndex') },
          { header: 'in flight', cell: (x) => String(x.inFlight) },
          { header: 'reads/s', cell: (x) => formatCount(x.readsPerSec) },
          { header: 'reads', cell: (x) => formatCount(x.latency.count) },
          { header: 'p50', cell: (x) => formatNs(x.latency.p50Ns) },
          { header: 'p99', cell: (x) => formatNs(x.latency.p99Ns) },
          { header: 'p99.9', cell: (x) => formatNs(x.latency.p999Ns) },
        ]),
    );
  }
  if (r.failover !== null) {
    const f = r.failover;
    const sorted = f.samplesMs.slice().sort((a, b) => a - b);
    parts.push(
      `failover: SIGKILL of the leader -> a new leader reported, ${f.kills} kills\n` +
        `median ${f.medianMs.toFixed(0)} ms = ${f.medianElectionTimeouts.toFixed(2)} election timeouts ` +
        `(${f.electionTimeoutMs} ms, randomized to ${f.electionTimeoutMs}-${2 * f.electionTimeoutMs} ms); ` +
        `min ${sorted[0]!.toFixed(0)} ms, max ${sorted[sorted.length - 1]!.toFixed(0)} ms`,
    );
  }
  if (r.catchUp !== null) {
    const c = r.catchUp;
    parts.push(
      `catch-up: a follower restarted ${formatCount(c.entriesBehind)} entries (${payloadLabel(c.payloadBytes)}) behind\n` +
        `${(c.fromNodeStartMs / 1000).toFixed(2)} s from its RaftNode's start to applying the leader's commit index ` +
        `(${(c.fromSpawnMs / 1000).toFixed(2)} s from spawning the process); ` +
        (c.viaSnapshot
          ? `through a snapshot (the leader's log starts at ${formatCount(c.leaderFirstIndex)}, snapshot at ${formatCount(c.leaderSnapshotIndex)})`
          : 'from the log alone (no snapshot)'),
    );
  }
  if (r.targets.length > 0) {
    parts.push(
      'targets (issue 7)\n' +
        formatTable(r.targets, [
          { header: 'target', align: 'left', cell: (t) => t.target },
          { header: 'measured', align: 'left', cell: (t) => t.measured },
          { header: 'met', align: 'left', cell: (t) => (t.met ? 'yes' : 'NO') },
        ]),
    );
  }
  const raft = r.raftOptions;
  parts.push(
    `RaftNode options: tickMs ${raft.tickMs}, electionTicks ${raft.electionTicks}, heartbeatTicks ${raft.heartbeatTicks}, ` +
      `maxInflightMsgs ${raft.maxInflightMsgs}, maxBatchEntries ${raft.maxBatchEntries}, maxSizePerMsg ${raft.maxSizePerMsg}, ` +
      `snapshot ${JSON.stringify(raft.snapshot)}; store synchronous=full\n` +
      `workload: ${r.workloadModule}\nload average (1/5/15 min) at each section: ${loadNote(r.load)}`,
  );
  return parts.join('\n\n');
}

function charts(r: ClusterResults): Chart[] {
  const out: Chart[] = [];
  const levels = [...new Set(r.writes.map((w) => w.inFlight))];
  const payloads = [...new Set(r.writes.map((w) => w.payloadBytes))];
  for (const level of levels) {
    const series = [];
    for (const w of r.writes.filter((x) => x.inFlight === level)) {
      series.push({ name: `pontoon ${payloadLabel(w.payloadBytes)}`, points: w.cdf });
      if (w.replicator !== null) series.push({ name: `replicator ${payloadLabel(w.payloadBytes)}`, points: w.replicator.cdf });
    }
    out.push({ kind: 'cdf', title: `write latency, ${level} in flight`, series });
  }
  for (const p of payloads) {
    const ws = r.writes.filter((w) => w.payloadBytes === p);
    const series = [{ name: 'pontoon', points: ws.map((w) => [w.inFlight, w.commitsPerSec] as const) }];
    const reps = ws.filter((w) => w.replicator !== null);
    if (reps.length > 0) series.push({ name: 'replicator', points: reps.map((w) => [w.inFlight, w.replicator!.commitsPerSec] as const) });
    out.push({ kind: 'throughput', title: `commits/s against puts in flight, ${payloadLabel(p)}`, series });
  }
  if (r.reads.length > 0) {
    out.push({
      kind: 'cdf',
      title: 'linearizable read latency',
      series: r.reads.map((x) => ({ name: `${x.mode === 'lease' ? 'lease' : 'ReadIndex'}, ${x.inFlight} in flight`, points: x.cdf })),
    });
  }
  if (r.failover !== null) {
    out.push({
      kind: 'bars',
      title: 'failover: SIGKILL of the leader to a new leader, each kill',
      unit: 'ms',
      labels: r.failover.samplesMs.map((_, i) => `kill ${i + 1}`),
      series: [{ name: 'time to a new leader', points: r.failover.samplesMs.map((ms, i) => [i, ms] as const) }],
    });
  }
  return out;
}

async function runCluster(options: SuiteOptions, log: (line: string) => void): Promise<SuiteReport> {
  const wanted = (s: Section): boolean => options.filter === undefined || s.includes(options.filter);
  const load: LoadSample[] = [];
  const noteLoad = (at: string): void => {
    load.push({ at, loadavg: os.loadavg() });
  };
  const measure: MeasureOptions = {
    durationMs: options.durationMs,
    warmupMs: Math.round((options.warmupRuns * options.durationMs) / 4),
    runs: options.runs,
  };
  const r: ClusterResults = {
    workloadModule: workloadModulePath(),
    raftOptions: BENCH_RAFT,
    floor: null,
    writes: [],
    reads: [],
    failover: null,
    catchUp: null,
    targets: [],
    load,
  };

  if (wanted('writes')) {
    noteLoad('floor');
    log('floor (the replicator and the single operations, for the ratios):');
    r.floor = await runFloor({ levels: FLOOR_LEVELS, payloadBytes: FLOOR_PAYLOAD_BYTES, durationMs: options.durationMs, runs: options.runs, log });
  }

  if (wanted('writes') || wanted('reads') || wanted('failover') || wanted('catch-up')) {
    const session = await ClusterSession.start({ log });
    try {
      log(`cluster up: leader n${session.leader}`);
      if (wanted('writes')) {
        noteLoad('writes');
        for (const payloadBytes of FLOOR_PAYLOAD_BYTES) {
          for (const inFlight of FLOOR_LEVELS) {
            const w = await session.writes(payloadBytes, inFlight, { ...measure, minCount: inFlight === 1 ? LATENCY_MIN_COMMITS : 0 });
            const replicator = r.floor?.replicator.find((x) => x.payloadBytes === payloadBytes && x.inFlight === inFlight) ?? null;
            r.writes.push({ ...w, replicator });
            log(
              `  writes ${payloadLabel(payloadBytes)} x ${inFlight}: ${formatCount(w.commitsPerSec)} commits/s ` +
                `(${ratio(w.commitsPerSec, replicator?.commitsPerSec)} replicator), p50 ${formatNs(w.latency.p50Ns)}, p99 ${formatNs(w.latency.p99Ns)}`,
            );
          }
        }
      }
      if (wanted('reads')) {
        noteLoad('reads');
        for (const inFlight of READ_LEVELS) {
          const x = await session.reads('readIndex', inFlight, measure);
          r.reads.push(x);
          log(`  ReadIndex reads x ${inFlight}: ${formatCount(x.readsPerSec)}/s, p50 ${formatNs(x.latency.p50Ns)}`);
        }
      }
      if (wanted('failover')) {
        noteLoad('failover');
        r.failover = await session.failovers(KILLS);
      }
      if (wanted('catch-up')) {
        noteLoad('catch-up');
        r.catchUp = await session.catchUp(CATCH_UP_ENTRIES, 128);
        log(`  catch-up: ${(r.catchUp.fromNodeStartMs / 1000).toFixed(2)} s, ${r.catchUp.viaSnapshot ? 'through a snapshot' : 'from the log'}`);
      }
    } finally {
      await session.close(process.env.PONTOON_BENCH_CPU_PROF !== undefined);
    }
  }

  if (wanted('lease')) {
    noteLoad('lease');
    const session = await ClusterSession.start({ raft: { leaseBasedReads: true }, log });
    try {
      for (const inFlight of READ_LEVELS) {
        const x = await session.reads('lease', inFlight, measure);
        r.reads.push(x);
        log(`  lease reads x ${inFlight}: ${formatCount(x.readsPerSec)}/s, p50 ${formatNs(x.latency.p50Ns)}`);
      }
    } finally {
      await session.close();
    }
  }
  noteLoad('end');
  r.targets = targetsOf(r);
  return { text: report(r), results: r, charts: charts(r) };
}

export const clusterSuite: Suite = {
  name: 'cluster',
  description: '3 RaftNode processes (SQLite FULL + TCP) and a client process, beside the floor measured in the same run',
  defaults: { runs: 1, durationMs: 3000, warmupRuns: 1 },
  run: runCluster,
};
