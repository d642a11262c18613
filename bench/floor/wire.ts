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

/** A frame's body is a view into a read when the frame lies within it, a copy when it straddles reads. */
export class FrameReader {
  private readonly head = Buffer.alloc(4);
  private headHave = 0;
  private frame: Buffer | undefined;
  private have = 0;

  constructor(private readonly onFrame: (body: Buffer) => void) {}

  push(chunk: Buffer): void {
    let off = 0;
    const n = chunk.length;
    if (this.headHave > 0) {
      const take = Math.min(4 - this.headHave, n);
      chunk.copy(this.head, this.headHave, 0, take);
      this.headHave += take;
      off = take;
      if (this.headHave < 4) return;
      this.headHave = 0;
      this.frame = Buffer.allocUnsafe(this.head.readUInt32BE(0));
      this.have = 0;
    }
    if (this.frame !== undefined) {
      const take = Math.min(this.frame.length - this.have, n - off);
      chunk.copy(this.frame, this.have, off, off + take);
      this.have += take;
      off += take;
      if (this.have < this.frame.length) return;
      const frame = this.frame;
      this.frame = undefined;
      this.onFrame(frame);
    }
    while (n - off >= 4) {
      const len = chunk.readUInt32BE(off);
      if (n - off - 4 < len) {
        this.frame = Buffer.allocUnsafe(len);
        this.have = chunk.copy(this.frame, 0, off + 4);
        return;
      }
      this.onFrame(chunk.subarray(off + 4, off + 4 + len));
      off += 4 + len;
    }
    if (off < n) this.headHave = chunk.copy(this.head, 0, off);
  }
}

/** `count` frames of the same `payloadBytes`-byte body, back to back in one buffer. */
export function repeatedFrames(count: number, payloadBytes: number): Buffer {
  const frame = 4 + payloadBytes;
  const out = Buffer.alloc(count * frame, 0x61);
  for (let i = 0; i < count; i++) out.writeUInt32BE(payloadBytes, i * frame);
  return out;
}

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
