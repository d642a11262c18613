/**
 * Workers that contend for one lock and write to a fenced resource while they hold it. The
 * run records who held the lock, in the order the holds began, with each hold's token and
 * whether the resource accepted its writes, and every moment two workers believed they held the
 * lock at once (there must be none).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { DistributedLock, FencedResource } from './lock-interfaces.js';

/** One worker: its name, its own lock instance (its session), its own view of the resource. */
export interface LockWorker {
  readonly name: string;
  readonly lock: DistributedLock;
  readonly resource: FencedResource;
}

/** One hold of the lock by one worker. */
export interface LockHold {
  readonly worker: string;
  readonly token: number;
  /** Whether the resource accepted each write made during the hold. */
  readonly accepted: boolean[];
}

/** What a run observed. */
export interface LockRun {
  /** Holds in the order they began. */
  readonly holds: readonly LockHold[];
  /** One line per time a worker got the lock while another still held it. */
  readonly overlaps: readonly string[];
}

export interface LockRunOptions {
  /** Holds per worker. */
  readonly rounds: number;
  /** Writes per hold, with a pause before each: the time another holder would have to overlap. */
  readonly writesPerHold: number;
  readonly pauseMs: number;
  readonly log?: (line: string) => void;
}

/** Runs every worker `rounds` times through lock, writes, unlock, all at once. */
export async function runLockWorkers(workers: readonly LockWorker[], options: LockRunOptions): Promise<LockRun> {
  const holds: LockHold[] = [];
  const overlaps: string[] = [];
  // The workers share this process, so this variable sees every hold as it happens: a second
  // holder while it is set is two workers in their critical section at once.
  let holder: string | undefined;
  const work = async (worker: LockWorker): Promise<void> => {
    for (let round = 0; round < options.rounds; round++) {
      const token = await worker.lock.lock();
      if (holder !== undefined) overlaps.push(`${worker.name} got the lock (token ${token}) while ${holder} held it`);
      holder = worker.name;
      const hold: LockHold = { worker: worker.name, token, accepted: [] };
      holds.push(hold);
      options.log?.(`${worker.name} holds the lock, fencing token ${token}`);
      for (let i = 0; i < options.writesPerHold; i++) {
        await sleep(options.pauseMs);
        hold.accepted.push(await worker.resource.write(token, `${worker.name} round ${round} write ${i}`));
      }
      if (holder === worker.name) holder = undefined;
      await worker.lock.unlock();
    }
  };
  await Promise.all(workers.map(work));
  return { holds, overlaps };
}
