/**
 * HPACK's Huffman code (RFC 7541 Appendix B), decode side: header strings an HTTP/2 client sent
 * Huffman-encoded, read back to octets. The code is canonical (codes of one length are
 * consecutive, in symbol order), so the table below holds only each symbol's code length and the
 * codes follow from it.
 */

/** Code length in bits of symbols 0..255 (RFC 7541 Appendix B); EOS (256) is 30 bits. */
const CODE_LENGTHS: readonly number[] = [
  13, 23, 28, 28, 28, 28, 28, 28, 28, 24, 30, 28, 28, 30, 28, 28,
  28, 28, 28, 28, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 28,
  6, 10, 10, 12, 13, 6, 8, 11, 10, 10, 8, 11, 8, 6, 6, 6,
  5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 7, 8, 15, 6, 12, 10,
  13, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7,
  7, 7, 7, 7, 7, 7, 7, 7, 8, 7, 8, 13, 19, 13, 14, 6,
  15, 5, 6, 5, 6, 5, 6, 6, 6, 5, 7, 7, 6, 6, 6, 5,
  6, 7, 6, 5, 5, 6, 7, 7, 7, 7, 7, 15, 11, 14, 13, 28,
  20, 22, 20, 20, 22, 22, 22, 23, 22, 23, 23, 23, 23, 23, 24, 23,
  24, 24, 22, 23, 24, 23, 23, 23, 23, 21, 22, 23, 22, 23, 23, 24,
  22, 21, 20, 22, 22, 23, 23, 21, 23, 22, 22, 24, 21, 22, 23, 23,
  21, 21, 22, 21, 23, 22, 23, 23, 20, 22, 22, 22, 23, 22, 22, 23,
  26, 26, 20, 19, 22, 23, 22, 25, 26, 26, 26, 27, 27, 26, 24, 25,
  19, 21, 26, 27, 27, 26, 27, 24, 21, 21, 26, 26, 28, 27, 27, 27,
  20, 24, 20, 21, 22, 21, 21, 23, 22, 22, 25, 25, 24, 24, 26, 23,
  26, 27, 26, 26, 27, 27, 27, 27, 27, 28, 27, 27, 27, 27, 27, 26,
];
const EOS = 256;
const MAX_CODE_LENGTH = 30;

/**
 * The canonical decoding tables: for each length, the first code of that length, how many codes
 * have it, and where its symbols start in `symbols` (symbols sorted by length, then value).
 */
const TABLES = (() => {
  const lengths = [...CODE_LENGTHS, MAX_CODE_LENGTH];
  const symbols = lengths.map((_, s) => s).sort((a, b) => lengths[a]! - lengths[b]! || a - b);
  const count = new Array<number>(MAX_CODE_LENGTH + 1).fill(0);
  for (const l of lengths) count[l]!++;
  const firstCode = new Array<number>(MAX_CODE_LENGTH + 1).fill(0);
  const offset = new Array<number>(MAX_CODE_LENGTH + 1).fill(0);
  let code = 0;
  let index = 0;
  for (let l = 1; l <= MAX_CODE_LENGTH; l++) {
    firstCode[l] = code;
    offset[l] = index;
    code = (code + count[l]!) * 2;
    index += count[l]!;
  }
  return { symbols, count, firstCode, offset };
})();

/**
 * Decodes a Huffman-encoded HPACK string. Undefined when the input is not a valid encoding: it
 * holds EOS, or ends in more than 7 bits of padding or padding that is not EOS's prefix of ones
 * (RFC 7541 §5.2 makes both decoding errors).
 */
export function decodeHuffman(input: Uint8Array): Buffer | undefined {
  const out: number[] = [];
  let code = 0;
  let length = 0;
  let ones = true;
  for (const byte of input) {
    for (let bit = 7; bit >= 0; bit--) {
      const b = (byte >> bit) & 1;
      code = code * 2 + b;
      length++;
      ones &&= b === 1;
      const i = code - TABLES.firstCode[length]!;
      if (i >= 0 && i < TABLES.count[length]!) {
        const symbol = TABLES.symbols[TABLES.offset[length]! + i]!;
        if (symbol === EOS) return undefined;
        out.push(symbol);
        code = 0;
        length = 0;
        ones = true;
      } else if (length >= MAX_CODE_LENGTH) {
        return undefined;
      }
    }
  }
  if (length > 7 || !ones) return undefined;
  return Buffer.from(out);
}
