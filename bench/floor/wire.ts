/**
 * The minimal replicator's wire format and the IPC between the floor suite and its processes.
 *
 * Every stream carries `[u32 BE length][body]` frames:
 * - client -> leader: one frame per entry, the body is the entry's payload;
 * - leader -> follower: one frame per batch, the body `[f64 BE firstIndex][entry frames...]`
 *   (the entries that reached the leader in one turn of its event loop);
 * - follower -> leader: `[f64 BE durableIndex]`, once the follower's SQLite commit returned;
 * - leader -> client: `[u32 BE count]`, entries newly committed, in the order they were sent;
 * - the echo process sends every frame back as it came.
 */

/** A frame holding one f64 (a follower's durable index). */
export function indexFrame(index: number): Buffer {
  const b = Buffer.allocUnsafe(12);
  b.writeUInt32BE(8, 0);
  b.writeDoubleBE(index, 4);
  return b;
}

/** A frame holding one u32 (a count of committed entries). */
export function countFrame(count: number): Buffer {
  const b = Buffer.allocUnsafe(8);
  b.writeUInt32BE(4, 0);
  b.writeUInt32BE(count, 4);
  return b;
}

/** Which SQLite connection commits: on the process's main thread, or in a worker thread. */
export type WriterKind = 'main' | 'worker';

/** Bench -> replica (leader or follower). */
export type ToReplica = { kind: 'start'; followers: readonly number[] } | { kind: 'stats' };
/** Replica (and echo) -> bench. */
export type FromReplica = { kind: 'listening'; port: number } | { kind: 'started' } | ({ kind: 'stats' } & ReplicaStats);

/** A replica's counters since it started; the bench takes differences around each run. */
export interface ReplicaStats {
  /** CPU time of the whole process (every thread), user + system, in µs. */
  cpuMicros: number;
  /** SQLite transactions committed, each with its fsync (synchronous=FULL). */
  transactions: number;
  /** Entries durable in this replica's log. */
  entries: number;
}

/** Bench -> client. */
export type ToClient = {
  kind: 'run';
  inFlight: number;
  payloadBytes: number;
  /** Unrecorded time first, at the same window, so that the JIT and the caches are warm. */
  warmupMs: number;
  durationMs: number;
};
/** Client -> bench. */
export type FromClient =
  | { kind: 'connected' }
  | {
      kind: 'result';
      commits: number;
      elapsedMs: number;
      /** The latencies (ns) of this run, an HDR histogram in its compressed base64 encoding. */
      histogram: string;
    };
