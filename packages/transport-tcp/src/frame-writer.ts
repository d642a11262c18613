/**
 * Lays the Messages frames of one write out for the socket, copying as little as pays. The
 * frame header, the body's header and small byte fields are copied, one after the other, into
 * a slab; a large byte field is not copied but written as it is, between two pieces of slab, and
 * the socket hands every piece of the write to the kernel in one writev (corked).
 *
 * What it costs here (bench/transport): laying a 64-entry batch of 4 KiB entries into a fresh
 * 263 KiB frame cost more than the kernel's own copy of it (fresh memory: page faults, and an
 * external allocation that makes V8 collect sooner); each extra piece written costs Node about
 * 0.5 us, against 0.1 us to copy 1 KiB into memory already in use. Hence: fields under
 * COPY_LIMIT are copied; and so is everything in a write of at most SMALL_WRITE bytes (one
 * message of 4 KiB goes out as one buffer, not two pieces). The slab is reused from its start
 * as soon as the socket has written all it was given (typical unless the peer lags behind), so
 * copies land in memory that is already mapped and warm; a full slab is recycled once the
 * socket has written its last piece.
 *
 * A byte field written as it is must not change until the socket has written it: entries and
 * snapshots are immutable once made, as everywhere in the core.
 */
import type { Writable } from 'node:stream';
import { FRAME_HEADER_BYTES, FrameKind, writeFrameHeader, writeU32 } from './frame-codec.js';
import type { EncodedBody } from './message-codec.js';

/** Byte fields at least this long are written as they are (unless the write is small). */
export const COPY_LIMIT = 1024;

/** A write of at most this many bytes is copied whole into one buffer. */
export const SMALL_WRITE = 16 * 1024;

/** The size of a slab; a frame whose copied part is larger gets a buffer of its own. */
const SLAB_BYTES = 64 * 1024;

/** Lays out and writes the frames of one write to one socket (one per connection). */
export class FrameWriter {
  private slab: Buffer | undefined;
  private slabPos = 0;
  /** A full slab the socket may still be reading from; recycled once its last write is done. */
  private retired: Buffer | undefined;
  /** A slab the socket is done with, for when the current one is full. */
  private spare: Buffer | undefined;
  /** Counts reset(): a write of a socket that is gone recycles nothing. */
  private generation = 0;
  private buffers: Buffer[] = [];
  /** Bytes of the frames added since the last writeTo(). */
  private bytes = 0;

  /** Adds a Messages frame carrying `body`; `writeBytes` is the size of the whole write. */
  add(body: EncodedBody, writeBytes: number): void {
    const header = body.header;
    const payloads = body.payloads;
    const copyAll = writeBytes <= SMALL_WRITE;
    let copied = FRAME_HEADER_BYTES + 4 + header.length;
    for (let i = 0; i < payloads.length; i++) {
      const n = payloads[i]!.length;
      if (copyAll || n < COPY_LIMIT) copied += n;
    }
    let slab = this.slab;
    let pos = this.slabPos;
    if (slab === undefined || slab.length - pos < copied) {
      pos = 0;
      if (copied <= SLAB_BYTES) {
        if (this.slab !== undefined) this.retired = this.slab;
        slab = this.spare ?? Buffer.allocUnsafeSlow(SLAB_BYTES);
        this.spare = undefined;
        this.slab = slab;
      } else {
        slab = Buffer.allocUnsafeSlow(copied);
      }
    }
    let pieceStart = pos;
    writeFrameHeader(slab, pos, FrameKind.Messages, body.length);
    writeU32(slab, pos + FRAME_HEADER_BYTES, header.length);
    pos += FRAME_HEADER_BYTES + 4;
    slab.set(header, pos);
    pos += header.length;
    for (let i = 0; i < payloads.length; i++) {
      const p = payloads[i]!;
      if (copyAll || p.length < COPY_LIMIT) {
        slab.set(p, pos);
        pos += p.length;
        continue;
      }
      if (pos > pieceStart) this.buffers.push(slab.subarray(pieceStart, pos));
      this.buffers.push(Buffer.from(p.buffer, p.byteOffset, p.length));
      pieceStart = pos;
    }
    if (pos > pieceStart) this.buffers.push(slab.subarray(pieceStart, pos));
    if (slab === this.slab) this.slabPos = pos;
    this.bytes += FRAME_HEADER_BYTES + body.length;
  }

  /**
   * Writes the frames added to `socket` (one write, or one corked writev of every piece) and
   * returns their size in bytes.
   */
  writeTo(socket: Writable): number {
    const buffers = this.buffers;
    const bytes = this.bytes;
    // Writes complete in order: when this one is done, so is every piece of a retired slab.
    let done: (() => void) | undefined;
    const retired = this.retired;
    if (retired !== undefined) {
      this.retired = undefined;
      const generation = this.generation;
      done = () => {
        if (this.generation === generation) this.spare = retired;
      };
    }
    const last = buffers.length - 1;
    if (last === 0) {
      socket.write(buffers[0]!, done);
    } else {
      socket.cork();
      for (let i = 0; i < last; i++) socket.write(buffers[i]!);
      socket.write(buffers[last]!, done);
      socket.uncork();
    }
    this.buffers = [];
    this.bytes = 0;
    // The kernel has taken every piece if nothing is left unwritten: the slab is free again
    // from its start. Else the socket still reads from it, and later frames go after.
    if (socket.writableLength === 0) this.slabPos = 0;
    return bytes;
  }

  /** Forgets the slab (the socket that was using it is gone; it may still hold pieces). */
  reset(): void {
    this.generation++;
    this.slab = undefined;
    this.retired = undefined;
    this.spare = undefined;
    this.slabPos = 0;
    this.buffers = [];
    this.bytes = 0;
  }
}
