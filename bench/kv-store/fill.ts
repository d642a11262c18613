/**
 * Fills a one-member cluster with `keys` keys through Raft, the way a client would load it:
 * txns of up to etcd's 128 puts each, several in flight. The member's data directory is then
 * what a restart opens (member-child.ts).
 */
import type { KvMember } from '@pontoon/kv';
import { DEFAULT_MAX_TXN_OPS } from '@pontoon/kv';

const encoder = new TextEncoder();

/** The i-th key of a filled store (fixed width, so that key order is numeric order). */
export function filledKey(i: number): Uint8Array {
  return encoder.encode(`bench/key/${String(i).padStart(10, '0')}`);
}

export async function fillKeys(member: KvMember, keys: number, valueBytes: number, log: (line: string) => void): Promise<number> {
  const value = new Uint8Array(valueBytes).fill(0x62);
  const inFlight = 8;
  let next = 0;
  let lastLog = performance.now();
  const started = performance.now();
  const worker = async (): Promise<void> => {
    while (next < keys) {
      const from = next;
      const to = Math.min(keys, from + DEFAULT_MAX_TXN_OPS);
      next = to;
      const success = [];
      for (let i = from; i < to; i++) success.push({ put: { key: filledKey(i), value } });
      await member.txn({ compare: [], success, failure: [] });
      if (performance.now() - lastLog > 10_000) {
        lastLog = performance.now();
        log(`  filling: ${next.toLocaleString('en-US')} of ${keys.toLocaleString('en-US')} keys`);
      }
    }
  };
  await Promise.all(Array.from({ length: inFlight }, () => worker()));
  return performance.now() - started;
}
