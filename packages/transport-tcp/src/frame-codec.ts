/**
 * Frames: `[u32 BE payload length][u8 kind][payload]`. The length prefix is checked against the
 * current maximum as soon as its four bytes are in, so a huge prefix never makes us buffer.
 */
import { FrameError } from './errors.js';

/** Bytes before a frame's payload: the length prefix and the kind. */
export const FRAME_HEADER_BYTES = 5;

/** What a frame carries. The numbers are wire format: never renumber. */
export enum FrameKind {
  /** Client to server, first frame: protocol version, cluster id, sender, receiver (msgpack). */
  Hello = 1,
  /** Server to client: the handshake is accepted. Empty payload. */
  Welcome = 2,
  /** Server to client: the handshake is refused (msgpack [reason, text]); the server closes. */
  Refused = 3,
  /** A batch of messages (see message-codec). */
  Messages = 4,
  /** Start of a message too large for one frame: `[u32 stream id][u32 total bytes]`. */
  StreamBegin = 5,
  /** Part of a streamed message: `[u32 stream id][bytes]`. */
  StreamChunk = 6,
  /** Server to client: a streamed message was received and accepted: `[u32 stream id]`. */
  StreamAck = 7,
}

/** Writes a frame header for `payloadLength` bytes of `kind` at `offset` of `target`. */
export function writeFrameHeader(target: Uint8Array, offset: number, kind: FrameKind, payloadLength: number): void {
  target[offset] = payloadLength >>> 24;
  target[offset + 1] = (payloadLength >>> 16) & 0xff;
  target[offset + 2] = (payloadLength >>> 8) & 0xff;
  target[offset + 3] = payloadLength & 0xff;
  target[offset + 4] = kind;
}

/** A whole frame (header and payload) in one buffer. */
export function encodeFrame(kind: FrameKind, payload: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(FRAME_HEADER_BYTES + payload.length);
  writeFrameHeader(out, 0, kind, payload.length);
  out.set(payload, FRAME_HEADER_BYTES);
  return out;
}

export function readU32(b: Uint8Array, offset: number): number {
  return ((b[offset]! << 24) >>> 0) + (b[offset + 1]! << 16) + (b[offset + 2]! << 8) + b[offset + 3]!;
}

export function writeU32(b: Uint8Array, offset: number, v: number): void {
  b[offset] = v >>> 24;
  b[offset + 1] = (v >>> 16) & 0xff;
  b[offset + 2] = (v >>> 8) & 0xff;
  b[offset + 3] = v & 0xff;
}

/**
 * Splits a byte stream into frames. Payloads handed to `onFrame` are views: of the incoming
 * chunk when a frame lies within one, else of a buffer assembled for that frame alone. They stay
 * valid (nothing reuses them), but a consumer that keeps bytes for long should copy them so as
 * not to pin a whole socket read.
 */
export class FrameDecoder {
  /** The largest payload accepted; may change (a small limit before the handshake). */
  maxPayloadBytes: number;
  private readonly onFrame: (kind: number, payload: Uint8Array) => void;
  private parts: Uint8Array[] = [];
  private buffered = 0;
  /** Payload length of the frame being assembled, once its header is complete; else -1. */
  private expected = -1;
  private kind = 0;
  private stopped = false;

  constructor(maxPayloadBytes: number, onFrame: (kind: number, payload: Uint8Array) => void) {
    this.maxPayloadBytes = maxPayloadBytes;
    this.onFrame = onFrame;
  }

  /** Bytes received but not yet handed out as a frame (a partial frame at end of stream). */
  get pendingBytes(): number {
    return this.buffered;
  }

  /** Stops delivering frames (the connection is being closed). */
  stop(): void {
    this.stopped = true;
    this.parts = [];
    this.buffered = 0;
  }

  /** Feeds bytes; throws FrameError on an oversize length prefix. */
  push(chunk: Uint8Array): void {
    if (this.stopped) return;
    let data = chunk;
    if (this.buffered > 0) {
      // Slow path: a frame spans reads. Gather just enough for the header, then the payload.
      this.parts.push(chunk);
      this.buffered += chunk.length;
      if (this.expected < 0) {
        if (this.buffered < FRAME_HEADER_BYTES) return;
        data = this.collapse();
        this.readHeader(data, 0);
        if (data.length - FRAME_HEADER_BYTES < this.expected) {
          this.parts = [data];
          return;
        }
      } else {
        if (this.buffered - FRAME_HEADER_BYTES < this.expected) return;
        data = this.collapse();
      }
      this.parts = [];
      this.buffered = 0;
      this.expected = -1;
    }
    let off = 0;
    while (!this.stopped) {
      const left = data.length - off;
      if (left < FRAME_HEADER_BYTES) break;
      this.readHeader(data, off);
      if (left - FRAME_HEADER_BYTES < this.expected) break;
      const start = off + FRAME_HEADER_BYTES;
      off = start + this.expected;
      this.expected = -1;
      this.onFrame(this.kind, data.subarray(start, off));
    }
    if (this.stopped) return;
    if (off < data.length) {
      // Keep the tail as a view; it is copied once, when the rest arrives (collapse).
      this.parts = [data.subarray(off)];
      this.buffered = data.length - off;
    }
  }

  private readHeader(b: Uint8Array, off: number): void {
    const len = readU32(b, off);
    if (len > this.maxPayloadBytes) {
      throw new FrameError(`frame of ${len} bytes exceeds the limit of ${this.maxPayloadBytes}`);
    }
    this.expected = len;
    this.kind = b[off + 4]!;
  }

  private collapse(): Uint8Array {
    return this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts, this.buffered);
  }
}
