/** What the two processes of bench/transport agree on: modes, IPC messages, the wire workload. */
import { MessageType, newMessage } from '@pontoon/raft';
import type { Message } from '@pontoon/raft';

/** `pontoon`: TcpTransport; `bare`: a node:net socket writing length-prefixed frames. */
export type Impl = 'pontoon' | 'bare';
/**
 * `sink` counts what arrives; `echo` sends each message straight back; `echo-back` (bare only)
 * sends it back over a second connection that it dials to the sender, the way TcpTransport's
 * nodes each dial the other and answer over their own connection.
 */
export type Mode = 'sink' | 'echo' | 'echo-back';

export type ToChild = { kind: 'peer'; address: string } | { kind: 'reset' } | { kind: 'report' };
export type FromChild =
  | { kind: 'ready'; port: number }
  | { kind: 'reset' }
  | { kind: 'report'; messages: number; firstNs: number; lastNs: number; cpuNs: number };

export const PARENT_ID = 1;
export const CHILD_ID = 2;
export const CLUSTER_ID = 'bench';

/** A MsgApp of one entry with `payloadBytes` of data: what replication sends. */
export function appendMessage(from: number, to: number, index: number, data: Uint8Array): Message {
  return newMessage({
    type: MessageType.MsgApp,
    from,
    to,
    term: 5,
    logTerm: 5,
    index,
    commit: index,
    entries: [{ term: 5, index: index + 1, type: 0, data }],
  });
}

/**
 * Parses `[u32 BE length][payload]` frames and hands each out; what the bare receiver does. A
 * frame within one read is a view of it; only a frame that straddles reads is copied (into a
 * buffer of its own, as it arrives): the least a framed protocol must do. (It used to concatenate
 * the whole next read to the leftover, copying most reads again when frames straddle reads, as
 * they do for every write of 64 x 4 KiB: it made the baseline slower than it needs to be.)
 */
export class BareFrameCounter {
  /** The length prefix when a read ended inside it. */
  private readonly head = Buffer.alloc(4);
  private headHave = 0;
  /** The frame being assembled (prefix included) when one straddles reads, and its bytes so far. */
  private frame: Buffer | undefined;
  private have = 0;
  constructor(private readonly onFrame: (frame: Buffer) => void) {}

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
      this.frame = Buffer.allocUnsafe(4 + this.head.readUInt32BE(0));
      this.head.copy(this.frame, 0);
      this.have = 4;
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
        this.frame = Buffer.allocUnsafe(4 + len);
        this.have = chunk.copy(this.frame, 0, off);
        return;
      }
      this.onFrame(chunk.subarray(off, off + 4 + len));
      off += 4 + len;
    }
    if (off < n) this.headHave = chunk.copy(this.head, 0, off);
  }
}

/** `count` bare frames of `frameBytes` bytes each (length prefix included), in one buffer. */
export function bareBatch(count: number, frameBytes: number): Buffer {
  const out = Buffer.alloc(count * frameBytes, 7);
  for (let i = 0; i < count; i++) out.writeUInt32BE(frameBytes - 4, i * frameBytes);
  return out;
}
