/**
 * Messages too large for one frame (snapshots, and any message over the frame limit) travel as a
 * stream: a StreamBegin frame with the body's total size, then StreamChunk frames that the
 * receiver reassembles into one body and decodes like a Messages frame of one message. The
 * sender slices the message's own byte arrays (no copy of a snapshot), writes a chunk only when
 * the socket has room (backpressure), and learns of success from a StreamAck.
 */
import type { Message } from '@pontoon/raft';
import { MessageType } from '@pontoon/raft';
import { FrameError } from './errors.js';
import { FRAME_HEADER_BYTES, FrameKind, joinParts, readU32, writeFrameHeader, writeU32 } from './frame-codec.js';
import type { PayloadParts } from './frame-codec.js';
import type { EncodedBody } from './message-codec.js';

/** The largest body a stream can declare (its size travels as a u32). */
export const MAX_STREAM_BYTES = 0xffff_ffff;

/** A StreamBegin frame, whole. */
export function encodeStreamBegin(streamId: number, totalBytes: number): Buffer {
  const out = Buffer.allocUnsafe(FRAME_HEADER_BYTES + 8);
  writeFrameHeader(out, 0, FrameKind.StreamBegin, 8);
  writeU32(out, FRAME_HEADER_BYTES, streamId);
  writeU32(out, FRAME_HEADER_BYTES + 4, totalBytes);
  return out;
}

/** A StreamAck frame, whole. */
export function encodeStreamAck(streamId: number): Buffer {
  const out = Buffer.allocUnsafe(FRAME_HEADER_BYTES + 4);
  writeFrameHeader(out, 0, FrameKind.StreamAck, 4);
  writeU32(out, FRAME_HEADER_BYTES, streamId);
  return out;
}

export function decodeStreamBegin(payload: Uint8Array): { streamId: number; totalBytes: number } {
  if (payload.length !== 8) throw new FrameError(`stream begin of ${payload.length} bytes, expected 8`);
  return { streamId: readU32(payload, 0), totalBytes: readU32(payload, 4) };
}

export function decodeStreamAck(payload: Uint8Array): number {
  if (payload.length !== 4) throw new FrameError(`stream ack of ${payload.length} bytes, expected 4`);
  return readU32(payload, 0);
}

/** One large message being sent: its body as a list of byte ranges, and how far it has gone. */
export class OutboundStream {
  readonly streamId: number;
  readonly message: Message;
  readonly totalBytes: number;
  private readonly pieces: Uint8Array[];
  private piece = 0;
  private pieceOffset = 0;
  private sentBytes = 0;

  constructor(streamId: number, message: Message, body: EncodedBody) {
    this.streamId = streamId;
    this.message = message;
    this.totalBytes = body.length;
    const prefix = new Uint8Array(4 + body.header.length);
    writeU32(prefix, 0, body.header.length);
    prefix.set(body.header, 4);
    this.pieces = [prefix, ...body.payloads];
  }

  get isSnapshot(): boolean {
    return this.message.type === MessageType.MsgSnap;
  }

  get done(): boolean {
    return this.sentBytes === this.totalBytes;
  }

  /**
   * The next StreamChunk frame carrying at most `maxBytes` of the body, as buffers to write in
   * order (a header, then views of the message's bytes: a snapshot is never copied whole).
   */
  nextChunk(maxBytes: number): { buffers: Uint8Array[]; bytes: number } {
    const n = Math.min(maxBytes, this.totalBytes - this.sentBytes);
    const header = Buffer.allocUnsafe(FRAME_HEADER_BYTES + 4);
    writeFrameHeader(header, 0, FrameKind.StreamChunk, 4 + n);
    writeU32(header, FRAME_HEADER_BYTES, this.streamId);
    const buffers: Uint8Array[] = [header];
    let left = n;
    while (left > 0) {
      const p = this.pieces[this.piece]!;
      const take = Math.min(left, p.length - this.pieceOffset);
      buffers.push(p.subarray(this.pieceOffset, this.pieceOffset + take));
      this.pieceOffset += take;
      left -= take;
      if (this.pieceOffset === p.length) {
        this.piece++;
        this.pieceOffset = 0;
      }
    }
    this.sentBytes += n;
    return { buffers, bytes: FRAME_HEADER_BYTES + 4 + n };
  }
}

/** One large message being received. */
export class InboundStream {
  readonly streamId: number;
  private readonly body: Buffer;
  private received = 0;

  /** `totalBytes` must already be checked against the receiver's limit. */
  constructor(streamId: number, totalBytes: number) {
    this.streamId = streamId;
    this.body = Buffer.allocUnsafe(totalBytes);
  }

  get complete(): boolean {
    return this.received === this.body.length;
  }

  /** Adds a StreamChunk payload; throws FrameError if it is for another stream or overflows. */
  add(payload: PayloadParts, length: number): void {
    if (length < 4) throw new FrameError('stream chunk without a stream id');
    const head = payload[0]!;
    const id = readU32(head.length >= 4 ? head : joinParts(payload, length), 0);
    if (id !== this.streamId) throw new FrameError(`chunk of stream ${id} inside stream ${this.streamId}`);
    const n = length - 4;
    if (n > this.body.length - this.received) {
      throw new FrameError(`stream ${id} overflows its declared ${this.body.length} bytes`);
    }
    // Straight from the socket reads into the body: the chunk is never assembled on its own.
    let skip = 4;
    for (const p of payload) {
      if (skip >= p.length) {
        skip -= p.length;
        continue;
      }
      this.body.set(skip === 0 ? p : p.subarray(skip), this.received);
      this.received += p.length - skip;
      skip = 0;
    }
  }

  /** The reassembled body (once complete). */
  bytes(): Uint8Array {
    return this.body;
  }
}
