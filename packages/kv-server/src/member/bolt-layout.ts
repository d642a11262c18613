/**
 * bbolt's on-disk layout (go.etcd.io/bbolt 1.3, the version etcd 3.4 uses), shared by the reader
 * (bolt-file.ts) and the writer (bolt-writer.ts). All integers are little-endian.
 *
 * - A page starts with a 16-byte header: id (u64), flags (u16), element count (u16), overflow
 *   page count (u32).
 * - Pages 0 and 1 are meta pages; the meta, after the header: magic (u32), version (u32), page
 *   size (u32), flags (u32), root bucket (root page u64, sequence u64), freelist page (u64),
 *   high-water page id (u64), transaction id (u64), FNV-1a 64 of the 56 bytes before it (u64).
 * - A branch page's elements: key offset from the element (u32), key size (u32), child page
 *   (u64). A leaf page's: flags (u32; BUCKET_LEAF for a nested bucket), key offset from the
 *   element (u32), key size (u32), value size (u32). Keys and values follow the elements.
 * - A bucket's value is its header: root page (u64, 0 when the bucket is inline, its one page
 *   following in the value) and sequence (u64).
 */

export const MAGIC = 0xed0cdaed;
export const VERSION = 2;
export const PAGE_HEADER = 16;
export const ELEMENT = 16;
export const BUCKET_HEADER = 16;
/** The meta's checksum covers the bytes before it. */
export const META_CHECKSUM_OFFSET = 56;
export const BRANCH = 0x01;
export const LEAF = 0x02;
export const META = 0x04;
export const FREELIST = 0x10;
export const BUCKET_LEAF = 0x01;

/** 64-bit FNV-1a, bbolt's meta checksum. */
export function fnv64a(bytes: Uint8Array): bigint {
  let h = 0xcbf29ce484222325n;
  for (const b of bytes) h = BigInt.asUintN(64, (h ^ BigInt(b)) * 0x100000001b3n);
  return h;
}
