/**
 * Crash safety with real processes: a child appends batches and reports each one durable; the
 * parent kills it with SIGKILL at random moments (during open and recovery too), 50 times,
 * reopening the store after each kill. Every batch reported durable must be there, the log
 * contiguous (recovery checks), every byte the one written, nothing half-written.
 */
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, expect, it } from 'vitest';
import { SqliteLogStore } from '../src/index.js';
import { spawnTs } from './support/child-process.js';
import { crashEntry, SeededRandom } from './support/crash-log.js';
import { TempDirs } from './support/temp-dir.js';

const temp = new TempDirs();
afterAll(() => temp.cleanup());

const KILLS = Number(process.env.CRASH_KILLS ?? 50);
const childFile = new URL('./support/crash-child.ts', import.meta.url);

interface Child {
  proc: ChildProcessWithoutNullStreams;
  ready: Promise<void>;
  opened: Promise<void>;
  exited: Promise<{ code: number | null; signal: string | null }>;
  /** The highest `durable <last> <term>` reported. */
  durable: { last: number; term: number } | undefined;
  stderr: string;
  stdoutTail: string;
}

function startChild(dir: string, seed: number): Child {
  const proc = spawnTs(childFile, [dir, String(seed)]);
  let buf = '';
  let onReady!: () => void;
  let onOpened!: () => void;
  const child: Child = {
    proc,
    ready: new Promise<void>((r) => (onReady = r)),
    opened: new Promise<void>((r) => (onOpened = r)),
    // 'close', not 'exit': only then has everything the child printed been read.
    exited: new Promise((r) => proc.once('close', (code, signal) => r({ code, signal }))),
    durable: undefined,
    stderr: '',
    stdoutTail: '',
  };
  proc.stderr.on('data', (c: Buffer) => (child.stderr += c.toString()));
  proc.stdout.on('data', (c: Buffer) => {
    buf += c.toString();
    child.stdoutTail = (child.stdoutTail + c.toString()).slice(-200);
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      if (line === 'ready') onReady();
      if (line === 'opened') onOpened();
      const m = /^durable (\d+) (\d+)$/.exec(line);
      if (m !== null) child.durable = { last: Number(m[1]), term: Number(m[2]) };
    }
  });
  return child;
}

async function verify(dir: string, promised: { last: number; term: number }): Promise<number> {
  const store = await SqliteLogStore.open(dir);
  try {
    const first = store.firstIndex();
    const last = store.lastIndex();
    expect(last, 'every batch reported durable is there').toBeGreaterThanOrEqual(promised.last);
    if (promised.last > 0) expect(store.term(promised.last)).toBeGreaterThanOrEqual(promised.term);
    expect(store.initialState().hardState.term).toBeGreaterThanOrEqual(promised.term);
    let prevTerm = store.term(first - 1);
    if (last >= first) {
      const entries = store.entries(first, last + 1, Infinity);
      expect(entries.length).toBe(last - first + 1);
      for (const e of entries) {
        // Each entry is exactly one that was written, whole; terms never go down along the log.
        expect(e).toEqual(crashEntry(e.index, e.term));
        expect(e.term).toBeGreaterThanOrEqual(prevTerm);
        prevTerm = e.term;
      }
    }
    const snap = store.snapshot();
    if (snap.metadata.index > 0) expect(new TextDecoder().decode(snap.data)).toBe(`sm@${snap.metadata.index}`);
    return last;
  } finally {
    await store.close();
  }
}

it(`every batch reported durable survives SIGKILL at random moments (${KILLS} kills)`, async () => {
  const dir = temp.make();
  const rand = new SeededRandom(20261124);
  let promised = { last: 0, term: 0 };
  let killedWhileWriting = 0;
  let next = startChild(dir, 1);
  try {
    for (let k = 0; k < KILLS; k++) {
      const child = next;
      await child.ready;
      child.proc.stdin.write('go\n');
      // The next child loads while this one runs, so that only the run is on the clock.
      if (k + 1 < KILLS) next = startChild(dir, k + 2);
      // One kill in five lands while the child opens and recovers the store; the others while it
      // writes.
      if (rand.next() < 0.2) {
        await sleep(rand.next() * 100);
      } else {
        await Promise.race([child.opened, child.exited]);
        await sleep(rand.next() * 200);
      }
      child.proc.kill('SIGKILL');
      const { signal } = await child.exited;
      if (process.env.CRASH_DEBUG) console.log(k, JSON.stringify(child.durable), JSON.stringify(child.stdoutTail), child.stderr);
      expect(signal, `child exited by itself: ${child.stderr}`).toBe('SIGKILL');
      if (child.durable !== undefined) {
        killedWhileWriting++;
        if (child.durable.last >= promised.last) promised = child.durable;
      }
      const last = await verify(dir, promised);
      promised = { last, term: promised.term };
    }
  } finally {
    next.proc.kill('SIGKILL');
  }
  // Most kills must land while the child was writing, or the test proves little.
  expect(killedWhileWriting).toBeGreaterThan(KILLS / 2);
  expect(promised.last).toBeGreaterThan(1000);
}, 120_000);
