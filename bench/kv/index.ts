/**
 * bench/kv (on demand: `pnpm bench kv`): pontoon-kv against etcd 3.4, 3 members each as separate
 * processes on 127.0.0.1 with fsync on, the same `etcd3` client workload in one run: puts of
 * 256 B at 1, 64 and 256 in flight, linearizable and serializable gets, txn compare-and-swap,
 * watch delivery to 100 watchers, lease keepalives, then RSS per member and a member's restart
 * time with the key set loaded. Printed side by side with the ratio pontoon-kv / etcd. Goals
 * (issue 15): puts/s at 64 in flight at least 3x etcd's; p50 at 1 in flight no worse than etcd's.
 *
 * The key set is 1,000,000 keys; `PONTOON_KV_BENCH_KEYS=100000` (or 0 to leave that part out)
 * for a quicker run. Each fresh cluster first takes 20,000 unmeasured operations
 * (`PONTOON_KV_BENCH_WARMUP_OPS`), so that V8 has optimized pontoon-kv's code before the levels. `--runs N` runs N rounds of A B B A and a floor pass; `--filter TEXT` keeps the levels whose
 * name contains TEXT (`--filter keys` runs only the key set part).
 */
import type { Suite, SuiteOptions, SuiteReport } from '../lib/suite.js';
import { runKvBench } from './kv-bench.js';
import { kvCharts, kvReport } from './report.js';

export const DEFAULT_KEYS = 1_000_000;
/** Operations that warm each fresh cluster before its levels (`PONTOON_KV_BENCH_WARMUP_OPS`). */
export const DEFAULT_SERVER_WARMUP_OPS = 20_000;

/** A count from the environment variable `name` (underscores allowed), else `fallback`. */
function countFromEnv(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw.replaceAll('_', ''));
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`${name} must be an integer >= 0, got ${raw}`);
  return n;
}

/** `PONTOON_KV_BENCH_KEYS`, else the 1,000,000. */
export function keysFromEnv(env: NodeJS.ProcessEnv): number {
  return countFromEnv(env, 'PONTOON_KV_BENCH_KEYS', DEFAULT_KEYS);
}

/** `PONTOON_KV_BENCH_WARMUP_OPS`, else 20,000. */
export function serverWarmupFromEnv(env: NodeJS.ProcessEnv): number {
  return countFromEnv(env, 'PONTOON_KV_BENCH_WARMUP_OPS', DEFAULT_SERVER_WARMUP_OPS);
}

export const kvSuite: Suite = {
  name: 'kv',
  description: 'pontoon-kv against etcd 3.4 (3 members each, etcd3 client) and the floor (no server work), with ratios and CPU per op',
  // 11 levels x 5 passes x (3 s + 0.75 s) is about 3.5 minutes, plus cluster starts and the key set.
  defaults: { runs: 1, durationMs: 3000, warmupRuns: 1 },
  onDemand: true,
  async run(options: SuiteOptions, log: (line: string) => void): Promise<SuiteReport> {
    const result = await runKvBench(
      {
        durationMs: options.durationMs,
        warmupMs: options.warmupRuns > 0 ? Math.round(options.durationMs / 4) : 0,
        serverWarmupOps: serverWarmupFromEnv(process.env),
        rounds: options.runs,
        keys: keysFromEnv(process.env),
        filter: options.filter,
      },
      log,
    );
    return { text: kvReport(result), results: result, charts: kvCharts(result) };
  },
};
