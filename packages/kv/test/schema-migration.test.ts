/**
 * Store files of an older layout: schema version 1 (each key's revisions in one `key_index` row)
 * is migrated on open to the per-change key index and answers exactly as before; a schema version
 * this code does not know is refused with a typed error and left untouched.
 */
import Database from 'better-sqlite3';
import { pack } from 'msgpackr';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KvSchemaVersionError, MvccStore, utf8 } from '../src/index.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'kv-schema-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const b = utf8;

/** A history with several generations, a lease, a compaction and a hot key. */
function writeHistory(store: MvccStore): void {
  const lease = store.leaseGrant({ ttl: 60 }).id;
  store.put({ key: b('a'), value: b('1') });
  store.put({ key: b('b'), value: b('1'), lease });
  store.deleteRange({ key: b('a') });
  store.put({ key: b('a'), value: b('2') });
  for (let i = 0; i < 20; i++) store.put({ key: b('hot'), value: b(String(i)) });
  store.txn({ compare: [], success: [{ put: { key: b('c'), value: b('x') } }, { deleteRange: { key: b('b') } }], failure: [] });
  store.compact({ revision: 8 });
  store.put({ key: b('a'), value: b('3') });
}

/** Everything a reader can see: ranges at every readable revision, and HashKV at each. */
function observe(store: MvccStore): unknown[] {
  const out: unknown[] = [];
  for (let rev = Math.max(store.compactRevision, 1); rev <= store.revision; rev++) {
    out.push(store.range({ key: Uint8Array.of(0), rangeEnd: Uint8Array.of(0), revision: rev }));
    if (rev > store.compactRevision) out.push(store.hashKV(rev).hash);
  }
  out.push(store.leases().map((l) => store.lease(l.id)));
  return out;
}

/**
 * Rewrites a version 2 file into the version 1 layout, as that version wrote it: no index over
 * `kv`, and a `key_index` row per key holding its generations (msgpack of a flat number array).
 */
function downgradeToVersion1(file: string): void {
  const db = new Database(file);
  const rows = db.prepare('SELECT key, main, sub, tombstone FROM kv ORDER BY key, main, sub').all() as { key: Buffer; main: number; sub: number; tombstone: number }[];
  db.exec('DROP INDEX kv_key; ALTER TABLE kv DROP COLUMN key_crc;');
  db.exec('CREATE TABLE key_index (key BLOB PRIMARY KEY, generations BLOB NOT NULL, crc INTEGER NOT NULL) WITHOUT ROWID');
  const insert = db.prepare('INSERT INTO key_index (key, generations, crc) VALUES (?, ?, ?)');
  const byKey = new Map<string, typeof rows>();
  for (const r of rows) byKey.set(r.key.toString('hex'), [...(byKey.get(r.key.toString('hex')) ?? []), r]);
  for (const [hex, changes] of byKey) {
    const last = changes[changes.length - 1]!;
    const flat: number[] = [last.main, last.sub];
    let gen: typeof rows = [];
    const flush = (): void => {
      flat.push(gen.length, gen[0]?.main ?? 0, gen[0]?.sub ?? 0, gen.length);
      for (const c of gen) flat.push(c.main, c.sub);
      gen = [];
    };
    for (const c of changes) {
      gen.push(c);
      if (c.tombstone !== 0) flush();
    }
    flush();
    const key = Buffer.from(hex, 'hex');
    const generations = pack(flat);
    insert.run(key, generations, crc32(generations, crc32(key)));
  }
  db.pragma('user_version = 1');
  db.close();
}

describe('schema versions', () => {
  it('migrates a version 1 store on open: same answers, and it keeps working', () => {
    const file = join(dir, 'kv.db');
    const store = MvccStore.open(file);
    writeHistory(store);
    const before = observe(store);
    store.close();

    downgradeToVersion1(file);
    const v1 = new Database(file, { readonly: true });
    expect(v1.pragma('user_version', { simple: true })).toBe(1);
    expect(v1.prepare("SELECT name FROM sqlite_master WHERE name IN ('key_index', 'kv_key') ORDER BY name").all()).toEqual([{ name: 'key_index' }]);
    v1.close();

    const migrated = MvccStore.open(file);
    expect(migrated.database.pragma('user_version', { simple: true })).toBe(2);
    expect(migrated.database.prepare("SELECT name FROM sqlite_master WHERE name IN ('key_index', 'kv_key') ORDER BY name").all()).toEqual([{ name: 'kv_key' }]);
    expect(observe(migrated)).toEqual(before);
    migrated.put({ key: b('hot'), value: b('again') });
    expect(migrated.range({ key: b('hot') }).kvs[0]).toMatchObject({ version: 21, createRevision: 6 });
    migrated.compact({ revision: migrated.revision });
    expect(migrated.range({ key: Uint8Array.of(0), rangeEnd: Uint8Array.of(0) }).kvs.map((kv) => Buffer.from(kv.key).toString())).toEqual(['a', 'c', 'hot']);
    migrated.close();
  });

  it('refuses a store of a schema version it does not know, leaving the file as it was', () => {
    const file = join(dir, 'kv.db');
    const store = MvccStore.open(file);
    writeHistory(store);
    store.close();
    const db = new Database(file);
    db.pragma('user_version = 3');
    db.close();
    const bytes = readFileSync(file);
    let error: unknown;
    try {
      MvccStore.open(file).close();
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(KvSchemaVersionError);
    expect(error).toMatchObject({ code: 'ERR_KV_SCHEMA_VERSION', file, found: 3, supported: 2 });
    expect(readFileSync(file).equals(bytes)).toBe(true);
  });
});
