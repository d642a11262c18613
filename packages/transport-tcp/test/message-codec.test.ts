import fc from 'fast-check';
import { Packr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { MessageType, newMessage } from '@pontoon/raft';
import { MessageDecodeError } from '../src/errors.js';
import { estimateMessageBytes, MessageDecoder, MessageEncoder, writeBody } from '../src/message-codec.js';
import { messageArb, normalize } from './arbitraries.js';

const encoder = new MessageEncoder();
const decoder = new MessageDecoder({ maxMessages: 1000, maxEntries: 1000 });

function encodeBytes(ms: Parameters<MessageEncoder['encode']>[0]): Uint8Array {
  const body = encoder.encode(ms);
  const out = new Uint8Array(body.length);
  writeBody(out, 0, body);
  return out;
}

describe('message codec', () => {
  it('round-trips any batch of messages', () => {
    fc.assert(
      fc.property(fc.array(messageArb, { minLength: 1, maxLength: 6 }), fc.boolean(), (ms, copy) => {
        const bytes = encodeBytes(ms);
        expect(decoder.decode(bytes, copy).map(normalize)).toEqual(ms.map(normalize));
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

  it('copies payloads out of a much larger buffer (a socket read) when asked, and only then', () => {
    const m = newMessage({ type: MessageType.MsgApp, to: 2, from: 1, entries: [{ term: 1, index: 1, type: 0, data: Uint8Array.of(1, 2, 3) }] });
    const encoded = encodeBytes([m]);
    const read = new Uint8Array(65536);
    read.set(encoded, 100);
    const inRead = read.subarray(100, 100 + encoded.length);
    const [copied] = decoder.decode(inRead, true);
    const [viewed] = decoder.decode(inRead, false);
    // A body in its own buffer, mostly payload (a reassembled large frame), is not copied again.
    const big = encodeBytes([newMessage({ type: MessageType.MsgApp, to: 2, from: 1, entries: [{ term: 1, index: 1, type: 0, data: new Uint8Array(1000).fill(1) }] })]);
    const [own] = decoder.decode(big, true);
    read.fill(9);
    big.fill(9);
    expect([...copied!.entries[0]!.data]).toEqual([1, 2, 3]);
    expect(copied!.entries[0]!.data.buffer.byteLength).toBe(3);
    expect([...viewed!.entries[0]!.data]).toEqual([9, 9, 9]);
    expect(own!.entries[0]!.data[0]).toBe(9);
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
              const out = decoder.decode(b, false);
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
          decoder.decode(bytes, false);
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
    expect(() => small.decode(two, false)).toThrow(/message count/);
    const e = { term: 1, index: 1, type: 0, data: new Uint8Array(0) };
    expect(() => small.decode(encodeBytes([newMessage({ type: MessageType.MsgApp, entries: [e, e] })]), false)).toThrow(/entry count/);
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
    expect(decoder.decode(body(good), false)).toHaveLength(1); // msgpackr's own encoding is accepted
    for (const bad of [-1, 1.5, 'x', null, 2 ** 60, { a: 1 }, [1]]) {
      const h = [...good];
      h[4] = bad as number;
      expect(() => decoder.decode(body(h), false)).toThrow(MessageDecodeError);
    }
    expect(() => decoder.decode(body({ a: 1 }), false)).toThrow(MessageDecodeError);
    expect(() => decoder.decode(body([...good, 0]), false)).toThrow(/left over/);
  });

  it('refuses to encode a value the core could never make (a bug upstream)', () => {
    expect(() => encoder.encode([newMessage({ type: MessageType.MsgApp, term: -1 })])).toThrow(RangeError);
  });
});
