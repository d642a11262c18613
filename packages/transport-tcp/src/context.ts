/** What the connections of one transport share (internal). */
import type { EventEmitter } from 'eventemitter3';
import type { Message, SnapshotSink, SnapshotStatus } from '@pontoon/raft';
import type { Counters } from './counters.js';
import type { TransportEvents } from './events.js';
import type { MessageEncoder } from './message-codec.js';
import type { ResolvedOptions } from './options.js';

export interface TransportContext {
  readonly options: ResolvedOptions;
  readonly counters: Counters;
  readonly events: EventEmitter<TransportEvents>;
  readonly encoder: MessageEncoder;
  isKnownPeer(peerId: number): boolean;
  /** Hands a checked message to the registered handler. */
  deliver(message: Message): void;
  /** Tells the core, after the current turn, that messages to `peerId` were dropped. */
  reportUnreachable(peerId: number): void;
  /** Where a streamed snapshot's body goes (the node's handler); rejects if there is none. */
  snapshotSink(message: Message): Promise<SnapshotSink>;
  /** Tells the core, after the current turn, how a snapshot send ended. */
  reportSnapshot(peerId: number, status: SnapshotStatus): void;
}
