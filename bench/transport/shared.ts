/** What the two processes of bench/transport agree on: modes, IPC messages, the wire workload. */
import { MessageType, newMessage } from '@pontoon/raft';
import type { Message } from '@pontoon/raft';

/** `pontoon`: TcpTransport; `bare`: a node:net socket writing length-prefixed frames. */
export type Impl = 'pontoon' | 'bare';
/** `sink` counts what arrives; `echo` sends each message straight back. */
export type Mode = 'sink' | 'echo';

export type ToChild = { kind: 'peer'; address: string } | { kind: 'reset' } | { kind: 'report' };
export type FromChild =
  | { kind: 'ready'; port: number }
  | { kind: 'reset' }
  | { kind: 'report'; messages: number; firstNs: number; lastNs: number };

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

/** Parses `[u32 BE length][payload]` frames and counts them; what the bare receiver does. */
export class BareFrameCounter {
  private partial: Buffer | undefined;
  constructor(private readonly onFrame: (frame: Buffer) => void) {}

  push(chunk: Buffer): void {
    let buf = this.partial === undefined ? chunk : Buffer.concat([this.partial, chunk]);
    this.partial = undefined;
    let off = 0;
    while (buf.length - off >= 4) {
      const len = buf.readUInt32BE(off);
      if (buf.length - off - 4 < len) break;
      this.onFrame(buf.subarray(off, off + 4 + len));
      off += 4 + len;
    }
    if (off < buf.length) this.partial = buf.subarray(off);
    buf = Buffer.alloc(0);
  }
}

/** `count` bare frames of `frameBytes` bytes each (length prefix included), in one buffer. */
export function bareBatch(count: number, frameBytes: number): Buffer {
  const out = Buffer.alloc(count * frameBytes, 7);
  for (let i = 0; i < count; i++) out.writeUInt32BE(frameBytes - 4, i * frameBytes);
  return out;
}
