/**
 * MvccStore.sync(): what RaftNode calls before compacting its log behind a store opened with
 * synchronous=NORMAL. It makes the commits so far durable and changes nothing a reader can see.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MvccStore, utf8 } from '../src/index.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'kv-sync-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('MvccStore.sync', () => {
  it('commits at FULL once, then goes back to NORMAL, changing nothing visible', () => {
    const file = join(dir, 'kv.db');
    const store = MvccStore.open(file, { synchronous: 'normal' });
    store.put({ key: utf8('a'), value: utf8('1') });
    store.deleteRange({ key: utf8('a') });
    store.put({ key: utf8('b'), value: utf8('2') });
    const before = { revision: store.revision, hash: store.hashKV().hash, kvs: store.range({ key: utf8('a'), rangeEnd: utf8('z') }) };
    const walFrames = (): number => (store.database.pragma('wal_checkpoint(PASSIVE)') as { log: number }[])[0]!.log;
    store.database.pragma('wal_autocheckpoint = 0');
    store.sync();
    expect(store.database.pragma('synchronous', { simple: true })).toBe(1);
    expect({ revision: store.revision, hash: store.hashKV().hash, kvs: store.range({ key: utf8('a'), rangeEnd: utf8('z') }) }).toEqual(before);
    expect(walFrames()).toBeGreaterThan(0);
    store.close();
    const reopened = MvccStore.open(file);
    expect(reopened.revision).toBe(before.revision);
    expect(reopened.hashKV().hash).toBe(before.hash);
    reopened.close();
  });

  it('has nothing to do at FULL, where every commit is durable', () => {
    const store = MvccStore.open(join(dir, 'full.db'));
    store.put({ key: utf8('a'), value: utf8('1') });
    const applied = store.applied;
    store.sync();
    expect(store.database.pragma('synchronous', { simple: true })).toBe(2);
    expect(store.applied).toEqual(applied);
    store.close();
  });
});
