/**
 * What the kv suite's parent and its client process say to each other over IPC, and the
 * workload's levels: the same list is run against pontoon-kv, etcd and the floor.
 */
import type { WindowCpu } from './process-cpu.js';

/** The kinds of measurement, in the order they run and appear in the table. */
export type WorkloadKind = 'put' | 'get linearizable' | 'get serializable' | 'txn cas' | 'watch' | 'keepalive';

/** One row of the workload: a kind at a number of operations in flight. */
export interface WorkloadLevel {
  kind: WorkloadKind;
  /** Operations in flight (watch: puts in flight, always 1; keepalive: lease streams). */
  inFlight: number;
}

/** The levels every pass runs (the list: puts at 1, 64 and 256, reads, CAS, watch, keepalives). */
export const LEVELS: readonly WorkloadLevel[] = [
  { kind: 'put', inFlight: 1 },
  { kind: 'put', inFlight: 64 },
  { kind: 'put', inFlight: 256 },
  { kind: 'get linearizable', inFlight: 1 },
  { kind: 'get linearizable', inFlight: 64 },
  { kind: 'get serializable', inFlight: 1 },
  { kind: 'get serializable', inFlight: 64 },
  { kind: 'txn cas', inFlight: 1 },
  { kind: 'txn cas', inFlight: 64 },
  { kind: 'watch', inFlight: 1 },
  { kind: 'keepalive', inFlight: 64 },
];

/** Watchers of the watch level, spread over the members (the writer talks to the leader). */
export const WATCHERS = 100;

/** Size of every value written (puts, CAS, watch puts, loaded keys). */
export const VALUE_BYTES = 256;

export function levelName(l: WorkloadLevel): string {
  return l.kind === 'watch' ? `watch (${WATCHERS} watchers)` : `${l.kind} x ${l.inFlight}`;
}

/** One measured run of one level, as the client process reports it. */
export interface LevelRun {
  level: WorkloadLevel;
  /** Operations completed in the measured window (watch: events delivered to watchers). */
  ops: number;
  elapsedMs: number;
  errors: number;
  firstError: string | undefined;
  /** Latencies in ns, an HDR histogram compressed to base64 (hdr-histogram-js). */
  histogram: string;
  /** Watch only: events that reached a watcher before the writer had its put's answer. */
  beforeAck?: number;
  /** CPU the client and the servers used in the measured window (read at its start and deadline). */
  cpu?: WindowCpu;
  /** Why `cpu` is missing (no /proc, or a process gone mid-window). */
  cpuUnavailable?: string;
}

/** Result of loading the key set. */
export interface LoadResult {
  keys: number;
  elapsedMs: number;
}

export type ToClient =
  | {
      type: 'workload';
      levels: readonly WorkloadLevel[];
      durationMs: number;
      warmupMs: number;
      /** Operations run once before the levels, unmeasured (workloads.ts warmServers). */
      serverWarmupOps: number;
      /** Each member's pid, in the endpoints' order, for the CPU figures. */
      memberPids: readonly number[];
    }
  | { type: 'load'; keys: number };

export type FromClient =
  | { type: 'ready'; leader: string }
  | { type: 'level'; run: LevelRun }
  | { type: 'loaded'; result: LoadResult }
  | { type: 'done' }
  | { type: 'failed'; error: string };
