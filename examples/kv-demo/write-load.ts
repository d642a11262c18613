/**
 * Writers that put a new key under a prefix, one write at a time each, through a client that
 * knows every member. A put that resolved is acknowledged: it must survive anything short of
 * losing a majority. A put that failed has an unknown outcome (the member may have proposed it
 * before it died) and is not counted.
 *
 * Like etcd3's default, the client sends a call that failed with a retryable error (UNAVAILABLE
 * when a member dies) again, to another member; here it also counts those retries. A retried
 * put whose first try had gone through before the member died is in the history twice.
 */
import { handleWhen, retry } from 'cockatiel';
import { Etcd3, isRecoverableError } from 'etcd3';

export class WriteLoad {
  /** Keys whose put was acknowledged, in the order of the acknowledgements. */
  readonly acked: string[] = [];
  /** Puts that failed: they may or may not have happened. */
  unknown = 0;
  /** Calls the client sent again after a retryable error. */
  retried = 0;
  private stopped = false;
  private readonly client: Etcd3;
  private readonly writers: Promise<void>[];

  constructor(hosts: readonly string[], prefix: string, writers: number, pauseMs: number) {
    const policy = retry(handleWhen(isRecoverableError), { maxAttempts: 3 });
    policy.onRetry(() => this.retried++);
    this.client = new Etcd3({ hosts: [...hosts], faultHandling: { global: policy } });
    this.writers = Array.from({ length: writers }, async (_, w) => {
      for (let seq = 0; !this.stopped; seq++) {
        const key = `${prefix}w${w}-${String(seq).padStart(6, '0')}`;
        try {
          await this.client.put(key).value(String(seq));
          this.acked.push(key);
        } catch {
          this.unknown++;
        }
        await new Promise((r) => setTimeout(r, pauseMs));
      }
    });
  }

  /** Stops writing; resolves once the puts in flight have ended. */
  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.writers);
  }

  /** Ends the puts in flight now (they fail) and stops writing. */
  close(): void {
    this.stopped = true;
    this.client.close();
  }
}
