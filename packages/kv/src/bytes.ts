/**
 * Byte strings as etcd orders them: keys compare as unsigned bytes (Go's bytes.Compare), which is
 * also SQLite's BLOB order, so a key range is a plain BLOB range in the tables.
 */

/** bytes.Compare: negative, zero or positive. */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  return Buffer.compare(a, b);
}

/** The end of the range of every key with this prefix (clientv3.GetPrefixRangeEnd). */
export function prefixEnd(prefix: Uint8Array): Uint8Array {
  const end = Uint8Array.from(prefix);
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i]! < 0xff) {
      end[i]! += 1;
      return end.subarray(0, i + 1);
    }
  }
  // Every byte is 0xff: no key above the prefix shares it, so the range runs to the end ("\0").
  return Uint8Array.of(0);
}

/** UTF-8 bytes of a string, for callers that use string keys. */
export function utf8(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text, 'utf8'));
}

