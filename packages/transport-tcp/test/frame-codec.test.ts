import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FrameError } from '../src/errors.js';
import { encodeFrame, FrameDecoder, FrameKind, joinParts } from '../src/frame-codec.js';

function decodeAll(chunks: Uint8Array[], max = 1 << 20): Array<[number, number[]]> {
  const out: Array<[number, number[]]> = [];
  const d = new FrameDecoder(max, (k, p, n) => out.push([k, [...joinParts(p, n)]]));
  for (const c of chunks) d.push(c);
  return out;
}

describe('FrameDecoder', () => {
  it('returns the frames that were encoded, however the stream is split', () => {
    const framesArb = fc.array(fc.tuple(fc.integer({ min: 0, max: 255 }), fc.uint8Array({ maxLength: 200 })), { maxLength: 8 });
    fc.assert(
      fc.property(framesArb, fc.array(fc.nat(), { maxLength: 10 }), (frames, cuts) => {
        const whole = Buffer.concat(frames.map(([k, p]) => encodeFrame(k as FrameKind, p)));
        const points = [...new Set(cuts.map((c) => c % (whole.length + 1)))].sort((a, b) => a - b);
        const chunks: Uint8Array[] = [];
        let prev = 0;
        for (const p of [...points, whole.length]) {
          chunks.push(whole.subarray(prev, p));
          prev = p;
        }
        expect(decodeAll(chunks)).toEqual(frames.map(([k, p]) => [k, [...p]]));
      }),
    );
  });

  it('delivers byte by byte', () => {
    const whole = Buffer.concat([encodeFrame(FrameKind.Messages, Buffer.from('hello')), encodeFrame(FrameKind.Welcome, new Uint8Array(0))]);
    const chunks = [...whole].map((b) => Uint8Array.of(b));
    expect(decodeAll(chunks)).toEqual([
      [FrameKind.Messages, [...Buffer.from('hello')]],
      [FrameKind.Welcome, []],
    ]);
  });

  it('refuses an oversize length prefix as soon as it is read, even split', () => {
    const d = new FrameDecoder(100, () => {});
    d.push(Uint8Array.of(0xff, 0xff));
    expect(() => d.push(Uint8Array.of(0xff, 0xff, 1))).toThrow(FrameError);
  });

  it('hands a frame that straddles reads out as views of them, copying only a small start', () => {
    const payload = new Uint8Array(100_000).map((_, i) => i & 0xff);
    const whole = Buffer.concat([encodeFrame(FrameKind.Messages, new Uint8Array(10)), encodeFrame(FrameKind.Messages, payload)]);
    // Reads of their own, as a socket makes them: the second frame starts 15 bytes into the first.
    const reads = [whole.subarray(0, 1000), whole.subarray(1000, 60_000), whole.subarray(60_000)].map((r) => Uint8Array.from(r));
    const got: Array<{ parts: Uint8Array[]; length: number; bufferBytes: number }> = [];
    const d = new FrameDecoder(1 << 20, (_, p, length) => got.push({ parts: [...p], length, bufferBytes: d.bufferBytes }));
    for (const r of reads) d.push(r);
    expect(got).toHaveLength(2);
    const { parts, length } = got[1]!;
    expect(length).toBe(100_000);
    expect([...joinParts(parts, length)]).toEqual([...payload]);
    expect(parts.map((p) => p.length)).toEqual([1000 - 20, 59_000, whole.length - 60_000]);
    // Its start is most of the first read, so a view; the rest are views of the reads too.
    expect(parts[1]!.buffer).toBe(reads[1]!.buffer);
    expect(parts[2]!.buffer).toBe(reads[2]!.buffer);
    expect(parts[0]!.buffer).toBe(reads[0]!.buffer);
    expect(d.bufferBytes).toBe(reads[0]!.length + reads[1]!.length + reads[2]!.length);
    // A start that is a small part of its read is copied out (it would keep the read alive).
    const stream = Buffer.concat([encodeFrame(FrameKind.Messages, new Uint8Array(60_000 - 100 - 5)), encodeFrame(FrameKind.Messages, payload)]);
    const reads2 = [stream.subarray(0, 60_000), stream.subarray(60_000)].map((r) => Uint8Array.from(r));
    const got2: Uint8Array[][] = [];
    const d2 = new FrameDecoder(1 << 20, (_, p) => got2.push([...p]));
    for (const r of reads2) d2.push(r);
    const start = got2[1]![0]!;
    expect(start.length).toBe(95);
    expect(start.buffer).not.toBe(reads2[0]!.buffer);
    expect(start.buffer.byteLength).toBe(95);
  });

  it('keeps a partial frame as pending bytes', () => {
    const d = new FrameDecoder(100, () => {});
    d.push(encodeFrame(FrameKind.Messages, new Uint8Array(10)).subarray(0, 7));
    expect(d.pendingBytes).toBe(7);
  });
});
