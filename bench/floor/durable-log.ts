/**
 * Where a replica makes entries durable, in one of two ways measured side by side (WriterKind):
 * - `main`: better-sqlite3 on the event loop's thread. A commit blocks the loop for its fsync,
 *   but whatever arrives meanwhile waits in the kernel and is read, and committed, in one piece
 *   on the next turn: group commit for free, and no hand-off between threads.
 * - `worker`: a worker thread owns the connection (sqlite-writer-worker.js), so that the loop
 *   keeps reading and sending during the fsync, at the cost of a copy and a message per batch.
 */
import { Worker } from 'node:worker_threads';
import type Database from 'better-sqlite3';
import { batchAppender, openEntryTable } from './entry-table.js';
import type { WriterKind } from './wire.js';

export interface DurableLog {
  /** Commits batch bodies (wire.ts); `onDurable` is called with the last index once on disk. */
  append(bodies: readonly Buffer[]): void;
  /** Transactions committed so far. */
  readonly transactions: number;
  close(): Promise<void>;
}

export function openDurableLog(kind: WriterKind, dir: string, onDurable: (lastIndex: number) => void): DurableLog {
  return kind === 'main' ? new MainThreadLog(dir, onDurable) : new WorkerLog(dir, onDurable);
}

class MainThreadLog implements DurableLog {
  transactions = 0;
  private readonly db: Database.Database;
  private readonly appendBatches: (bodies: readonly Buffer[]) => number;

  constructor(dir: string, private readonly onDurable: (lastIndex: number) => void) {
    this.db = openEntryTable(dir);
    this.appendBatches = batchAppender(this.db);
  }

  append(bodies: readonly Buffer[]): void {
    const last = this.appendBatches(bodies);
    this.transactions++;
    this.onDurable(last);
  }

  async close(): Promise<void> {
    this.db.close();
  }
}

class WorkerLog implements DurableLog {
  /** The worker answers each transaction with its last index. */
  transactions = 0;
  private readonly worker: Worker;
  private closed: (() => void) | undefined;

  constructor(dir: string, onDurable: (lastIndex: number) => void) {
    this.worker = new Worker(new URL('./sqlite-writer-worker.js', import.meta.url), { workerData: { dir } });
    this.worker.on('message', (m: number | 'closed') => {
      if (m === 'closed') this.closed?.();
      else {
        this.transactions++;
        onDurable(m);
      }
    });
    this.worker.on('error', (err) => {
      // A writer that failed leaves the replica unable to make anything durable: fail loudly.
      process.stderr.write(`sqlite writer: ${err.stack ?? err.message}\n`);
      process.exit(1);
    });
  }

  append(bodies: readonly Buffer[]): void {
    for (const b of bodies) {
      // Cloning a view would copy its whole backing store (a socket read, or Buffer's 8 KiB
      // pool); copy exactly the body once, and hand that copy over without another.
      const copy = new Uint8Array(b);
      this.worker.postMessage(copy, [copy.buffer]);
    }
  }

  async close(): Promise<void> {
    await new Promise<void>((r) => {
      this.closed = r;
      this.worker.postMessage('close');
    });
    await this.worker.terminate();
  }
}
