/**
 * Why the fencing token matters: a holder that stops renewing its session (a long GC pause, a
 * frozen VM, a network cut) loses the lock when its lease expires, but does not know it. When it
 * wakes it still believes it holds the lock. The resource refuses its write because a newer
 * holder's larger token has been seen.
 */
import type { LockWorker } from './lock-workers.js';

export interface StaleHolderRun {
  readonly staleToken: number;
  readonly freshToken: number;
  /** Whether the resource accepted the paused holder's write after it woke (it must not). */
  readonly staleWriteAccepted: boolean;
  /** The resource after both wrote. */
  readonly final: { token: number; data: string };
}

/**
 * `paused` takes the lock, writes, then `pause()` stops its session's keepalives; `fresh` gets
 * the lock once that lease has expired and writes; then `paused` wakes and writes again with its
 * old token.
 */
export async function runStaleHolder(paused: LockWorker, pause: () => void, fresh: LockWorker, log?: (line: string) => void): Promise<StaleHolderRun> {
  const staleToken = await paused.lock.lock();
  await paused.resource.write(staleToken, `${paused.name}: before the pause`);
  log?.(`${paused.name} holds the lock with token ${staleToken}, then pauses (its keepalives stop)`);
  pause();
  const freshToken = await fresh.lock.lock();
  log?.(`${paused.name}'s lease expired; ${fresh.name} holds the lock with token ${freshToken}`);
  await fresh.resource.write(freshToken, `${fresh.name}: after taking over`);
  const staleWriteAccepted = await paused.resource.write(staleToken, `${paused.name}: after the pause`);
  log?.(`${paused.name} wakes and writes with token ${staleToken}: ${staleWriteAccepted ? 'accepted (fencing failed!)' : 'refused by the fence'}`);
  await fresh.lock.unlock();
  return { staleToken, freshToken, staleWriteAccepted, final: await fresh.resource.read() };
}
