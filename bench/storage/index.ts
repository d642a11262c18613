/**
 * bench/storage: durable appends of @pontoon/storage-sqlite at synchronous=FULL, side by side
 * with the machine's floor measured in the same run:
 * - a bare fdatasync of a small append to a file (what any durable write costs here),
 * - a one-row SQLite commit (WAL, synchronous=FULL) on the main thread,
 * - raw 1000-row SQLite transactions (the ceiling for batched inserts).
 * For each batch size (1, 10, 100, 1000 entries of 128 bytes) one append at a time is awaited;
 * the event loop's delay (monitorEventLoopDelay) is recorded while the store writes, and the
 * writer's commits and fsyncs are counted. Then a commit-only write (`sync: false`, what a Ready
 * that only moves the commit index asks), and the single-entry append against the one-row commit
 * interleaved call by call, so that both see the same disk (on a shared machine, blocks measured
 * one after the other can see a disk twice as slow). A third call joins that interleaving: an
 * empty request to a worker thread and its answer (thread-round-trip.ts), the least that moving
 * the fsync off the main thread adds to it. Then the database size under a steady load:
 * 1,000,000 entries with a snapshot and compaction every 10,000.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import Database from 'better-sqlite3';
import { type Entry, EntryType } from '@pontoon/raft';
import { SqliteLogStore } from '@pontoon/storage-sqlite';
import { newHistogram, summarize, type LatencySummary } from '../lib/histogram.js';
import { ThreadRoundTrip } from './thread-round-trip.js';
import { formatCount, formatNs, formatTable } from '../lib/report.js';
import type { Suite, SuiteOptions, SuiteReport } from '../lib/suite.js';

const ENTRY_BYTES = 128;
/**
 * monitorEventLoopDelay's sampling interval, in ms. What it records is the time between two
 * firings of a timer of this interval, so an idle loop reads as the interval itself (1.08 ms p50
 * here): the delay is what exceeds it.
 */
const LOOP_RESOLUTION_MS = 1;
const payload = new Uint8Array(ENTRY_BYTES).fill(0x61);

interface Row {
  name: string;
  entriesPerWrite: number;
  writes: number;
  entriesPerSec: number;
  latency: LatencySummary;
  eventLoopP99Ns?: number;
  /** Of the store's writes: how many the writer committed per transaction, and per fsync. */
  writesPerCommit?: number;
  writesPerFsync?: number;
}

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'pontoon-bench-storage-'));
}

/** Runs `op` back to back for `ms`, recording each call's latency. */
async function timed(name: string, entriesPerWrite: number, ms: number, op: () => unknown): Promise<Row> {
  const h = newHistogram();
  let writes = 0;
  const start = process.hrtime.bigint();
  const end = start + BigInt(ms) * 1_000_000n;
  let now = start;
  while (now < end) {
    const t0 = process.hrtime.bigint();
    await op();
    now = process.hrtime.bigint();
    h.recordValue(Number(now - t0));
    writes++;
  }
  const secs = Number(now - start) / 1e9;
  return { name, entriesPerWrite, writes, entriesPerSec: (writes * entriesPerWrite) / secs, latency: summarize(h) };
}

async function floorFdatasync(ms: number): Promise<Row> {
  const dir = tempDir();
  const fd = fs.openSync(path.join(dir, 'f'), 'a');
  const buf = Buffer.alloc(ENTRY_BYTES, 1);
  try {
    return await timed('floor: write + fdatasync', 1, ms, () => {
      fs.writeSync(fd, buf);
      fs.fdatasyncSync(fd);
    });
  } finally {
    fs.closeSync(fd);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function rawDb(dir: string): Database.Database {
  const db = new Database(path.join(dir, 'raw.sqlite'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec('CREATE TABLE entries (idx INTEGER PRIMARY KEY, term INTEGER NOT NULL, type INTEGER NOT NULL, data BLOB NOT NULL, crc INTEGER NOT NULL)');
  return db;
}

async function floorSqlite(ms: number, rows: number): Promise<Row> {
  const dir = tempDir();
  const db = rawDb(dir);
  const ins = db.prepare('INSERT INTO entries VALUES (?, ?, 0, ?, 0)');
  const data = Buffer.from(payload);
  let idx = 1;
  const tx = db.transaction(() => {
    for (let k = 0; k < rows; k++) ins.run(idx++, 1, data);
  });
  try {
    return await timed(rows === 1 ? 'floor: one-row SQLite commit' : `floor: raw ${rows}-row SQLite tx`, rows, ms, () => tx());
  } finally {
    db.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function batch(from: number, n: number): Entry[] {
  const out: Entry[] = new Array(n);
  for (let k = 0; k < n; k++) out[k] = { index: from + k, term: 1, type: EntryType.EntryNormal, data: payload };
  return out;
}

/**
 * One append at a time of `n` entries with the hard state, or (n = 0) of the hard state alone
 * with only the commit index moved, marked `sync: false`.
 */
async function storeAppends(ms: number, n: number): Promise<Row> {
  const dir = tempDir();
  const store = await SqliteLogStore.open(dir);
  let next = 1;
  let commit = 0;
  const loop = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
  try {
    // Warm up the path (JIT, the worker's statements) before measuring.
    for (let i = 0; i < 50; i++) {
      await store.append({ entries: batch(next, Math.max(n, 1)), hardState: { term: 1, vote: 1, commit } });
      next += Math.max(n, 1);
    }
    const before = store.stats();
    loop.enable();
    const name = n === 0 ? 'store: commit-only, sync: false' : `store: append ${n}`;
    const row = await timed(name, n, ms, async () => {
      if (n === 0) {
        await store.append({ entries: [], hardState: { term: 1, vote: 1, commit: ++commit }, sync: false });
        return;
      }
      await store.append({ entries: batch(next, n), hardState: { term: 1, vote: 1, commit: next - 1 } });
      next += n;
    });
    loop.disable();
    const after = store.stats();
    row.eventLoopP99Ns = Math.max(0, loop.percentile(99) - LOOP_RESOLUTION_MS * 1e6);
    row.writesPerCommit = row.writes / (after.commits - before.commits);
    row.writesPerFsync = after.syncedCommits === before.syncedCommits ? Infinity : row.writes / (after.syncedCommits - before.syncedCommits);
    return row;
  } finally {
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

interface Interleaved {
  floor: Row;
  store: Row;
  thread: Row;
}

/**
 * A one-row SQLite commit on the main thread, a single-entry store append and an empty round trip
 * to a worker thread, in turn, call by call: the ratio of their p50s with all of them under the
 * same disk conditions and the same load.
 */
async function interleaved(ms: number): Promise<Interleaved> {
  const dir = tempDir();
  const db = rawDb(dir);
  const ins = db.prepare('INSERT INTO entries VALUES (?, ?, 0, ?, 0)');
  const data = Buffer.from(payload);
  let idx = 1;
  const tx = db.transaction(() => ins.run(idx++, 1, data));
  const store = await SqliteLogStore.open(path.join(dir, 'store'));
  const thread = new ThreadRoundTrip();
  let next = 1;
  const append = (): Promise<void> => {
    const i = next++;
    return store.append({ entries: batch(i, 1), hardState: { term: 1, vote: 1, commit: i - 1 } });
  };
  try {
    for (let i = 0; i < 50; i++) {
      tx();
      await append();
      await thread.roundTrip();
    }
    const hf = newHistogram();
    const hs = newHistogram();
    const ht = newHistogram();
    const hists = [hf, hs, ht];
    const orders = [
      [0, 1, 2],
      [1, 2, 0],
      [2, 0, 1],
    ] as const;
    let writes = 0;
    const start = process.hrtime.bigint();
    const end = start + BigInt(ms) * 1_000_000n;
    let now = start;
    while (now < end) {
      // Rotate which goes first, so that none always follows the same one.
      for (const which of orders[writes % 3]!) {
        const t0 = process.hrtime.bigint();
        if (which === 0) tx();
        else if (which === 1) await append();
        else await thread.roundTrip();
        now = process.hrtime.bigint();
        hists[which]!.recordValue(Number(now - t0));
      }
      writes++;
    }
    const secs = Number(now - start) / 1e9;
    const row = (name: string, h: typeof hf): Row => ({ name, entriesPerWrite: 1, writes, entriesPerSec: writes / secs, latency: summarize(h) });
    return {
      floor: row('interleaved: one-row SQLite commit', hf),
      store: row('interleaved: store append 1', hs),
      thread: row('interleaved: worker thread round trip', ht),
    };
  } finally {
    db.close();
    await store.close();
    await thread.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

interface SizeResult {
  entries: number;
  snapshotEvery: number;
  maxBytes: number;
  finalBytes: number;
  bytesAfter: number[];
}

/** 1,000,000 entries, a snapshot + compaction every 10,000: the files must stay bounded. */
async function boundedSize(total: number, every: number, log: (l: string) => void): Promise<SizeResult> {
  const dir = tempDir();
  const store = await SqliteLogStore.open(dir);
  const size = (): number =>
    fs.readdirSync(dir).reduce((sum, f) => sum + fs.statSync(path.join(dir, f)).size, 0);
  const bytesAfter: number[] = [];
  let maxBytes = 0;
  let next = 1;
  const cs = { voters: [1], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false };
  try {
    while (next <= total) {
      const pending: Promise<void>[] = [];
      for (let k = 0; k < every / 1000; k++) {
        pending.push(store.append({ entries: batch(next, 1000) }));
        next += 1000;
      }
      await Promise.all(pending);
      await store.createSnapshot(next - 1, cs, payload);
      // Keep a tail of 1000 entries for slow followers, as a driver would.
      await store.compact(next - 1 - 1000);
      const b = size();
      maxBytes = Math.max(maxBytes, b);
      if ((next - 1) % (total / 10) === 0) {
        bytesAfter.push(b);
        log(`  size after ${formatCount(next - 1)} entries: ${(b / 1e6).toFixed(2)} MB`);
      }
    }
    return { entries: total, snapshotEvery: every, maxBytes, finalBytes: size(), bytesAfter };
  } finally {
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export const storageSuite: Suite = {
  name: 'storage',
  description: 'durable appends on SQLite (synchronous=FULL) vs fdatasync and raw SQLite floors',
  defaults: { runs: 1, durationMs: 2000 },
  async run(options: SuiteOptions, log: (line: string) => void): Promise<SuiteReport> {
    const ms = options.durationMs;
    const rows: Row[] = [];
    const want = (name: string): boolean => options.filter === undefined || name.includes(options.filter);
    const measure = async (name: string, f: () => Promise<Row>): Promise<void> => {
      if (!want(name)) return;
      const r = await f();
      log(`  ${r.name}: ${formatCount(r.entriesPerSec)} entries/s, p50 ${formatNs(r.latency.p50Ns)}`);
      rows.push(r);
    };
    await measure('floor: write + fdatasync', () => floorFdatasync(ms));
    await measure('floor: one-row SQLite commit', () => floorSqlite(ms, 1));
    await measure('floor: raw 1000-row SQLite tx', () => floorSqlite(ms, 1000));
    for (const n of [1, 10, 100, 1000]) await measure(`store: append ${n}`, () => storeAppends(ms, n));
    await measure('store: commit-only, sync: false', () => storeAppends(ms, 0));
    let pair: Interleaved | undefined;
    if (want('interleaved')) {
      pair = await interleaved(ms);
      for (const r of [pair.floor, pair.store, pair.thread]) {
        log(`  ${r.name}: p50 ${formatNs(r.latency.p50Ns)}`);
        rows.push(r);
      }
    }
    let sizeResult: SizeResult | undefined;
    if (want('size')) sizeResult = await boundedSize(1_000_000, 10_000, log);

    const table = formatTable(rows, [
      { header: 'configuration', align: 'left', cell: (r) => r.name },
      { header: 'entries/s', cell: (r) => (r.entriesPerWrite === 0 || r.name.includes('round trip') ? '-' : formatCount(r.entriesPerSec)) },
      { header: 'p50', cell: (r) => formatNs(r.latency.p50Ns) },
      { header: 'p99', cell: (r) => formatNs(r.latency.p99Ns) },
      { header: 'event loop p99', cell: (r) => (r.eventLoopP99Ns === undefined ? '' : formatNs(r.eventLoopP99Ns)) },
      { header: 'writes/fsync', cell: (r) => (r.writesPerFsync === undefined ? '' : r.writesPerFsync === Infinity ? 'no fsync' : r.writesPerFsync.toFixed(2)) },
    ]);
    const by = (name: string): Row | undefined => rows.find((r) => r.name === name);
    const notes: string[] = [];
    const one = by('floor: one-row SQLite commit');
    const s1 = by('store: append 1');
    if (one !== undefined && s1 !== undefined) {
      notes.push(`single-entry append p50 / one-row commit p50: ${(s1.latency.p50Ns / one.latency.p50Ns).toFixed(2)}x (target <= 1.3x)`);
    }
    if (pair !== undefined) {
      const commit = pair.floor.latency.p50Ns;
      const floorOffThread = commit + pair.thread.latency.p50Ns;
      notes.push(
        `interleaved call by call: single-entry append p50 / one-row commit p50: ${(pair.store.latency.p50Ns / commit).toFixed(2)}x`,
        `  the least a writer off the main thread can do, one-row commit p50 + worker round trip p50: ` +
          `${formatNs(floorOffThread)} = ${(floorOffThread / commit).toFixed(2)}x the commit (target 1.3x)`,
      );
    }
    const raw = by('floor: raw 1000-row SQLite tx');
    const s1000 = by('store: append 1000');
    if (raw !== undefined && s1000 !== undefined) {
      notes.push(`1000-entry appends / raw 1000-row tx: ${(s1000.entriesPerSec / raw.entriesPerSec).toFixed(2)}x (target >= 0.5x)`);
    }
    const loopMax = Math.max(...rows.map((r) => r.eventLoopP99Ns ?? 0));
    notes.push(`worst event loop p99 delay while writing (beyond the ${LOOP_RESOLUTION_MS} ms sampling interval): ${formatNs(loopMax)} (target < 2 ms)`);
    if (sizeResult !== undefined) {
      notes.push(
        `1,000,000 entries, snapshot + compaction every 10,000: files peak at ${(sizeResult.maxBytes / 1e6).toFixed(2)} MB, end at ${(sizeResult.finalBytes / 1e6).toFixed(2)} MB`,
      );
    }
    return { text: `${table}\n\n${notes.join('\n')}`, results: { rows, size: sizeResult } };
  },
};
