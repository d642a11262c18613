import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FrameError } from '../src/errors.js';
import { encodeFrame, FrameDecoder, FrameKind } from '../src/frame-codec.js';

function decodeAll(chunks: Uint8Array[], max = 1 << 20): Array<[number, number[]]> {
  const out: Array<[number, number[]]> = [];
  const d = new FrameDecoder(max, (k, p) => out.push([k, [...p]]));
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

  it('keeps a partial frame as pending bytes', () => {
    const d = new FrameDecoder(100, () => {});
    d.push(encodeFrame(FrameKind.Messages, new Uint8Array(10)).subarray(0, 7));
    expect(d.pendingBytes).toBe(7);
  });
});
