/**
 * A read-only reader of bbolt database files (etcd's backend, and so etcd's snapshot files),
 * from their bytes. bbolt's layout: fixed-size pages; pages 0 and 1 are meta pages (the one with
 * the higher transaction id that checks is current); the meta names the root bucket's page; a
 * bucket is a B+tree of branch and leaf pages whose leaf elements are key/value pairs or, flagged,
 * nested bucket headers (a root page id, or 0 and the bucket's one page inline in the value).
 *
 * Every offset read from the file is checked against the file's bytes and every page id against
 * the meta's high-water mark, and a walk visits each page once at most (a page reached twice, a
 * cycle or a shared subtree, is an error: without the check a crafted file could make the walk
 * exponential): a damaged or hostile file is a BoltFormatError, never an exception from a buffer
 * read or a loop.
 */
import { BRANCH, BUCKET_HEADER, BUCKET_LEAF, ELEMENT, LEAF, MAGIC, META_CHECKSUM_OFFSET, PAGE_HEADER, VERSION, fnv64a } from './bolt-layout.js';

/** Deeper than any B+tree of a file that fits in memory. */
const MAX_DEPTH = 64;

/** The file is not a bbolt database, or is damaged. */
export class BoltFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BoltFormatError';
  }
}

interface Meta {
  readonly pageSize: number;
  readonly root: bigint;
  /** The high-water mark: every page of the file in use has a lower id. */
  readonly pageCount: number;
  readonly txid: bigint;
}

/** Where a page's bytes are: the file, at an offset (an inline bucket's page is in a value). */
interface PageRef {
  readonly offset: number;
  /** How far the page may extend (its overflow pages included, or the end of the value). */
  readonly end: number;
}

/** Whether `bytes` start like a bbolt file (a meta page with bbolt's magic and version). */
export function isBoltFile(bytes: Uint8Array): boolean {
  if (bytes.length < PAGE_HEADER + 8) return false;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return view.getUint32(PAGE_HEADER, true) === MAGIC && view.getUint32(PAGE_HEADER + 4, true) === VERSION;
}

export class BoltFile {
  private readonly view: DataView;
  private readonly meta: Meta;

  constructor(private readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const first = this.readMeta(0);
    // The second meta page sits one page in: the first meta's page size says where (bbolt falls
    // back to the OS page size when the first is damaged; 4 KiB is Linux's).
    const second = this.readMeta(first instanceof BoltFormatError ? 4096 : first.pageSize);
    if (first instanceof BoltFormatError && second instanceof BoltFormatError) throw first;
    const metas = [first, second].filter((m): m is Meta => !(m instanceof BoltFormatError));
    this.meta = metas.reduce((a, b) => (b.txid > a.txid ? b : a));
    if (this.meta.pageCount * this.meta.pageSize > bytes.length) {
      throw new BoltFormatError(`the meta page counts ${this.meta.pageCount} pages of ${this.meta.pageSize} bytes, the file has ${bytes.length} bytes`);
    }
  }

  /** What bbolt's Tx.Size() answers: the bytes of the pages in use. */
  get size(): number {
    return this.meta.pageCount * this.meta.pageSize;
  }

  /** The names of the top-level buckets, in key order. */
  bucketNames(): Uint8Array[] {
    const names: Uint8Array[] = [];
    for (const e of this.walk(this.page(this.meta.root), 0, new Set())) {
      if ((e.flags & BUCKET_LEAF) === 0) throw new BoltFormatError(`a key at the top level (${Buffer.from(e.key).toString('hex')}) is not a bucket`);
      names.push(e.key);
    }
    return names;
  }

  /**
   * The keys and values of the top-level bucket `name` in key order, read as they are iterated
   * (a nested bucket's value is empty, as bbolt's ForEach passes nil); undefined when there is
   * no such bucket. The bytes are views of the file's.
   */
  entries(name: string | Uint8Array): Iterable<{ key: Uint8Array; value: Uint8Array }> | undefined {
    const wanted = Buffer.from(name);
    let root: PageRef | undefined;
    for (const e of this.walk(this.page(this.meta.root), 0, new Set())) {
      if ((e.flags & BUCKET_LEAF) !== 0 && wanted.equals(e.key)) root = this.bucketRoot(e.value);
    }
    if (root === undefined) return undefined;
    const start = root;
    const walk = (): Iterable<{ key: Uint8Array; value: Uint8Array; flags: number }> => this.walk(start, 0, new Set());
    return {
      *[Symbol.iterator]() {
        for (const e of walk()) yield { key: e.key, value: (e.flags & BUCKET_LEAF) !== 0 ? new Uint8Array(0) : e.value };
      },
    };
  }

  private readMeta(offset: number): Meta | BoltFormatError {
    if (offset + PAGE_HEADER + 64 > this.bytes.length) return new BoltFormatError('too short for a bbolt meta page');
    const at = offset + PAGE_HEADER;
    const v = this.view;
    if (v.getUint32(at, true) !== MAGIC) return new BoltFormatError('not a bbolt file (no magic number in the meta page)');
    if (v.getUint32(at + 4, true) !== VERSION) return new BoltFormatError(`bbolt file version ${v.getUint32(at + 4, true)}, not ${VERSION}`);
    const checksum = v.getBigUint64(at + META_CHECKSUM_OFFSET, true);
    if (checksum !== 0n && checksum !== fnv64a(this.bytes.subarray(at, at + META_CHECKSUM_OFFSET))) {
      return new BoltFormatError(`the meta page at offset ${offset} fails its checksum`);
    }
    const pageSize = v.getUint32(at + 8, true);
    if (pageSize < 512 || pageSize > 1 << 20 || (pageSize & (pageSize - 1)) !== 0) return new BoltFormatError(`page size ${pageSize}`);
    const pageCount = v.getBigUint64(at + 40, true);
    if (pageCount > BigInt(Number.MAX_SAFE_INTEGER)) return new BoltFormatError(`page count ${pageCount}`);
    return { pageSize, root: v.getBigUint64(at + 16, true), pageCount: Number(pageCount), txid: v.getBigUint64(at + 48, true) };
  }

  /** The page `id` of the file, checked to be in use, with its overflow pages. */
  private page(id: bigint): PageRef {
    if (id < 2n || id >= BigInt(this.meta.pageCount)) throw new BoltFormatError(`page ${id} is outside the ${this.meta.pageCount} pages in use`);
    const offset = Number(id) * this.meta.pageSize;
    if (this.view.getBigUint64(offset, true) !== id) throw new BoltFormatError(`page ${id} is marked as page ${this.view.getBigUint64(offset, true)}`);
    const overflow = this.view.getUint32(offset + 12, true);
    const end = offset + (overflow + 1) * this.meta.pageSize;
    if (end > this.size) throw new BoltFormatError(`page ${id} overflows past the pages in use`);
    return { offset, end };
  }

  /** A bucket's root page, from its header (a leaf element's value). */
  private bucketRoot(value: Uint8Array): PageRef {
    if (value.length < BUCKET_HEADER) throw new BoltFormatError(`a bucket header of ${value.length} bytes`);
    const root = new DataView(value.buffer, value.byteOffset, value.byteLength).getBigUint64(0, true);
    if (root !== 0n) return this.page(root);
    // An inline bucket: its one leaf page follows the header, inside the value.
    const offset = value.byteOffset - this.bytes.byteOffset + BUCKET_HEADER;
    return { offset, end: offset + value.length - BUCKET_HEADER };
  }

  /** The leaf elements under the page, in key order. */
  private *walk(ref: PageRef, depth: number, seen: Set<number>): Generator<{ key: Uint8Array; value: Uint8Array; flags: number }> {
    if (depth > MAX_DEPTH) throw new BoltFormatError(`the B+tree is deeper than ${MAX_DEPTH} pages`);
    if (seen.has(ref.offset)) throw new BoltFormatError(`the page at offset ${ref.offset} is reached twice`);
    seen.add(ref.offset);
    if (ref.offset + PAGE_HEADER > ref.end) throw new BoltFormatError(`a page at offset ${ref.offset} has no room for its header`);
    const v = this.view;
    const flags = v.getUint16(ref.offset + 8, true);
    const count = v.getUint16(ref.offset + 10, true);
    const elements = ref.offset + PAGE_HEADER;
    if (elements + count * ELEMENT > ref.end) throw new BoltFormatError(`page at offset ${ref.offset}: ${count} elements do not fit`);
    for (let i = 0; i < count; i++) {
      const at = elements + i * ELEMENT;
      if ((flags & BRANCH) !== 0) {
        const key = v.getUint32(at, true);
        const keySize = v.getUint32(at + 4, true);
        this.slice(at + key, keySize, ref);
        yield* this.walk(this.page(v.getBigUint64(at + 8, true)), depth + 1, seen);
      } else if ((flags & LEAF) !== 0) {
        const elementFlags = v.getUint32(at, true);
        const pos = v.getUint32(at + 4, true);
        const keySize = v.getUint32(at + 8, true);
        const valueSize = v.getUint32(at + 12, true);
        yield { key: this.slice(at + pos, keySize, ref), value: this.slice(at + pos + keySize, valueSize, ref), flags: elementFlags };
      } else {
        throw new BoltFormatError(`page at offset ${ref.offset} is neither a branch nor a leaf (flags ${flags})`);
      }
    }
  }

  private slice(offset: number, length: number, ref: PageRef): Uint8Array {
    if (offset + length > ref.end) throw new BoltFormatError(`an element at offset ${offset} runs past its page`);
    return this.bytes.subarray(offset, offset + length);
  }
}
