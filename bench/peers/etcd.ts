/**
 * Three etcd members on 127.0.0.1, each with its own temp data dir and ports, at etcd's default
 * durability (the WAL is fsynced before a put is acknowledged; bbolt commits with fsync too).
 */
import type { ChildProcess } from 'node:child_process';
import path from 'node:path';
import { freePorts, waitForPort } from './processes.js';
import type { ProcessGroup } from './processes.js';

export interface EtcdCluster {
  /** Client URLs of the members, `http://127.0.0.1:<port>`. */
  endpoints: string[];
  stop(): Promise<void>;
}

const START_TIMEOUT_MS = 30_000;

export async function startEtcd(group: ProcessGroup, binary: string, log: (line: string) => void): Promise<EtcdCluster> {
  const dir = group.tempDir('etcd');
  const ports = await freePorts(6);
  const members = [0, 1, 2].map((i) => ({
    name: `m${i}`,
    client: `http://127.0.0.1:${ports[i]}`,
    peer: `http://127.0.0.1:${ports[i + 3]}`,
    clientPort: ports[i]!,
  }));
  const initialCluster = members.map((m) => `${m.name}=${m.peer}`).join(',');
  const procs: ChildProcess[] = members.map((m) => {
    const child = group.spawn(
      binary,
      [
        `--name=${m.name}`,
        `--data-dir=${path.join(dir, m.name)}`,
        `--listen-client-urls=${m.client}`,
        `--advertise-client-urls=${m.client}`,
        `--listen-peer-urls=${m.peer}`,
        `--initial-advertise-peer-urls=${m.peer}`,
        `--initial-cluster=${initialCluster}`,
        '--initial-cluster-state=new',
        '--initial-cluster-token=pontoon-peers',
        '--logger=zap',
        '--log-level=error',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    // Only errors are logged; keep the last ones to explain a member that dies.
    let tail = '';
    child.stderr?.on('data', (d: Buffer) => (tail = (tail + d.toString()).slice(-2000)));
    child.once('exit', (code, signal) => {
      if (code !== 0 && signal === null) log(`peers: etcd ${m.name} exited with ${code}: ${tail.trim().split('\n').pop() ?? ''}`);
    });
    return child;
  });
  await Promise.all(members.map((m) => waitForPort(m.clientPort, START_TIMEOUT_MS)));
  return {
    endpoints: members.map((m) => m.client),
    stop: async () => {
      await Promise.all(procs.map((p) => group.stop(p)));
    },
  };
}
