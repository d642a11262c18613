/**
 * Watch fan-out: `watchers` watches on one prefix of `host`, puts under that prefix on `writer`,
 * one at a time (the next once every watcher has the event). For each event and watcher: the
 * time from the put's acknowledgement (its promise resolved) to the watcher's loop receiving
 * the event, and from the put's call to the event. A member feeds its watchers when it applies
 * the write, which on the writing member is before the put's promise resolves: such events count
 * as 0 after the acknowledgement and are reported as a share.
 */
import type { KvMember } from '@pontoon/kv';
import type { Histogram } from '../lib/histogram.js';
import { newHistogram } from '../lib/histogram.js';

export interface FanoutResult {
  watchers: number;
  writes: number;
  /** ns, from the put's acknowledgement to delivery (0 when delivered before it). */
  fromAck: Histogram;
  /** ns, from the put's call to delivery. */
  fromCall: Histogram;
  /** Share of deliveries that came before the put was acknowledged. */
  beforeAck: number;
}

const encoder = new TextEncoder();

export async function measureFanout(writer: KvMember, host: KvMember, watchers: number, writes: number, valueBytes: number, tag: string): Promise<FanoutResult> {
  const prefix = `watch/${tag}/`;
  const value = new Uint8Array(valueBytes).fill(0x63);
  // Delivery times by [write * watchers + watcher]; the revision of each write maps to its number.
  const delivered = new Float64Array(writes * watchers).fill(NaN);
  const called = new Float64Array(writes);
  const acked = new Float64Array(writes);
  const writeOfRevision = new Map<number, number>();
  let pendingDeliveries = 0;
  let allDelivered: (() => void) | undefined;
  let failure: unknown;

  const ids: number[] = [];
  const loops = Array.from({ length: watchers }, async (_, w) => {
    const watch = host.watch(prefix, { prefix: true });
    ids.push(watch.id);
    for await (const resp of watch) {
      const now = performance.now();
      for (const e of resp.events) {
        const n = writeOfRevision.get(e.kv.modRevision);
        if (n === undefined) {
          failure ??= new Error(`watcher ${w}: event at revision ${e.kv.modRevision} of no write`);
          continue;
        }
        delivered[n * watchers + w] = now;
        if (--pendingDeliveries === 0) allDelivered?.();
      }
    }
  });

  // The watches are registered synchronously above; a first write makes sure they are synced.
  for (let n = 0; n < writes; n++) {
    const done = new Promise<void>((resolve) => (allDelivered = resolve));
    pendingDeliveries += watchers;
    const key = encoder.encode(`${prefix}${n % 1024}`);
    // The revision is known only from the answer, which may come after the events: the next
    // revision is predicted (nothing else writes during the measurement) and checked.
    const expected = host.revision + 1;
    writeOfRevision.set(expected, n);
    called[n] = performance.now();
    const r = await writer.put(key, value);
    acked[n] = performance.now();
    if (r.header.revision !== expected) throw new Error(`fan-out: put ${n} made revision ${r.header.revision}, expected ${expected}`);
    await done;
    if (failure !== undefined) throw failure;
  }
  for (const id of ids) host.cancelWatch(id);
  await Promise.all(loops);

  const fromAck = newHistogram();
  const fromCall = newHistogram();
  let before = 0;
  for (let n = 0; n < writes; n++) {
    for (let w = 0; w < watchers; w++) {
      const t = delivered[n * watchers + w]!;
      if (Number.isNaN(t)) throw new Error(`fan-out: watcher ${w} never got write ${n}`);
      fromCall.recordValue(Math.max(1, Math.round((t - called[n]!) * 1e6)));
      if (t < acked[n]!) before++;
      fromAck.recordValue(Math.max(0, Math.round((t - acked[n]!) * 1e6)));
    }
  }
  return { watchers, writes, fromAck, fromCall, beforeAck: before / (writes * watchers) };
}
