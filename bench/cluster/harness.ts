/**
 * The cluster benchmark's measurements, on a ProcessCluster and its client: writes at a given
 * concurrency, linearizable reads, failover after SIGKILL of the leader, catch-up of a node
 * far behind. `measurePontoonWrites` is the write workload alone, for other suites (peers).
 */
import type { Histogram } from '../lib/histogram.js';
import type { LatencySummary } from '../lib/histogram.js';
import { SampleBuffer, cdfPoints, merged, summarize } from '../lib/histogram.js';
import { median } from '../lib/report.js';
import { epochMs } from './ipc.js';
import type { AppendTimes, BenchRaftOptions, ClientRunResult, ClientRunSpec, NodeStatusReply } from './ipc.js';
import { BenchClient, ProcessCluster } from './process-cluster.js';
import type { SyncMode } from '@pontoon/storage-sqlite';
import { workloadModulePath } from './workload.js';

/**
 * The RaftNode options of the benchmark cluster.
 * - tickMs 50, electionTicks 10: a 500 ms election timeout (randomized to 500-1000 ms), short
 *   enough for 20 failovers in a bounded run, long against the event-loop stalls of a loaded
 *   2-core machine. Heartbeats every tick.
 * - maxInflightMsgs 256 and maxSizePerMsg 1 MiB (etcd's raftexample): with one append per
 *   Ready, 256 appends in flight are more than a window of 256 client requests needs.
 * - maxBatchEntries 4096 (the default): a turn's proposals become one append and one fsync.
 * - Snapshots every 50,000 entries, keeping 10,000 behind: the in-memory log stays bounded
 *   at 100k commits/s, and a follower 100,000 entries behind goes through a snapshot.
 */
export const BENCH_RAFT: BenchRaftOptions = {
  tickMs: 50,
  electionTicks: 10,
  heartbeatTicks: 1,
  leaseBasedReads: false,
  snapshot: { everyEntries: 50_000, keepEntries: 10_000 },
  maxInflightMsgs: 256,
  maxBatchEntries: 4096,
  maxSizePerMsg: 1 << 20,
};

/** Commits/s and latency of the write workload at one payload size and concurrency. */
export interface WriteLevelResult {
  payloadBytes: number;
  inFlight: number;
  commitsPerSec: number;
  latency: LatencySummary;
  cdf: readonly (readonly [number, number])[];
}

/** What the leader did per commit during a write run: what bounds the throughput. */
export interface LeaderLoad {
  /** fsyncs of the leader's store per second of the run. */
  fsyncsPerSec: number;
  /** Commits per fsync of the leader (its group-commit factor). */
  commitsPerFsync: number;
  /** Bytes the leader's transport sent to both followers per commit (framing included). */
  wireBytesOutPerCommit: number;
  /** Raft messages the leader sent per commit. */
  messagesOutPerCommit: number;
  /** Leader process CPU time per commit, µs (user + system, all threads). */
  cpuUsPerCommit: number;
  /** Leader process CPU time over wall time (2 = both cores). */
  cpuShare: number;
  /**
   * CPU time per commit of every process of the run: the three nodes and the client, µs. On a
   * machine whose cores they share, cores / this bounds commits/s.
   */
  allCpuUsPerCommit: number;
  /** The leader's store writes per commit (those that only move the commit index included). */
  appendsPerCommit: number;
  /** The leader's and a follower's store appends during the run (call to durable). */
  leaderAppends: AppendTimes;
  followerAppends: AppendTimes;
}

export interface ClusterWriteResult extends WriteLevelResult {
  leader: LeaderLoad;
}

export interface ReadLevelResult {
  mode: 'readIndex' | 'lease';
  inFlight: number;
  readsPerSec: number;
  latency: LatencySummary;
  cdf: readonly (readonly [number, number])[];
}

function histogramOf(r: ClientRunResult): Histogram {
  const b = new SampleBuffer();
  for (const ms of r.latenciesMs) b.push(ms);
  return b.toHistogram();
}

const cpuOf = (s: NodeStatusReply): number => s.cpuUserUs + s.cpuSystemUs;

function leaderLoad(
  before: NodeStatusReply,
  after: NodeStatusReply,
  othersCpuUs: number,
  wallMs: number,
  leaderAppends: AppendTimes,
  followerAppends: AppendTimes,
): LeaderLoad {
  const commits = Math.max(1, after.commitIndex - before.commitIndex);
  const fsyncs = after.storeSyncedCommits - before.storeSyncedCommits;
  const cpuUs = cpuOf(after) - cpuOf(before);
  return {
    fsyncsPerSec: fsyncs / (wallMs / 1000),
    commitsPerFsync: commits / Math.max(1, fsyncs),
    wireBytesOutPerCommit: (after.wireBytesOut - before.wireBytesOut) / commits,
    messagesOutPerCommit: (after.wireMessagesOut - before.wireMessagesOut) / commits,
    cpuUsPerCommit: cpuUs / commits,
    cpuShare: cpuUs / 1000 / wallMs,
    allCpuUsPerCommit: (cpuUs + othersCpuUs) / commits,
    appendsPerCommit: leaderAppends.appends / commits,
    leaderAppends,
    followerAppends,
  };
}

/** How long a measurement runs. */
export interface MeasureOptions {
  durationMs: number;
  /** Unmeasured time before the first window. */
  warmupMs: number;
  /** Measured windows. Default 1. */
  runs?: number;
  /** Each window also lasts until this many requests completed. Default 0. */
  minCount?: number;
}

/** A running cluster and a client connected to its leader. */
export class ClusterSession {
  private leaderId = 0;

  private constructor(
    readonly cluster: ProcessCluster,
    readonly client: BenchClient,
    private readonly log: (line: string) => void,
  ) {}

  /** Starts a cluster (store durability `full` unless `synchronous` says otherwise) and its client. */
  static async start(opts: { raft?: Partial<BenchRaftOptions>; synchronous?: SyncMode; log: (line: string) => void }): Promise<ClusterSession> {
    const workloadModule = workloadModulePath();
    const cluster = await ProcessCluster.start({ raft: { ...BENCH_RAFT, ...opts.raft }, workloadModule, synchronous: opts.synchronous ?? 'full' });
    let client: BenchClient;
    try {
      client = await BenchClient.start(workloadModule);
    } catch (err) {
      await cluster.close();
      throw err;
    }
    const s = new ClusterSession(cluster, client, opts.log);
    try {
      await s.connectToLeader();
    } catch (err) {
      await s.close();
      throw err;
    }
    return s;
  }

  /** (Re)connects the client to the current leader; returns its status. */
  async connectToLeader(): Promise<NodeStatusReply> {
    const leader = await this.cluster.waitForLeader();
    if (leader.id !== this.leaderId) {
      await this.client.connect(this.cluster.clientPort(leader.id));
      this.leaderId = leader.id;
    }
    return leader;
  }

  get leader(): number {
    return this.leaderId;
  }

  /**
   * One client run on the leader, tried twice: on a loaded machine a leader change in the middle
   * of a run (its requests then fail with NotLeaderError) is rare but possible, and says nothing
   * about the figure being measured.
   */
  private async runOnLeader(spec: ClientRunSpec): Promise<{ run: ClientRunResult; load: LeaderLoad }> {
    try {
      return await this.runOnce(spec);
    } catch (err) {
      this.log(`  run failed (${err instanceof Error ? err.message : String(err)}); once more on the current leader`);
      this.leaderId = 0;
      return this.runOnce(spec);
    }
  }

  private async runOnce(spec: ClientRunSpec): Promise<{ run: ClientRunResult; load: LeaderLoad }> {
    const leader = await this.connectToLeader();
    const ids = this.cluster.ids;
    const follower = ids.find((id) => id !== leader.id)!;
    const before = await Promise.all(ids.map((id) => this.cluster.status(id)));
    await Promise.all([this.cluster.takeAppendTimes(leader.id), this.cluster.takeAppendTimes(follower)]);
    const t0 = performance.now();
    const run = await this.client.run(spec);
    const [leaderAppends, followerAppends] = await Promise.all([this.cluster.takeAppendTimes(leader.id), this.cluster.takeAppendTimes(follower)]);
    const after = await Promise.all(ids.map((id) => this.cluster.status(id)));
    const i = ids.indexOf(leader.id);
    if (after[i]!.term !== before[i]!.term) throw new Error(`the leader changed during the run (term ${before[i]!.term} -> ${after[i]!.term})`);
    let othersCpuUs = run.cpuUs;
    for (let k = 0; k < ids.length; k++) if (k !== i) othersCpuUs += cpuOf(after[k]!) - cpuOf(before[k]!);
    return { run, load: leaderLoad(before[i]!, after[i]!, othersCpuUs, performance.now() - t0, leaderAppends!, followerAppends!) };
  }

  /**
   * Closed-loop writes: `inFlight` puts of `payloadBytes` outstanding. `runs` measured windows of
   * `durationMs` (each also until `minCount` commits), after `warmupMs` unmeasured: commits/s is
   * the median over the windows, latency over all of them, the leader's load over the last.
   */
  async writes(payloadBytes: number, inFlight: number, o: MeasureOptions): Promise<ClusterWriteResult> {
    const hs: Histogram[] = [];
    const rates: number[] = [];
    let load: LeaderLoad | undefined;
    for (let i = 0; i < (o.runs ?? 1); i++) {
      const warmupMs = i === 0 ? o.warmupMs : 0;
      const r = await this.runOnLeader({ kind: 'write', inFlight, payloadBytes, warmupMs, durationMs: o.durationMs, minCount: o.minCount ?? 0 });
      hs.push(histogramOf(r.run));
      rates.push(r.run.completed / (r.run.elapsedMs / 1000));
      load = r.load;
    }
    const h = merged(hs);
    return { payloadBytes, inFlight, commitsPerSec: median(rates), latency: summarize(h), cdf: cdfPoints(h), leader: load! };
  }

  /** Closed-loop linearizable reads on the leader, as writes(). */
  async reads(mode: 'readIndex' | 'lease', inFlight: number, o: MeasureOptions): Promise<ReadLevelResult> {
    const hs: Histogram[] = [];
    const rates: number[] = [];
    for (let i = 0; i < (o.runs ?? 1); i++) {
      const warmupMs = i === 0 ? o.warmupMs : 0;
      const { run } = await this.runOnLeader({ kind: 'read', inFlight, payloadBytes: 0, warmupMs, durationMs: o.durationMs, minCount: o.minCount ?? 0 });
      hs.push(histogramOf(run));
      rates.push(run.completed / (run.elapsedMs / 1000));
    }
    const h = merged(hs);
    return { mode, inFlight, readsPerSec: median(rates), latency: summarize(h), cdf: cdfPoints(h) };
  }

  /**
   * SIGKILLs the leader `kills` times. Each time: the time from the signal to the first report
   * of a new leader (by any node, the new leader itself first); then the killed node restarts
   * and catches up before the next kill.
   */
  async failovers(kills: number): Promise<FailoverResult> {
    const samples: number[] = [];
    for (let k = 0; k < kills; k++) {
      const leader = await this.cluster.waitForLeader();
      await this.cluster.waitConverged();
      const next = this.cluster.nextLeader(leader.term, leader.id);
      const killedAt = await this.cluster.kill(leader.id);
      const e = await next;
      samples.push(e.at - killedAt);
      await this.cluster.startNode(leader.id);
      await this.cluster.waitConverged();
      this.log(`  kill ${k + 1}/${kills}: n${leader.id} -> n${e.leaderId ?? '?'} in ${(e.at - killedAt).toFixed(1)} ms`);
    }
    this.leaderId = 0;
    await this.connectToLeader();
    const et = this.cluster.electionTimeoutMs;
    const med = median(samples);
    return { kills, electionTimeoutMs: et, medianMs: med, medianElectionTimeouts: med / et, samplesMs: samples };
  }

  /**
   * Stops a follower, commits `entries` more, restarts it and times until its applied index
   * reaches the leader's commit index (measured inside the node: from its RaftNode's start).
   */
  async catchUp(entries: number, payloadBytes: number): Promise<CatchUpResult> {
    const leader = await this.connectToLeader();
    await this.cluster.waitConverged();
    const follower = this.cluster.ids.find((id) => id !== leader.id)!;
    await this.cluster.kill(follower);
    const before = await this.cluster.status(leader.id);
    await this.client.run({ kind: 'write', inFlight: 256, payloadBytes, warmupMs: 0, durationMs: 0, minCount: entries });
    const target = (await this.cluster.status(leader.id)).commitIndex;
    const spawnAt = epochMs();
    await this.cluster.startNode(follower);
    const r = await this.cluster.waitApplied(follower, target);
    const leaderAfter = await this.cluster.status(leader.id);
    return {
      entriesBehind: target - before.commitIndex,
      payloadBytes,
      fromNodeStartMs: r.at - r.startedAt,
      fromSpawnMs: r.at - spawnAt,
      viaSnapshot: r.snapshotsInstalled > 0,
      leaderFirstIndex: leaderAfter.firstIndex,
      leaderSnapshotIndex: leaderAfter.snapshotIndex,
    };
  }

  async close(clean = false): Promise<void> {
    await this.client.close(clean).catch(() => {});
    await this.cluster.close(clean);
  }
}

export interface FailoverResult {
  kills: number;
  electionTimeoutMs: number;
  medianMs: number;
  medianElectionTimeouts: number;
  samplesMs: number[];
}

export interface CatchUpResult {
  entriesBehind: number;
  payloadBytes: number;
  /** From the restarted node's RaftNode start to its applied index reaching the target. */
  fromNodeStartMs: number;
  /** From spawning the process (includes loading Node, tsx and the store). */
  fromSpawnMs: number;
  /** Whether the node caught up through a snapshot from the leader (else from the log alone). */
  viaSnapshot: boolean;
  leaderFirstIndex: number;
  leaderSnapshotIndex: number;
}

/**
 * Starts a fresh 3-node cluster (SQLite synchronous=FULL, TCP, 127.0.0.1) and a client
 * process, warms it up at 64 in flight, runs the write workload at every payload size and
 * concurrency level (each after a warm-up of a quarter of `durationMs`, unmeasured), and stops
 * everything.
 */
export async function measurePontoonWrites(opts: {
  payloadBytes: readonly number[];
  levels: readonly number[];
  durationMs: number;
  log: (line: string) => void;
}): Promise<WriteLevelResult[]> {
  const session = await ClusterSession.start({ log: opts.log });
  try {
    // A fresh cluster's processes have compiled nothing yet: without this, the first level
    // measured (usually 1 in flight) runs partly in the interpreter and reads up to 2x slow.
    await session.writes(opts.payloadBytes[0] ?? 128, 64, { durationMs: Math.max(1000, opts.durationMs / 2), warmupMs: 0 });
    const out: WriteLevelResult[] = [];
    for (const payloadBytes of opts.payloadBytes) {
      for (const inFlight of opts.levels) {
        const r = await session.writes(payloadBytes, inFlight, { durationMs: opts.durationMs, warmupMs: Math.round(opts.durationMs / 4) });
        opts.log(`  pontoon ${payloadBytes} B x ${inFlight}: ${Math.round(r.commitsPerSec)} commits/s`);
        out.push({ payloadBytes: r.payloadBytes, inFlight: r.inFlight, commitsPerSec: r.commitsPerSec, latency: r.latency, cdf: r.cdf });
      }
    }
    return out;
  } finally {
    await session.close(process.env.PONTOON_BENCH_CPU_PROF !== undefined);
  }
}
