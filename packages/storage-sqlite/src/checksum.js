// @ts-check
/**
 * Checksums of everything the store writes: one CRC-32 per entry, per hard state, per snapshot
 * and per log start. Plain JavaScript (checked by tsc) because the writer worker, which runs
 * without a TypeScript loader, computes them too.
 *
 * A checksum covers the row's key as well as its value, so that a row that is intact but sits
 * at the wrong index (a page moved by a bad sector remap) does not pass either.
 */
import { crc32 } from 'node:zlib';

const header = Buffer.alloc(8 * 3 + 1);

/**
 * zlib.crc32 continued over `data`. Node 20's crc32 returns 0 for a zero-length buffer without
 * a backing store (what better-sqlite3 hands out for an empty BLOB) instead of `value`.
 * @param {Uint8Array | string} data
 * @param {number} value
 * @returns {number}
 */
function crcOver(data, value) {
  return data.length === 0 ? value : crc32(data, value);
}

/**
 * The CRC-32 of an entry: its index, term, type and payload.
 * @param {number} index
 * @param {number} term
 * @param {number} type
 * @param {Uint8Array} data
 * @returns {number}
 */
export function entryChecksum(index, term, type, data) {
  header.writeDoubleLE(index, 0);
  header.writeDoubleLE(term, 8);
  header.writeUInt8(type, 16);
  return crcOver(data, crc32(header.subarray(0, 17)));
}

/**
 * The CRC-32 of a row of numbers (hard state, log start), tagged so that two kinds of rows with
 * the same numbers do not share a checksum.
 * @param {string} tag
 * @param {readonly number[]} values
 * @returns {number}
 */
export function numbersChecksum(tag, values) {
  const buf = Buffer.alloc(8 * values.length);
  values.forEach((v, i) => buf.writeDoubleLE(v, 8 * i));
  return crc32(buf, crc32(tag));
}

/**
 * The CRC-32 of a snapshot: index, term, encoded ConfState and payload.
 * @param {number} index
 * @param {number} term
 * @param {string} confState the ConfState as stored (JSON)
 * @param {Uint8Array} data
 * @returns {number}
 */
export function snapshotChecksum(index, term, confState, data) {
  return crcOver(data, crcOver(confState, numbersChecksum('snapshot', [index, term])));
}
