/**
 * Each system of the peers suite, installed, started, measured and stopped: Pontoon through the
 * cluster suite's harness, etcd, and the JavaScript Raft libraries. A system that cannot be
 * installed or run yields the reason instead of numbers, and the others still run.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { measurePontoonWrites } from '../cluster/harness.js';
import type { WriteLevelResult } from '../cluster/harness.js';
import { SampleBuffer, cdfPoints, summarize } from '../lib/histogram.js';
import { median } from '../lib/report.js';
import { runClient } from './client-driver.js';
import { startEtcd } from './etcd.js';
import { ensureEtcd, ensureNpm } from './install.js';
import type { Installed, NpmPeer } from './install.js';
import { startJsRaftCluster } from './js-raft-cluster.js';
import type { LoadLevel, LoadRequest, LoadRun } from './load.js';
import { ProcessGroup } from './processes.js';

const here = path.dirname(fileURLToPath(import.meta.url));

export type SystemName = 'pontoon' | 'etcd' | 'liferaft' | 'skiff';

/** One level of one system: the cluster suite's figures, plus the writes that failed. */
export interface PeerLevelResult extends WriteLevelResult {
  errors: number;
  firstError: string | undefined;
}

export interface SystemResult {
  system: SystemName;
  /** Package and version measured. */
  version: string;
  /** Whether an acknowledged write has been fsynced on a majority, and how. */
  durable: string;
  notes: string[];
  /** Present when the system could not be installed or run. */
  unavailable?: string;
  levels: PeerLevelResult[];
}

export interface Workload {
  payloadBytes: readonly number[];
  inFlight: readonly number[];
  durationMs: number;
  warmupMs: number;
  runs: number;
}

const PINNED = { etcd3: '1.1.2', liferaft: '1.4.0', skiff: '1.10.0' } as const;

/** The measured run with the median throughput stands for the level (its latencies too). */
function levelFrom(runs: readonly LoadRun[]): PeerLevelResult {
  const rate = (r: LoadRun): number => r.commits / (r.elapsedMs / 1000);
  const mid = median(runs.map(rate));
  const run = runs.reduce((best, r) => (Math.abs(rate(r) - mid) < Math.abs(rate(best) - mid) ? r : best));
  const samples = new SampleBuffer();
  for (const ms of run.latenciesMs) samples.push(ms);
  const h = samples.toHistogram();
  return {
    payloadBytes: run.payloadBytes,
    inFlight: run.inFlight,
    commitsPerSec: rate(run),
    latency: summarize(h),
    cdf: cdfPoints(h),
    errors: runs.reduce((n, r) => n + r.errors, 0),
    firstError: runs.find((r) => r.firstError !== undefined)?.firstError,
  };
}

/** A note for the levels a client did not run because the system stalled before them. */
function stallNote(work: Workload, levels: readonly PeerLevelResult[]): string[] {
  const planned = work.payloadBytes.length * work.inFlight.length;
  if (levels.length === planned) return [];
  const last = levels[levels.length - 1];
  const at = last === undefined ? 'the first level' : `${last.payloadBytes} B x ${last.inFlight}`;
  return [`stalled: no write acknowledged in a whole run at ${at}; the ${planned - levels.length} level(s) after it were not run`];
}

function levelsFrom(work: Workload, runs: readonly LoadRun[]): PeerLevelResult[] {
  const out: PeerLevelResult[] = [];
  for (const payloadBytes of work.payloadBytes) {
    for (const inFlight of work.inFlight) {
      const mine = runs.filter((r) => r.payloadBytes === payloadBytes && r.inFlight === inFlight);
      if (mine.length > 0) out.push(levelFrom(mine));
    }
  }
  return out;
}

function request(work: Workload): LoadRequest {
  const levels: LoadLevel[] = [];
  for (const payloadBytes of work.payloadBytes) for (const inFlight of work.inFlight) levels.push({ payloadBytes, inFlight });
  return { type: 'run', levels, durationMs: work.durationMs, warmupMs: work.warmupMs, runs: work.runs };
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function logLevels(log: (line: string) => void, system: string, levels: readonly PeerLevelResult[]): void {
  for (const l of levels) {
    const errors = l.errors > 0 ? `, ${l.errors} failed (${l.firstError})` : '';
    log(`  ${system} ${l.payloadBytes} B x ${l.inFlight}: ${Math.round(l.commitsPerSec)} commits/s${errors}`);
  }
}

export async function measurePontoon(work: Workload, log: (line: string) => void): Promise<SystemResult> {
  const base = {
    system: 'pontoon' as const,
    version: 'this commit',
    durable: 'yes: SQLite synchronous=FULL on every node before it acknowledges',
    notes: ['the cluster suite\'s harness: 3 RaftNode processes, SQLite + TCP, one client process'],
  };
  try {
    // The harness runs each level once, after a warm-up of a quarter of the duration.
    const runs: WriteLevelResult[][] = [];
    for (let i = 0; i < work.runs; i++) {
      runs.push(await measurePontoonWrites({ payloadBytes: work.payloadBytes, levels: work.inFlight, durationMs: work.durationMs, log }));
    }
    const levels = runs[0]!.map((first, i): PeerLevelResult => {
      const candidates = runs.map((r) => r[i]!);
      const mid = median(candidates.map((c) => c.commitsPerSec));
      const pick = candidates.reduce((best, c) => (Math.abs(c.commitsPerSec - mid) < Math.abs(best.commitsPerSec - mid) ? c : best), first);
      return { ...pick, errors: 0, firstError: undefined };
    });
    return { ...base, levels };
  } catch (err) {
    return { ...base, unavailable: `the cluster harness failed: ${message(err)}`, levels: [] };
  }
}

export async function measureEtcd(work: Workload, log: (line: string) => void): Promise<SystemResult> {
  const base = {
    system: 'etcd' as const,
    version: 'etcd (Debian etcd-server)',
    durable: 'yes: the WAL is fsynced before a put is acknowledged (etcd default)',
    notes: [
      `client: etcd3@${PINNED.etcd3} (gRPC) connected to the leader only; one key per worker, value = payload`,
      'compacted to the current revision before each level',
    ],
  };
  const [etcd, client] = await Promise.all([ensureEtcd(log), ensureNpm('etcd3', 'etcd3', PINNED.etcd3, log)]);
  if (!etcd.ok) return { ...base, unavailable: etcd.reason, levels: [] };
  if (!client.ok) return { ...base, unavailable: client.reason, levels: [] };
  const version = `etcd ${etcd.value.version}`;
  if (!etcd.value.version.startsWith('3.4.')) base.notes.push(`expected etcd 3.4, found ${etcd.value.version}`);
  const group = new ProcessGroup();
  try {
    const cluster = await startEtcd(group, etcd.value.binary, log);
    const runs = await runClient(group, path.join(here, 'etcd-client.ts'), [client.value.prefix, cluster.endpoints.join(',')], request(work));
    const levels = levelsFrom(work, runs);
    logLevels(log, 'etcd', levels);
    base.notes.push(...stallNote(work, levels));
    return { ...base, version, levels };
  } catch (err) {
    return { ...base, version, unavailable: `etcd run failed: ${message(err)}`, levels: [] };
  } finally {
    await group.close();
  }
}

/**
 * skiff as published, and if that does not install, skiff with leveldown overridden to the
 * first major that builds on this Node (the published one's failure goes in the notes).
 */
async function installSkiff(log: (line: string) => void): Promise<{ installed: Installed<NpmPeer>; notes: string[] }> {
  const plain = await ensureNpm('skiff', 'skiff', PINNED.skiff, log);
  if (plain.ok) return { installed: plain, notes: [] };
  const patched = await ensureNpm('skiff-leveldown6', 'skiff', PINNED.skiff, log, { leveldown: '^6.1.1' });
  if (!patched.ok) return { installed: { ok: false, reason: `${plain.reason}; with leveldown ^6.1.1: ${patched.reason}` }, notes: [] };
  return {
    installed: patched,
    notes: [`as published it does not install: ${plain.reason}`, 'measured with npm overrides { leveldown: ^6.1.1 } (prebuilt for Node 20; skiff runs on it unchanged)'],
  };
}

export async function measureJsRaft(system: 'liferaft' | 'skiff', work: Workload, log: (line: string) => void): Promise<SystemResult> {
  const base =
    system === 'liferaft'
      ? {
          system,
          version: `@markwylde/liferaft@${PINNED.liferaft}`,
          durable: 'no: leveldb puts without sync; term and vote are never written',
          notes: [
            'transport: ours (liferaft ships none), one TCP connection per peer, JSON lines, packets handled in arrival order',
            'command() calls serialized on the leader (concurrent calls race for the same log index)',
          ],
        }
      : {
          system,
          version: `skiff@${PINNED.skiff}`,
          durable: 'no: leveldb batches without sync; the leader keeps new entries in memory until applied',
          notes: ['its own TCP transport (msgpack); writes are levelup put()s on the leader'],
        };
  const common = 'client: JSON lines over TCP to the leader, payload base64 (4/3 of the bytes), election timeout 1-2 s';
  base.notes.push(common);
  let installed: Installed<NpmPeer>;
  if (system === 'skiff') {
    const s = await installSkiff(log);
    installed = s.installed;
    base.notes.push(...s.notes);
  } else {
    installed = await ensureNpm('liferaft', '@markwylde/liferaft', PINNED.liferaft, log);
  }
  if (!installed.ok) return { ...base, unavailable: installed.reason, levels: [] };
  const group = new ProcessGroup();
  try {
    const cluster = await startJsRaftCluster(group, system, installed.value.prefix);
    const port = cluster.leaderClientPort();
    if (port === undefined) throw new Error('the leader went away before the client connected');
    const runs = await runClient(group, path.join(here, 'js-raft-client.ts'), [String(port)], request(work));
    // A node that died mid-run leaves numbers up to its death: keep them, say so.
    const failure = cluster.failure();
    if (failure !== undefined) base.notes.push(`a node failed during the run: ${failure}`);
    for (const f of cluster.faults()) base.notes.push(`fault: ${f}`);
    if (cluster.elections() > 1) base.notes.push(`${cluster.elections() - 1} leader change(s) during the run`);
    const levels = levelsFrom(work, runs);
    logLevels(log, system, levels);
    base.notes.push(...stallNote(work, levels));
    return { ...base, levels };
  } catch (err) {
    return { ...base, unavailable: `${system} run failed: ${message(err)}`, levels: [] };
  } finally {
    await group.close();
  }
}
