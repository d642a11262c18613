/**
 * Frames: `[u32 BE payload length][u8 kind][payload]`. The length prefix is checked against the
 * current maximum as soon as its four bytes are in, so a huge prefix never makes us buffer.
 */
import { FrameError } from './errors.js';

const EMPTY = new Uint8Array(0);

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
  /** Start of a snapshot whose body streams from a state machine: see snapshot-streaming. */
  SnapshotBegin = 8,
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
 * A frame's payload as it arrived: views of the socket reads it lies in, in order. Almost always
 * one view; several when the frame straddled reads (a frame of a 64-message batch of 4 KiB
 * entries spans five reads of 64 KiB), so that nobody has to copy a frame to read it.
 */
export type PayloadParts = readonly Uint8Array[];

/** The payload in one buffer: the single part itself, or (when it straddled reads) a copy. */
export function joinParts(parts: PayloadParts, length: number): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  const out = new Uint8Array(length);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/**
 * Splits a byte stream into frames, without copying them: a frame's payload is handed to
 * `onFrame` as views of the reads it lies in (see PayloadParts).
 *
 * Views keep their whole read alive (each read of a socket is a buffer of its own). So that a
 * frame straddling reads does not keep most of a read alive for a few bytes, the start of a frame
 * left at the end of a read is copied out when it is less than half of that read; a larger start
 * stays a view. `bufferBytes` then says how large the buffers are that the payloads handed out
 * by the last push() are views of, for the consumer to judge whether keeping views of them is
 * worth it (see MessageDecoder).
 */
export class FrameDecoder {
  /** The largest payload accepted; may change (a small limit before the handshake). */
  maxPayloadBytes: number;
  /**
   * The total size of the buffers that the payloads handed out by the current (or last) push()
   * are views of: the read pushed, and those that the start of a frame straddling reads came
   * in (once each).
   */
  bufferBytes = 0;
  private readonly onFrame: (kind: number, payload: PayloadParts, length: number) => void;
  /** The frame header when a read ended inside it. */
  private readonly header = new Uint8Array(FRAME_HEADER_BYTES);
  private headerHave = 0;
  /** Payload length and kind of the frame whose payload is incomplete; -1 when none is. */
  private expected = -1;
  private kind = 0;
  /** The payload of that frame received so far, and its length. */
  private parts: Uint8Array[] = [];
  private have = 0;
  /** Reused for the payload of a frame within one read: the common case allocates nothing. */
  private readonly single: Uint8Array[] = [EMPTY];
  private stopped = false;

  constructor(maxPayloadBytes: number, onFrame: (kind: number, payload: PayloadParts, length: number) => void) {
    this.maxPayloadBytes = maxPayloadBytes;
    this.onFrame = onFrame;
  }

  /** Bytes received but not yet handed out as a frame (a partial frame at end of stream). */
  get pendingBytes(): number {
    return this.headerHave + (this.expected < 0 ? 0 : FRAME_HEADER_BYTES + this.have);
  }

  /** Stops delivering frames (the connection is being closed). */
  stop(): void {
    this.stopped = true;
    this.parts = [];
    this.have = 0;
    this.expected = -1;
    this.headerHave = 0;
  }

  /** Feeds bytes; throws FrameError on an oversize length prefix. */
  push(chunk: Uint8Array): void {
    if (this.stopped) return;
    const n = chunk.length;
    const chunkBufferBytes = chunk.buffer.byteLength;
    this.bufferBytes = 0;
    let off = 0;
    if (this.headerHave > 0) {
      // A read ended inside a frame header: complete it (a few bytes, copied).
      const take = Math.min(FRAME_HEADER_BYTES - this.headerHave, n);
      for (let i = 0; i < take; i++) this.header[this.headerHave + i] = chunk[i]!;
      this.headerHave += take;
      off = take;
      if (this.headerHave >= 4) this.checkLength(readU32(this.header, 0));
      if (this.headerHave < FRAME_HEADER_BYTES) return;
      this.headerHave = 0;
      this.expected = readU32(this.header, 0);
      this.kind = this.header[4]!;
      this.have = 0;
    }
    if (this.expected >= 0) {
      // A frame straddles reads: this read completes it, or is part of it.
      const need = this.expected - this.have;
      if (n - off < need) {
        this.keep(chunk, off, n, chunkBufferBytes);
        return;
      }
      if (need > 0 || this.parts.length === 0) this.parts.push(chunk.subarray(off, off + need));
      off += need;
      const parts = this.parts;
      for (let i = 0; i < parts.length; i++) {
        // The part of this read is counted once, below.
        if (parts[i]!.buffer !== chunk.buffer) this.bufferBytes += parts[i]!.buffer.byteLength;
      }
      this.bufferBytes += chunkBufferBytes;
      const length = this.expected;
      this.parts = [];
      this.have = 0;
      this.expected = -1;
      this.onFrame(this.kind, parts, length);
    } else if (n > 0) {
      this.bufferBytes += chunkBufferBytes;
    }
    // Fast path: frames whole within this read.
    const single = this.single;
    while (!this.stopped) {
      const left = n - off;
      if (left < FRAME_HEADER_BYTES) break;
      const len = readU32(chunk, off);
      this.checkLength(len);
      const kind = chunk[off + 4]!;
      const start = off + FRAME_HEADER_BYTES;
      if (left - FRAME_HEADER_BYTES < len) {
        this.expected = len;
        this.kind = kind;
        this.have = 0;
        this.keep(chunk, start, n, chunkBufferBytes);
        return;
      }
      off = start + len;
      single[0] = chunk.subarray(start, off);
      this.onFrame(kind, single, len);
    }
    single[0] = EMPTY; // keeps no read alive
    if (this.stopped || off === n) return;
    // Fewer than a header's bytes are left: keep them (copied) for the next read.
    for (let i = off; i < n; i++) this.header[i - off] = chunk[i]!;
    this.headerHave = n - off;
    if (this.headerHave >= 4) this.checkLength(readU32(this.header, 0));
  }

  /** Keeps `chunk[start, end)`, part of an incomplete payload: a view, or a copy if small. */
  private keep(chunk: Uint8Array, start: number, end: number, chunkBufferBytes: number): void {
    if (end === start) return;
    const n = end - start;
    // A copy when a view would keep alive a read more than twice its size (see the class doc).
    let part = chunk.subarray(start, end);
    if (n * 2 < chunkBufferBytes) {
      const copy = Buffer.allocUnsafeSlow(n); // a buffer of its own, not zero-filled
      copy.set(part);
      part = copy;
    }
    this.parts.push(part);
    this.have += n;
  }

  private checkLength(len: number): void {
    if (len > this.maxPayloadBytes) {
      throw new FrameError(`frame of ${len} bytes exceeds the limit of ${this.maxPayloadBytes}`);
    }
  }
}
