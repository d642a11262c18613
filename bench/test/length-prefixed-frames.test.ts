import { describe, expect, it } from 'vitest';
import { FrameReader, repeatedFrames } from '../lib/length-prefixed-frames.js';

function frame(body: string): Buffer {
  const b = Buffer.from(body);
  const out = Buffer.alloc(4 + b.length);
  out.writeUInt32BE(b.length, 0);
  b.copy(out, 4);
  return out;
}

describe('FrameReader (bench/lib)', () => {
  const stream = Buffer.concat([frame('a'), frame(''), frame('hello world'), frame('x'.repeat(300))]);
  const bodies = ['a', '', 'hello world', 'x'.repeat(300)];

  for (const withPrefix of [false, true]) {
    it(`hands out every frame ${withPrefix ? 'with' : 'without'} its prefix, however the stream is cut into reads`, () => {
      for (const cut of [1, 2, 3, 4, 5, 7, 16, 1000]) {
        const got: string[] = [];
        const reader = new FrameReader((f) => {
          if (withPrefix) {
            expect(f.readUInt32BE(0)).toBe(f.length - 4);
            got.push(f.subarray(4).toString());
          } else got.push(f.toString());
        }, { withPrefix });
        for (let at = 0; at < stream.length; at += cut) reader.push(stream.subarray(at, at + cut));
        expect(got, `reads of ${cut} bytes`).toEqual(bodies);
      }
    });
  }

  it('repeatedFrames lays out count frames of the same body', () => {
    const got: Buffer[] = [];
    new FrameReader((f) => got.push(f)).push(repeatedFrames(3, 5, 7));
    expect(got.map((b) => [...b])).toEqual([[7, 7, 7, 7, 7], [7, 7, 7, 7, 7], [7, 7, 7, 7, 7]]);
  });
});
