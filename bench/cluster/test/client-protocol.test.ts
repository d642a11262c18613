import fc from 'fast-check';
import type { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { RecordKind, RecordReader, RecordWriter } from '../client-protocol.js';

/** A socket stand-in that keeps what was written. */
function sink(): { socket: Socket; written: Buffer[] } {
  const written: Buffer[] = [];
  const socket = { destroyed: false, write: (b: Buffer) => written.push(b) } as unknown as Socket;
  return { socket, written };
}

describe('client protocol', () => {
  it('reads back every record, in order, however the stream is split into chunks', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ id: fc.nat({ max: 0xffff_ffff }), bytes: fc.uint8Array({ maxLength: 300 }) }), { maxLength: 40 }),
        fc.array(fc.integer({ min: 1, max: 97 }), { minLength: 1, maxLength: 20 }),
        (records, cuts) => {
          const { socket, written } = sink();
          const w = new RecordWriter(socket);
          for (const r of records) w.add(RecordKind.Write, r.id, r.bytes);
          w.flush();
          expect(written.length).toBe(records.length === 0 ? 0 : 1);
          const stream = Buffer.concat(written);
          const got: { id: number; bytes: Uint8Array }[] = [];
          const reader = new RecordReader((kind, id, bytes) => {
            expect(kind).toBe(RecordKind.Write);
            got.push({ id, bytes: Uint8Array.from(bytes) });
          });
          let o = 0;
          for (let i = 0; o < stream.length; i++) {
            const n = cuts[i % cuts.length]!;
            reader.push(stream.subarray(o, o + n));
            o += n;
          }
          expect(got).toEqual(records.map((r) => ({ id: r.id, bytes: Uint8Array.from(r.bytes) })));
        },
      ),
      { seed: 7, numRuns: 200 },
    );
  });

  it('grows its buffer for a batch larger than the initial one', () => {
    const { socket, written } = sink();
    const w = new RecordWriter(socket);
    const big = new Uint8Array(100_000).fill(5);
    w.add(RecordKind.Ok, 1, big);
    w.add(RecordKind.Error, 2, new Uint8Array([1, 2, 3]));
    w.flush();
    const got: number[] = [];
    new RecordReader((kind, id, bytes) => got.push(kind, id, bytes.length)).push(written[0]!);
    expect(got).toEqual([RecordKind.Ok, 1, 100_000, RecordKind.Error, 2, 3]);
  });
});
