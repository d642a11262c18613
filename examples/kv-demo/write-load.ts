/**
 * Writers that put a new key under a prefix, one write at a time each, through a client that
 * knows every member. A put that resolved is acknowledged: it must survive anything short of
 * losing a majority. A put that failed has an unknown outcome (the member may have proposed it
 * before it died) and is not counted.
 */
import type { Etcd3 } from 'etcd3';

export class WriteLoad {
  /** Keys whose put was acknowledged, in the order of the acknowledgements. */
  readonly acked: string[] = [];
  /** Puts that failed: they may or may not have happened. */
  unknown = 0;
  private stopped = false;
  private readonly writers: Promise<void>[];

  constructor(client: Etcd3, prefix: string, writers: number, pauseMs: number) {
    this.writers = Array.from({ length: writers }, async (_, w) => {
      for (let seq = 0; !this.stopped; seq++) {
        const key = `${prefix}w${w}-${String(seq).padStart(6, '0')}`;
        try {
          await client.put(key).value(String(seq));
          this.acked.push(key);
        } catch {
          this.unknown++;
        }
        await new Promise((r) => setTimeout(r, pauseMs));
      }
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.writers);
  }
}
