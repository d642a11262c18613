/**
 * A pontoon-kv cluster of real processes for tests: each member started as a supervisor would,
 * from the `pontoon-kv` command at the repository root with etcd's flags, ready once it logs
 * etcd's "ready to serve client requests" (with `--logger zap`, which etcd 3.4 logs without that
 * line: "serving client traffic").
 */
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from './free-port.js';
import { killOnExit } from './kill-on-exit.js';

/**
 * The `pontoon-kv` command. Installed from npm (this module built, in `dist/src/testing/`): this
 * package's own `bin/pontoon-kv`. In the workspace (from `src/testing/`): `node_modules/.bin/pontoon-kv`
 * at the repository root, what the README's install makes, so that tests run it as users do.
 */
export const PONTOON_KV_BIN = commandPath(path.dirname(fileURLToPath(import.meta.url)));

function commandPath(moduleDir: string): string {
  const srcDir = path.dirname(moduleDir);
  const above = path.dirname(srcDir);
  return path.basename(above) === 'dist'
    ? path.join(path.dirname(above), 'bin', 'pontoon-kv')
    : path.resolve(srcDir, '../../../node_modules/.bin/pontoon-kv');
}

/** One member process. */
export interface PontoonKvMember {
  readonly name: string;
  readonly clientUrl: string;
  readonly peerUrl: string;
  readonly metricsUrl: string;
  readonly dataDir: string;
  readonly flags: readonly string[];
  /** The process (its pid is the member's). Undefined once stopped. */
  readonly process: ChildProcess | undefined;
  /** Everything it logged on stderr so far. */
  readonly log: () => string;
}

export interface PontoonKvClusterOptions {
  readonly size?: number | undefined;
  readonly clusterToken?: string | undefined;
  /** Flags for every member (`--heartbeat-interval=50`, ...). */
  readonly extraFlags?: readonly string[] | undefined;
  /** How long each member may take to log its readiness (default 90 s: the machine is slow). */
  readonly readyTimeoutMs?: number | undefined;
  /** `https` for client and peer URLs (with --auto-tls/--peer-auto-tls or certificate flags). Default `http`. */
  readonly scheme?: 'http' | 'https' | undefined;
  /** Where the data directories go (default: a new temporary directory). */
  readonly dir?: string | undefined;
  /**
   * The `pontoon-kv` command to run (default {@link PONTOON_KV_BIN}): another build's, to
   * compare two builds side by side (bench/kv-ab).
   */
  readonly command?: string | undefined;
}

export interface PontoonKvCluster {
  readonly members: readonly PontoonKvMember[];
  readonly endpoints: readonly string[];
  readonly initialCluster: string;
  readonly clusterToken: string;
  readonly dir: string;
  /** Sends `signal` to member `index` and waits for it to exit; its data stays. */
  stopMember(index: number, signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Starts member `index` again with its flags (a restart on its data). */
  restartMember(index: number): Promise<void>;
  /** Stops every member (SIGTERM, then SIGKILL past a grace period) and removes the directory. */
  stop(): Promise<void>;
}

const STOP_GRACE_MS = 15_000;

/** Starts one pontoon-kv process with `flags` and resolves once it logged its readiness. */
export function startPontoonKv(
  flags: readonly string[],
  options: { cwd?: string | undefined; readyTimeoutMs?: number | undefined; env?: NodeJS.ProcessEnv | undefined; command?: string | undefined } = {},
): Promise<{ process: ChildProcess; log: () => string }> {
  const child = spawn(options.command ?? PONTOON_KV_BIN, [...flags], {
    cwd: options.cwd ?? os.tmpdir(),
    env: options.env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  killOnExit(child);
  let stderr = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (d: string) => (stderr += d));
  child.stdout!.resume();
  const log = (): string => stderr;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`pontoon-kv ${flags.join(' ')} not ready after ${options.readyTimeoutMs ?? 90_000} ms:\n${stderr}`));
    }, options.readyTimeoutMs ?? 90_000);
    const onData = (): void => {
      if (!stderr.includes('ready to serve client requests') && !stderr.includes('"msg":"serving client traffic')) return;
      clearTimeout(timer);
      child.stderr!.off('data', onData);
      child.off('exit', onExit);
      resolve({ process: child, log });
    };
    const onExit = (code: number | null): void => {
      clearTimeout(timer);
      reject(new Error(`pontoon-kv exited (${code}) before it was ready:\n${stderr}`));
    };
    child.stderr!.on('data', onData);
    child.once('exit', onExit);
  });
}

/** How many times a cluster is started on fresh ports when one was taken in the meantime. */
const PORT_ATTEMPTS = 3;

/**
 * Starts a cluster of `size` members (default 3) on free ports of 127.0.0.1. A port taken by
 * another process between being picked and being bound (EADDRINUSE) starts the cluster again on
 * fresh ports, up to three times.
 */
export async function startPontoonKvCluster(options: PontoonKvClusterOptions = {}): Promise<PontoonKvCluster> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnFreshPorts(options);
    } catch (err) {
      if (attempt >= PORT_ATTEMPTS || !(err instanceof Error) || !err.message.includes('EADDRINUSE')) throw err;
    }
  }
}

async function startOnFreshPorts(options: PontoonKvClusterOptions): Promise<PontoonKvCluster> {
  const size = options.size ?? 3;
  const clusterToken = options.clusterToken ?? 'pontoon-test';
  const dir = options.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'pontoon-kv-cluster-'));
  const specs: Array<{ name: string; clientUrl: string; peerUrl: string; metricsUrl: string; dataDir: string }> = [];
  const scheme = options.scheme ?? 'http';
  for (let i = 0; i < size; i++) {
    specs.push({
      name: `m${i}`,
      clientUrl: `${scheme}://127.0.0.1:${await freePort()}`,
      peerUrl: `${scheme}://127.0.0.1:${await freePort()}`,
      metricsUrl: `http://127.0.0.1:${await freePort()}`,
      dataDir: path.join(dir, `m${i}.etcd`),
    });
  }
  const initialCluster = specs.map((s) => `${s.name}=${s.peerUrl}`).join(',');
  const members: Array<{ -readonly [K in keyof PontoonKvMember]: PontoonKvMember[K] }> = specs.map((s) => ({
    ...s,
    flags: [
      `--name=${s.name}`,
      `--data-dir=${s.dataDir}`,
      `--listen-client-urls=${s.clientUrl}`,
      `--advertise-client-urls=${s.clientUrl}`,
      `--listen-peer-urls=${s.peerUrl}`,
      `--initial-advertise-peer-urls=${s.peerUrl}`,
      `--listen-metrics-urls=${s.metricsUrl}`,
      `--initial-cluster=${initialCluster}`,
      `--initial-cluster-token=${clusterToken}`,
      '--initial-cluster-state=new',
      ...(options.extraFlags ?? []),
    ],
    process: undefined,
    log: () => '',
  }));
  const readyTimeoutMs = options.readyTimeoutMs ?? 90_000;
  const start = async (i: number): Promise<void> => {
    const m = members[i]!;
    const started = await startPontoonKv(m.flags, { cwd: dir, readyTimeoutMs, command: options.command });
    m.process = started.process;
    m.log = started.log;
  };
  const stopMember = async (i: number, signal: NodeJS.Signals = 'SIGTERM'): Promise<{ code: number | null; signal: NodeJS.Signals | null }> => {
    const m = members[i]!;
    const child = m.process;
    m.process = undefined;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) {
      return { code: child?.exitCode ?? null, signal: child?.signalCode ?? null };
    }
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.once('exit', (code, sig) => resolve({ code, signal: sig })),
    );
    child.kill(signal);
    const grace = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
    const result = await exited;
    clearTimeout(grace);
    return result;
  };
  const cluster: PontoonKvCluster = {
    members,
    endpoints: specs.map((s) => s.clientUrl),
    initialCluster,
    clusterToken,
    dir,
    stopMember,
    restartMember: (i) => start(i),
    async stop() {
      await Promise.all(members.map((_, i) => stopMember(i)));
      if (options.dir === undefined) fs.rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    // All at once: a member of a new cluster waits for the others to elect a leader.
    await Promise.all(members.map((_, i) => start(i)));
  } catch (err) {
    await cluster.stop();
    // A caller's directory stays, but not the half-made members: a retry makes them anew.
    if (options.dir !== undefined) for (const s of specs) fs.rmSync(s.dataDir, { recursive: true, force: true });
    throw err;
  }
  return cluster;
}
