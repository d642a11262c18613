/**
 * How the store (main thread) and its writer worker talk. Types only: the worker is plain
 * JavaScript and imports them through JSDoc.
 *
 * Requests travel on a MessagePort of their own; wake-ups travel through shared memory. The
 * main thread posts a request, then bumps REQUESTS and notifies it: the worker, blocked in
 * Atomics.wait on REQUESTS while idle, takes every request queued (receiveMessageOnPort, no
 * event loop turn), commits them as one transaction, then adds their number to COMPLETED and
 * notifies it: the main thread, waiting with Atomics.waitAsync (which never blocks its event
 * loop), settles that many of its oldest pending writes. Only results that carry something
 * (an error, a snapshot's term) go back as a message, posted before COMPLETED moves, so that it
 * is there to read once the counter says so. A port message wakes the receiving event loop
 * through libuv and a turn of it; a futex wake does not need one, which is most of the cost of a
 * single small write.
 */
import type { MessagePort } from 'node:worker_threads';
import type { SyncMode } from './options.js';
import type { WriterState } from './recovery.js';

/** Int32 slots of the control buffer. */
export const Control = {
  /** Bumped by the main thread after each request it posts (wraps; compared for equality). */
  REQUESTS: 0,
  /** Requests completed so far, modulo 2^32 (the main thread takes differences). */
  COMPLETED: 1,
  /** Int32 slots in the control buffer. */
  SLOTS: 2,
} as const;

/** BigInt64 slots of the statistics buffer, written by the worker only. */
export const Stats = {
  /** Transactions committed. */
  COMMITS: 0,
  /** Of those, the ones committed with an fsync of the WAL (synchronous=FULL). */
  SYNCED_COMMITS: 1,
  SLOTS: 2,
} as const;

/** workerData of the writer. */
export interface WriterInit {
  dbPath: string;
  synchronous: SyncMode;
  state: WriterState;
  /** The Int32 slots of `Control`. */
  control: SharedArrayBuffer;
  /** The BigInt64 slots of `Stats`. */
  stats: SharedArrayBuffer;
  /** Requests arrive on it; results that carry something leave on it. */
  port: MessagePort;
}

/** One Ready's write: hard state as [term, vote, commit], entries packed (write-codec.js). */
export interface AppendRequest {
  kind: 'append';
  seq: number;
  hardState?: [number, number, number] | undefined;
  snapshot?: { index: number; term: number; confState: string; data: Uint8Array } | undefined;
  /** Index of the first packed entry (when count > 0). */
  firstIndex: number;
  count: number;
  entries: Uint8Array;
  /** False when the write may skip the fsync (LogWrite.sync). */
  sync: boolean;
}

export interface SnapshotRequest {
  kind: 'snapshot';
  seq: number;
  index: number;
  confState: string;
  data: Uint8Array;
}

export interface CompactRequest {
  kind: 'compact';
  seq: number;
  index: number;
}

/** The last message: the worker commits what came before it, closes the database and exits. */
export interface CloseRequest {
  kind: 'close';
}

export type WriterRequest = AppendRequest | SnapshotRequest | CompactRequest;

/** Why a request was refused: the error class the main thread raises for it. */
export type WriterErrorCode = 'SNAP_OUT_OF_DATE' | 'COMPACTED' | 'INVARIANT' | 'FAILED';

/** The outcome of one request; `term` is the snapshot's, for a snapshot request. */
export interface WriterResult {
  seq: number;
  error?: WriterErrorCode;
  message?: string;
  term?: number;
}

/** On the writer's port: the results of a batch that carry something (the others are plain successes). */
export interface WriterResults {
  results: WriterResult[];
}

/** On parentPort, once: the writer has opened the database and can take writes. */
export type WriterResponse = { kind: 'ready' };
