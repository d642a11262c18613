/**
 * Node child processes running a bench script from source, and the temporary directories they
 * write to, owned by one group so that all of them go away when the measurement ends, when it
 * throws, and when the runner is interrupted: a replica left running, or a database left in
 * /tmp, skews the next run's numbers.
 */
import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The bench directory: `--import tsx` resolves from here (tsx is a root devDependency). */
const benchDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** The flags that let a child run TypeScript sources of the workspace, as the runner does. */
const SOURCE_EXEC_ARGV = ['--import', 'tsx', '--conditions=@pontoon/source'];

/**
 * A child process speaking JSON messages over IPC. Messages are queued until read, so that none
 * is lost between a request and the `next()` that waits for its answer.
 */
export class NodeChild<In, Out> {
  private readonly inbox: Out[] = [];
  private readonly waiting: Array<{ resolve: (m: Out) => void; reject: (e: Error) => void }> = [];
  private exitError: Error | undefined;
  private readonly exit: Promise<never>;

  constructor(readonly name: string, readonly process: ChildProcess) {
    process.on('message', (m: Out) => {
      const w = this.waiting.shift();
      if (w !== undefined) w.resolve(m);
      else this.inbox.push(m);
    });
    this.exit = new Promise<never>((_, reject) =>
      process.once('exit', (code, signal) => {
        const err = new Error(`${name} exited (code ${code}, signal ${signal})`);
        this.exitError = err;
        for (const w of this.waiting.splice(0)) w.reject(err);
        reject(err);
      }),
    );
    // Most runs end with the child killed and nobody waiting on its exit: not an unhandled error.
    this.exit.catch(() => {});
  }

  /** The next message from the child; rejects if the child exits first. */
  next(): Promise<Out> {
    const m = this.inbox.shift();
    if (m !== undefined) return Promise.resolve(m);
    if (this.exitError !== undefined) return Promise.reject(this.exitError);
    return new Promise((resolve, reject) => this.waiting.push({ resolve, reject }));
  }

  /** Rejects when the child exits (a replica that dies mid-run must fail the run, not hang it). */
  exited(): Promise<never> {
    return this.exit;
  }

  send(m: In): void {
    this.process.send(m as object);
  }

  request(m: In): Promise<Out> {
    const answer = this.next();
    this.send(m);
    return answer;
  }
}

/**
 * `work`, failed if any of `children` exits first or if it takes longer than `ms`: a benchmark
 * whose process died waits for an answer that never comes.
 */
export async function guarded<T>(work: Promise<T>, children: readonly { exited(): Promise<never> }[], ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([work, deadline, ...children.map((c) => c.exited())]);
  } finally {
    clearTimeout(timer);
  }
}

export class ChildGroup {
  private readonly children = new Set<ChildProcess>();
  private readonly dirs = new Set<string>();
  private readonly onExit = (): void => this.killAllNow();
  private readonly onSignal = (signal: NodeJS.Signals): void => {
    this.killAllNow();
    this.removeDirs();
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };

  constructor() {
    process.once('exit', this.onExit);
    process.once('SIGINT', this.onSignal);
    process.once('SIGTERM', this.onSignal);
  }

  /**
   * A fresh directory under the OS temp dir, removed by close(). Its name carries this
   * process's id, so that what a run left behind can be told from another run's.
   */
  tempDir(prefix: string): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `pontoon-bench-${process.pid}-${prefix}-`));
    this.dirs.add(dir);
    return dir;
  }

  /**
   * Forks `script` (a .ts file of the bench) with the workspace's source condition. Its stdout and
   * stderr are the runner's, so that a crash in a child is visible.
   */
  fork<In, Out>(name: string, script: string, args: readonly string[]): NodeChild<In, Out> {
    const child = fork(script, [...args], {
      execPath: process.execPath,
      execArgv: SOURCE_EXEC_ARGV,
      cwd: benchDir,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.children.add(child);
    child.once('exit', () => this.children.delete(child));
    return new NodeChild<In, Out>(name, child);
  }

  /** Kills every child (SIGKILL: a bench child holds nothing worth a graceful exit) and waits. */
  async killAll(): Promise<void> {
    const exits = [...this.children].map(
      (c) => new Promise<void>((r) => (c.exitCode !== null || c.signalCode !== null ? r() : c.once('exit', () => r()))),
    );
    this.killAllNow();
    await Promise.all(exits);
  }

  /** Kills every child, removes every temp dir, and stops watching the runner's exit. */
  async close(): Promise<void> {
    await this.killAll();
    this.removeDirs();
    process.off('exit', this.onExit);
    process.off('SIGINT', this.onSignal);
    process.off('SIGTERM', this.onSignal);
  }

  private killAllNow(): void {
    for (const c of this.children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  }

  private removeDirs(): void {
    for (const d of this.dirs) fs.rmSync(d, { recursive: true, force: true });
    this.dirs.clear();
  }
}
