/**
 * Reading etcd's own snapshot files: the fixture is `etcdctl snapshot save` from etcd 3.4.23
 * (fixtures/README.md lists how it was made and what etcd answered for it). `snapshot status`
 * must print etcdctl's figures for it, and `snapshot restore` must build a store whose history,
 * HashKV and leases are etcd's. A damaged file is refused with a typed error, whatever the
 * damage.
 */
import { CompactedError, InvalidRequestError, MvccStore, utf8 } from '@pontoon/kv';
import { assertProperty, freshSeed } from '@pontoon/sim';
import fc from 'fast-check';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseCommandLine } from '../src/cli/command-line.js';
import { SnapshotFileError } from '../src/errors.js';
import { BoltFile, BoltFormatError, isBoltFile } from '../src/member/bolt-file.js';
import { BoltWriter } from '../src/member/bolt-writer.js';
import { etcdBackendHistory, etcdBackendStatus, writeEtcdBackend } from '../src/member/etcd-backend-file.js';
import { memberDir } from '../src/member/member-identity.js';
import { formatSnapshotStatus, humanizeBytes, restoreSnapshot, snapshotStatus } from '../src/member/snapshot-file.js';

const FIXTURE = path.join(import.meta.dirname, 'fixtures', 'etcd-3.4.23.snapshot.db');
const L1 = 0x4f73a250dd11fb09n;
const L2 = 0x4f73a250dd11fb0bn;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'etcd-snapshot-file-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** The bbolt database of the fixture, without etcd's SHA-256 trailer. */
function fixtureDb(): Buffer {
  const bytes = fs.readFileSync(FIXTURE);
  return bytes.subarray(0, bytes.length - 32);
}

async function restoreFixture(file: string, dataDir: string, skipHashCheck = false): Promise<void> {
  const args = parseCommandLine(
    ['snapshot', 'restore', file, `--data-dir=${dataDir}`, '--name=r0', '--initial-cluster=r0=http://127.0.0.1:12380', '--initial-advertise-peer-urls=http://127.0.0.1:12380', ...(skipHashCheck ? ['--skip-hash-check'] : [])],
    {},
  );
  if (args.command !== 'snapshot-restore') throw new Error(`parsed as ${args.command}`);
  await restoreSnapshot(args, () => {});
}

describe('etcd snapshot files', () => {
  it('status: etcdctl 3.4\'s hash, revision, key count and size, in its table', async () => {
    const status = await snapshotStatus(FIXTURE);
    expect(status).toEqual({ hash: 352487431, revision: 16, totalKey: 23, totalSize: 20480 });
    // etcdctl prints 20480 bytes as "20 kB": go-humanize's 20.5 through Go's %.0f, half to even.
    expect(formatSnapshotStatus(status, 'table')).toBe(
      [
        '+----------+----------+------------+------------+',
        '|   HASH   | REVISION | TOTAL KEYS | TOTAL SIZE |',
        '+----------+----------+------------+------------+',
        '| 15028807 |       16 |         23 |      20 kB |',
        '+----------+----------+------------+------------+',
        '',
      ].join('\n'),
    );
    expect([humanizeBytes(21500), humanizeBytes(22500), humanizeBytes(2048), humanizeBytes(999)]).toEqual(['22 kB', '22 kB', '2.0 kB', '999 B']);
  });

  it('restore: the history, HashKV, compaction and leases etcd had', async () => {
    const dataDir = path.join(tmp, 'restored');
    await restoreFixture(FIXTURE, dataDir);
    const store = MvccStore.open(path.join(memberDir(dataDir), 'kv.db'));
    try {
      expect(store.revision).toBe(16);
      expect(store.compactRevision).toBe(8);
      expect(store.applied).toEqual({ index: 0, term: 0 });
      // etcd's `endpoint hashkv` answered this before the save: every kept revision, byte for byte.
      expect(store.hashKV()).toMatchObject({ hash: 3254452103, compactRevision: 8 });
      const now = store.range({ key: new Uint8Array([0]), rangeEnd: new Uint8Array([0]) });
      expect(now.kvs.map((kv) => [Buffer.from(kv.key).toString(), Buffer.from(kv.value).toString('latin1'), kv.createRevision, kv.modRevision, kv.version, kv.lease])).toEqual([
        ['a', 'again', 10, 10, 1, 0n],
        ['b', 'again', 11, 11, 1, 0n],
        ['lock/x', 'held', 8, 8, 1, L2],
        ['svc/one', 'one-v2', 6, 14, 2, L1],
        ['svc/two', 'two', 7, 7, 1, L1],
        ['z', 'bin\x01\x02', 16, 16, 1, 0n],
      ]);
      // The txn at 9 (two puts and a delete) and the revoke at 13 are history above the compaction.
      const at9 = store.range({ key: new Uint8Array([0]), rangeEnd: new Uint8Array([0]), revision: 9 });
      expect(at9.kvs.map((kv) => Buffer.from(kv.key).toString())).toEqual(['lock/x', 'svc/one', 'svc/two', 't/1', 't/2']);
      const at12 = store.range({ key: utf8('tmp'), revision: 12 });
      expect(at12.kvs.map((kv) => Buffer.from(kv.value).toString())).toEqual(['gone']);
      expect(store.range({ key: utf8('tmp') }).kvs).toEqual([]);
      expect(() => store.range({ key: utf8('a'), revision: 7 })).toThrow(CompactedError);
      expect(store.leases()).toEqual([
        { id: L1, ttl: 600 },
        { id: L2, ttl: 900 },
      ]);
      expect(store.lease(L1)?.keys.map((k) => Buffer.from(k).toString())).toEqual(['svc/one', 'svc/two']);
      expect(store.lease(L2)?.keys.map((k) => Buffer.from(k).toString())).toEqual(['lock/x']);
      // The restored store goes on from etcd's revision.
      expect(store.transaction(() => store.put({ key: utf8('after'), value: utf8('x') })).header.revision).toBe(17);
    } finally {
      store.close();
    }
  });

  it('refuses a trailer that does not match, and a file that is neither store, whole', async () => {
    const bad = path.join(tmp, 'bad-trailer.db');
    const bytes = Buffer.from(fs.readFileSync(FIXTURE));
    bytes[bytes.length - 1]! ^= 0xff;
    fs.writeFileSync(bad, bytes);
    await expect(restoreFixture(bad, path.join(tmp, 'bad-trailer'))).rejects.toThrow('expected sha256 hash mismatch');
    expect(fs.existsSync(path.join(tmp, 'bad-trailer'))).toBe(false);

    // A bbolt file whose only meta pages are damaged: not read, and no data directory is left.
    const damaged = Buffer.from(fixtureDb());
    damaged.fill(0x55, 16 + 20, 16 + 40);
    damaged.fill(0x55, 4096 + 16 + 20, 4096 + 16 + 40);
    const file = path.join(tmp, 'damaged.db');
    fs.writeFileSync(file, damaged);
    const err = await restoreFixture(file, path.join(tmp, 'damaged'), true).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SnapshotFileError);
    expect((err as Error).message).toMatch(/^.*damaged etcd snapshot: the meta page at offset 0 fails its checksum$/);
    expect(fs.existsSync(path.join(tmp, 'damaged'))).toBe(false);
  });

  it('refuses to restore a snapshot of an etcd with auth enabled (its access control would be lost), restores one with auth disabled', async () => {
    const withAuth = async (flag: number): Promise<string> => {
      const file = path.join(tmp, `auth-${flag}.db`);
      const writer = await BoltWriter.create(file);
      await writer.bucket('auth', [{ key: Buffer.from('authEnabled'), value: Buffer.from([flag]) }]);
      await writer.bucket('key', []);
      await writer.bucket('meta', []);
      await writer.finish();
      const db = fs.readFileSync(file);
      fs.writeFileSync(file, Buffer.concat([db, createHash('sha256').update(db).digest()]));
      return file;
    };
    const enabled = await withAuth(1);
    await expect(restoreFixture(enabled, path.join(tmp, 'auth-on'))).rejects.toThrow('etcd had authentication enabled');
    expect(fs.existsSync(path.join(tmp, 'auth-on'))).toBe(false);
    await restoreFixture(await withAuth(0), path.join(tmp, 'auth-off'));
    expect(fs.existsSync(path.join(memberDir(path.join(tmp, 'auth-off')), 'kv.db'))).toBe(true);
  });

  it('writes a store as etcd 3.4 would hold it: a delete at exactly the compact revision is left out, the HashKV kept', async () => {
    const store = MvccStore.open(':memory:');
    const file = path.join(tmp, 'export.db');
    try {
      store.transaction(() => {
        store.put({ key: utf8('k'), value: utf8('v1') });
        store.deleteRange({ key: utf8('k') });
        store.put({ key: utf8('other'), value: utf8('x') });
        store.deleteRange({ key: utf8('other') });
        store.compact({ revision: 3 });
      });
      await writeEtcdBackend(file, store.exportHistory(), 0);
      const history = etcdBackendHistory(new BoltFile(fs.readFileSync(file)));
      const rows = [...history.revisions];
      expect(rows.map((r) => `${r.main}${r.tombstone ? 't' : ''}`)).toEqual(['4', '5t']);
      const copy = MvccStore.open(':memory:');
      try {
        copy.importHistory({ ...history, revisions: rows });
        expect(copy.hashKV()).toEqual(store.hashKV());
      } finally {
        copy.close();
      }
    } finally {
      store.close();
    }
  });

  it('reads either meta page when the other is damaged (etcd writes both), and neither when both are', () => {
    const db = fixtureDb();
    const whole = etcdBackendStatus(new BoltFile(db));
    for (const metaPage of [0, 4096]) {
      const oneDamaged = Buffer.from(db);
      oneDamaged[metaPage + 16 + 48]! ^= 0x01;
      expect(etcdBackendStatus(new BoltFile(oneDamaged))).toEqual(whole);
    }
    const both = Buffer.from(db);
    both[16 + 48]! ^= 0x01;
    both[4096 + 16 + 48]! ^= 0x01;
    expect(() => new BoltFile(both)).toThrow(BoltFormatError);
    expect(isBoltFile(db)).toBe(true);
    expect(isBoltFile(Buffer.from('SQLite format 3\0'))).toBe(false);
  });

  it('a damaged etcd file is a BoltFormatError or an import refusal, never another error (fixed and fresh seeds)', () => {
    const db = fixtureDb();
    const seed = freshSeed();
    const damage = fc.record({
      flips: fc.array(fc.record({ at: fc.nat({ max: db.length - 1 }), bits: fc.integer({ min: 1, max: 255 }) }), { minLength: 1, maxLength: 8 }),
      truncateTo: fc.option(fc.nat({ max: db.length }), { nil: undefined }),
    });
    const outcomes = { read: 0, refused: 0 };
    const property = fc.property(damage, ({ flips, truncateTo }) => {
      const bytes = Buffer.from(db);
      for (const f of flips) bytes[f.at]! ^= f.bits;
      const file = truncateTo === undefined ? bytes : bytes.subarray(0, truncateTo);
      const store = MvccStore.open(':memory:');
      try {
        const bolt = new BoltFile(file);
        etcdBackendStatus(bolt);
        store.importHistory(etcdBackendHistory(bolt));
        // Whatever was read must hold together: the store's own checks pass on every revision.
        store.hashKV();
        outcomes.read++;
      } catch (err) {
        if (!(err instanceof BoltFormatError) && !(err instanceof InvalidRequestError)) throw err;
        outcomes.refused++;
      } finally {
        store.close();
      }
    });
    for (const runs of [{ seed: 20261207, numRuns: 400 }, { seed, numRuns: 400 }]) assertProperty(property, { ...runs, timeLimitMs: 60_000 });
    // Both ways out were taken: flips in unused space leave the file readable.
    expect(outcomes.read).toBeGreaterThan(0);
    expect(outcomes.refused).toBeGreaterThan(0);
  });
});

describe('the SQLite snapshot files pontoon-kv wrote before it wrote etcd\'s format', () => {
  it('still give their status and restore', async () => {
    const storeFile = path.join(tmp, 'old-store.db');
    const store = MvccStore.open(storeFile);
    store.transaction(() => {
      store.put({ key: utf8('old/a'), value: utf8('1') });
      store.put({ key: utf8('old/a'), value: utf8('2') });
      store.put({ key: utf8('old/b'), value: utf8('3') });
    });
    const hash = store.hashKV().hash;
    store.close();
    const db = fs.readFileSync(storeFile);
    const file = path.join(tmp, 'old-snapshot.db');
    fs.writeFileSync(file, Buffer.concat([db, createHash('sha256').update(db).digest()]));
    expect(db.length % 512).toBe(0);
    expect(await snapshotStatus(file)).toEqual({ hash, revision: 4, totalKey: 3, totalSize: db.length });
    const dataDir = path.join(tmp, 'old-restored');
    await restoreFixture(file, dataDir);
    const restored = MvccStore.open(path.join(memberDir(dataDir), 'kv.db'));
    try {
      expect(restored.revision).toBe(4);
      expect(restored.hashKV().hash).toBe(hash);
      expect(restored.range({ key: utf8('old/a') }).kvs[0]).toMatchObject({ version: 2, value: utf8('2') });
    } finally {
      restored.close();
    }
  });
});
