/**
 * The measurements the client process makes, with the `etcd3` npm client, the same code against
 * pontoon-kv and etcd. Every level is a closed loop: `inFlight` workers, each sending one request
 * and waiting for its answer before sending the next; latency is send to answer. Puts, reads,
 * CAS and keepalives go to the leader (no forwarding hop on either system); watchers are spread
 * over all members, so a follower's apply is in the watch figures.
 */
import { randomBytes } from 'node:crypto';
import { encodeIntoCompressedBase64 } from 'hdr-histogram-js';
import type { Etcd3, IDuplexStream, ILeaseKeepAliveRequest, ILeaseKeepAliveResponse, Watcher } from 'etcd3';
import { SampleBuffer } from '../lib/histogram.js';
import { startCpuWindow } from './process-cpu.js';
import type { CpuSubjects, CpuWindow, WindowCpu } from './process-cpu.js';
import { VALUE_BYTES, WATCHERS } from './protocol.js';
import type { LevelRun, LoadResult, WorkloadLevel } from './protocol.js';

/** An operation not answered after this long counts as failed (a lost request, not a slow one). */
const OP_TIMEOUT_MS = 10_000;

/** Keys the put level cycles through (and the get levels read). */
const PUT_KEY_SPACE = 10_000;

/** etcd's default --max-txn-ops: the most puts one load transaction carries. */
const LOAD_TXN_PUTS = 128;
const LOAD_TXNS_IN_FLIGHT = 16;

export interface Clients {
  /** Connected to the leader only. */
  leader: Etcd3;
  /** One per member (the leader's included), for the watchers. */
  members: readonly Etcd3[];
  /** The revision last compacted to (compacting to it again is an error on both systems). */
  compactedAt: string;
  /** The processes whose CPU each measured window counts; undefined when it is not measured. */
  cpu: CpuSubjects | undefined;
  /** Why `cpu` is undefined. */
  cpuUnavailable: string | undefined;
}

interface Window {
  ops: number;
  errors: number;
  firstError: string | undefined;
  samples: SampleBuffer;
  cpu?: WindowCpu;
  cpuUnavailable?: string;
}

function withTimeout<T>(p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer after ${OP_TIMEOUT_MS} ms`)), OP_TIMEOUT_MS);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Starts counting the CPU of `c.cpu`'s processes; the function it returns stops and gives the
 * figures, or why there are none (a process that is gone cannot be read).
 */
function meterCpu(c: Clients): () => Pick<Window, 'cpu' | 'cpuUnavailable'> {
  if (c.cpu === undefined) return () => ({ cpuUnavailable: c.cpuUnavailable });
  let window: CpuWindow;
  try {
    window = startCpuWindow(c.cpu);
  } catch (err) {
    const reason = message(err);
    return () => ({ cpuUnavailable: reason });
  }
  return () => {
    try {
      return { cpu: window.stop() };
    } catch (err) {
      return { cpuUnavailable: message(err) };
    }
  };
}

/**
 * Runs `inFlight` workers calling `op` for `ms`. Only operations answered inside the window
 * count; every worker finishes its last operation before this resolves, so windows never overlap.
 * With `metered`, the CPU of its processes is counted from the start to the deadline, not to
 * the last answer: the operations in flight at either edge are part-counted either way (those
 * at the start count without the CPU of their sending, those at the deadline cost CPU but do not
 * count), and in a steady loop the two cancel out.
 */
async function closedLoop(inFlight: number, ms: number, op: (worker: number) => Promise<void>, metered?: Clients): Promise<Window> {
  const w: Window = { ops: 0, errors: 0, firstError: undefined, samples: new SampleBuffer() };
  const stopCpu = metered === undefined ? undefined : meterCpu(metered);
  let cpuTimer: NodeJS.Timeout | undefined;
  const cpuAtDeadline = (): void => {
    clearTimeout(cpuTimer);
    if (stopCpu === undefined || w.cpu !== undefined || w.cpuUnavailable !== undefined) return;
    Object.assign(w, stopCpu());
  };
  if (stopCpu !== undefined) cpuTimer = setTimeout(cpuAtDeadline, ms);
  const deadline = performance.now() + ms;
  const worker = async (i: number): Promise<void> => {
    while (performance.now() < deadline) {
      const t0 = performance.now();
      try {
        await withTimeout(op(i));
        const t1 = performance.now();
        if (t1 <= deadline) {
          w.ops++;
          w.samples.push(t1 - t0);
        }
      } catch (err) {
        w.errors++;
        w.firstError ??= message(err);
        // A cluster without a leader fails every request at once; do not spin on it.
        await new Promise((r) => setTimeout(r, 10));
      }
    }
  };
  await Promise.all(Array.from({ length: inFlight }, (_, i) => worker(i)));
  // Every worker may have finished before the timer ran (a loop whose last answers came at once).
  cpuAtDeadline();
  return w;
}

function toRun(level: WorkloadLevel, w: Window, elapsedMs: number, extra: Partial<LevelRun> = {}): LevelRun {
  return {
    level,
    ops: w.ops,
    elapsedMs,
    errors: w.errors,
    firstError: w.firstError,
    histogram: encodeIntoCompressedBase64(w.samples.toHistogram()),
    ...(w.cpu !== undefined ? { cpu: w.cpu } : {}),
    ...(w.cpuUnavailable !== undefined ? { cpuUnavailable: w.cpuUnavailable } : {}),
    ...extra,
  };
}

/** A warm-up window (unmeasured), then the measured one, of the same closed loop. */
async function measured(
  c: Clients,
  level: WorkloadLevel,
  durationMs: number,
  warmupMs: number,
  op: (worker: number) => Promise<void>,
): Promise<LevelRun> {
  if (warmupMs > 0) await closedLoop(level.inFlight, warmupMs, op);
  return toRun(level, await closedLoop(level.inFlight, durationMs, op, c), durationMs);
}

function putKey(i: number): string {
  return `bench/put/${String(i % PUT_KEY_SPACE).padStart(5, '0')}`;
}

/** Compacts everything before the current revision, as an operator would between workloads. */
async function compact(c: Clients): Promise<void> {
  const { revision } = (await c.leader.maintenance.status()).header;
  if (revision === c.compactedAt) return;
  await c.leader.kv.compact({ revision, physical: true });
  c.compactedAt = revision;
}

async function puts(c: Clients, level: WorkloadLevel, durationMs: number, warmupMs: number): Promise<LevelRun> {
  const value = randomBytes(VALUE_BYTES);
  let next = 0;
  return measured(c, level, durationMs, warmupMs, async () => {
    await c.leader.put(putKey(next++)).value(value).exec();
  });
}

/**
 * Warms a fresh cluster before its levels: `ops` operations at 64 in flight, unmeasured, of the
 * kinds the levels run (puts, linearizable and serializable gets, compare-and-swap txns), then a
 * compaction. pontoon-kv runs on V8, whose code reaches its optimized tier only after enough
 * calls; without this its first levels (1 in flight first of all) would measure the JIT's warm-up,
 * not the server. etcd is compiled ahead of time, and runs the same warm-up, so that both start
 * their levels with the same history behind them.
 */
export async function warmServers(c: Clients, ops: number): Promise<void> {
  if (ops <= 0) return;
  const value = randomBytes(VALUE_BYTES);
  let started = 0;
  let failed = 0;
  let firstError: string | undefined;
  const op = async (w: number, i: number): Promise<void> => {
    const key = `bench/warm/${w}`;
    switch (i % 10) {
      case 0:
      case 1: {
        const res = await withTimeout(c.leader.get(key).exec());
        const mod = res.kvs[0]?.mod_revision ?? '0';
        await withTimeout(c.leader.if(key, 'Mod', '==', mod).then(c.leader.put(key).value(value)).commit());
        return;
      }
      case 2:
        await withTimeout(c.leader.get(putKey(i)).serializable(true).exec());
        return;
      case 3:
        await withTimeout(c.leader.get(putKey(i)).exec());
        return;
      default:
        await withTimeout(c.leader.put(putKey(i)).value(value).exec());
    }
  };
  const worker = async (w: number): Promise<void> => {
    while (started < ops) {
      try {
        await op(w, started++);
      } catch (err) {
        // Unmeasured: a slow answer here costs nothing but the warm-up; a cluster that answers
        // nothing fails below.
        failed++;
        firstError ??= message(err);
        await new Promise((r) => setTimeout(r, 10));
      }
    }
  };
  await Promise.all(Array.from({ length: 64 }, (_, w) => worker(w)));
  if (failed === ops) throw new Error(`every warm-up operation failed; first: ${firstError}`);
  await compact(c);
}

/** Makes sure the keys the reads ask for exist (the put levels normally wrote them already). */
async function ensureReadKeys(c: Clients): Promise<void> {
  const present = await c.leader.getAll().prefix('bench/put/').count();
  if (present >= PUT_KEY_SPACE) return;
  const value = randomBytes(VALUE_BYTES);
  for (let i = 0; i < PUT_KEY_SPACE; i += LOAD_TXN_PUTS) {
    const success = [];
    for (let k = i; k < Math.min(i + LOAD_TXN_PUTS, PUT_KEY_SPACE); k++) success.push({ request_put: { key: Buffer.from(putKey(k)), value } });
    await c.leader.kv.txn({ success });
  }
}

async function gets(c: Clients, level: WorkloadLevel, durationMs: number, warmupMs: number): Promise<LevelRun> {
  await ensureReadKeys(c);
  const serializable = level.kind === 'get serializable';
  let next = 0;
  return measured(c, level, durationMs, warmupMs, async () => {
    // A stride coprime with the key space visits every key, never the same one twice in a row.
    next = (next + 7919) % PUT_KEY_SPACE;
    const value = await c.leader.get(putKey(next)).serializable(serializable).buffer();
    if (value === null) throw new Error(`${putKey(next)} is missing`);
  });
}

/** Each worker owns a key and replaces its value only if nobody changed it since its last write. */
async function compareAndSwap(c: Clients, level: WorkloadLevel, durationMs: number, warmupMs: number): Promise<LevelRun> {
  const value = randomBytes(VALUE_BYTES);
  const keys = Array.from({ length: level.inFlight }, (_, i) => `bench/cas/${i}`);
  const modRevision = await Promise.all(keys.map(async (k) => (await c.leader.put(k).value(value).exec()).header.revision));
  return measured(c, level, durationMs, warmupMs, async (w) => {
    const key = keys[w]!;
    const res = await c.leader.if(key, 'Mod', '==', modRevision[w]!).then(c.leader.put(key).value(value)).commit();
    if (!res.succeeded) throw new Error(`compare-and-swap on ${key} failed: its mod revision moved under its only writer`);
    modRevision[w] = res.header.revision;
  });
}

/**
 * One writer puts one key at 1 in flight on the leader; `WATCHERS` watchers of that key, spread
 * over the members, receive each put. A sample is the time from the writer receiving its put's
 * answer to one watcher receiving the event (0 when the event came first: `beforeAck` counts
 * those). Throughput is events delivered per second; an event not delivered within 5 s of the
 * window's end is an error.
 */
async function watchDelivery(c: Clients, level: WorkloadLevel, durationMs: number, warmupMs: number): Promise<LevelRun> {
  const key = 'bench/watch';
  const value = randomBytes(VALUE_BYTES);
  let measuring = false;
  const samples = new SampleBuffer();
  let delivered = 0;
  let beforeAck = 0;
  // Per revision: when the writer had its answer, or the arrival times of events that came first.
  const ackAt = new Map<string, number>();
  const early = new Map<string, number[]>();
  const measuredRevisions = new Set<string>();
  const onEvent = (revision: string): void => {
    const now = performance.now();
    if (!measuredRevisions.has(revision) && ackAt.has(revision)) return;
    const acked = ackAt.get(revision);
    if (acked === undefined) {
      const list = early.get(revision) ?? [];
      list.push(now);
      early.set(revision, list);
      return;
    }
    delivered++;
    samples.push(now - acked);
  };
  const watchers: Watcher[] = [];
  for (let i = 0; i < WATCHERS; i++) {
    const client = c.members[i % c.members.length]!;
    const watcher = await client.watch().key(key).create();
    watcher.on('put', (kv) => onEvent(kv.mod_revision));
    watchers.push(watcher);
  }
  try {
    const write = async (): Promise<void> => {
      const res = await c.leader.put(key).value(value).exec();
      const now = performance.now();
      const revision = res.header.revision;
      ackAt.set(revision, now);
      if (!measuring) return;
      measuredRevisions.add(revision);
      const came = early.get(revision) ?? [];
      early.delete(revision);
      for (const _ of came) {
        delivered++;
        beforeAck++;
        samples.push(0);
      }
    };
    if (warmupMs > 0) await closedLoop(1, warmupMs, write);
    measuring = true;
    early.clear();
    const w = await closedLoop(1, durationMs, write, c);
    measuring = false;
    const expected = measuredRevisions.size * WATCHERS;
    const settle = performance.now() + 5000;
    while (delivered < expected && performance.now() < settle) await new Promise((r) => setTimeout(r, 20));
    const missing = expected - delivered;
    return toRun(
      level,
      {
        ops: delivered,
        errors: w.errors + missing,
        firstError: w.firstError ?? (missing > 0 ? `${missing} of ${expected} events not delivered within 5 s` : undefined),
        samples,
        ...(w.cpu !== undefined ? { cpu: w.cpu } : {}),
        ...(w.cpuUnavailable !== undefined ? { cpuUnavailable: w.cpuUnavailable } : {}),
      },
      durationMs,
      { beforeAck },
    );
  } finally {
    await Promise.all(watchers.map((w) => w.cancel()));
  }
}

/**
 * `inFlight` leases, each with its own LeaseKeepAlive stream (the etcd3 client's RPC layer: its
 * Lease object sends one keepalive a third of the TTL, which measures a timer, not the server);
 * each stream sends a keepalive and waits for its answer before the next.
 */
async function keepalives(c: Clients, level: WorkloadLevel, durationMs: number, warmupMs: number): Promise<LevelRun> {
  const leases = await Promise.all(Array.from({ length: level.inFlight }, () => c.leader.leaseClient.leaseGrant({ TTL: 60 })));
  const streams: IDuplexStream<ILeaseKeepAliveRequest, ILeaseKeepAliveResponse>[] = [];
  const waiting: Array<((r: ILeaseKeepAliveResponse) => void) | undefined> = [];
  try {
    for (let i = 0; i < leases.length; i++) {
      const stream = await c.leader.leaseClient.leaseKeepAlive();
      stream.on('data', (r: ILeaseKeepAliveResponse) => {
        const resolve = waiting[i];
        waiting[i] = undefined;
        resolve?.(r);
      });
      streams.push(stream);
    }
    return await measured(c, level, durationMs, warmupMs, async (w) => {
      const answer = new Promise<ILeaseKeepAliveResponse>((resolve) => (waiting[w] = resolve));
      streams[w]!.write({ ID: leases[w]!.ID });
      const res = await answer;
      if (Number(res.TTL) <= 0) throw new Error(`lease ${leases[w]!.ID} expired`);
    });
  } finally {
    for (const s of streams) s.end();
    await Promise.all(leases.map((l) => c.leader.leaseClient.leaseRevoke({ ID: l.ID }).catch(() => undefined)));
  }
}

/**
 * Runs one level (after compacting, so no level inherits another's history). A level whose
 * setup fails (the etcd3 client's circuit breaker opens after 3 failed calls in a row and
 * refuses every call for 5 s) is reported as failed with the reason, and the next level runs
 * after the breaker has closed again, so one bad level does not cost the whole comparison.
 */
export async function runLevel(c: Clients, level: WorkloadLevel, durationMs: number, warmupMs: number): Promise<LevelRun> {
  try {
    const run = await runLevelOnce(c, level, durationMs, warmupMs);
    // Failed calls may have opened the breaker: let it close before the next level's setup.
    if (run.errors > 0) await new Promise((r) => setTimeout(r, BREAKER_RESET_MS));
    return run;
  } catch (err) {
    await new Promise((r) => setTimeout(r, BREAKER_RESET_MS));
    const none: Window = { ops: 0, errors: 1, firstError: `the level failed: ${message(err)}`, samples: new SampleBuffer() };
    return toRun(level, none, durationMs);
  }
}

/** Longer than the etcd3 client's circuit breaker stays open (5 s). */
const BREAKER_RESET_MS = 6000;

async function runLevelOnce(c: Clients, level: WorkloadLevel, durationMs: number, warmupMs: number): Promise<LevelRun> {
  await compact(c);
  switch (level.kind) {
    case 'put':
      return puts(c, level, durationMs, warmupMs);
    case 'get linearizable':
    case 'get serializable':
      return gets(c, level, durationMs, warmupMs);
    case 'txn cas':
      return compareAndSwap(c, level, durationMs, warmupMs);
    case 'watch':
      return watchDelivery(c, level, durationMs, warmupMs);
    case 'keepalive':
      return keepalives(c, level, durationMs, warmupMs);
  }
}

/**
 * Writes `keys` distinct keys of `VALUE_BYTES` each, in transactions of 128 puts (etcd's default
 * --max-txn-ops), 16 in flight: the data set the RSS and restart figures are taken with.
 */
export async function loadKeys(c: Clients, keys: number): Promise<LoadResult> {
  const value = randomBytes(VALUE_BYTES);
  const started = performance.now();
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < keys) {
      const first = next;
      next = Math.min(keys, next + LOAD_TXN_PUTS);
      const success = [];
      for (let k = first; k < next; k++) success.push({ request_put: { key: Buffer.from(`load/${String(k).padStart(8, '0')}`), value } });
      await withTimeout(c.leader.kv.txn({ success }));
    }
  };
  await Promise.all(Array.from({ length: LOAD_TXNS_IN_FLIGHT }, () => worker()));
  return { keys, elapsedMs: performance.now() - started };
}
