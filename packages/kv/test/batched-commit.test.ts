/**
 * MvccStore's batched commits (batchIntervalMs, etcd's backend batch interval): transactions run
 * as savepoints of one SQLite transaction, reads see them at once, the file only once the batch
 * commits (timer, limit, commit(), sync(), close(), a snapshot copy). What a crash leaves is the
 * file as of the last commit, which a copy of the file and its WAL shows without killing anything.
 */
import Database from 'better-sqlite3';
import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MvccStore, utf8 } from '../src/index.js';

let dir: string;
const opened: MvccStore[] = [];
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'kv-batch-'));
});
afterEach(() => {
  for (const s of opened.splice(0)) s.close();
  rmSync(dir, { recursive: true, force: true });
});

function open(name: string, options: { batchIntervalMs?: number; batchLimit?: number } = {}): MvccStore {
  const store = MvccStore.open(join(dir, name), { synchronous: 'normal', ...options });
  opened.push(store);
  return store;
}

/** The store's revision as another connection reads it from the file: what is committed. */
function committedRevision(file: string): number {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return (db.prepare('SELECT count(*) AS n FROM kv').get() as { n: number }).n + 1;
  } finally {
    db.close();
  }
}

/** What a crash now would leave: the file and its WAL as they are, opened as a store. */
function afterCrash(file: string, name: string): MvccStore {
  const copy = join(dir, name);
  copyFileSync(file, copy);
  if (existsSync(`${file}-wal`)) copyFileSync(`${file}-wal`, `${copy}-wal`);
  const store = MvccStore.open(copy, { verify: 'full' });
  opened.push(store);
  return store;
}

const put = (store: MvccStore, key: string, value = 'v'): void => {
  store.put({ key: utf8(key), value: utf8(value) });
};

describe('batched commits', () => {
  it('shows writes to reads at once and to the file only at commit(); a crash before it loses the batch whole', () => {
    const store = open('kv.db', { batchIntervalMs: 60_000 });
    const file = join(dir, 'kv.db');
    put(store, 'a');
    store.commit();
    put(store, 'b');
    put(store, 'c');
    store.setApplied(7, 2);
    expect(store.revision).toBe(4);
    expect(store.range({ key: utf8('a'), rangeEnd: utf8('z') }).kvs.map((kv) => Buffer.from(kv.key).toString())).toEqual(['a', 'b', 'c']);
    expect(committedRevision(file)).toBe(2);

    const crashed = afterCrash(file, 'crash.db');
    expect(crashed.revision).toBe(2);
    expect(crashed.applied).toEqual({ index: 0, term: 0 });
    expect(crashed.range({ key: utf8('b') }).kvs).toEqual([]);

    store.commit();
    expect(committedRevision(file)).toBe(4);
    const later = afterCrash(file, 'crash2.db');
    expect(later.revision).toBe(4);
    expect(later.applied).toEqual({ index: 7, term: 2 });
    expect(later.hashKV().hash).toBe(store.hashKV().hash);
  });

  it('undoes a failed transaction alone: the batch keeps the ones before it', () => {
    const store = open('kv.db', { batchIntervalMs: 60_000 });
    put(store, 'a');
    expect(() =>
      store.transaction(() => {
        put(store, 'b');
        throw new Error('apply failed');
      }),
    ).toThrow('apply failed');
    put(store, 'c');
    store.commit();
    const reopened = afterCrash(join(dir, 'kv.db'), 'copy.db');
    expect(reopened.revision).toBe(3);
    expect(reopened.range({ key: utf8('a'), rangeEnd: utf8('z') }).kvs.map((kv) => Buffer.from(kv.key).toString())).toEqual(['a', 'c']);
  });

  it('commits after batchLimit transactions, and on its timer', async () => {
    const limited = open('limit.db', { batchIntervalMs: 60_000, batchLimit: 3 });
    put(limited, 'a');
    put(limited, 'b');
    expect(committedRevision(join(dir, 'limit.db'))).toBe(1);
    put(limited, 'c');
    expect(committedRevision(join(dir, 'limit.db'))).toBe(4);

    const timed = open('timed.db', { batchIntervalMs: 20 });
    put(timed, 'a');
    expect(committedRevision(join(dir, 'timed.db'))).toBe(1);
    // Bounded wait for the timer; no timing is asserted beyond "it happens".
    const deadline = Date.now() + 5_000;
    while (committedRevision(join(dir, 'timed.db')) !== 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(committedRevision(join(dir, 'timed.db'))).toBe(2);
  });

  it('commits the batch at sync() and close(), and a copy of the file needs it committed', async () => {
    const store = open('kv.db', { batchIntervalMs: 60_000 });
    const file = join(dir, 'kv.db');
    put(store, 'a');
    store.sync();
    expect(committedRevision(file)).toBe(2);
    expect(store.database.pragma('synchronous', { simple: true })).toBe(1);

    put(store, 'b');
    // Why the store commits before a copy: SQLite refuses one inside the open batch.
    expect(() => store.database.prepare('VACUUM INTO ?').run(join(dir, 'refused.db'))).toThrow('cannot VACUUM from within a transaction');
    store.commit();
    store.database.prepare('VACUUM INTO ?').run(join(dir, 'copy.db'));
    expect(committedRevision(join(dir, 'copy.db'))).toBe(3);

    put(store, 'c');
    store.close();
    opened.splice(opened.indexOf(store), 1);
    const reopened = open('kv.db');
    expect(reopened.revision).toBe(4);
  });

  it('commits every transaction on return without batchIntervalMs', () => {
    const store = open('kv.db');
    put(store, 'a');
    expect(committedRevision(join(dir, 'kv.db'))).toBe(2);
    expect(store.database.inTransaction).toBe(false);
  });
});
