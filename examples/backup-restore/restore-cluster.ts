/**
 * Restoring a snapshot into a new 3-member cluster, as etcd's disaster-recovery guide does it
 * with `etcdctl snapshot restore`: the same file is restored once per member, each time with the
 * new cluster's full membership and that member's own name and peer URL; then the three members
 * are started with the same flags. The new cluster has the keys, their revisions and leases, and
 * a new membership (new member and cluster ids, from the new `--initial-cluster-token`).
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { freePort, PONTOON_KV_BIN, startPontoonKv } from 'pontoon-kv/testing';
import type { ChildProcess } from 'node:child_process';

/** A restored cluster's running members. */
export interface RestoredCluster {
  readonly endpoints: readonly string[];
  /** The restore commands as run, for the record. */
  readonly restoreCommands: readonly string[];
  /** Stops the members (SIGTERM) and waits for them to exit; their data stays in `dir`. */
  stop(): Promise<void>;
}

interface MemberSpec {
  readonly name: string;
  readonly dataDir: string;
  readonly clientUrl: string;
  readonly peerUrl: string;
}

/**
 * Restores `file` into three data directories under `dir` and starts a member on each, on free
 * ports of 127.0.0.1. `clusterToken` must differ from the old cluster's.
 */
export async function restoreCluster(file: string, dir: string, clusterToken: string): Promise<RestoredCluster> {
  const specs: MemberSpec[] = [];
  for (let i = 0; i < 3; i++) {
    const name = `restored-${i}`;
    specs.push({ name, dataDir: join(dir, `${name}.etcd`), clientUrl: `http://127.0.0.1:${await freePort()}`, peerUrl: `http://127.0.0.1:${await freePort()}` });
  }
  const initialCluster = specs.map((s) => `${s.name}=${s.peerUrl}`).join(',');
  const cluster = [`--initial-cluster=${initialCluster}`, `--initial-cluster-token=${clusterToken}`];
  const restoreArgs = specs.map((s) => ['snapshot', 'restore', file, `--data-dir=${s.dataDir}`, `--name=${s.name}`, ...cluster, `--initial-advertise-peer-urls=${s.peerUrl}`]);
  await Promise.all(restoreArgs.map((args) => run(PONTOON_KV_BIN, args)));

  const processes: ChildProcess[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(
      processes.map(async (p) => {
        if (p.exitCode !== null || p.signalCode !== null) return;
        const exited = once(p, 'exit');
        p.kill('SIGTERM');
        await exited;
      }),
    );
  };
  // All at once: a member of the restored cluster waits for the others to elect a leader.
  const started = await Promise.allSettled(
    specs.map((s) =>
      startPontoonKv(
        [
          `--name=${s.name}`,
          `--data-dir=${s.dataDir}`,
          `--listen-client-urls=${s.clientUrl}`,
          `--advertise-client-urls=${s.clientUrl}`,
          `--listen-peer-urls=${s.peerUrl}`,
          `--initial-advertise-peer-urls=${s.peerUrl}`,
          ...cluster,
        ],
        { cwd: dir, readyTimeoutMs: 120_000 },
      ),
    ),
  );
  for (const result of started) if (result.status === 'fulfilled') processes.push(result.value.process);
  const failed = started.find((result) => result.status === 'rejected');
  if (failed !== undefined) {
    await stop();
    throw failed.reason;
  }
  return {
    endpoints: specs.map((s) => s.clientUrl),
    restoreCommands: restoreArgs.map((args) => `pontoon-kv ${args.join(' ')}`),
    stop,
  };
}

/** Runs a command to completion; rejects with its stderr if it exits non-zero. */
async function run(command: string, args: readonly string[]): Promise<void> {
  const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const [code] = (await once(child, 'exit')) as [number | null];
  if (code !== 0) throw new Error(`${command} ${args.join(' ')} exited with ${code}:\n${stderr}`);
}
