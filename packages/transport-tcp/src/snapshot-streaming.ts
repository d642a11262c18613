/**
 * Snapshots of on-disk state machines (Transport.sendSnapshot): a MsgSnap followed by a body
 * that never exists whole in memory, on either side.
 *
 * Wire: a SnapshotBegin frame `[u32 stream id][f64 body bytes][the MsgSnap, as a Messages
 * payload]`, then StreamChunk frames of that stream id (which may interleave with other frames),
 * then the receiver's StreamAck once its sink has finished. The sender pulls the next chunk from
 * the SnapshotSource only when the socket has room; the receiver stops reading the socket while
 * its sink has a window of chunks to write, so a slow disk on the receiver slows the sender down
 * through TCP's own flow control. Memory is bounded by a few chunks on each side.
 */
import type { Message, SnapshotSink, SnapshotSource } from '@pontoon/raft';
import { FrameError } from './errors.js';
import { FRAME_HEADER_BYTES, FrameKind, readU32, writeFrameHeader, writeU32 } from './frame-codec.js';
import type { EncodedBody } from './message-codec.js';

/** Chunks a receiver lets wait for its sink before it stops reading the socket. */
export const RECEIVE_WINDOW_CHUNKS = 4;

/** The SnapshotBegin frame, as buffers to write in order. */
export function encodeSnapshotBegin(streamId: number, bodyBytes: number, message: EncodedBody): Uint8Array[] {
  const head = Buffer.allocUnsafe(FRAME_HEADER_BYTES + 12 + 4);
  // A Messages payload is `[u32 header length][header][payloads]`, `message.length` bytes in all.
  writeFrameHeader(head, 0, FrameKind.SnapshotBegin, 12 + message.length);
  writeU32(head, FRAME_HEADER_BYTES, streamId);
  head.writeDoubleBE(bodyBytes, FRAME_HEADER_BYTES + 4);
  writeU32(head, FRAME_HEADER_BYTES + 12, message.header.length);
  return [head, message.header, ...message.payloads];
}

/** Splits a SnapshotBegin payload; the message part is a Messages payload. */
export function decodeSnapshotBegin(payload: Uint8Array): { streamId: number; bodyBytes: number; message: Uint8Array } {
  if (payload.length < 16) throw new FrameError(`snapshot begin of ${payload.length} bytes, expected at least 16`);
  const streamId = readU32(payload, 0);
  const bodyBytes = new DataView(payload.buffer, payload.byteOffset + 4, 8).getFloat64(0);
  if (!Number.isSafeInteger(bodyBytes) || bodyBytes < 0) throw new FrameError(`snapshot begin declares ${bodyBytes} body bytes`);
  return { streamId, bodyBytes, message: payload.subarray(12) };
}

/** The StreamChunk frame header for `bytes` of stream `streamId`. */
function chunkHeader(streamId: number, bytes: number): Buffer {
  const header = Buffer.allocUnsafe(FRAME_HEADER_BYTES + 4);
  writeFrameHeader(header, 0, FrameKind.StreamChunk, 4 + bytes);
  writeU32(header, FRAME_HEADER_BYTES, streamId);
  return header;
}

/** Where an outbound snapshot writes: the socket, as PeerConnection owns it. */
export interface SnapshotWire {
  /** Bytes written but not yet taken by the kernel. */
  readonly writableLength: number;
  write(buffers: readonly Uint8Array[]): void;
}

/** One snapshot being sent: pulls chunks from its source as the wire takes them. */
export class OutboundSnapshot {
  readonly streamId: number;
  readonly message: Message;
  readonly source: SnapshotSource;
  private readonly iterator: AsyncIterator<Uint8Array>;
  private leftover: Uint8Array | undefined;
  private pulling = false;
  private ended = false;
  private begun = false;
  private closed = false;
  private sentBytes = 0;

  constructor(streamId: number, message: Message, source: SnapshotSource) {
    this.streamId = streamId;
    this.message = message;
    this.source = source;
    this.iterator = source.chunks()[Symbol.asyncIterator]();
  }

  /** Whether every byte was written (the ack is what remains). */
  get done(): boolean {
    return this.ended && this.leftover === undefined;
  }

  /**
   * Writes what the wire has room for; when it must wait for the source, calls `resume` once a
   * chunk is in (or `fail` if the source failed). `begin` encodes the SnapshotBegin frame.
   */
  pump(wire: SnapshotWire, chunkBytes: number, begin: () => Uint8Array[], resume: () => void, fail: (err: Error) => void): void {
    if (this.closed) return;
    if (!this.begun) {
      wire.write(begin());
      this.begun = true;
    }
    while (!this.pulling && !this.done && wire.writableLength < chunkBytes) {
      const left = this.leftover;
      if (left === undefined) {
        this.pull(resume, fail);
        return;
      }
      const n = Math.min(chunkBytes, left.length);
      wire.write([chunkHeader(this.streamId, n), left.subarray(0, n)]);
      this.sentBytes += n;
      this.leftover = n === left.length ? undefined : left.subarray(n);
    }
  }

  private pull(resume: () => void, fail: (err: Error) => void): void {
    this.pulling = true;
    this.iterator.next().then(
      (r) => {
        this.pulling = false;
        if (this.closed) return;
        if (r.done === true) {
          this.ended = true;
          if (this.sentBytes !== this.source.bytes) {
            fail(new Error(`snapshot source yielded ${this.sentBytes} bytes, declared ${this.source.bytes}`));
            return;
          }
        } else if (r.value.length > 0) {
          if (this.sentBytes + r.value.length > this.source.bytes) {
            fail(new Error(`snapshot source yields more than the ${this.source.bytes} bytes it declared`));
            return;
          }
          this.leftover = r.value;
        }
        resume();
      },
      (err: unknown) => {
        this.pulling = false;
        if (!this.closed) fail(err instanceof Error ? err : new Error(String(err)));
      },
    );
  }

  /** Releases the source (once). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    // A pull in flight finishes first; return() then ends the generator (its finally blocks run).
    void Promise.resolve(this.iterator.return?.())
      .catch(() => {})
      .then(() => this.source.close())
      .catch(() => {});
  }
}

/**
 * One snapshot being received: its chunks go to the sink in order, at most
 * RECEIVE_WINDOW_CHUNKS waiting; `pause`/`resume` stop and restart reading the socket.
 */
export class InboundSnapshot {
  readonly streamId: number;
  readonly message: Message;
  readonly bodyBytes: number;
  private received = 0;
  private waiting = 0;
  private tail: Promise<void>;
  private sink: SnapshotSink | undefined;
  private failed = false;

  constructor(
    streamId: number,
    message: Message,
    bodyBytes: number,
    sink: Promise<SnapshotSink>,
    private readonly flow: { pause(): void; resume(): void; fail(err: unknown): void },
  ) {
    this.streamId = streamId;
    this.message = message;
    this.bodyBytes = bodyBytes;
    // Until the sink exists, what arrives waits in the window like any chunk.
    this.tail = this.watch(
      sink.then((s) => {
        this.sink = s;
      }),
    );
  }

  /** A failure anywhere in the chain ends the stream at once, not after the whole body arrived. */
  private watch(p: Promise<void>): Promise<void> {
    p.catch((err: unknown) => {
      if (this.failed) return;
      this.abort();
      this.flow.fail(err);
    });
    return p;
  }

  get complete(): boolean {
    return this.received === this.bodyBytes;
  }

  /**
   * Queues a chunk's bytes (copied: the socket's reads are not ours to keep). Throws FrameError
   * if the chunk overflows the declared size.
   */
  add(bytes: Uint8Array): void {
    if (bytes.length > this.bodyBytes - this.received) {
      throw new FrameError(`snapshot stream ${this.streamId} overflows its declared ${this.bodyBytes} bytes`);
    }
    this.received += bytes.length;
    const copy = Uint8Array.prototype.slice.call(bytes);
    if (++this.waiting >= RECEIVE_WINDOW_CHUNKS) this.flow.pause();
    this.tail = this.watch(
      this.tail.then(async () => {
        await this.sink!.write(copy);
        if (--this.waiting === RECEIVE_WINDOW_CHUNKS - 1) this.flow.resume();
      }),
    );
  }

  /** Once complete: resolves when the sink has finished (the staged copy is durable). */
  finish(): Promise<void> {
    this.tail = this.watch(this.tail.then(() => this.sink!.finish()));
    return this.tail;
  }

  /** The stream was cut short or failed: drops the partial copy. */
  abort(): void {
    if (this.failed) return;
    this.failed = true;
    const drop = (): Promise<void> | undefined => this.sink?.abort();
    void this.tail.then(drop, drop).catch(() => {});
  }
}
