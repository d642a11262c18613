/** The typed events a TcpTransport emits (eventemitter3), named for what happened. */
import type { SnapshotStatus } from '@pontoon/raft';
import type { HandshakeRefusal } from './errors.js';

export interface TransportEvents {
  /** Our connection to a peer completed its handshake. */
  peerConnected: (peerId: number) => void;
  /** Our connection to a peer was lost (it is redialled after a backoff). */
  peerDisconnected: (peerId: number, reason: string) => void;
  /** We refused an inbound connection (bad handshake, another cluster, unknown node, TLS). */
  connectionRefused: (info: { remoteAddress: string; reason: HandshakeRefusal; message: string }) => void;
  /** A peer refused our handshake. */
  handshakeRejected: (peerId: number, reason: HandshakeRefusal, message: string) => void;
  /** A handshaken peer sent something we cannot accept; its connection was closed. */
  badInputReceived: (info: { peerId: number; remoteAddress: string; error: Error }) => void;
  /** Messages to a peer were dropped (queue full, peer down or removed). */
  messagesDropped: (peerId: number, count: number) => void;
  /** A snapshot stream to a peer ended. */
  snapshotSent: (peerId: number, status: SnapshotStatus) => void;
}
