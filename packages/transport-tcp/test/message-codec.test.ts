import fc from 'fast-check';
import { Packr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { MessageType, newMessage } from '@pontoon/raft/core';
import { MessageDecodeError } from '../src/errors.js';
import { detachPayloads, estimateMessageBytes, MessageDecoder, MessageEncoder, writeBody } from '../src/message-codec.js';
import type { Message } from '@pontoon/raft';
import { messageArb, normalize } from './arbitraries.js';

const encoder = new MessageEncoder();
const decoder = new MessageDecoder({ maxMessages: 1000, maxEntries: 1000 });

/** Decodes `bytes` as if it had arrived in reads cut at `cuts` (each a buffer of its own). */
function decode(bytes: Uint8Array, cuts: number[] = [], d = decoder): Message[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const parts: Uint8Array[] = [];
  let prev = 0;
  for (const p of [...points, bytes.length]) {
    parts.push(bytes.slice(prev, p));
    prev = p;
  }
  const out: Message[] = [];
  d.decode(parts, bytes.length, out);
  return out;
}

function encodeBytes(ms: Parameters<MessageEncoder['encode']>[0]): Uint8Array {
  const body = encoder.encode(ms);
  const out = new Uint8Array(body.length);
  writeBody(out, 0, body);
  return out;
}

describe('message codec', () => {
  it('round-trips any batch of messages, however the body is split into reads', () => {
    fc.assert(
      fc.property(fc.array(messageArb, { minLength: 1, maxLength: 6 }), fc.array(fc.nat(), { maxLength: 6 }), (ms, cuts) => {
        const bytes = encodeBytes(ms);
        expect(decode(bytes, cuts).map(normalize)).toEqual(ms.map(normalize));
      }),
      { numRuns: 300 },
    );
  });

  it('estimates an upper bound of the encoded size', () => {
    fc.assert(
      fc.property(messageArb, (m) => {
        expect(encodeBytes([m]).length).toBeLessThanOrEqual(estimateMessageBytes(m) + 16);
      }),
    );
  });

  it('hands out byte fields as views of the reads, copying only one that straddles two', () => {
    const data = (n: number, v: number): Uint8Array => new Uint8Array(n).fill(v);
    const ms = [1, 2, 3].map((i) => newMessage({ type: MessageType.MsgApp, to: 2, from: 1, entries: [{ term: 1, index: i, type: 0, data: data(100, i) }] }));
    const bytes = encodeBytes(ms);
    const tail = bytes.length - 300; // where the first entry's data begins
    const parts = [bytes.slice(0, tail + 150), bytes.slice(tail + 150)]; // the cut is inside entry 2
    const out: Message[] = [];
    decoder.viewBytes = 0;
    decoder.decode(parts, bytes.length, out);
    const [e1, e2, e3] = out.map((m) => m.entries[0]!.data);
    expect(e1!.buffer).toBe(parts[0]!.buffer);
    expect(e3!.buffer).toBe(parts[1]!.buffer);
    expect(e2!.buffer.byteLength).toBe(100); // a copy of its own
    expect([...e2!]).toEqual([...data(100, 2)]);
    expect(decoder.viewBytes).toBe(200);
  });

  it('detaches byte fields into one buffer of their own', () => {
    const read = new Uint8Array(65536);
    const m = newMessage({
      type: MessageType.MsgApp,
      to: 2,
      from: 1,
      context: read.subarray(10, 14),
      entries: [
        { term: 1, index: 1, type: 0, data: read.subarray(100, 103).fill(3) },
        { term: 1, index: 2, type: 0, data: new Uint8Array(0) },
      ],
    });
    detachPayloads([m], 0);
    read.fill(9);
    expect([...m.entries[0]!.data]).toEqual([3, 3, 3]);
    expect(m.entries[0]!.data.buffer.byteLength).toBe(7);
    expect(m.context!.buffer).toBe(m.entries[0]!.data.buffer);
    expect(m.entries[1]!.data.length).toBe(0);
  });

  it('throws only MessageDecodeError on any corruption of a valid body', () => {
    fc.assert(
      fc.property(
        fc.array(messageArb, { minLength: 1, maxLength: 3 }),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }),
        fc.nat(),
        (ms, flips, cut) => {
          const bytes = encodeBytes(ms);
          for (const [at, v] of flips) bytes[at % bytes.length] = v;
          for (const b of [bytes, bytes.subarray(0, cut % bytes.length)]) {
            try {
              const out = decode(b, [cut, cut * 7]);
              // What decodes must still be well-shaped.
              for (const m of out) for (const f of ['to', 'from', 'term', 'index'] as const) expect(Number.isSafeInteger(m[f])).toBe(true);
            } catch (e) {
              expect(e).toBeInstanceOf(MessageDecodeError);
            }
          }
        },
      ),
      { numRuns: 500 },
    );
  });

  it('throws only MessageDecodeError on random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        try {
          decode(bytes);
        } catch (e) {
          expect(e).toBeInstanceOf(MessageDecodeError);
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('refuses counts beyond the limits and values that are not safe integers', () => {
    const small = new MessageDecoder({ maxMessages: 1, maxEntries: 1 });
    const two = encodeBytes([newMessage({ type: MessageType.MsgHeartbeat }), newMessage({ type: MessageType.MsgHeartbeat })]);
    expect(() => decode(two, [], small)).toThrow(/message count/);
    const e = { term: 1, index: 1, type: 0, data: new Uint8Array(0) };
    expect(() => decode(encodeBytes([newMessage({ type: MessageType.MsgApp, entries: [e, e] })]), [], small)).toThrow(/entry count/);
    // Headers that are valid msgpack but not what we write: negative, fractional, strings, maps.
    const packr = new Packr({ useRecords: false });
    const body = (header: unknown): Uint8Array => {
      const h = packr.pack(header);
      const out = new Uint8Array(4 + h.length);
      new DataView(out.buffer).setUint32(0, h.length);
      out.set(h, 4);
      return out;
    };
    const good = [1, MessageType.MsgHeartbeat, 2, 1, 1, 0, 0, 0, 0, 0, 0, 0];
    expect(decode(body(good))).toHaveLength(1); // msgpackr's own encoding is accepted
    for (const bad of [-1, 1.5, 'x', null, 2 ** 60, { a: 1 }, [1]]) {
      const h = [...good];
      h[4] = bad as number;
      expect(() => decode(body(h))).toThrow(MessageDecodeError);
    }
    expect(() => decode(body({ a: 1 }))).toThrow(MessageDecodeError);
    expect(() => decode(body([...good, 0]))).toThrow(/left over/);
  });

  it('refuses to encode a value the core could never make (a bug upstream)', () => {
    expect(() => encoder.encode([newMessage({ type: MessageType.MsgApp, term: -1 })])).toThrow(RangeError);
  });
});
