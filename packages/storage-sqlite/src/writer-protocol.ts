/**
 * The messages between the store (main thread) and its writer worker. Types only: the worker is
 * plain JavaScript and imports them through JSDoc.
 */
import type { SyncMode } from './options.js';
import type { WriterState } from './recovery.js';

/** workerData of the writer. */
export interface WriterInit {
  dbPath: string;
  synchronous: SyncMode;
  state: WriterState;
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

/** `ready` once the writer has opened the database and can take writes. */
export type WriterResponse = { kind: 'ready' } | { kind: 'done'; results: WriterResult[] } | { kind: 'closed' };
