/**
 * The closed-loop client every peer is driven by, run inside a client process of its own (as
 * the `cluster` suite's client is): `inFlight` workers, each sending one write and waiting for
 * its acknowledgement before sending the next. Throughput is the writes acknowledged in the
 * measured window over its length; latency is each write's time from send to acknowledgement.
 */
import { randomBytes } from 'node:crypto';

/** One (payload size, writes in flight) point of the workload. */
export interface LoadLevel {
  payloadBytes: number;
  inFlight: number;
}

/** What the parent asks a client process to do. */
export interface LoadRequest {
  type: 'run';
  levels: readonly LoadLevel[];
  /** Measured window of each run, in ms. */
  durationMs: number;
  /** Unmeasured load before each level's runs, in ms (0 for none). */
  warmupMs: number;
  /** Measured runs per level. */
  runs: number;
}

/** One measured run of one level, as a client process reports it. */
export interface LoadRun {
  payloadBytes: number;
  inFlight: number;
  /** Writes acknowledged within the measured window. */
  commits: number;
  /** Writes that failed (rejected or timed out); they are not in `commits` nor the latencies. */
  errors: number;
  firstError: string | undefined;
  /** Length of the measured window, in ms. */
  elapsedMs: number;
  /** Latency of every acknowledged write, in ms. */
  latenciesMs: number[];
}

export type FromClient =
  | { type: 'ready' }
  | { type: 'run'; run: LoadRun }
  | { type: 'done' }
  | { type: 'failed'; error: string };

/** Sends one write of `value` and resolves once the system acknowledged it as committed. */
export type WriteFn = (worker: number, value: Buffer) => Promise<void>;

/** Before a level's runs (etcd compacts there). */
export type BeforeRunFn = () => Promise<void>;

/** A write not acknowledged after this long is counted as failed (a lost write, not a slow one). */
const WRITE_TIMEOUT_MS = 10_000;

function withTimeout(p: Promise<void>): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no acknowledgement after ${WRITE_TIMEOUT_MS} ms`)), WRITE_TIMEOUT_MS);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Runs `inFlight` workers against `write` for `ms`; records latencies only when `measure`.
 * Every worker finishes its last write before this resolves, so runs do not overlap.
 */
async function drive(write: WriteFn, level: LoadLevel, ms: number, measure: boolean): Promise<LoadRun> {
  // Random bytes: leveldb and etcd's bbolt would otherwise see a run of one repeated byte.
  const value = randomBytes(level.payloadBytes);
  const latenciesMs: number[] = [];
  let commits = 0;
  let errors = 0;
  let firstError: string | undefined;
  const start = performance.now();
  const deadline = start + ms;
  const worker = async (w: number): Promise<void> => {
    while (performance.now() < deadline) {
      const t0 = performance.now();
      try {
        await withTimeout(write(w, value));
        const t1 = performance.now();
        if (t1 <= deadline) {
          commits++;
          if (measure) latenciesMs.push(t1 - t0);
        }
      } catch (err) {
        errors++;
        firstError ??= err instanceof Error ? err.message : String(err);
        // A system without a leader fails every write at once; do not spin on it.
        await new Promise((r) => setTimeout(r, 10));
      }
    }
  };
  await Promise.all(Array.from({ length: level.inFlight }, (_, w) => worker(w)));
  return { ...level, commits, errors, firstError, elapsedMs: ms, latenciesMs };
}

/** Runs every level of `req`, reporting each measured run through `report`. */
export async function runLoad(
  req: LoadRequest,
  write: WriteFn,
  beforeLevel: BeforeRunFn,
  report: (run: LoadRun) => void,
): Promise<void> {
  for (const level of req.levels) {
    await beforeLevel();
    if (req.warmupMs > 0) await drive(write, level, req.warmupMs, false);
    for (let i = 0; i < req.runs; i++) {
      const run = await drive(write, level, req.durationMs, true);
      report(run);
      // A system that acknowledged nothing for a whole run has stalled; the levels after would
      // each wait out the write timeout for nothing.
      if (run.commits === 0) return;
    }
  }
}
