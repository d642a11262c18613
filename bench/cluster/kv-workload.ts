/**
 * The default benchmark workload: an in-memory key-value map. A write is a put, a read a get.
 *
 * Command: [u16 key length][key][value], `payloadBytes` long in all, keys cycling over KEYS
 * names so that the map (and its snapshots) stay bounded however long the run. Query: the key;
 * answer: the value (empty when absent).
 */
import type { Entry } from '@pontoon/raft';
import type { BenchStateMachine, BenchWorkload } from './workload.js';

/** Distinct keys written: the map holds at most this many values. */
const KEYS = 1024;
const KEY_BYTES = 8;
const EMPTY = new Uint8Array(0);

function keyName(seq: number): string {
  return `k${String(seq % KEYS).padStart(KEY_BYTES - 1, '0')}`;
}

function u8ToLatin1(bytes: Uint8Array, start: number, end: number): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset + start, end - start).toString('latin1');
}

export class KvStateMachine implements BenchStateMachine {
  readonly map = new Map<string, Uint8Array>();

  apply(entry: Readonly<Entry>): undefined {
    const d = entry.data;
    const keyLength = (d[0]! << 8) | d[1]!;
    const key = u8ToLatin1(d, 2, 2 + keyLength);
    // A copy (a Buffer's slice() would be a view): the entry's bytes may be a view of a larger
    // receive buffer that must not be kept.
    this.map.set(key, new Uint8Array(d.subarray(2 + keyLength)));
    return undefined;
  }

  query(request: Uint8Array): Uint8Array {
    return this.map.get(u8ToLatin1(request, 0, request.length)) ?? EMPTY;
  }

  /** [u32 count] then per key [u16 key length][key][u32 value length][value]. */
  snapshot(): Uint8Array {
    let size = 4;
    for (const [k, v] of this.map) size += 2 + k.length + 4 + v.length;
    const out = Buffer.allocUnsafe(size);
    let o = out.writeUInt32BE(this.map.size, 0);
    for (const [k, v] of this.map) {
      o = out.writeUInt16BE(k.length, o);
      o += out.write(k, o, 'latin1');
      o = out.writeUInt32BE(v.length, o);
      out.set(v, o);
      o += v.length;
    }
    return out;
  }

  restore(data: Uint8Array): void {
    const b = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    this.map.clear();
    const count = b.readUInt32BE(0);
    let o = 4;
    for (let i = 0; i < count; i++) {
      const kl = b.readUInt16BE(o);
      const key = b.toString('latin1', o + 2, o + 2 + kl);
      o += 2 + kl;
      const vl = b.readUInt32BE(o);
      this.map.set(key, new Uint8Array(data.subarray(o + 4, o + 4 + vl)));
      o += 4 + vl;
    }
  }
}

export const workload: BenchWorkload = {
  createStateMachine: () => new KvStateMachine(),
  command(seq: number, payloadBytes: number): Uint8Array {
    const key = keyName(seq);
    if (payloadBytes < 2 + key.length + 1) throw new Error(`a put needs at least ${2 + key.length + 1} bytes, got ${payloadBytes}`);
    const c = Buffer.alloc(payloadBytes, seq & 0xff);
    c.writeUInt16BE(key.length, 0);
    c.write(key, 2, 'latin1');
    return new Uint8Array(c.buffer, c.byteOffset, c.byteLength);
  },
  query: (seq: number): Uint8Array => Buffer.from(keyName(seq), 'latin1'),
};
