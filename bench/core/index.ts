/**
 * bench/core: propose -> commit -> apply throughput of the consensus core alone. One RawNode,
 * and three RawNodes in one process, over MemoryStorage with messages handed over directly:
 * no disk, no network, no timers, so the numbers are the ceiling that the core puts on any
 * deployment.
 *
 * Each measured run proposes on the leader for a fixed wall time, one proposal per turn of the
 * driver loop (or several, per configuration), then drains until everything proposed is
 * applied on every node. Throughput is entries proposed / time until the leader applied the
 * last one.
 */
import { SampleBuffer, merged, summarize, type Histogram, type LatencySummary } from '../lib/histogram.js';
import { formatCount, formatNs, formatTable, median } from '../lib/report.js';
import type { Suite, SuiteOptions, SuiteReport } from '../lib/suite.js';
import { makePayloads, newCluster, proposeBatch, quiescent, runTurn, type BenchNode } from './cluster.js';

const ENTRY_BYTES = 128;

/** Below this share of CPU over wall time, a run is reported as slowed by other processes. */
const CONTENDED = 0.9;

interface CoreConfig {
  name: string;
  nodes: number;
  /** Entries in one proposal: 1 is propose(data); more is one MsgProp carrying them all. */
  entriesPerPropose: number;
  /** Proposals made before each turn of the driver loop (so, per Ready of the leader). */
  proposesPerTurn: number;
  /** The entries/s this configuration must reach (the targets), if it has one. */
  target?: number;
}

const CONFIGS: CoreConfig[] = [
  { name: '1 node, 1 entry/propose', nodes: 1, entriesPerPropose: 1, proposesPerTurn: 1, target: 250_000 },
  { name: '1 node, 64 entries/propose', nodes: 1, entriesPerPropose: 64, proposesPerTurn: 1, target: 1_000_000 },
  { name: '1 node, 64 proposes/Ready', nodes: 1, entriesPerPropose: 1, proposesPerTurn: 64 },
  { name: '3 nodes, 1 entry/propose', nodes: 3, entriesPerPropose: 1, proposesPerTurn: 1 },
  { name: '3 nodes, 64 entries/propose', nodes: 3, entriesPerPropose: 64, proposesPerTurn: 1, target: 300_000 },
  { name: '3 nodes, 64 proposes/Ready', nodes: 3, entriesPerPropose: 1, proposesPerTurn: 64 },
];

interface RunResult {
  entries: number;
  elapsedMs: number;
  /**
   * CPU time of the process over the wall time of the run. Near 1 (a little above, with GC
   * helper threads) when the run had a core to itself; well below 1 when other processes took
   * the CPU, and then its throughput says more about the machine's load than about the code.
   */
  cpuShare: number;
  entriesPerSec: number;
  /**
   * Entries per second of process CPU time: steadier than entriesPerSec on a shared machine,
   * though it also counts GC helper threads, so it reads lower than an idle run's entriesPerSec.
   */
  entriesPerCpuSec: number;
  turns: number;
  leaderReadies: number;
  /** Time of one Ready on the leader: ready() through persist, send, apply, advance(). */
  leaderReady: Histogram;
  followerReady: Histogram;
  /** From propose() to the leader applying the proposal. */
  commitLatency: Histogram;
}

/** Proposals waiting to be applied on the leader: their last index and when they were made. */
class PendingProposals {
  private lastIndex: number[] = [];
  private proposedAt: number[] = [];
  private head = 0;

  push(lastIndex: number, at: number): void {
    this.lastIndex.push(lastIndex);
    this.proposedAt.push(at);
  }

  /** Records the latency of every proposal the leader has applied by `now`. */
  settle(appliedIndex: number, now: number, latencies: SampleBuffer): void {
    while (this.head < this.lastIndex.length && this.lastIndex[this.head]! <= appliedIndex) {
      latencies.push(now - this.proposedAt[this.head]!);
      this.head++;
    }
    if (this.head > 4096) {
      this.lastIndex = this.lastIndex.slice(this.head);
      this.proposedAt = this.proposedAt.slice(this.head);
      this.head = 0;
    }
  }

  get size(): number {
    return this.lastIndex.length - this.head;
  }
}

const payloads = makePayloads(1024, ENTRY_BYTES);

function measureRun(cfg: CoreConfig, durationMs: number): RunResult {
  const nodes = newCluster(cfg.nodes, {
    // etcd's raftexample settings: 1 MiB appends, 256 in flight.
    maxSizePerMsg: 1024 * 1024,
    maxInflightMsgs: 256,
  });
  const leader = nodes[0]!;
  const readyTimes = nodes.map(() => new SampleBuffer());
  const commitTimes = new SampleBuffer();
  const pending = new PendingProposals();
  const baseApplied = leader.appliedEntries;
  const k = cfg.entriesPerPropose;

  let proposed = 0;
  let turns = 0;
  const cpuStart = process.cpuUsage();
  const start = performance.now();
  const deadline = start + durationMs;
  // A proposal is stamped with the end of the previous turn: nothing runs in between.
  let now = start;
  while (now < deadline) {
    for (let p = 0; p < cfg.proposesPerTurn; p++) {
      proposeBatch(leader, payloads, proposed, k);
      proposed += k;
      pending.push(leader.rawNode.log.lastIndex(), now);
    }
    now = runTurn(nodes, readyTimes);
    turns++;
    pending.settle(leader.appliedIndex, now, commitTimes);
  }
  // Drain: everything proposed gets committed and applied everywhere.
  while (!quiescent(nodes)) {
    now = runTurn(nodes, readyTimes);
    turns++;
    pending.settle(leader.appliedIndex, now, commitTimes);
  }
  const elapsedMs = now - start;
  const cpu = process.cpuUsage(cpuStart);
  checkApplied(cfg, nodes, baseApplied + proposed, pending.size);

  return {
    entries: proposed,
    elapsedMs,
    cpuShare: (cpu.user + cpu.system) / 1000 / elapsedMs,
    entriesPerSec: proposed / (elapsedMs / 1000),
    entriesPerCpuSec: proposed / ((cpu.user + cpu.system) / 1e6),
    turns,
    leaderReadies: readyTimes[0]!.length,
    leaderReady: readyTimes[0]!.toHistogram(),
    followerReady: merged(readyTimes.slice(1).map((b) => b.toHistogram())),
    commitLatency: commitTimes.toHistogram(),
  };
}

/** A benchmark of a broken cluster measures nothing: every node must have applied everything. */
function checkApplied(cfg: CoreConfig, nodes: readonly BenchNode[], expected: number, unsettled: number): void {
  for (const n of nodes) {
    if (n.appliedEntries !== expected) {
      throw new Error(`${cfg.name}: node ${n.id} applied ${n.appliedEntries} entries, expected ${expected}`);
    }
  }
  if (unsettled !== 0) throw new Error(`${cfg.name}: ${unsettled} proposals never applied on the leader`);
  const c = nodes[0]!.checksum;
  for (const n of nodes) {
    if (n.checksum !== c) throw new Error(`${cfg.name}: node ${n.id} applied different payloads`);
  }
}

interface ConfigResult {
  name: string;
  nodes: number;
  entriesPerPropose: number;
  proposesPerTurn: number;
  entryBytes: number;
  target: number | null;
  medianEntriesPerSec: number;
  medianEntriesPerCpuSec: number;
  meetsTarget: boolean | null;
  runs: {
    entries: number;
    elapsedMs: number;
    cpuShare: number;
    entriesPerSec: number;
    entriesPerCpuSec: number;
    turns: number;
    leaderReadies: number;
  }[];
  /** Percentiles over every measured run together. */
  leaderReady: LatencySummary;
  followerReady: LatencySummary | null;
  commitLatency: LatencySummary;
}

async function runCore(options: SuiteOptions, log: (line: string) => void): Promise<SuiteReport> {
  const configs = CONFIGS.filter((c) => options.filter === undefined || c.name.includes(options.filter));
  const results: ConfigResult[] = [];
  for (const cfg of configs) {
    for (let i = 0; i < options.warmupRuns; i++) measureRun(cfg, options.durationMs);
    const runs: RunResult[] = [];
    for (let i = 0; i < options.runs; i++) {
      runs.push(measureRun(cfg, options.durationMs));
      // Let pending I/O (the progress line) and finalizers run between runs.
      await new Promise((resolve) => setImmediate(resolve));
    }
    const med = median(runs.map((r) => r.entriesPerSec));
    const r: ConfigResult = {
      name: cfg.name,
      nodes: cfg.nodes,
      entriesPerPropose: cfg.entriesPerPropose,
      proposesPerTurn: cfg.proposesPerTurn,
      entryBytes: ENTRY_BYTES,
      target: cfg.target ?? null,
      medianEntriesPerSec: med,
      medianEntriesPerCpuSec: median(runs.map((x) => x.entriesPerCpuSec)),
      meetsTarget: cfg.target === undefined ? null : med >= cfg.target,
      runs: runs.map((x) => ({
        entries: x.entries,
        elapsedMs: x.elapsedMs,
        cpuShare: x.cpuShare,
        entriesPerSec: x.entriesPerSec,
        entriesPerCpuSec: x.entriesPerCpuSec,
        turns: x.turns,
        leaderReadies: x.leaderReadies,
      })),
      leaderReady: summarize(merged(runs.map((x) => x.leaderReady))),
      followerReady: cfg.nodes > 1 ? summarize(merged(runs.map((x) => x.followerReady))) : null,
      commitLatency: summarize(merged(runs.map((x) => x.commitLatency))),
    };
    results.push(r);
    log(`  ${cfg.name}: ${formatCount(med)} entries/s (median of ${runs.length})`);
  }

  const table = formatTable(results, [
    { header: 'configuration', align: 'left', cell: (r) => r.name },
    { header: 'entries/s (median)', cell: (r) => formatCount(r.medianEntriesPerSec) },
    {
      header: 'runs min..max',
      cell: (r) => {
        const xs = r.runs.map((x) => x.entriesPerSec);
        return `${formatCount(Math.min(...xs))}..${formatCount(Math.max(...xs))}`;
      },
    },
    {
      header: 'target',
      cell: (r) => (r.target === null ? '-' : `${formatCount(r.target)} ${r.meetsTarget ? 'met' : 'MISSED'}`),
    },
    { header: 'Ready p50', cell: (r) => formatNs(r.leaderReady.p50Ns) },
    { header: 'Ready p99', cell: (r) => formatNs(r.leaderReady.p99Ns) },
    { header: 'follower Ready p50', cell: (r) => (r.followerReady === null ? '-' : formatNs(r.followerReady.p50Ns)) },
    { header: 'p99', cell: (r) => (r.followerReady === null ? '-' : formatNs(r.followerReady.p99Ns)) },
    { header: 'propose->applied p50', cell: (r) => formatNs(r.commitLatency.p50Ns) },
    { header: 'p99', cell: (r) => formatNs(r.commitLatency.p99Ns) },
    {
      header: 'cpu',
      cell: (r) => {
        const share = Math.min(...r.runs.map((x) => x.cpuShare));
        return `${Math.round(share * 100)}%${share < CONTENDED ? '*' : ''}`;
      },
    },
  ]);
  const contended = results.some((r) => r.runs.some((x) => x.cpuShare < CONTENDED));
  const text =
    `${table}\n\n` +
    `${ENTRY_BYTES}-byte entries, MemoryStorage, ${options.runs} runs of ${options.durationMs} ms per configuration ` +
    `after ${options.warmupRuns} warm-up run(s); percentiles over all runs.\n` +
    `1 entry/propose: propose(data), then the Ready loop. 64 entries/propose: one MsgProp of 64 entries (a batch). ` +
    `64 proposes/Ready: 64 propose() calls (concurrent clients) between Readies.\n` +
    `Ready = ready() through persist, apply and advance(), on the leader (and on a follower). ` +
    `propose->applied = until the leader applied it. cpu = the lowest share of a run's wall time that the ` +
    `process spent on the CPU.` +
    (contended
      ? `\n* Other processes took the CPU during some runs (cpu < ${CONTENDED * 100}%): those numbers understate ` +
        `the code; rerun on an idle machine to compare.`
      : '');
  return { text, results };
}

export const coreSuite: Suite = {
  name: 'core',
  description: 'propose -> commit -> apply throughput of 1 and 3 RawNodes in one process',
  run: runCore,
};
