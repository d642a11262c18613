/**
 * The parent's side of a client process: fork it, wait until it is ready, ask for the levels,
 * collect the runs.
 */
import type { ChildProcess } from 'node:child_process';
import type { FromClient, LoadRequest, LoadRun } from './load.js';
import type { ProcessGroup } from './processes.js';

/** How long a client gets to connect (etcd's client finds the leader first). */
const READY_TIMEOUT_MS = 30_000;

/**
 * The messages of one client process, queued until read: IPC may deliver several in one turn of
 * the event loop, and a listener attached per awaited message would miss all but the first.
 */
class Inbox {
  private readonly queue: FromClient[] = [];
  private waiter: ((m: FromClient | Error) => void) | undefined;
  private exited: Error | undefined;

  constructor(child: ChildProcess) {
    child.on('message', (m: FromClient) => this.deliver(m));
    child.once('exit', (code, signal) => {
      this.exited = new Error(`client process exited (code ${code}, signal ${signal})`);
      this.deliver(this.exited);
    });
  }

  private deliver(m: FromClient | Error): void {
    const w = this.waiter;
    this.waiter = undefined;
    if (w !== undefined) w(m);
    else if (!(m instanceof Error)) this.queue.push(m);
  }

  next(timeoutMs: number): Promise<FromClient> {
    const queued = this.queue.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    if (this.exited !== undefined) return Promise.reject(this.exited);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiter = undefined;
        reject(new Error(`client process silent for ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiter = (m) => {
        clearTimeout(timer);
        if (m instanceof Error) reject(m);
        else resolve(m);
      };
    });
  }
}

/**
 * Runs `request` in a client process running `module` with `args`; returns every measured run.
 * The process is stopped before this returns, whether the runs succeeded or not.
 */
export async function runClient(
  group: ProcessGroup,
  module: string,
  args: readonly string[],
  request: LoadRequest,
): Promise<LoadRun[]> {
  const child = group.fork(module, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const inbox = new Inbox(child);
  try {
    const ready = await inbox.next(READY_TIMEOUT_MS);
    if (ready.type === 'failed') throw new Error(ready.error);
    if (ready.type !== 'ready') throw new Error(`client process said ${ready.type} before ready`);
    child.send(request);
    // Each run takes its duration plus a warmup, a drain and a compaction: allow a generous bound.
    const perMessage = request.warmupMs + request.durationMs + 60_000;
    const runs: LoadRun[] = [];
    for (;;) {
      const m = await inbox.next(perMessage);
      if (m.type === 'failed') throw new Error(m.error);
      if (m.type === 'done') return runs;
      if (m.type === 'run') runs.push(m.run);
    }
  } finally {
    await group.stop(child);
  }
}
