/**
 * The machine's floor: what durable replication costs on this machine with this storage before
 * any consensus protocol adds its own work, every figure measured in the same run:
 * - fdatasync of a 128-byte append to a file opened in append mode,
 * - a one-row SQLite commit (WAL, synchronous=FULL, better-sqlite3),
 * - a loopback TCP round trip between this process and another Node process,
 * - a minimal replicator with no Raft in it (leader.ts, follower.ts, client.ts): a client
 *   process keeps N entries in flight to a leader process, which sends them to two follower
 *   processes while committing them to its own SQLite log; an entry is done when the leader and
 *   one follower have it durable. Group commit and batching everywhere: that is the bar, the
 *   best any Raft library can do here.
 *
 * `cluster` calls runFloor inside its own run, so that its ratios to the floor come from one run.
 */
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { ChildGroup, guarded } from '../lib/child-processes.js';
import type { NodeChild } from '../lib/child-processes.js';
import { cdfPoints, decodeHistogram, merged, newHistogram, summarize } from '../lib/histogram.js';
import type { Histogram, LatencySummary } from '../lib/histogram.js';
import { formatCount, formatNs, median } from '../lib/report.js';
import { openEntryTable, TERM } from './entry-table.js';
import { FrameReader, repeatedFrames } from '../lib/length-prefixed-frames.js';
import type { FromClient, FromReplica, ReplicaStats, ToClient, ToReplica, WriterKind } from './wire.js';

export type { WriterKind } from './wire.js';

export interface FloorOptions {
  /** Entries in flight from the client (the levels: 1, 8, 64, 256). */
  levels: readonly number[];
  /** Entry payload sizes, in bytes. */
  payloadBytes: readonly number[];
  /** Wall time of one measured run, in ms. */
  durationMs: number;
  /** Measured runs of each figure (and of each replicator level); medians and merged histograms are over these. */
  runs: number;
  log: (line: string) => void;
  /**
   * Where the replicas commit: in a worker thread (`worker`, the default: the faster here, see
   * bench/README.md) or on the event loop's thread (`main`).
   */
  writer?: WriterKind;
}

export interface ReplicatorLevel {
  payloadBytes: number;
  inFlight: number;
  /** Median over the runs of commits acknowledged to the client per second. */
  commitsPerSec: number;
  /** Client-observed latency, over every run's commits. */
  latency: LatencySummary;
  /** The same latencies as `[ns, percentile]` points (cdfPoints), for a CDF chart. */
  cdf: readonly (readonly [number, number])[];
  /**
   * What the replicas spent, over the runs (warmup and drain included): CPU time of the whole
   * process per entry it made durable, on the leader and on the followers (their mean), and the
   * leader's SQLite transactions (one fsync each) per second and entries per transaction.
   */
  cost: ReplicatorCost;
}

export interface ReplicatorCost {
  leaderCpuMicrosPerEntry: number;
  followerCpuMicrosPerEntry: number;
  leaderFsyncsPerSec: number;
  leaderEntriesPerFsync: number;
}

export interface FloorResults {
  fdatasync: LatencySummary;
  sqliteCommit: LatencySummary;
  loopbackRtt: LatencySummary;
  replicator: ReplicatorLevel[];
  /** Which writer the replicator's replicas used. */
  writer: WriterKind;
}

const here = path.dirname(fileURLToPath(import.meta.url));
const SMALL_WRITE_BYTES = 128;
/** Unmeasured time at the start of each replicator level, at that level's window. */
const LEVEL_WARMUP_MS = 400;
/** How long processes get to start (tsx compiles on first load) and a run to drain, before the run fails. */
const START_MS = 30_000;
const RUN_SLACK_MS = 30_000;

export async function runFloor(options: FloorOptions): Promise<FloorResults> {
  const group = new ChildGroup();
  const writer = options.writer ?? 'worker';
  try {
    const fdatasync = summarize(await repeat(options, 'fdatasync', (ms) => fdatasyncAppends(group, ms)));
    options.log(`  fdatasync of a ${SMALL_WRITE_BYTES} B append: p50 ${formatNs(fdatasync.p50Ns)}, p99 ${formatNs(fdatasync.p99Ns)}, p99.9 ${formatNs(fdatasync.p999Ns)}`);
    const sqliteCommit = summarize(await repeat(options, 'sqlite', (ms) => sqliteCommits(group, ms)));
    options.log(`  one-row SQLite commit: p50 ${formatNs(sqliteCommit.p50Ns)}, p99 ${formatNs(sqliteCommit.p99Ns)}`);
    const loopbackRtt = summarize(await loopbackRoundTrips(group, options));
    options.log(`  loopback TCP round trip: p50 ${formatNs(loopbackRtt.p50Ns)}, p99 ${formatNs(loopbackRtt.p99Ns)}`);
    const replicator: ReplicatorLevel[] = [];
    for (const payloadBytes of options.payloadBytes) {
      replicator.push(...(await replicate(group, options, writer, payloadBytes)));
    }
    return { fdatasync, sqliteCommit, loopbackRtt, replicator, writer };
  } finally {
    await group.close();
  }
}

/** `options.runs` runs of `measure`, merged. */
async function repeat(options: FloorOptions, name: string, measure: (ms: number) => Promise<Histogram>): Promise<Histogram> {
  const hs: Histogram[] = [];
  for (let run = 0; run < options.runs; run++) {
    const h = await measure(options.durationMs);
    options.log(`  ${name} run ${run + 1}/${options.runs}: ${formatCount(h.totalCount)} samples, p50 ${formatNs(h.getValueAtPercentile(50))}`);
    hs.push(h);
  }
  return merged(hs);
}

/** Calls `op` back to back for `ms` (it blocks the event loop: nothing else runs meanwhile). */
function timedLoop(ms: number, op: () => void): Histogram {
  const h = newHistogram();
  const end = process.hrtime.bigint() + BigInt(ms) * 1_000_000n;
  for (let now = process.hrtime.bigint(); now < end; ) {
    const t0 = now;
    op();
    now = process.hrtime.bigint();
    h.recordValue(Number(now - t0));
  }
  return h;
}

async function fdatasyncAppends(group: ChildGroup, ms: number): Promise<Histogram> {
  const dir = group.tempDir('floor-fsync');
  const fd = fs.openSync(path.join(dir, 'append.log'), 'a');
  const buf = Buffer.alloc(SMALL_WRITE_BYTES, 0x61);
  try {
    return timedLoop(ms, () => {
      fs.writeSync(fd, buf);
      fs.fdatasyncSync(fd);
    });
  } finally {
    fs.closeSync(fd);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function sqliteCommits(group: ChildGroup, ms: number): Promise<Histogram> {
  const dir = group.tempDir('floor-sqlite');
  const db = openEntryTable(dir);
  try {
    const insert = db.prepare('INSERT INTO entries (idx, term, data) VALUES (?, ?, ?)');
    const data = Buffer.alloc(SMALL_WRITE_BYTES, 0x61);
    let idx = 1;
    const commit = db.transaction(() => insert.run(idx++, TERM, data));
    return timedLoop(ms, () => commit());
  } finally {
    db.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function loopbackRoundTrips(group: ChildGroup, options: FloorOptions): Promise<Histogram> {
  const echo = group.fork<never, FromReplica>('echo', path.join(here, 'echo.ts'), []);
  const port = await guarded(listeningPort(echo), [echo], START_MS, 'echo starting');
  const socket = net.connect({ host: '127.0.0.1', port });
  socket.setNoDelay(true);
  await new Promise<void>((r, j) => socket.once('connect', () => r()).once('error', j));
  let answered: () => void = () => {};
  const reader = new FrameReader(() => answered());
  socket.on('data', (c: Buffer) => reader.push(c));
  const message = repeatedFrames(1, SMALL_WRITE_BYTES);
  const ping = (): Promise<void> =>
    new Promise<void>((r) => {
      answered = r;
      socket.write(message);
    });
  try {
    return await repeat(options, 'loopback', async (ms) => {
      const h = newHistogram();
      const end = Date.now() + ms;
      while (Date.now() < end) {
        const t0 = process.hrtime.bigint();
        await ping();
        h.recordValue(Number(process.hrtime.bigint() - t0));
      }
      return h;
    });
  } finally {
    socket.destroy();
  }
}

async function listeningPort(child: NodeChild<unknown, FromReplica>): Promise<number> {
  const m = await child.next();
  if (m.kind !== 'listening') throw new Error(`${child.name}: expected its port, got ${JSON.stringify(m)}`);
  return m.port;
}

function asStats(m: FromReplica): ReplicaStats {
  if (m.kind !== 'stats') throw new Error(`expected stats, got ${JSON.stringify(m)}`);
  return m;
}

/** Replicas in the order [follower 1, follower 2, leader], as replicate() starts them. */
function replicatorCost(before: readonly ReplicaStats[], after: readonly ReplicaStats[], seconds: number): ReplicatorCost {
  const delta = (i: number): ReplicaStats => ({
    cpuMicros: after[i]!.cpuMicros - before[i]!.cpuMicros,
    transactions: after[i]!.transactions - before[i]!.transactions,
    entries: after[i]!.entries - before[i]!.entries,
  });
  const [f1, f2, leader] = [delta(0), delta(1), delta(2)];
  return {
    leaderCpuMicrosPerEntry: leader.cpuMicros / leader.entries,
    followerCpuMicrosPerEntry: (f1.cpuMicros + f2.cpuMicros) / (f1.entries + f2.entries),
    leaderFsyncsPerSec: leader.transactions / seconds,
    leaderEntriesPerFsync: leader.entries / leader.transactions,
  };
}

/**
 * One replicator (fresh processes and databases) for one payload size, measured at every level
 * in turn. Fresh per payload size so that each starts from an empty log, as `cluster` does.
 */
async function replicate(group: ChildGroup, options: FloorOptions, writer: WriterKind, payloadBytes: number): Promise<ReplicatorLevel[]> {
  const script = (name: string): string => path.join(here, name);
  const followers = [0, 1].map((i) =>
    group.fork<ToReplica, FromReplica>(`follower ${i + 1}`, script('follower.ts'), [writer, group.tempDir('floor-follower')]),
  );
  const leader = group.fork<ToReplica, FromReplica>('leader', script('leader.ts'), [writer, group.tempDir('floor-leader')]);
  try {
    const replicas = [...followers, leader];
    const followerPorts = await guarded(Promise.all(followers.map(listeningPort)), replicas, START_MS, 'followers starting');
    const leaderPort = await guarded(listeningPort(leader), replicas, START_MS, 'leader starting');
    const started = await guarded(leader.request({ kind: 'start', followers: followerPorts }), replicas, START_MS, 'leader connecting');
    if (started.kind !== 'started') throw new Error(`leader: expected started, got ${JSON.stringify(started)}`);
    const client = group.fork<ToClient, FromClient>('client', script('client.ts'), [String(leaderPort)]);
    const processes = [...replicas, client];
    const connected = await guarded(client.next(), processes, START_MS, 'client connecting');
    if (connected.kind !== 'connected') throw new Error(`client: expected connected, got ${JSON.stringify(connected)}`);
    const out: ReplicatorLevel[] = [];
    const stats = (): Promise<ReplicaStats[]> =>
      guarded(Promise.all(replicas.map((r) => r.request({ kind: 'stats' }).then(asStats))), processes, START_MS, 'replica stats');
    for (const inFlight of options.levels) {
      const rates: number[] = [];
      const hs: Histogram[] = [];
      const before = await stats();
      const startedAt = performance.now();
      for (let run = 0; run < options.runs; run++) {
        const warmupMs = run === 0 ? LEVEL_WARMUP_MS : 0;
        const r = await guarded(
          client.request({ kind: 'run', inFlight, payloadBytes, warmupMs, durationMs: options.durationMs }),
          processes,
          warmupMs + options.durationMs + RUN_SLACK_MS,
          `replicator ${payloadBytes} B, ${inFlight} in flight`,
        );
        if (r.kind !== 'result') throw new Error(`client: expected a result, got ${JSON.stringify(r)}`);
        const h = decodeHistogram(r.histogram);
        rates.push(r.commits / (r.elapsedMs / 1000));
        hs.push(h);
        options.log(
          `  replicator ${payloadBytes} B, ${inFlight} in flight, run ${run + 1}/${options.runs}: ` +
            `${formatCount(rates[rates.length - 1]!)} commits/s, p50 ${formatNs(h.getValueAtPercentile(50))}`,
        );
      }
      const seconds = (performance.now() - startedAt) / 1000;
      const after = await stats();
      const latencies = merged(hs);
      out.push({
        payloadBytes,
        inFlight,
        commitsPerSec: median(rates),
        latency: summarize(latencies),
        cdf: cdfPoints(latencies),
        cost: replicatorCost(before, after, seconds),
      });
    }
    return out;
  } finally {
    await group.killAll();
  }
}
