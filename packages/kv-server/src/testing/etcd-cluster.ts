import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { EtcdStartError } from '../errors.js';
import { etcdBinary } from './etcd-binary.js';
import { freePort } from './free-port.js';
import { killOnExit } from './kill-on-exit.js';

/** One member of a reference etcd cluster. */
export interface EtcdMember {
  readonly name: string;
  /** `http://127.0.0.1:<port>`: the member's client URL (listen and advertise). */
  readonly clientUrl: string;
  /** `http://127.0.0.1:<port>`: the member's peer URL (listen and advertise). */
  readonly peerUrl: string;
  readonly dataDir: string;
  /** The flags the member was started with, exactly as passed to etcd. */
  readonly flags: readonly string[];
  /** Whether the member's process is running (false after stopMember or a crash). */
  readonly running: boolean;
}

/** Options of startEtcdCluster. */
export interface EtcdClusterOptions {
  /** 1 or 3 members (default 1). */
  readonly size?: 1 | 3 | undefined;
  /** `--initial-cluster-token` (default `etcd-cluster`, etcd's default). */
  readonly clusterToken?: string | undefined;
  /** Member names (default `m0`, `m1`, ...). */
  readonly names?: readonly string[] | undefined;
  /** More flags for every member (`--heartbeat-interval=50`, ...). */
  readonly extraFlags?: readonly string[] | undefined;
  /**
   * Leave `--initial-cluster`, `--initial-cluster-token` and `--initial-cluster-state` out, so
   * etcd derives them from `--name` and its defaults (one member only). Default false.
   */
  readonly omitInitialCluster?: boolean | undefined;
  /** How long to wait for every member to be healthy (default 30 s). */
  readonly startTimeoutMs?: number | undefined;
}

/** A running reference etcd 3.4 cluster on 127.0.0.1, in temporary directories. */
export interface EtcdCluster {
  readonly members: readonly EtcdMember[];
  /** The client URLs, for `--endpoints` or a client. */
  readonly endpoints: readonly string[];
  /** `name=peerUrl,...`: the `--initial-cluster` the members were started with. */
  readonly initialCluster: string;
  readonly clusterToken: string;
  /** Stops one member with SIGTERM (SIGKILL when `kill`); its data stays. */
  stopMember(index: number, options?: { kill?: boolean | undefined }): Promise<void>;
  /** Stops every member and removes the temporary directories. Safe to call twice. */
  stop(): Promise<void>;
}

const STOP_GRACE_MS = 10_000;
const START_ATTEMPTS = 3;

/**
 * Starts a reference etcd 3.4 cluster (1 or 3 members) on free 127.0.0.1 ports in temporary
 * directories and resolves once every member answers `/health` with `"health":"true"` (a leader
 * is elected and the member has published itself). Throws EtcdNotInstalledError if etcd 3.4 is
 * missing, EtcdStartError if a member exits or stays unhealthy. A port taken by another process
 * between choosing and binding is retried with fresh ports.
 */
export async function startEtcdCluster(options: EtcdClusterOptions = {}): Promise<EtcdCluster> {
  const binary = etcdBinary('etcd');
  let lastError: unknown;
  for (let attempt = 0; attempt < START_ATTEMPTS; attempt++) {
    try {
      return await startOnce(binary, options);
    } catch (e) {
      lastError = e;
      if (!(e instanceof EtcdStartError && /address already in use/.test(e.logTail))) throw e;
    }
  }
  throw lastError;
}

interface RunningMember extends EtcdMember {
  process: ChildProcess;
  log: string[];
  exited: Promise<void>;
  running: boolean;
}

async function startOnce(binary: string, options: EtcdClusterOptions): Promise<EtcdCluster> {
  const size = options.size ?? 1;
  const token = options.clusterToken ?? 'etcd-cluster';
  const names = options.names ?? Array.from({ length: size }, (_, i) => `m${i}`);
  if (names.length !== size) throw new RangeError(`names has ${names.length} entries for ${size} members`);
  if (options.omitInitialCluster === true && (size !== 1 || options.clusterToken !== undefined)) {
    throw new RangeError('omitInitialCluster needs one member and no clusterToken');
  }
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'pontoon-etcd-'));
  const ports: number[] = [];
  while (ports.length < 2 * size) {
    const p = await freePort();
    if (!ports.includes(p)) ports.push(p);
  }
  const layout = names.map((name, i) => ({
    name,
    clientUrl: `http://127.0.0.1:${ports[2 * i]}`,
    peerUrl: `http://127.0.0.1:${ports[2 * i + 1]}`,
    dataDir: path.join(root, `${name}.etcd`),
  }));
  const initialCluster = layout.map((m) => `${m.name}=${m.peerUrl}`).join(',');
  const members: RunningMember[] = layout.map((m) => {
    const flags = [
      `--name=${m.name}`,
      `--data-dir=${m.dataDir}`,
      `--listen-client-urls=${m.clientUrl}`,
      `--advertise-client-urls=${m.clientUrl}`,
      `--listen-peer-urls=${m.peerUrl}`,
      `--initial-advertise-peer-urls=${m.peerUrl}`,
      ...(options.omitInitialCluster === true
        ? []
        : [`--initial-cluster=${initialCluster}`, `--initial-cluster-token=${token}`, '--initial-cluster-state=new']),
      '--logger=zap',
      '--log-outputs=stderr',
      ...(options.extraFlags ?? []),
    ];
    return spawnMember(binary, m, flags);
  });
  const cluster = makeCluster(root, members, initialCluster, token);
  try {
    const deadline = Date.now() + (options.startTimeoutMs ?? 30_000);
    await Promise.all(members.map((m) => waitHealthy(m, deadline)));
  } catch (e) {
    await cluster.stop();
    throw e;
  }
  return cluster;
}

function spawnMember(
  binary: string,
  m: { name: string; clientUrl: string; peerUrl: string; dataDir: string },
  flags: string[],
): RunningMember {
  // A clean environment: ETCD_* variables of the caller would change the member's config.
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('ETCD')));
  const child = spawn(binary, flags, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  killOnExit(child);
  const log: string[] = [];
  const keep = (chunk: Buffer): void => {
    log.push(...chunk.toString('utf8').split('\n').filter((l) => l !== ''));
    if (log.length > 200) log.splice(0, log.length - 200);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const member: RunningMember = { ...m, flags, process: child, log, running: true, exited: Promise.resolve() };
  member.exited = new Promise((resolve) => {
    child.once('exit', () => {
      member.running = false;
      resolve();
    });
    child.once('error', (e) => {
      log.push(`spawn error: ${e.message}`);
      member.running = false;
      resolve();
    });
  });
  return member;
}

function makeCluster(root: string, members: RunningMember[], initialCluster: string, token: string): EtcdCluster {
  let stopped = false;
  const stopMember = async (index: number, options?: { kill?: boolean | undefined }): Promise<void> => {
    const m = members[index];
    if (m === undefined) throw new RangeError(`no member ${index} (cluster of ${members.length})`);
    await terminate(m, options?.kill === true);
  };
  return {
    members,
    endpoints: members.map((m) => m.clientUrl),
    initialCluster,
    clusterToken: token,
    stopMember,
    async stop() {
      if (stopped) return;
      stopped = true;
      await Promise.all(members.map((m) => terminate(m, false)));
      fs.rmSync(root, { recursive: true, force: true });
    },
  };
}

async function terminate(m: RunningMember, kill: boolean): Promise<void> {
  if (!m.running) return;
  m.process.kill(kill ? 'SIGKILL' : 'SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const graceOver = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), STOP_GRACE_MS);
  });
  const outcome = await Promise.race([m.exited.then(() => 'exited' as const), graceOver]);
  clearTimeout(timer);
  if (outcome === 'timeout') {
    m.process.kill('SIGKILL');
    await m.exited;
  }
}

async function waitHealthy(m: RunningMember, deadline: number): Promise<void> {
  for (;;) {
    if (!m.running) throw new EtcdStartError(m.name, 'the process exited', m.log.slice(-20).join('\n'));
    if (await isHealthy(m.clientUrl)) return;
    if (Date.now() > deadline) {
      throw new EtcdStartError(m.name, 'not healthy before the deadline', m.log.slice(-20).join('\n'));
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * Whether the etcd (or pontoon-kv) member at `clientUrl` is healthy: its `/health` answers
 * `{"health":"true"}` once the member has a leader and serves. False on any error.
 */
export function isHealthy(clientUrl: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get(`${clientUrl}/health`, { timeout: 2_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve(res.statusCode === 200 && /"health"\s*:\s*"true"/.test(body)));
      res.on('error', () => resolve(false));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
  });
}
