/**
 * Base64 read as Go's encoding/json reads a []byte (base64.StdEncoding: padded, standard
 * alphabet, line breaks skipped), with Go's error: "illegal base64 data at input byte N" at the
 * offset Go's decoder reports. Node's decoder accepts anything and drops what it cannot read,
 * which would turn a client's mistake into a different key.
 */
import { GoJsonError } from './go-json.js';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const DECODE = new Int16Array(256).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) DECODE[ALPHABET.charCodeAt(i)] = i;

const PAD = 0x3d;
const CANONICAL = /^[A-Za-z0-9+/]*={0,2}$/;

function corrupt(offset: number): GoJsonError {
  return new GoJsonError(`illegal base64 data at input byte ${offset}`);
}

function isNewline(c: number | undefined): boolean {
  return c === 0x0a || c === 0x0d;
}

/** Decodes `src` (the string's bytes) as base64.StdEncoding.Decode does, or throws Go's error. */
export function decodeGoBase64(src: Buffer): Buffer {
  // Canonical input (the common case, and the only one large values come in) decodes natively.
  if (src.length % 4 === 0 && CANONICAL.test(src.toString('latin1'))) return Buffer.from(src.toString('latin1'), 'base64');
  const out: number[] = [];
  let si = 0;
  for (;;) {
    // One quantum of up to four characters (decodeQuantum).
    const dbuf = [0, 0, 0, 0];
    let dlen = 4;
    let end = false;
    let j = 0;
    for (; j < 4; j++) {
      if (si === src.length) {
        if (j === 0) return Buffer.from(out);
        throw corrupt(si - j);
      }
      const c = src[si]!;
      si++;
      const v = DECODE[c]!;
      if (v >= 0) {
        dbuf[j] = v;
        continue;
      }
      if (isNewline(c)) {
        j--;
        continue;
      }
      if (c !== PAD) throw corrupt(si - 1);
      // Padding: only after two or three characters, and "==" after two.
      if (j === 0 || j === 1) throw corrupt(si - 1);
      if (j === 2) {
        while (si < src.length && isNewline(src[si])) si++;
        if (si === src.length) throw corrupt(src.length);
        if (src[si] !== PAD) throw corrupt(si - 1);
        si++;
      }
      while (si < src.length && isNewline(src[si])) si++;
      if (si < src.length) throw corrupt(si);
      dlen = j;
      end = true;
      break;
    }
    const val = (dbuf[0]! << 18) | (dbuf[1]! << 12) | (dbuf[2]! << 6) | dbuf[3]!;
    const bytes = [(val >> 16) & 0xff, (val >> 8) & 0xff, val & 0xff];
    for (let k = 0; k < dlen - 1; k++) out.push(bytes[k]!);
    if (end) return Buffer.from(out);
  }
}
