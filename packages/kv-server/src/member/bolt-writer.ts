/**
 * Writes a bbolt database file (the layout BoltFile reads; see there) from buckets given as
 * sorted key/value streams, so that etcd's tools (bbolt, `etcdctl snapshot status|restore`, etcd
 * itself) open it.
 *
 * The file is written front to back: pages 0 and 1 (the two meta pages) and 2 (an empty
 * freelist) are reserved, then each bucket's B+tree bottom up (its leaves in key order, then each
 * level of branch pages over the one below, until one page is its root), then the root bucket's
 * page naming every bucket, then the meta pages at the start. Every page below the high-water
 * mark is reachable, as bbolt's consistency check requires. Leaves are filled to a page; an
 * element larger than a page gets a leaf of its own with overflow pages.
 *
 * Work is done in slices of a few milliseconds that yield to the event loop, so that a member
 * writing a large snapshot keeps serving (Raft's heartbeats and clients' requests).
 */
import { type FileHandle, open } from 'node:fs/promises';
import { BRANCH, BUCKET_LEAF, ELEMENT, FREELIST, LEAF, MAGIC, META, PAGE_HEADER, VERSION, fnv64a } from './bolt-layout.js';

const PAGE_SIZE = 4096;
const FREELIST_PAGE = 2;
/** How long a slice of work may hold the event loop before it yields, in ms. */
const SLICE_MS = 4;
/** Elements between looks at the clock. */
const CLOCK_EVERY = 32;
/** Bytes gathered before a write to the file. */
const FLUSH_BYTES = 1 << 20;
/** A page's element count is a uint16. */
const MAX_ELEMENTS = 0xffff;

interface Element {
  readonly key: Uint8Array;
  readonly value: Uint8Array;
  readonly flags: number;
}

/** A child of a branch page: its first key and its page. */
interface Child {
  readonly key: Uint8Array;
  readonly page: number;
}

function leafBytes(elements: readonly Element[]): number {
  let n = PAGE_HEADER;
  for (const e of elements) n += ELEMENT + e.key.length + e.value.length;
  return n;
}

export class BoltWriter {
  private nextPage = 3;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private readonly buckets: Element[] = [];
  private finished = false;

  private constructor(private readonly handle: FileHandle) {}

  /** Creates (or truncates) `file` for writing. */
  static async create(file: string): Promise<BoltWriter> {
    const handle = await open(file, 'w');
    const writer = new BoltWriter(handle);
    // The meta and freelist pages, filled in by finish().
    writer.queue(Buffer.alloc(3 * PAGE_SIZE));
    return writer;
  }

  /**
   * Writes a top-level bucket from its entries, which must come in strictly increasing key order
   * (bytewise, as bbolt orders them), and buckets in increasing name order.
   */
  async bucket(name: string, entries: Iterable<{ key: Uint8Array; value: Uint8Array }>): Promise<void> {
    const nameBytes = Buffer.from(name);
    const last = this.buckets.at(-1);
    if (last !== undefined && Buffer.compare(last.key, nameBytes) >= 0) throw new RangeError(`bucket ${name} after ${Buffer.from(last.key).toString()}`);
    const leaves: Child[] = [];
    let leaf: Element[] = [];
    let size = PAGE_HEADER;
    let previous: Uint8Array | undefined;
    let counted = 0;
    let sliceStart = performance.now();
    for (const { key, value } of entries) {
      if (previous !== undefined && Buffer.compare(previous, key) >= 0) throw new RangeError(`bucket ${name}: keys out of order`);
      previous = key;
      const bytes = ELEMENT + key.length + value.length;
      if (leaf.length > 0 && (size + bytes > PAGE_SIZE || leaf.length === MAX_ELEMENTS)) {
        leaves.push(await this.writeLeaf(leaf));
        leaf = [];
        size = PAGE_HEADER;
      }
      leaf.push({ key, value, flags: 0 });
      size += bytes;
      if (++counted % CLOCK_EVERY === 0 && performance.now() - sliceStart > SLICE_MS) {
        await new Promise((resolve) => setImmediate(resolve));
        sliceStart = performance.now();
      }
    }
    // An empty bucket is one empty leaf.
    if (leaf.length > 0 || leaves.length === 0) leaves.push(await this.writeLeaf(leaf));
    let level = leaves;
    while (level.length > 1) level = await this.writeBranches(level);
    const header = Buffer.alloc(16);
    header.writeBigUInt64LE(BigInt(level[0]!.page), 0);
    this.buckets.push({ key: nameBytes, value: header, flags: BUCKET_LEAF });
  }

  /** Writes the root bucket and the meta pages, and closes the file; returns its size in bytes. */
  async finish(): Promise<number> {
    if (this.finished) throw new Error('bolt writer: finished twice');
    this.finished = true;
    try {
      const root = await this.writeLeaf(this.buckets);
      await this.flush();
      const freelist = this.page(FREELIST_PAGE, FREELIST, 0, 0);
      await this.handle.write(freelist, 0, freelist.length, FREELIST_PAGE * PAGE_SIZE);
      for (const id of [0, 1]) {
        const page = this.page(id, META, 0, 0);
        const at = PAGE_HEADER;
        page.writeUInt32LE(MAGIC, at);
        page.writeUInt32LE(VERSION, at + 4);
        page.writeUInt32LE(PAGE_SIZE, at + 8);
        page.writeUInt32LE(0, at + 12);
        page.writeBigUInt64LE(BigInt(root.page), at + 16);
        page.writeBigUInt64LE(0n, at + 24);
        page.writeBigUInt64LE(BigInt(FREELIST_PAGE), at + 32);
        page.writeBigUInt64LE(BigInt(this.nextPage), at + 40);
        // Both metas name the same tree; the transaction ids differ as bbolt's alternate.
        page.writeBigUInt64LE(BigInt(id + 1), at + 48);
        page.writeBigUInt64LE(fnv64a(page.subarray(at, at + 56)), at + 56);
        await this.handle.write(page, 0, page.length, id * PAGE_SIZE);
      }
      await this.handle.sync();
      return this.nextPage * PAGE_SIZE;
    } finally {
      await this.handle.close();
    }
  }

  /** Closes the file without finishing it (the caller removes it). */
  async abort(): Promise<void> {
    if (this.finished) return;
    this.finished = true;
    await this.handle.close();
  }

  private page(id: number, flags: number, count: number, overflow: number): Buffer {
    const page = Buffer.alloc((overflow + 1) * PAGE_SIZE);
    page.writeBigUInt64LE(BigInt(id), 0);
    page.writeUInt16LE(flags, 8);
    page.writeUInt16LE(count, 10);
    page.writeUInt32LE(overflow, 12);
    return page;
  }

  private async writeLeaf(elements: readonly Element[]): Promise<Child> {
    const bytes = leafBytes(elements);
    const overflow = Math.ceil(bytes / PAGE_SIZE) - 1;
    const id = this.nextPage;
    const page = this.page(id, LEAF, elements.length, overflow);
    let data = PAGE_HEADER + elements.length * ELEMENT;
    elements.forEach((e, i) => {
      const at = PAGE_HEADER + i * ELEMENT;
      page.writeUInt32LE(e.flags, at);
      page.writeUInt32LE(data - at, at + 4);
      page.writeUInt32LE(e.key.length, at + 8);
      page.writeUInt32LE(e.value.length, at + 12);
      page.set(e.key, data);
      page.set(e.value, data + e.key.length);
      data += e.key.length + e.value.length;
    });
    return this.place(page, overflow, elements[0]?.key ?? new Uint8Array(0));
  }

  /** One level of branch pages over `children`; their own entries for the level above. */
  private async writeBranches(children: readonly Child[]): Promise<Child[]> {
    const out: Child[] = [];
    for (let start = 0; start < children.length; ) {
      let size = PAGE_HEADER;
      let end = start;
      while (end < children.length && end - start < MAX_ELEMENTS) {
        const bytes = ELEMENT + children[end]!.key.length;
        // Two children at least (bbolt's minimum per page), overflowing the page when keys are
        // long: each level then has at most half the pages of the one below, so the tree ends.
        if (end - start >= 2 && size + bytes > PAGE_SIZE) break;
        size += bytes;
        end++;
      }
      const group = children.slice(start, end);
      const overflow = Math.ceil(size / PAGE_SIZE) - 1;
      const page = this.page(this.nextPage, BRANCH, group.length, overflow);
      let data = PAGE_HEADER + group.length * ELEMENT;
      group.forEach((c, i) => {
        const at = PAGE_HEADER + i * ELEMENT;
        page.writeUInt32LE(data - at, at);
        page.writeUInt32LE(c.key.length, at + 4);
        page.writeBigUInt64LE(BigInt(c.page), at + 8);
        page.set(c.key, data);
        data += c.key.length;
      });
      out.push(await this.place(page, overflow, group[0]!.key));
      start = end;
    }
    return out;
  }

  private async place(page: Buffer, overflow: number, firstKey: Uint8Array): Promise<Child> {
    const id = this.nextPage;
    this.nextPage += overflow + 1;
    this.queue(page);
    if (this.pendingBytes >= FLUSH_BYTES) await this.flush();
    return { key: firstKey, page: id };
  }

  private queue(bytes: Buffer): void {
    this.pending.push(bytes);
    this.pendingBytes += bytes.length;
  }

  private async flush(): Promise<void> {
    if (this.pendingBytes === 0) return;
    const bytes = Buffer.concat(this.pending, this.pendingBytes);
    this.pending = [];
    this.pendingBytes = 0;
    await this.handle.write(bytes);
  }
}
