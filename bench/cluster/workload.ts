/**
 * What the cluster benchmarks replicate: a state machine, the commands a client proposes to it
 * and the read requests it answers. The default is an in-memory key-value map (kv-workload.ts);
 * a user benchmarks their own state machine by writing a module that exports `workload` (a
 * BenchWorkload) and naming it with PONTOON_BENCH_WORKLOAD (see bench/cluster/README-section.md).
 *
 * The module is loaded in every node process (createStateMachine) and in the client process
 * (command, query), so it must be importable on its own, by absolute path or file URL.
 */
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { StateMachine } from '@pontoon/raft';

/** A state machine that also answers the benchmark's read requests. */
export interface BenchStateMachine extends StateMachine {
  /**
   * Answers one read request (bytes from BenchWorkload.query) from the current state. Runs
   * inside RaftNode.read(), so at a linearizable point.
   */
  query(request: Uint8Array): Uint8Array;
}

/** A state machine under benchmark and the traffic a client sends it. */
export interface BenchWorkload {
  /** A fresh, empty state machine (one per node). */
  createStateMachine(): BenchStateMachine;
  /**
   * The `seq`-th write command, `payloadBytes` long (the benchmark's payload sizes are command
   * sizes). The client precomputes a pool of them before measuring, so this may be slow.
   */
  command(seq: number, payloadBytes: number): Uint8Array;
  /** The `seq`-th read request. Precomputed like commands. */
  query(seq: number): Uint8Array;
}

/** The environment variable naming a workload module to use instead of the key-value map. */
export const WORKLOAD_ENV = 'PONTOON_BENCH_WORKLOAD';

const here = path.dirname(fileURLToPath(import.meta.url));

/** The module benchmarked: $PONTOON_BENCH_WORKLOAD if set, else the key-value map. Absolute. */
export function workloadModulePath(): string {
  const fromEnv = process.env[WORKLOAD_ENV];
  if (fromEnv !== undefined && fromEnv !== '') return path.resolve(fromEnv);
  return path.join(here, 'kv-workload.ts');
}

function isWorkload(v: unknown): v is BenchWorkload {
  if (typeof v !== 'object' || v === null) return false;
  const w = v as Record<string, unknown>;
  return typeof w.createStateMachine === 'function' && typeof w.command === 'function' && typeof w.query === 'function';
}

/** Imports the module at `modulePath` and returns its `workload` export, checked. */
export async function loadWorkload(modulePath: string): Promise<BenchWorkload> {
  const mod = (await import(pathToFileURL(modulePath).href)) as Record<string, unknown>;
  const w = mod.workload;
  if (!isWorkload(w)) {
    throw new Error(`${modulePath} must export \`workload\` with createStateMachine(), command(seq, bytes) and query(seq)`);
  }
  return w;
}
