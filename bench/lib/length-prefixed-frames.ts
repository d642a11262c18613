/**
 * `[u32 BE length][body]` frames, the least a framed protocol must do: what the bare-socket
 * baselines (bench/transport) and the minimal replicator (bench/floor) put on the wire.
 */

/**
 * Splits a byte stream into frames and hands each out, with its length prefix or without. A frame
 * within one read is a view of it; only a frame that straddles reads is copied (into a buffer of
 * its own, as it arrives). (Concatenating the next read to the leftover instead copies most reads
 * again when frames straddle reads, as they do for every write of 64 x 4 KiB: it made the
 * baseline slower than it needs to be.)
 */
export class FrameReader {
  /** The length prefix when a read ended inside it. */
  private readonly head = Buffer.alloc(4);
  private headHave = 0;
  /** The frame being assembled when one straddles reads, and its bytes so far. */
  private frame: Buffer | undefined;
  private have = 0;
  /** Bytes of the prefix left out of what is handed out: 4, or 0 with the prefix. */
  private readonly skip: number;

  constructor(
    private readonly onFrame: (frame: Buffer) => void,
    options: { withPrefix?: boolean } = {},
  ) {
    this.skip = options.withPrefix === true ? 0 : 4;
  }

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
      this.frame = Buffer.allocUnsafe(this.head.readUInt32BE(0) + 4 - this.skip);
      this.have = this.skip === 0 ? this.head.copy(this.frame, 0) : 0;
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
        this.frame = Buffer.allocUnsafe(len + 4 - this.skip);
        this.have = chunk.copy(this.frame, 0, off + this.skip);
        return;
      }
      this.onFrame(chunk.subarray(off + this.skip, off + 4 + len));
      off += 4 + len;
    }
    if (off < n) this.headHave = chunk.copy(this.head, 0, off);
  }
}

/** `count` frames of the same `payloadBytes`-byte body (filled with `fill`), back to back in one buffer. */
export function repeatedFrames(count: number, payloadBytes: number, fill = 0x61): Buffer {
  const frame = 4 + payloadBytes;
  const out = Buffer.alloc(count * frame, fill);
  for (let i = 0; i < count; i++) out.writeUInt32BE(payloadBytes, i * frame);
  return out;
}
