/** What the two processes of bench/transport agree on: modes, IPC messages, the wire workload. */
import { MessageType, newMessage } from '@pontoon/raft/core';
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
