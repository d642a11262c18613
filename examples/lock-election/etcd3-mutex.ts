/**
 * A blocking lock with a fencing token on the etcd3 npm client's `Lock`. That `Lock` is a
 * try-lock: one key, `name`, created under a fresh lease if it does not exist, else
 * EtcdLockFailedError. Waiting is ours: watch the key until it is deleted, then try again. The
 * fencing token is the key's create revision, read back after acquiring (etcd3's acquire does
 * not return the transaction's revision). Every waiter retries on each release; for many
 * contenders, the queue of mutex.ts (etcd's own recipe) wakes only the next one.
 */
import { EtcdLockFailedError, type Etcd3, type Lock } from 'etcd3';
import { once } from 'node:events';
import type { DistributedLock } from './lock-interfaces.js';

export class Etcd3Mutex implements DistributedLock {
  private current: Lock | undefined;

  /** A lock on key `name` whose leases have a TTL of `ttl` seconds (kept alive by etcd3). */
  constructor(
    private readonly client: Etcd3,
    private readonly name: string,
    private readonly ttl: number,
  ) {}

  async lock(signal?: AbortSignal): Promise<number> {
    for (;;) {
      signal?.throwIfAborted();
      const attempt = this.client.lock(this.name).ttl(this.ttl);
      try {
        await attempt.acquire();
      } catch (err) {
        if (!(err instanceof EtcdLockFailedError)) throw err;
        await this.waitForRelease(signal);
        continue;
      }
      const [held, lease] = await Promise.all([this.client.get(this.name).exec(), attempt.leaseId()]);
      const kv = held.kvs[0];
      if (kv === undefined || kv.lease !== lease) {
        // Lost already (the lease expired between acquire and this read): drop that lease, try again.
        await attempt.release().catch(() => undefined);
        continue;
      }
      this.current = attempt;
      return Number(kv.create_revision);
    }
  }

  async unlock(): Promise<void> {
    const held = this.current;
    this.current = undefined;
    // Revokes the lease, which deletes the key.
    await held?.release();
  }

  /** Waits until the lock key is deleted (at once if it is gone already). */
  private async waitForRelease(signal?: AbortSignal): Promise<void> {
    const seen = await this.client.get(this.name).exec();
    if (seen.kvs.length === 0) return;
    // From the revision the key was seen at: a delete right after the read is not missed.
    const watcher = await this.client.watch().key(this.name).startRevision(String(Number(seen.header.revision) + 1)).create();
    try {
      await once(watcher, 'delete', signal === undefined ? {} : { signal });
    } finally {
      await watcher.cancel();
    }
  }
}
