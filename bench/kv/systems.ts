/**
 * The systems of the kv suite on 127.0.0.1. The two compared are 3-member clusters of real
 * processes at their default durability: pontoon-kv (the `pontoon-kv` command, through
 * `pontoon-kv/testing`), and Debian's etcd 3.4 (`.ci/install-etcd.sh` installs it). Each can stop
 * and restart one member on its data. The third, `floor`, is one process answering etcd's calls
 * from memory (floor-server.ts) on three ports: the machine's floor with this client. Every
 * system tells each member's pid, for its RSS and its CPU.
 */
import type { ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { etcdBinary, isHealthy, startPontoonKvCluster } from 'pontoon-kv/testing';
import { ChildGroup, guarded } from '../lib/child-processes.js';
import { ProcessGroup, freePorts } from '../peers/processes.js';
import type { FromFloor } from './floor-main.js';

/** The systems compared with each other. */
export type ComparedSystem = 'pontoon-kv' | 'etcd';
export type SystemName = ComparedSystem | 'floor';

const here = path.dirname(fileURLToPath(import.meta.url));

export interface KvCluster {
  readonly system: SystemName;
  /** Client URLs, `http://127.0.0.1:<port>`. */
  readonly endpoints: readonly string[];
  /** The member processes' pids (undefined for a stopped member); the floor's three are one. */
  pids(): readonly (number | undefined)[];
  stop(): Promise<void>;
}

/** The floor: one process serving three ports. */
export interface FloorCluster extends KvCluster {
  readonly system: 'floor';
}

/** A compared system: real members, each of which can be stopped and restarted on its data. */
export interface RestartableCluster extends KvCluster {
  readonly system: ComparedSystem;
  /** Stops member `index` with SIGTERM and waits for it to exit; its data stays. */
  stopMember(index: number): Promise<void>;
  /** Starts member `index` again on its data; resolves once its process is started. */
  startMember(index: number): Promise<void>;
}

const START_TIMEOUT_MS = 90_000;
/**
 * A restart on the full key set: pontoon-kv took 14 s on 100,000 keys at load 22, so 1,000,000
 * may take minutes; this is the bound of a start that has hung, not an expectation.
 */
const RESTART_TIMEOUT_MS = 900_000;

/** Members still running when the runner exits (interrupted, or crashed) are killed. */
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of live) c.kill('SIGKILL');
});

function track(child: ChildProcess | undefined): void {
  if (child === undefined) return;
  live.add(child);
  child.once('exit', () => live.delete(child));
}

export async function startPontoonKv(): Promise<RestartableCluster> {
  // Its defaults are etcd's: fsync before the answer, 100 ms heartbeat, 1 s election timeout.
  // One timeout for the first start and restarts (the harness takes one): the restart's.
  const cluster = await startPontoonKvCluster({ size: 3, clusterToken: 'pontoon-kv-bench', readyTimeoutMs: RESTART_TIMEOUT_MS });
  for (const m of cluster.members) track(m.process);
  return {
    system: 'pontoon-kv',
    endpoints: cluster.endpoints,
    pids: () => cluster.members.map((m) => m.process?.pid),
    stopMember: async (i) => {
      await cluster.stopMember(i, 'SIGTERM');
    },
    startMember: async (i) => {
      await cluster.restartMember(i);
      track(cluster.members[i]!.process);
    },
    stop: () => cluster.stop(),
  };
}

export async function startEtcd(): Promise<RestartableCluster> {
  const binary = etcdBinary('etcd');
  const group = new ProcessGroup();
  const dir = group.tempDir('kv-etcd');
  const ports = await freePorts(6);
  const members = [0, 1, 2].map((i) => ({
    name: `m${i}`,
    client: `http://127.0.0.1:${ports[i]}`,
    peer: `http://127.0.0.1:${ports[i + 3]}`,
  }));
  const initialCluster = members.map((m) => `${m.name}=${m.peer}`).join(',');
  // etcd ignores the --initial-cluster flags on a data directory that exists: one set of flags
  // serves the first start and every restart.
  const flags = members.map((m) => [
    `--name=${m.name}`,
    `--data-dir=${path.join(dir, m.name)}`,
    `--listen-client-urls=${m.client}`,
    `--advertise-client-urls=${m.client}`,
    `--listen-peer-urls=${m.peer}`,
    `--initial-advertise-peer-urls=${m.peer}`,
    `--initial-cluster=${initialCluster}`,
    '--initial-cluster-state=new',
    '--initial-cluster-token=pontoon-kv-bench',
    '--logger=zap',
    '--log-level=error',
  ]);
  // A clean environment: ETCD_* variables of the caller would change the members' config.
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('ETCD')));
  const procs: (ChildProcess | undefined)[] = [undefined, undefined, undefined];
  const spawnMember = (i: number): void => {
    const child = group.spawn(binary, flags[i]!, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let tail = '';
    child.stderr?.on('data', (d: Buffer) => (tail = (tail + d.toString()).slice(-2000)));
    child.once('exit', (code, signal) => {
      if (code !== 0 && signal === null) process.stderr.write(`kv: etcd ${members[i]!.name} exited with ${code}: ${tail.trim()}\n`);
    });
    procs[i] = child;
  };
  const stopMember = async (i: number): Promise<void> => {
    const child = procs[i];
    procs[i] = undefined;
    if (child !== undefined) await group.stop(child);
  };
  try {
    for (let i = 0; i < 3; i++) spawnMember(i);
    const deadline = Date.now() + START_TIMEOUT_MS;
    for (const m of members) {
      while (!(await isHealthy(m.client))) {
        if (Date.now() > deadline) throw new Error(`etcd ${m.name} not healthy after ${START_TIMEOUT_MS} ms`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  } catch (err) {
    await group.close();
    throw err;
  }
  return {
    system: 'etcd',
    endpoints: members.map((m) => m.client),
    pids: () => procs.map((p) => p?.pid),
    stopMember,
    startMember: async (i) => spawnMember(i),
    stop: () => group.close(),
  };
}

/** The floor process (floor-main.ts); its three endpoints are ports of the one process. */
export async function startFloor(): Promise<FloorCluster> {
  const group = new ChildGroup();
  try {
    const child = group.fork<never, FromFloor>('kv floor', path.join(here, 'floor-main.ts'), []);
    const { endpoints } = await guarded(child.next(), [child], START_TIMEOUT_MS, 'kv floor start');
    const pid = child.process.pid;
    return {
      system: 'floor',
      endpoints,
      pids: () => endpoints.map(() => pid),
      stop: () => group.close(),
    };
  } catch (err) {
    await group.close();
    throw err;
  }
}

export function startSystem(system: SystemName): Promise<RestartableCluster | FloorCluster> {
  switch (system) {
    case 'etcd':
      return startEtcd();
    case 'pontoon-kv':
      return startPontoonKv();
    case 'floor':
      return startFloor();
  }
}
