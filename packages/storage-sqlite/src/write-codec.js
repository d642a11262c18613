// @ts-check
/**
 * How entries travel from the main thread to the writer worker: packed into one buffer that is
 * transferred, not cloned, so that a batch of a thousand entries costs one allocation and no
 * per-entry structured clone. Plain JavaScript for the worker's sake (see checksum.js).
 *
 * Layout per entry, little endian: index f64, term f64, type u32, length u32, payload bytes.
 */

/** Bytes of an entry's header in the packed buffer. */
export const ENTRY_HEADER_BYTES = 24;

/**
 * @param {readonly { index: number, term: number, type: number, data: Uint8Array }[]} entries
 * @returns {Uint8Array}
 */
export function packEntries(entries) {
  let size = 0;
  for (const e of entries) size += ENTRY_HEADER_BYTES + e.data.length;
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  let at = 0;
  for (const e of entries) {
    view.setFloat64(at, e.index, true);
    view.setFloat64(at + 8, e.term, true);
    view.setUint32(at + 16, e.type, true);
    view.setUint32(at + 20, e.data.length, true);
    out.set(e.data, at + ENTRY_HEADER_BYTES);
    at += ENTRY_HEADER_BYTES + e.data.length;
  }
  return out;
}

/**
 * Calls `visit` for each entry packed in `buf`, in order. The payload is a view into `buf`.
 * @param {Uint8Array} buf
 * @param {(index: number, term: number, type: number, data: Uint8Array) => void} visit
 */
export function forEachPackedEntry(buf, visit) {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let at = 0;
  while (at < buf.byteLength) {
    const len = view.getUint32(at + 20, true);
    const start = at + ENTRY_HEADER_BYTES;
    visit(view.getFloat64(at, true), view.getFloat64(at + 8, true), view.getUint32(at + 16, true), buf.subarray(start, start + len));
    at = start + len;
  }
}
