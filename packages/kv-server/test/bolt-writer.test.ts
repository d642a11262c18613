/**
 * BoltWriter against BoltFile: what is written reads back in order, whatever the shape (empty
 * buckets, values and keys larger than a page, enough keys for three levels of pages); keys or
 * buckets out of order are refused. (etcd's own reading of the files is in the *.etcd tests.)
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BoltFile } from '../src/member/bolt-file.js';
import { BoltWriter } from '../src/member/bolt-writer.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bolt-writer-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const key = (i: number): Buffer => Buffer.from(`key/${String(i).padStart(7, '0')}`);

describe('BoltWriter', () => {
  it('writes buckets that read back whole and in order: many keys, large values and keys, an empty bucket', async () => {
    const file = path.join(tmp, 'shapes.db');
    const many = Array.from({ length: 60_000 }, (_, i) => ({ key: key(i), value: Buffer.alloc(i % 97, i % 251) }));
    const large = [
      { key: Buffer.from('a'), value: Buffer.alloc(300_000, 1) },
      { key: Buffer.alloc(9_000, 0x62), value: Buffer.from('long key') },
      { key: Buffer.from('c'), value: Buffer.alloc(4_096, 3) },
    ];
    const writer = await BoltWriter.create(file);
    await writer.bucket('empty', []);
    await writer.bucket('large', large);
    await writer.bucket('many', many);
    const size = await writer.finish();
    const bytes = fs.readFileSync(file);
    expect(bytes.length).toBe(size);
    expect(size % 4096).toBe(0);
    const bolt = new BoltFile(bytes);
    expect(bolt.size).toBe(size);
    expect(bolt.bucketNames().map((n) => Buffer.from(n).toString())).toEqual(['empty', 'large', 'many']);
    expect([...bolt.entries('empty')!]).toEqual([]);
    // Compared as hex lines: a deep equality over 60,000 buffers takes the test runner minutes.
    const lines = (entries: Iterable<{ key: Uint8Array; value: Uint8Array }>): string[] =>
      [...entries].map((e) => `${Buffer.from(e.key).toString('hex')} ${Buffer.from(e.value).toString('hex')}`);
    expect(lines(bolt.entries('large')!)).toEqual(lines(large));
    const got = lines(bolt.entries('many')!);
    const want = lines(many);
    expect(got.length).toBe(want.length);
    expect(got.findIndex((line, i) => line !== want[i])).toBe(-1);
    expect(bolt.entries('missing')).toBeUndefined();
  });

  it('refuses keys out of order, and buckets out of name order', async () => {
    const writer = await BoltWriter.create(path.join(tmp, 'refused.db'));
    try {
      await expect(writer.bucket('b', [{ key: key(2), value: Buffer.alloc(0) }, { key: key(1), value: Buffer.alloc(0) }])).rejects.toThrow('bucket b: keys out of order');
      await writer.bucket('m', []);
      await expect(writer.bucket('c', [])).rejects.toThrow('bucket c after m');
    } finally {
      await writer.abort();
    }
  });
});
