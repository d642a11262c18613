import type { Message, SnapshotStatus } from './types.js';

/**
 * How Raft messages travel between nodes. Fire-and-forget: Raft tolerates loss, duplication and
 * reordering, so send() never throws for a network problem and never blocks. A transport tells
 * the node when a peer could not be reached (so the leader stops optimistic replication to it)
 * and how a snapshot send ended.
 */
export interface Transport {
  /** Queues messages for their peers (`message.to`). */
  send(messages: readonly Message[]): void;
  /** Registers the receiver of every message that arrives. One handler; a new one replaces it. */
  onMessage(handler: (message: Message) => void): void;
  /** Registers the callback for peers whose messages had to be dropped. */
  onUnreachable(handler: (peerId: number) => void): void;
  /** Registers the callback for finished or failed snapshot sends. */
  onSnapshotStatus(handler: (peerId: number, status: SnapshotStatus) => void): void;
  /** Adds or updates a peer's address (membership changes happen at run time). */
  addPeer(peerId: number, address: string): void;
  /** Forgets a peer and closes its connection. */
  removePeer(peerId: number): void;
  /** Closes every connection and timer. Idempotent. */
  close(): Promise<void>;
}
