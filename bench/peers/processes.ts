/**
 * The processes and temporary directories one peers run creates, so that all of them go away at
 * the end of the run, when it throws, and when the runner is interrupted: a benchmark that leaves
 * an etcd member listening or a data directory behind poisons the next run's numbers.
 */
import { fork, spawn } from 'node:child_process';
import type { ChildProcess, ForkOptions, SpawnOptions } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

/** How long a process gets to exit after SIGTERM before it is sent SIGKILL. */
const TERM_GRACE_MS = 2000;

export class ProcessGroup {
  private readonly children = new Set<ChildProcess>();
  private readonly dirs = new Set<string>();
  private readonly onSignal = (signal: NodeJS.Signals): void => {
    this.killAllNow();
    this.removeDirs();
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };
  private readonly onExit = (): void => this.killAllNow();

  constructor() {
    process.once('SIGINT', this.onSignal);
    process.once('SIGTERM', this.onSignal);
    process.once('exit', this.onExit);
  }

  /** A fresh directory under the OS temp dir, removed by close(). */
  tempDir(prefix: string): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `pontoon-peers-${prefix}-`));
    this.dirs.add(dir);
    return dir;
  }

  spawn(command: string, args: readonly string[], options: SpawnOptions): ChildProcess {
    return this.track(spawn(command, args, options));
  }

  /** A Node child running `module` (a .ts file runs under the runner's tsx loader, inherited). */
  fork(module: string, args: readonly string[], options: ForkOptions): ChildProcess {
    return this.track(fork(module, args, options));
  }

  private track(child: ChildProcess): ChildProcess {
    this.children.add(child);
    child.once('exit', () => this.children.delete(child));
    // A spawn that fails (binary missing) emits 'error' and never 'exit'.
    child.once('error', () => this.children.delete(child));
    return child;
  }

  /** Stops one process: SIGTERM, then SIGKILL if it has not exited within the grace period. */
  async stop(child: ChildProcess): Promise<void> {
    if (child.exitCode !== null || child.signalCode !== null || !this.children.has(child)) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), TERM_GRACE_MS);
    await exited;
    clearTimeout(timer);
  }

  /** Stops every process still running and removes every temp dir. */
  async close(): Promise<void> {
    await Promise.all([...this.children].map((c) => this.stop(c)));
    this.removeDirs();
    process.removeListener('SIGINT', this.onSignal);
    process.removeListener('SIGTERM', this.onSignal);
    process.removeListener('exit', this.onExit);
  }

  private killAllNow(): void {
    for (const c of this.children) c.kill('SIGKILL');
  }

  private removeDirs(): void {
    for (const d of this.dirs) fs.rmSync(d, { recursive: true, force: true });
    this.dirs.clear();
  }
}

/**
 * `n` distinct TCP ports free on 127.0.0.1 right now (the OS picks them). Another process could
 * take one before it is used; on a benchmark machine that is rare enough to report, not to retry.
 */
export async function freePorts(n: number): Promise<number[]> {
  const servers: net.Server[] = [];
  try {
    const ports: number[] = [];
    for (let i = 0; i < n; i++) {
      const server = net.createServer();
      servers.push(server);
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(0, '127.0.0.1', () => resolve());
      });
      ports.push((server.address() as net.AddressInfo).port);
    }
    return ports;
  } finally {
    await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  }
}

/** Resolves once something accepts TCP connections on 127.0.0.1:`port`, or throws after `timeoutMs`. */
export async function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on 127.0.0.1:${port} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
