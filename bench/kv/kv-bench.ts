/**
 * One kv comparison: pontoon-kv and etcd in alternating passes (A B B A: this VM penalises
 * whichever of two back-to-back runs comes second), each pass a fresh 3-member cluster and a
 * fresh client process running every level; then, in each system's last pass, the key set is
 * loaded and each member's RSS read, and a follower restarted on that data and timed. Each round
 * ends with a pass on the floor (floor-server.ts): after the A B B A, so that the two compared
 * systems run in the same order as without it, and the floor, which does no disk I/O, is the
 * pass least exposed to what the pass before it left behind (writeback, page cache). The floor
 * has no key set part: loading a map and restarting nothing measure nothing. Every level's
 * window also counts the CPU the client and the servers used (process-cpu.ts).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Etcd3 } from 'etcd3';
import { ChildGroup, guarded } from '../lib/child-processes.js';
import type { NodeChild } from '../lib/child-processes.js';
import { decodeHistogram, merged, summarize } from '../lib/histogram.js';
import type { Histogram, LatencySummary } from '../lib/histogram.js';
import { procUnavailableReason } from './process-cpu.js';
import { LEVELS, levelName } from './protocol.js';
import type { FromClient, LevelRun, LoadResult, ToClient, WorkloadLevel } from './protocol.js';
import { startSystem } from './systems.js';
import type { RestartableCluster, SystemName } from './systems.js';

const here = path.dirname(fileURLToPath(import.meta.url));

/** The compared systems, then the floor: the report's columns in this order. */
export const SYSTEMS: readonly SystemName[] = ['pontoon-kv', 'etcd', 'floor'];

/** One round's passes: A B B A for the compared systems, then the floor once. */
export const ROUND: readonly SystemName[] = ['pontoon-kv', 'etcd', 'etcd', 'pontoon-kv', 'floor'];

export interface KvBenchConfig {
  /** Measured window of each level, per pass. */
  durationMs: number;
  /** Unmeasured load before each level's window. */
  warmupMs: number;
  /** Unmeasured operations on each fresh cluster before its first level (workloads.ts warmServers). */
  serverWarmupOps: number;
  /** A B B A rounds (each system runs 2 x rounds passes). */
  rounds: number;
  /** Keys loaded for the RSS and restart figures; 0 leaves that part out. */
  keys: number;
  /** Only the levels whose name contains this (the key part runs when it contains "keys"). */
  filter: string | undefined;
}

/** One level of one system over all its passes. */
export interface LevelResult {
  name: string;
  level: WorkloadLevel;
  /** Mean over the passes of each pass's operations per second. */
  opsPerSec: number;
  /** Each pass's operations per second, in pass order. */
  passOpsPerSec: number[];
  /** Percentiles over every sample of every pass. */
  latency: LatencySummary;
  errors: number;
  firstError: string | undefined;
  beforeAck: number | undefined;
  /** CPU over the measured windows of all passes; undefined with `cpuUnavailable` saying why. */
  cpu: LevelCpu | undefined;
  cpuUnavailable: string | undefined;
}

/**
 * CPU per operation (µs, total CPU over total operations of all passes) and cores busy (total
 * CPU over total window time) of each side during a level's measured windows.
 */
export interface LevelCpu {
  clientUsPerOp: number;
  /** Every server process summed (3 members; the floor's one process). */
  serversUsPerOp: number;
  /** The leader's process alone (the floor: its one process). */
  leaderUsPerOp: number;
  clientCores: number;
  serversCores: number;
  leaderCores: number;
  /** How many distinct server processes `servers` sums. */
  serverProcesses: number;
}

export interface KeysResult {
  keys: number;
  load: LoadResult;
  /** VmRSS of each member after loading and catching up, in bytes. */
  rssBytes: number[];
  /** Which member was restarted (a follower), and spawn to its first linearizable read answered. */
  restartedMember: number;
  restartMs: number;
}

export interface SystemResult {
  system: SystemName;
  levels: LevelResult[];
  keys: KeysResult | undefined;
}

export interface KvBenchResult {
  config: KvBenchConfig;
  /** The passes' order, e.g. pontoon-kv, etcd, etcd, pontoon-kv, floor. */
  order: SystemName[];
  /** In SYSTEMS' order: pontoon-kv, etcd, floor. */
  systems: SystemResult[];
  /** Why there are no CPU figures at all on this machine (no /proc), else undefined. */
  cpuUnavailable: string | undefined;
  loadBefore: number[];
  loadAfter: number[];
  wallMs: number;
}

type Client = NodeChild<ToClient, FromClient>;

/** Every message of a level can take its warmup and window plus compaction and setup. */
function levelBudgetMs(config: KvBenchConfig): number {
  return config.durationMs + config.warmupMs + 120_000;
}

async function awaitMessage<T extends FromClient['type']>(client: Client, type: T, ms: number, what: string): Promise<Extract<FromClient, { type: T }>> {
  const m = await guarded(client.next(), [client], ms, what);
  if (m.type === 'failed') throw new Error(`${what}: ${m.error}`);
  if (m.type !== type) throw new Error(`${what}: the client said ${m.type}, expected ${type}`);
  return m as Extract<FromClient, { type: T }>;
}

function rssBytes(pid: number | undefined): number {
  if (pid === undefined) return NaN;
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = /^VmRSS:\s+(\d+) kB/m.exec(status)?.[1];
  return kib === undefined ? NaN : Number(kib) * 1024;
}

/** Waits until every member has applied the leader's revision, so RSS is taken on equal data. */
async function waitCaughtUp(endpoints: readonly string[], leader: string, timeoutMs: number): Promise<void> {
  const clients = endpoints.map((hosts) => new Etcd3({ hosts }));
  try {
    const target = (await clients[endpoints.indexOf(leader)]!.maintenance.status()).header.revision;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const revisions = await Promise.all(clients.map(async (c) => BigInt((await c.maintenance.status()).header.revision)));
      if (revisions.every((r) => r >= BigInt(target))) return;
      if (Date.now() > deadline) throw new Error(`members at revisions ${revisions.join(', ')} after ${timeoutMs} ms, the leader at ${target}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  } finally {
    for (const c of clients) c.close();
  }
}

/** Polls `endpoint` with a linearizable read of `key` until it answers; returns when it did. */
async function firstLinearizableRead(endpoint: string, key: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const client = new Etcd3({ hosts: endpoint, dialTimeout: 1000 });
    try {
      const value = await client.get(key).buffer();
      if (value !== null) return;
    } catch {
      // not serving yet
    } finally {
      client.close();
    }
    if (Date.now() > deadline) throw new Error(`${endpoint} answered no linearizable read within ${timeoutMs} ms of its restart`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function measureKeys(cluster: RestartableCluster, client: Client, leader: string, keys: number, log: (line: string) => void): Promise<KeysResult> {
  log(`kv: ${cluster.system}: loading ${keys.toLocaleString('en-US')} keys`);
  client.send({ type: 'load', keys });
  // Generous: a slow system may load at a few thousand keys per second.
  const { result: load } = await awaitMessage(client, 'loaded', 60_000 + keys * 5, 'loading keys');
  log(`kv: ${cluster.system}: loaded in ${(load.elapsedMs / 1000).toFixed(1)} s`);
  await waitCaughtUp(cluster.endpoints, leader, 300_000);
  const rss = cluster.pids().map(rssBytes);
  const restarted = cluster.endpoints.findIndex((e) => e !== leader);
  await cluster.stopMember(restarted);
  const t0 = performance.now();
  await cluster.startMember(restarted);
  await firstLinearizableRead(cluster.endpoints[restarted]!, `load/${String(keys - 1).padStart(8, '0')}`, 600_000);
  const restartMs = performance.now() - t0;
  log(`kv: ${cluster.system}: member ${restarted} restarted in ${restartMs.toFixed(0)} ms`);
  return { keys, load, rssBytes: rss, restartedMember: restarted, restartMs };
}

interface Pass {
  system: SystemName;
  runs: LevelRun[];
  keys: KeysResult | undefined;
}

async function runPass(system: SystemName, levels: readonly WorkloadLevel[], config: KvBenchConfig, withKeys: boolean, log: (line: string) => void): Promise<Pass> {
  const group = new ChildGroup();
  const cluster = await startSystem(system);
  try {
    const client: Client = group.fork('kv client', path.join(here, 'client-main.ts'), [cluster.endpoints.join(',')]);
    const { leader } = await awaitMessage(client, 'ready', 60_000, `${system} client start`);
    const runs: LevelRun[] = [];
    if (levels.length > 0) {
      const memberPids = cluster.pids().map((pid, i) => {
        if (pid === undefined) throw new Error(`${system} member ${i} has no process at the start of the workload`);
        return pid;
      });
      client.send({ type: 'workload', levels, durationMs: config.durationMs, warmupMs: config.warmupMs, serverWarmupOps: config.serverWarmupOps, memberPids });
      for (const _ of levels) {
        const { run } = await awaitMessage(client, 'level', levelBudgetMs(config), `${system} workload`);
        const rate = run.ops / (run.elapsedMs / 1000);
        const errors = run.errors > 0 ? `, ${run.errors} failed (${run.firstError})` : '';
        log(`kv: ${system} ${levelName(run.level)}: ${Math.round(rate)}/s${errors}`);
        runs.push(run);
      }
      await awaitMessage(client, 'done', 10_000, `${system} workload`);
    }
    const keys = withKeys && cluster.system !== 'floor' ? await measureKeys(cluster, client, leader, config.keys, log) : undefined;
    return { system, runs, keys };
  } finally {
    await group.close();
    await cluster.stop();
  }
}

/** Sums the CPU of every run; undefined (with the first reason) unless every run has it. */
function combineCpu(runs: readonly LevelRun[]): { cpu: LevelCpu | undefined; cpuUnavailable: string | undefined } {
  const missing = runs.find((r) => r.cpu === undefined);
  if (runs.length === 0) return { cpu: undefined, cpuUnavailable: 'no pass ran this level' };
  if (missing !== undefined) return { cpu: undefined, cpuUnavailable: missing.cpuUnavailable ?? 'not measured' };
  const sum = (f: (r: LevelRun) => number): number => runs.reduce((a, r) => a + f(r), 0);
  const ops = sum((r) => r.ops);
  if (ops === 0) return { cpu: undefined, cpuUnavailable: 'no operation completed in the windows' };
  const wallUs = sum((r) => r.cpu!.wallMs) * 1000;
  const client = sum((r) => r.cpu!.client);
  const servers = sum((r) => r.cpu!.servers);
  const leader = sum((r) => r.cpu!.leader);
  return {
    cpu: {
      clientUsPerOp: client / ops,
      serversUsPerOp: servers / ops,
      leaderUsPerOp: leader / ops,
      clientCores: client / wallUs,
      serversCores: servers / wallUs,
      leaderCores: leader / wallUs,
      serverProcesses: runs[0]!.cpu!.serverProcesses,
    },
    cpuUnavailable: undefined,
  };
}

function combine(system: SystemName, levels: readonly WorkloadLevel[], passes: readonly Pass[]): SystemResult {
  const mine = passes.filter((p) => p.system === system);
  const out: LevelResult[] = levels.map((level) => {
    const runs = mine.flatMap((p) => p.runs.filter((r) => r.level.kind === level.kind && r.level.inFlight === level.inFlight));
    const rates = runs.map((r) => r.ops / (r.elapsedMs / 1000));
    const hs: Histogram[] = runs.map((r) => decodeHistogram(r.histogram));
    return {
      name: levelName(level),
      level,
      opsPerSec: rates.reduce((a, b) => a + b, 0) / Math.max(1, rates.length),
      passOpsPerSec: rates,
      latency: summarize(merged(hs)),
      errors: runs.reduce((n, r) => n + r.errors, 0),
      firstError: runs.find((r) => r.firstError !== undefined)?.firstError,
      beforeAck: level.kind === 'watch' ? runs.reduce((n, r) => n + (r.beforeAck ?? 0), 0) : undefined,
      ...combineCpu(runs),
    };
  });
  return { system, levels: out, keys: mine.find((p) => p.keys !== undefined)?.keys };
}

/** Runs the comparison; `log` gets progress lines. */
export async function runKvBench(config: KvBenchConfig, log: (line: string) => void): Promise<KvBenchResult> {
  const started = performance.now();
  const loadBefore = os.loadavg();
  const levels = LEVELS.filter((l) => config.filter === undefined || levelName(l).includes(config.filter));
  const withKeys = config.keys > 0 && (config.filter === undefined || 'keys'.includes(config.filter) || config.filter.includes('keys'));
  const order: SystemName[] = [];
  for (let r = 0; r < config.rounds; r++) order.push(...ROUND);
  const passes: Pass[] = [];
  for (let i = 0; i < order.length; i++) {
    const system = order[i]!;
    // The key set is loaded once per compared system, in its last pass (etcd's is the third, ours the fourth).
    const last = order.lastIndexOf(system) === i;
    log(`kv: pass ${i + 1} of ${order.length}: ${system}`);
    passes.push(await runPass(system, levels, config, withKeys && last, log));
  }
  return {
    config,
    order,
    systems: SYSTEMS.map((s) => combine(s, levels, passes)),
    cpuUnavailable: procUnavailableReason(),
    loadBefore,
    loadAfter: os.loadavg(),
    wallMs: performance.now() - started,
  };
}
