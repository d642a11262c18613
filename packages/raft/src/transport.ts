import type { Message } from './types.js';
import type { SnapshotSink, SnapshotSource } from './node/state-machine.js';

/**
 * Called on the receiving node when a streamed snapshot begins: returns where its bytes go (or
 * rejects, and the stream is refused).
 */
export type SnapshotStreamHandler = (message: Message) => Promise<SnapshotSink>;

/** The outcome of streaming a snapshot to a peer. */
export type SnapshotSendStatus = 'finished' | 'failed';

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
  onSnapshotStatus(handler: (peerId: number, status: SnapshotSendStatus) => void): void;
  /** Adds or updates a peer's address (membership changes happen at run time). */
  addPeer(peerId: number, address: string): void;
  /** Forgets a peer and closes its connection. */
  removePeer(peerId: number): void;
  /** Closes every connection and timer. Idempotent. */
  close(): Promise<void>;
  /**
   * Starts accepting the peers' connections, for a transport that must be told to. RaftNode
   * calls it when it starts (a node whose transport never listens is deaf: every member stays
   * a pre-candidate forever), so it must be idempotent and safe to call while a call by the
   * application is still pending. A rejection stops the node.
   */
  listen?(): Promise<unknown>;
  /**
   * Streaming snapshots, needed by an OnDiskStateMachine (optional otherwise). Sends the MsgSnap
   * `message` (its `snapshot.data` is small: RaftNode's header) followed by `source`'s chunks,
   * pulled only as the peer takes them (backpressure: at most a bounded window of chunks in
   * memory). Closes `source` when done, either way, and reports the outcome through
   * onSnapshotStatus: 'finished' only once the receiver's sink finished.
   */
  sendSnapshot?(message: Message, source: SnapshotSource): void;
  /**
   * Registers the receiving side of sendSnapshot: for each stream, the handler gives a sink; the
   * transport writes the chunks to it one at a time (a slow sink slows the sender), calls
   * finish(), and only then delivers the message to the onMessage handler. A stream cut short
   * calls abort() and delivers nothing.
   */
  onSnapshotStream?(handler: SnapshotStreamHandler): void;
}
