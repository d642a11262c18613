/**
 * Writers that keep putting new keys while the backup is taken, and remember which puts the
 * cluster acknowledged. Each key is written once with a value of its own, so a key acknowledged
 * before the save started must be in the snapshot with exactly that value; a later one may or
 * may not be, but never with another value.
 */
import type { Etcd3 } from 'etcd3';

export const LOAD_PREFIX = 'load/';

/** The value writer `writer` puts at its `seq`-th key. */
export function loadEntry(writer: number, seq: number): { key: string; value: string } {
  const id = `${writer}/${String(seq).padStart(6, '0')}`;
  return { key: `${LOAD_PREFIX}${id}`, value: `value of ${id}` };
}

export class WriteLoad {
  private readonly acked = new Map<string, string>();
  private readonly attempted = new Map<string, string>();
  private running = true;
  private failure: unknown;
  private readonly loops: Promise<void>[];

  /** Starts `writers` writers, each with one put in flight at a time, through `client`. */
  constructor(client: Etcd3, writers: number) {
    this.loops = Array.from({ length: writers }, async (_, writer) => {
      for (let seq = 0; this.running; seq++) {
        const { key, value } = loadEntry(writer, seq);
        this.attempted.set(key, value);
        try {
          await client.put(key).value(value);
        } catch (err) {
          this.failure ??= err;
          throw err;
        }
        this.acked.set(key, value);
      }
    });
    // stop() reports a failed writer; until then the others go on.
    for (const loop of this.loops) loop.catch(() => undefined);
  }

  /** The puts acknowledged so far (key -> value). */
  acknowledged(): Map<string, string> {
    return new Map(this.acked);
  }

  /** Resolves once at least `count` puts are acknowledged. */
  async waitForAcknowledged(count: number): Promise<void> {
    while (this.acked.size < count) {
      if (this.failure !== undefined) throw this.failure;
      if (!this.running) throw new Error(`write load stopped at ${this.acked.size} acknowledged puts, before ${count}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /** Every put ever sent, acknowledged or not (a restored key must have one of these values). */
  sent(): ReadonlyMap<string, string> {
    return this.attempted;
  }

  /** Stops the writers after their put in flight; rejects if a put failed. */
  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }
}
