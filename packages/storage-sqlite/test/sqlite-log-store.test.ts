/** What the SQLite store does beyond the conformance suite: integrity, ownership, its own rules. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, type Entry, EntryType, AssertionError } from '@pontoon/raft/core';
import { CorruptionError, SchemaVersionError, SqliteLogStore, StoreClosedError, StoreLockedError } from '../src/index.js';
import { spawnTs, waitForLine } from './support/child-process.js';
import { TempDirs } from './support/temp-dir.js';

const temp = new TempDirs();
afterAll(() => temp.cleanup());

const enc = new TextEncoder();
const DB = 'raft-log.sqlite';

function entry(index: number, term: number, text: string): Entry {
  return { index, term, type: EntryType.EntryNormal, data: enc.encode(text) };
}

/** A closed store holding entries 1..10, entry i's payload `payload-<i>-` repeated to 64 bytes. */
async function closedStore(): Promise<string> {
  const dir = temp.make();
  const s = await SqliteLogStore.open(dir);
  const entries = Array.from({ length: 10 }, (_, k) => entry(k + 1, 1, `payload-${k + 1}-`.repeat(8).slice(0, 64)));
  await s.append({ entries, hardState: { term: 1, vote: 1, commit: 10 } });
  await s.close();
  // Closing the last connection checkpoints the WAL into the main file and removes it.
  expect(fs.existsSync(path.join(dir, `${DB}-wal`))).toBe(false);
  return dir;
}

describe('corruption', () => {
  it('a flipped byte inside an entry raises CorruptionError naming the entry', async () => {
    const dir = await closedStore();
    const file = path.join(dir, DB);
    const bytes = fs.readFileSync(file);
    const at = bytes.indexOf(Buffer.from('payload-7-payload-7-'));
    expect(at).toBeGreaterThan(0);
    bytes[at + 3] ^= 0x01;
    fs.writeFileSync(file, bytes);
    const err = await SqliteLogStore.open(dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CorruptionError);
    expect((err as CorruptionError).what).toBe('entries[7]');
    expect((err as CorruptionError).index).toBe(7);
    expect((err as CorruptionError).code).toBe('ERR_CORRUPTION');
  });

  it('a changed term is caught too: the checksum covers index, term and type', async () => {
    const dir = await closedStore();
    const db = new Database(path.join(dir, DB));
    db.prepare('UPDATE entries SET term = 2 WHERE idx = 4').run();
    db.close();
    await expect(SqliteLogStore.open(dir)).rejects.toMatchObject({ what: 'entries[4]' });
  });

  it('a missing entry in the middle of the log is corruption, not a shorter log', async () => {
    const dir = await closedStore();
    const db = new Database(path.join(dir, DB));
    db.prepare('DELETE FROM entries WHERE idx = 5').run();
    db.close();
    await expect(SqliteLogStore.open(dir)).rejects.toMatchObject({ what: 'entries[5]' });
  });

  it('a corrupt hard state is named', async () => {
    const dir = await closedStore();
    const db = new Database(path.join(dir, DB));
    db.prepare('UPDATE hard_state SET vote = 3').run();
    db.close();
    await expect(SqliteLogStore.open(dir)).rejects.toMatchObject({ what: 'hard_state' });
  });

  it('a truncated database file fails to open with a clear CorruptionError', async () => {
    for (const keep of [0.5, 0]) {
      const dir = await closedStore();
      const file = path.join(dir, DB);
      fs.truncateSync(file, Math.floor(fs.statSync(file).size * keep));
      const err = await SqliteLogStore.open(dir).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(CorruptionError);
      expect((err as CorruptionError).what).toBe('database file');
      expect((err as Error).message).toMatch(/truncated/);
    }
  });

  it('a database of another schema version is refused with SchemaVersionError', async () => {
    const dir = await closedStore();
    const db = new Database(path.join(dir, DB));
    db.pragma('user_version = 99');
    db.close();
    const err = await SqliteLogStore.open(dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SchemaVersionError);
    expect(err).toMatchObject({ found: 99, expected: 1 });
  });

  it('a foreign SQLite file is refused', async () => {
    const dir = temp.make();
    const db = new Database(path.join(dir, DB));
    db.exec('CREATE TABLE t (x)');
    db.close();
    await expect(SqliteLogStore.open(dir)).rejects.toBeInstanceOf(SchemaVersionError);
  });
});

describe('exclusive ownership', () => {
  it('a second process opening the store gets StoreLockedError; after close it can open', async () => {
    const dir = temp.make();
    const s = await SqliteLogStore.open(dir);
    const run = async (): Promise<string> => waitForLine(spawnTs(new URL('./support/open-child.ts', import.meta.url), [dir]), () => true);
    expect(await run()).toBe('ERR_STORE_LOCKED');
    await s.close();
    expect(await run()).toBe('opened');
  });

  it('a second store in the same process gets StoreLockedError', async () => {
    const dir = temp.make();
    const s = await SqliteLogStore.open(dir);
    await expect(SqliteLogStore.open(dir)).rejects.toBeInstanceOf(StoreLockedError);
    await s.close();
    const again = await SqliteLogStore.open(dir);
    await again.close();
  });
});

describe('rules of the log', () => {
  it('refuses to compact beyond the snapshot: those entries could not be rebuilt', async () => {
    const dir = temp.make();
    const s = await SqliteLogStore.open(dir);
    await s.append({ entries: [entry(1, 1, 'a'), entry(2, 1, 'b'), entry(3, 1, 'c')] });
    await s.createSnapshot(2, { voters: [1], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false }, enc.encode('sm'));
    await expect(s.compact(3)).rejects.toBeInstanceOf(AssertionError);
    await s.compact(2);
    expect(s.firstIndex()).toBe(3);
    await s.close();
  });

  it('refuses an append that would replace entries covered by the snapshot', async () => {
    const dir = temp.make();
    const s = await SqliteLogStore.open(dir);
    await s.append({ entries: [entry(1, 1, 'a'), entry(2, 1, 'b'), entry(3, 1, 'c')] });
    await s.createSnapshot(2, { voters: [1], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false }, enc.encode('sm'));
    await expect(s.append({ entries: [entry(2, 2, 'x')] })).rejects.toBeInstanceOf(AssertionError);
    await s.append({ entries: [entry(3, 2, 'y')] });
    expect(s.term(3)).toBe(2);
    await s.close();
  });

  it('close is idempotent, waits for writes in flight, and refuses writes after', async () => {
    const dir = temp.make();
    const s = await SqliteLogStore.open(dir);
    const write = s.append({ entries: [entry(1, 1, 'a')] });
    await Promise.all([s.close(), s.close()]);
    await write;
    await expect(s.append({ entries: [entry(2, 1, 'b')] })).rejects.toBeInstanceOf(StoreClosedError);
    const again = await SqliteLogStore.open(dir);
    expect(again.lastIndex()).toBe(1);
    await again.close();
  });
});

describe('the sync hint (LogWrite.sync)', () => {
  const hs = (term: number, vote: number, commit: number): { term: number; vote: number; commit: number } => ({ term, vote, commit });

  it('a commit-only write with sync: false costs no transaction of its own: it rides with the next write', async () => {
    const dir = temp.make();
    const s = await SqliteLogStore.open(dir);
    await s.append({ entries: [entry(1, 1, 'a'), entry(2, 1, 'b')], hardState: hs(1, 1, 0) });
    const before = s.stats();
    await s.append({ entries: [], hardState: hs(1, 1, 1), sync: false });
    await s.append({ entries: [], hardState: hs(1, 1, 2), sync: false });
    expect(s.stats()).toEqual(before);
    // The next write carries the latest deferred hard state in its own transaction.
    await s.append({ entries: [entry(3, 1, 'c')] });
    expect(s.stats()).toEqual({ commits: before.commits + 1, syncedCommits: before.syncedCommits + 1 });
    expect(s.initialState().hardState).toEqual(hs(1, 1, 2));
    await s.close();
    const again = await SqliteLogStore.open(dir);
    expect(again.initialState().hardState).toEqual(hs(1, 1, 2));
    expect(again.lastIndex()).toBe(3);
    await again.close();
  });

  it('a deferred hard state is written before a snapshot, a compaction, or close', async () => {
    const cs = { voters: [1], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false };
    const dir = temp.make();
    const s = await SqliteLogStore.open(dir);
    await s.append({ entries: [entry(1, 1, 'a'), entry(2, 1, 'b'), entry(3, 1, 'c')], hardState: hs(1, 1, 0) });
    await s.append({ entries: [], hardState: hs(1, 1, 2), sync: false });
    await s.createSnapshot(2, cs, enc.encode('sm'));
    expect(s.initialState().hardState).toEqual(hs(1, 1, 2));
    await s.append({ entries: [], hardState: hs(1, 1, 3), sync: false });
    await s.compact(1);
    expect(s.initialState().hardState).toEqual(hs(1, 1, 3));
    await s.append({ entries: [entry(4, 1, 'd')], hardState: hs(1, 1, 3) });
    await s.append({ entries: [], hardState: hs(1, 1, 4), sync: false });
    await s.close();
    const again = await SqliteLogStore.open(dir);
    expect(again.initialState().hardState).toEqual(hs(1, 1, 4));
    expect(again.snapshot().metadata.index).toBe(2);
    expect(again.firstIndex()).toBe(2);
    await again.close();
  });

  it('settles a deferred write after the writes before it, in call order', async () => {
    const s = await SqliteLogStore.open(temp.make());
    const order: string[] = [];
    const first = s.append({ entries: [entry(1, 1, 'a')], hardState: hs(1, 1, 0) }).then(() => order.push('entries'));
    const second = s.append({ entries: [], hardState: hs(1, 1, 1), sync: false }).then(() => order.push('commit'));
    await Promise.all([first, second]);
    expect(order).toEqual(['entries', 'commit']);
    await s.close();
  });

  it('is checked, not trusted: entries, a snapshot, a new term or a new vote are synced whatever it says', async () => {
    const s = await SqliteLogStore.open(temp.make());
    await s.append({ entries: [entry(1, 1, 'a')], hardState: hs(1, 1, 0) });
    const cs = { voters: [1], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false };
    const writes = [
      { entries: [entry(2, 1, 'b')], hardState: hs(1, 1, 1), sync: false },
      { entries: [], hardState: hs(2, 0, 1), sync: false },
      { entries: [], hardState: hs(2, 3, 1), sync: false },
      { entries: [], snapshot: { data: enc.encode('sm'), metadata: { index: 5, term: 2, confState: cs } }, sync: false },
    ];
    for (const w of writes) {
      const before = s.stats();
      await s.append(w);
      expect(s.stats(), JSON.stringify(w.hardState)).toEqual({ commits: before.commits + 1, syncedCommits: before.syncedCommits + 1 });
    }
    expect(s.initialState().hardState).toEqual(hs(2, 3, 1));
    expect(s.lastIndex()).toBe(5);
    await s.close();
  });

  it('a group commit is synced when any write in it needs it', async () => {
    const s = await SqliteLogStore.open(temp.make());
    await s.append({ entries: [entry(1, 1, 'a')], hardState: hs(1, 1, 0) });
    for (let round = 0; round < 20; round++) {
      const before = s.stats();
      // Issued together: the writer takes them in one batch or in several, in order.
      const writes = [
        s.append({ entries: [], hardState: hs(1, 1, 1), sync: false }),
        s.append({ entries: [entry(round + 2, 1, `e${round}`)], hardState: hs(1, 1, 1) }),
        s.append({ entries: [], hardState: hs(1, 1, 1), sync: false }),
      ];
      await Promise.all(writes);
      const after = s.stats();
      const commits = after.commits - before.commits;
      const synced = after.syncedCommits - before.syncedCommits;
      // The entry's commit is synced; at most the ones without it are not.
      expect(synced).toBeGreaterThanOrEqual(1);
      expect(commits - synced).toBeLessThanOrEqual(2);
    }
    expect(s.lastIndex()).toBe(21);
    await s.close();
  });

  it('at synchronous: normal there is nothing to skip: no commit is synced', async () => {
    const s = await SqliteLogStore.open(temp.make(), { synchronous: 'normal' });
    await s.append({ entries: [entry(1, 1, 'a')], hardState: hs(1, 1, 0) });
    await s.append({ entries: [], hardState: hs(1, 1, 1), sync: false });
    await s.append({ entries: [entry(2, 1, 'b')] });
    expect(s.stats()).toEqual({ commits: 2, syncedCommits: 0 });
    await s.close();
  });
});

describe('the writer handoff', () => {
  it('an idle store does not keep the process alive, one with a write in flight does', async () => {
    const dir = temp.make();
    const child = spawnTs(new URL('./support/unawaited-write-child.ts', import.meta.url), [dir]);
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
    expect(code, stderr).toBe(0);
    expect(out).toBe('durable\n');
    // Exited without close(): the lock went with the process, and the write is there.
    const s = await SqliteLogStore.open(dir);
    expect(s.lastIndex()).toBe(1);
    await s.close();
  });

  it('thousands of writes issued at once all settle, in order, with their errors', async () => {
    const s = await SqliteLogStore.open(temp.make());
    const writes: Promise<unknown>[] = [];
    for (let i = 1; i <= 3000; i++) {
      writes.push(s.append({ entries: [entry(i, 1, `e${i}`)] }));
      // A refused write among them (a gap) fails alone and changes nothing.
      if (i % 1000 === 0) writes.push(s.append({ entries: [entry(i + 5, 1, 'gap')] }).then(() => 'accepted', (e: unknown) => e));
    }
    const results = await Promise.all(writes);
    expect(results.filter((r) => r instanceof AssertionError)).toHaveLength(3);
    expect(s.lastIndex()).toBe(3000);
    expect(s.stats().commits).toBeLessThan(3003);
    await s.close();
  });
});

describe('options', () => {
  it('refuses an unknown synchronous mode with a ConfigError naming the option', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pontoon-opt-'));
    try {
      const err = await SqliteLogStore.open(dir, { synchronous: 'bogus' as never }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).field).toBe('synchronous');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
