/** Counters: what went in and out, per peer, and what was refused. Plain numbers, never reset. */

/** Counters of one peer. In/out counts are of Raft messages; bytes include framing. */
export interface PeerCounters {
  messagesOut: number;
  bytesOut: number;
  messagesIn: number;
  bytesIn: number;
  /** Messages dropped for this peer: queue full, peer down, or peer removed. */
  dropped: number;
  /** Connection attempts after the first (redials after a failure or an address change). */
  reconnects: number;
  snapshotsSent: number;
  snapshotsFailed: number;
}

/** Counters of the whole transport. */
export interface TransportCounters {
  /** Inbound connections whose handshake succeeded. */
  connectionsAccepted: number;
  /** Inbound connections refused: bad handshake, another cluster, unknown sender, TLS failure. */
  connectionsRefused: number;
  /** Handshaken connections closed for bad input (bad frame, invalid message, spoofing). */
  protocolErrors: number;
  /** Outbound handshakes the peer refused. */
  refusedByPeers: number;
  /**
   * TLS peers whose certificate is not for the node they claim to be (an inbound Hello from
   * another node, also counted in connectionsRefused) or that we dialled (an outbound server).
   */
  identityMismatches: number;
  peers: Record<number, PeerCounters>;
}

export function newPeerCounters(): PeerCounters {
  return {
    messagesOut: 0,
    bytesOut: 0,
    messagesIn: 0,
    bytesIn: 0,
    dropped: 0,
    reconnects: 0,
    snapshotsSent: 0,
    snapshotsFailed: 0,
  };
}

/** The live counters; `snapshot()` gives a copy safe to keep. */
export class Counters {
  connectionsAccepted = 0;
  connectionsRefused = 0;
  protocolErrors = 0;
  refusedByPeers = 0;
  identityMismatches = 0;
  private readonly peers = new Map<number, PeerCounters>();

  /** The counters of `peerId`, created on first use (inbound traffic may precede addPeer). */
  peer(peerId: number): PeerCounters {
    let c = this.peers.get(peerId);
    if (c === undefined) {
      c = newPeerCounters();
      this.peers.set(peerId, c);
    }
    return c;
  }

  snapshot(): TransportCounters {
    const peers: Record<number, PeerCounters> = {};
    for (const [id, c] of this.peers) peers[id] = { ...c };
    return {
      connectionsAccepted: this.connectionsAccepted,
      connectionsRefused: this.connectionsRefused,
      protocolErrors: this.protocolErrors,
      refusedByPeers: this.refusedByPeers,
      identityMismatches: this.identityMismatches,
      peers,
    };
  }
}
