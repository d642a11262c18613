/**
 * bench/cluster-mem: three RaftNodes in one process over the in-memory LogStore and network
 * that @pontoon/raft ships (MemoryLogStore, durable at once; MemoryNetwork, delivering a
 * structured clone of each message on the next turn of the event loop), replicating the same
 * workload as `cluster`. The closed loop calls propose() on the leader directly, keeping 1, 8,
 * 64 or 256 in flight, with 128 B and 1 KiB commands. No disk, no sockets, no second process:
 * the cost of RaftNode itself (the driver, the core, the state machine) on one core.
 */
import { MemoryLogStore, MemoryNetwork, RaftNode } from '@pontoon/raft';
import { FLOOR_LEVELS, FLOOR_PAYLOAD_BYTES, payloadLabel } from '../floor/index.js';
import { SampleBuffer, cdfPoints, merged, summarize } from '../lib/histogram.js';
import type { Histogram } from '../lib/histogram.js';
import { formatCount, formatNs, formatTable, median } from '../lib/report.js';
import type { Chart, Suite, SuiteOptions, SuiteReport } from '../lib/suite.js';
import { BENCH_RAFT } from '../cluster/harness.js';
import type { WriteLevelResult } from '../cluster/harness.js';
import { loadWorkload, workloadModulePath } from '../cluster/workload.js';
import type { BenchStateMachine, BenchWorkload } from '../cluster/workload.js';

const POOL = 1024;

interface MemLevelResult extends WriteLevelResult {
  /** Process CPU time over wall time during the measured windows (1 = one core busy). */
  cpuShare: number;
  /** Process CPU time per commit, µs. */
  cpuUsPerCommit: number;
}

interface MemCluster {
  nodes: RaftNode<BenchStateMachine>[];
  stop(): Promise<void>;
}

async function startCluster(workload: BenchWorkload): Promise<MemCluster> {
  const network = new MemoryNetwork();
  const members = [1, 2, 3].map((id) => ({ id, address: `mem-${id}` }));
  const { leaseBasedReads: _unused, ...raft } = BENCH_RAFT;
  const nodes = members.map(
    (m) =>
      new RaftNode<BenchStateMachine>({
        id: m.id,
        logStore: new MemoryLogStore(),
        transport: network.transport(m.id),
        stateMachine: workload.createStateMachine(),
        initialMembers: members,
        ...raft,
      }),
  );
  const stop = async (): Promise<void> => {
    await Promise.all(nodes.map((n) => n.stop()));
    network.clear();
  };
  const deadline = performance.now() + 20 * BENCH_RAFT.tickMs * BENCH_RAFT.electionTicks;
  while (!nodes.some((n) => n.isLeader)) {
    if (performance.now() > deadline) {
      await stop();
      throw new Error('cluster-mem: no leader elected');
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  return { nodes, stop };
}

interface Window {
  completed: number;
  elapsedMs: number;
  cpuUs: number;
  latencies: SampleBuffer;
}

/**
 * Keeps `inFlight` proposals outstanding on the leader: each settled one proposes the next.
 * Records the proposals settled inside the window that starts after `warmupMs`.
 */
function closedLoop(leader: RaftNode<BenchStateMachine>, commands: readonly Uint8Array[], inFlight: number, warmupMs: number, durationMs: number): Promise<Window> {
  return new Promise<Window>((resolve, reject) => {
    const latencies = new SampleBuffer();
    let seq = 0;
    let outstanding = 0;
    let issuing = true;
    let measuring = false;
    let completed = 0;
    let windowStart = 0;
    let windowEnd = 0;
    let cpuStart = process.cpuUsage();
    let cpuUs = 0;
    let failed = false;
    const issue = (): void => {
      const t0 = performance.now();
      outstanding++;
      leader.propose(commands[seq++ % commands.length]!).then(
        () => {
          outstanding--;
          if (measuring) {
            latencies.push(performance.now() - t0);
            completed++;
          }
          if (issuing) issue();
          else if (outstanding === 0 && !failed) resolve({ completed, elapsedMs: windowEnd - windowStart, cpuUs, latencies });
        },
        (err: unknown) => {
          outstanding--;
          issuing = false;
          if (!failed) reject(err);
          failed = true;
        },
      );
    };
    setTimeout(() => {
      measuring = true;
      windowStart = performance.now();
      cpuStart = process.cpuUsage();
      setTimeout(() => {
        const cpu = process.cpuUsage(cpuStart);
        cpuUs = cpu.user + cpu.system;
        measuring = false;
        issuing = false;
        windowEnd = performance.now();
      }, durationMs);
    }, warmupMs);
    for (let i = 0; i < inFlight; i++) issue();
  });
}

async function runClusterMem(options: SuiteOptions, log: (line: string) => void): Promise<SuiteReport> {
  const workload = await loadWorkload(workloadModulePath());
  const cluster = await startCluster(workload);
  const results: MemLevelResult[] = [];
  try {
    for (const payloadBytes of FLOOR_PAYLOAD_BYTES) {
      const commands = Array.from({ length: POOL }, (_, i) => workload.command(i, payloadBytes));
      for (const inFlight of FLOOR_LEVELS) {
        const name = `${payloadLabel(payloadBytes)} x ${inFlight}`;
        if (options.filter !== undefined && !name.includes(options.filter)) continue;
        const hs: Histogram[] = [];
        const rates: number[] = [];
        let cpuUs = 0;
        let wallMs = 0;
        let commits = 0;
        for (let run = 0; run < options.runs; run++) {
          const leader = cluster.nodes.find((n) => n.isLeader);
          if (leader === undefined) throw new Error('cluster-mem: the cluster lost its leader');
          const warmupMs = run === 0 ? Math.round((options.warmupRuns * options.durationMs) / 4) : 0;
          const w = await closedLoop(leader, commands, inFlight, warmupMs, options.durationMs);
          hs.push(w.latencies.toHistogram());
          rates.push(w.completed / (w.elapsedMs / 1000));
          cpuUs += w.cpuUs;
          wallMs += w.elapsedMs;
          commits += w.completed;
        }
        const h = merged(hs);
        const r: MemLevelResult = {
          payloadBytes,
          inFlight,
          commitsPerSec: median(rates),
          latency: summarize(h),
          cdf: cdfPoints(h),
          cpuShare: cpuUs / 1000 / wallMs,
          cpuUsPerCommit: cpuUs / Math.max(1, commits),
        };
        results.push(r);
        log(`  ${name}: ${formatCount(r.commitsPerSec)} commits/s, p50 ${formatNs(r.latency.p50Ns)}, p99 ${formatNs(r.latency.p99Ns)}`);
      }
    }
  } finally {
    await cluster.stop();
  }
  const text = formatTable(results, [
    { header: 'payload', align: 'left', cell: (r) => payloadLabel(r.payloadBytes) },
    { header: 'in flight', cell: (r) => String(r.inFlight) },
    { header: 'commits/s', cell: (r) => formatCount(r.commitsPerSec) },
    { header: 'commits', cell: (r) => formatCount(r.latency.count) },
    { header: 'p50', cell: (r) => formatNs(r.latency.p50Ns) },
    { header: 'p99', cell: (r) => formatNs(r.latency.p99Ns) },
    { header: 'p99.9', cell: (r) => formatNs(r.latency.p999Ns) },
    { header: 'cpu µs/commit', cell: (r) => r.cpuUsPerCommit.toFixed(1) },
    { header: 'cpu', cell: (r) => r.cpuShare.toFixed(2) },
  ]);
  const levels = [...new Set(results.map((r) => r.inFlight))];
  const payloads = [...new Set(results.map((r) => r.payloadBytes))];
  const charts: Chart[] = levels.map((level) => ({
    kind: 'cdf',
    title: `cluster-mem write latency, ${level} in flight`,
    series: results.filter((r) => r.inFlight === level).map((r) => ({ name: payloadLabel(r.payloadBytes), points: r.cdf })),
  }));
  charts.push({
    kind: 'throughput',
    title: 'cluster-mem commits/s against proposals in flight',
    series: payloads.map((p) => ({
      name: payloadLabel(p),
      points: results.filter((r) => r.payloadBytes === p).map((r) => [r.inFlight, r.commitsPerSec] as const),
    })),
  });
  return {
    text: `${text}\n(cpu: this process's CPU time over wall time; all three nodes share its one event loop)\nworkload: ${workloadModulePath()}`,
    results: { workloadModule: workloadModulePath(), raftOptions: BENCH_RAFT, levels: results },
    charts,
  };
}

export const clusterMemSuite: Suite = {
  name: 'cluster-mem',
  description: '3 RaftNodes in one process over MemoryLogStore and MemoryNetwork: the cost of RaftNode itself',
  defaults: { runs: 1, durationMs: 2000, warmupRuns: 1 },
  run: runClusterMem,
};
