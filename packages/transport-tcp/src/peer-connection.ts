/**
 * Our connection to one peer: dial, handshake, and the outbound queue. Messages queued during a
 * turn of the event loop go out in one write (`flush`, called by the transport once per turn).
 * The queue is bounded in bytes (queued plus unsent socket bytes); past the bound, or while the
 * peer is down, messages are dropped and the core is told (reportUnreachable), since Raft
 * resends what matters and a stale backlog only delays the fresh messages behind it.
 * A lost connection is redialled after an exponential, jittered backoff.
 */
import net from 'node:net';
import tls from 'node:tls';
import { MessageType } from '@pontoon/raft';
import type { Message, SnapshotSource } from '@pontoon/raft';
import { Backoff } from './backoff.js';
import type { TransportContext } from './context.js';
import { HandshakeError } from './errors.js';
import { encodeFrame, FrameDecoder, FrameKind, joinParts } from './frame-codec.js';
import { decodeRefusal, encodeHello, MAX_HANDSHAKE_FRAME_BYTES, PROTOCOL_VERSION } from './handshake.js';
import { FrameWriter } from './frame-writer.js';
import { describeCertificate, nodeIdOfCertificate } from './node-identity.js';
import { estimateMessageBytes } from './message-codec.js';
import { parseAddress } from './options.js';
import type { PeerCounters } from './counters.js';
import { decodeStreamAck, encodeStreamBegin, OutboundStream } from './snapshot-chunking.js';
import { encodeSnapshotBegin, OutboundSnapshot } from './snapshot-streaming.js';

type State = 'connecting' | 'connected' | 'backoff' | 'closed';

/** Large messages waiting or in flight to one peer, at most. */
const MAX_STREAMS = 4;

interface AwaitedAck {
  stream: OutboundStream;
  timer: NodeJS.Timeout;
}

export class PeerConnection {
  readonly peerId: number;
  private address: string;
  private host: string;
  private port: number;
  private state: State = 'connecting';
  private socket: net.Socket | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly backoff: Backoff;
  private readonly ctx: TransportContext;
  private readonly counters: PeerCounters;
  private pending: Message[] = [];
  private pendingBytes = 0;
  private readonly writer = new FrameWriter();
  private streams: OutboundStream[] = [];
  private streamBegun = false;
  private readonly awaitingAck = new Map<number, AwaitedAck>();
  private nextStreamId = 1;
  /** The streamed snapshot being sent (Transport.sendSnapshot), at most one per peer. */
  private snapshotOut: OutboundSnapshot | undefined;
  /** Its ack timer, once every byte is written. */
  private snapshotAckTimer: NodeJS.Timeout | undefined;
  /** Whether a failure since the last success was already logged (one warning per outage). */
  private outageLogged = false;

  constructor(ctx: TransportContext, peerId: number, address: string) {
    this.ctx = ctx;
    this.peerId = peerId;
    this.address = address;
    ({ host: this.host, port: this.port } = parseAddress(address));
    this.backoff = new Backoff(ctx.options.backoff);
    this.counters = ctx.counters.peer(peerId);
    this.connect();
  }

  get connected(): boolean {
    return this.state === 'connected';
  }

  /** Bytes waiting for this peer: queued messages and socket bytes not yet in the kernel. */
  get queuedBytes(): number {
    return this.pendingBytes + (this.socket?.writableLength ?? 0);
  }

  /**
   * Queues `m`. Returns false if it was dropped (the caller reports the peer unreachable).
   * A snapshot, or a message too large for one frame, is streamed in chunks.
   */
  enqueue(m: Message): boolean {
    if (this.state === 'closed' || this.state === 'backoff') return this.drop(m);
    const size = estimateMessageBytes(m);
    if (m.type === MessageType.MsgSnap || size > this.ctx.options.maxFrameBytes) return this.enqueueStream(m);
    if (this.queuedBytes + size > this.ctx.options.maxQueueBytes) return this.drop(m);
    this.pending.push(m);
    this.pendingBytes += size;
    return true;
  }

  /** Writes everything queued: one buffer (one frame, or several if over the frame limit). */
  flush(): void {
    if (this.state !== 'connected') return;
    if (this.pending.length > 0) this.writePending();
    if (this.streams.length > 0) this.pumpStreams();
    this.pumpSnapshot();
  }

  /**
   * Streams a MsgSnap and its body from `source` (Transport.sendSnapshot). Refused (reported
   * failed, the source closed) while the peer is down or another snapshot is on its way to it.
   */
  sendSnapshot(m: Message, source: SnapshotSource): void {
    const busy = this.snapshotOut !== undefined || this.streams.some((s) => s.isSnapshot) || [...this.awaitingAck.values()].some((a) => a.stream.isSnapshot);
    if (this.state !== 'connected' || busy) {
      void source.close().catch(() => {});
      this.drop(m);
      return;
    }
    this.snapshotOut = new OutboundSnapshot(this.nextStreamId++, m, source);
  }

  /** Writes the streamed snapshot's next chunks while the socket has room ('drain' calls it again). */
  private pumpSnapshot(): void {
    const s = this.snapshotOut;
    if (s === undefined || this.state !== 'connected' || this.snapshotAckTimer !== undefined) return;
    const socket = this.socket!;
    const wire = {
      get writableLength(): number {
        return socket.writableLength;
      },
      write: (buffers: readonly Uint8Array[]): void => {
        socket.cork();
        for (const b of buffers) {
          socket.write(b);
          this.counters.bytesOut += b.length;
        }
        socket.uncork();
      },
    };
    const begin = (): Uint8Array[] => encodeSnapshotBegin(s.streamId, s.source.bytes, this.ctx.encoder.encode([s.message]));
    // A stream cut off half-way cannot be resumed on this connection (the receiver waits for
    // the rest): the connection goes, which makes the receiver drop its partial copy.
    const fail = (err: Error): void => {
      if (this.snapshotOut !== s) return;
      this.onFailure(socket, new Error(`snapshot stream to peer ${this.peerId} failed: ${err.message}`));
    };
    s.pump(wire, this.ctx.options.chunkBytes, begin, () => this.pumpSnapshot(), fail);
    if (s.done && this.snapshotOut === s) {
      this.snapshotAckTimer = setTimeout(() => {
        this.ctx.options.logger.warn(`transport: peer ${this.peerId} did not acknowledge snapshot stream ${s.streamId} in time`);
        this.snapshotAckTimer = undefined;
        fail(new Error('no acknowledgement in time'));
      }, this.ctx.options.streamAckTimeoutMs);
    }
  }

  /** Ends the streamed snapshot in failure: the source is closed and the core told. */
  private failSnapshot(): void {
    const s = this.snapshotOut;
    if (s === undefined) return;
    clearTimeout(this.snapshotAckTimer);
    this.snapshotAckTimer = undefined;
    this.snapshotOut = undefined;
    s.close();
    this.counters.snapshotsFailed++;
    this.ctx.reportSnapshot(this.peerId, 'failed');
  }

  private writePending(): void {
    const messages = this.pending;
    const queued = this.pendingBytes;
    const maxFrame = this.ctx.options.maxFrameBytes;
    const writer = this.writer;
    // A new array costs less than emptying this one (`length = 0` is a runtime call).
    this.pending = [];
    this.pendingBytes = 0;
    if (queued + 16 <= maxFrame) {
      writer.add(this.ctx.encoder.encode(messages), queued);
    } else {
      // Group under the frame limit by the estimate (an upper bound of the encoded size).
      let start = 0;
      let groupBytes = 16;
      for (let i = 0; i <= messages.length; i++) {
        const size = i < messages.length ? estimateMessageBytes(messages[i]!) : 0;
        if (i === messages.length || (groupBytes + size > maxFrame && i > start)) {
          writer.add(this.ctx.encoder.encode(messages.slice(start, i)), queued);
          start = i;
          groupBytes = 16;
        }
        groupBytes += size;
      }
    }
    this.counters.messagesOut += messages.length;
    this.counters.bytesOut += writer.writeTo(this.socket!);
  }

  /** Points this peer at a new address: the current connection is closed and redialled now. */
  setAddress(address: string): void {
    if (address === this.address || this.state === 'closed') return;
    const parsed = parseAddress(address);
    this.address = address;
    this.host = parsed.host;
    this.port = parsed.port;
    this.ctx.options.logger.info(`transport: peer ${this.peerId} moved to ${address}; redialling`);
    this.teardown('address changed', true);
    this.backoff.reset();
    this.counters.reconnects++;
    this.connect();
  }

  /**
   * The peer just connected to us, so it is up again: if we are waiting out a backoff, redial
   * now. After a restart the backoff may have grown to seconds, and every message until the
   * redial would be dropped: a restarted follower would wait that long to be caught up.
   */
  peerIsUp(): void {
    if (this.state !== 'backoff') return;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.backoff.reset();
    this.counters.reconnects++;
    this.connect();
  }

  /** Closes the connection for good; nothing is reported to the core any more. */
  close(): Promise<void> {
    if (this.state === 'closed') return Promise.resolve();
    const socket = this.socket;
    this.state = 'closed';
    this.teardown('closed', false);
    return socket === undefined || socket.closed ? Promise.resolve() : new Promise((r) => socket.once('close', () => r()));
  }

  private connect(): void {
    const o = this.ctx.options;
    this.state = 'connecting';
    const socket: net.Socket =
      o.tls === undefined
        ? net.connect({ host: this.host, port: this.port })
        : tls.connect({
            host: this.host,
            port: this.port,
            ca: o.tls.ca,
            cert: o.tls.cert,
            key: o.tls.key,
            minVersion: 'TLSv1.2',
            ...(o.tls.checkServerIdentity === undefined ? {} : { checkServerIdentity: o.tls.checkServerIdentity }),
          });
    this.socket = socket;
    socket.setNoDelay(true);
    const decoder = new FrameDecoder(MAX_HANDSHAKE_FRAME_BYTES, (kind, payload, length) => this.onFrame(decoder, kind, joinParts(payload, length)));
    this.timer = setTimeout(
      () => this.onFailure(socket, new HandshakeError('timeout', `no handshake within ${o.handshakeTimeoutMs} ms`)),
      o.handshakeTimeoutMs,
    );
    socket.once(o.tls === undefined ? 'connect' : 'secureConnect', () => {
      if (o.tls !== undefined && !this.serverIsPeer(socket as tls.TLSSocket)) return;
      const hello = encodeHello({ version: PROTOCOL_VERSION, clusterId: o.clusterId, from: o.id, to: this.peerId });
      socket.write(encodeFrame(FrameKind.Hello, hello));
    });
    socket.on('data', (chunk: Buffer) => {
      if (this.socket !== socket) return;
      try {
        decoder.push(chunk);
      } catch (e) {
        this.onFailure(socket, e as Error);
      }
    });
    socket.on('drain', () => {
      if (this.socket !== socket) return;
      this.pumpStreams();
      this.pumpSnapshot();
    });
    socket.on('error', (e) => this.onFailure(socket, e));
    socket.on('close', () => this.onFailure(socket, new Error('connection closed')));
  }

  /**
   * Under TLS: whether the server's certificate names the node we dialled. If not, we do not
   * talk to it (our messages are for that node alone), and log, count and redial later.
   */
  private serverIsPeer(socket: tls.TLSSocket): boolean {
    const o = this.ctx.options;
    const cert = socket.getPeerCertificate();
    const certified = (o.tls!.nodeIdOf ?? nodeIdOfCertificate)(cert);
    if (certified === this.peerId) return true;
    this.ctx.counters.identityMismatches++;
    const e = new HandshakeError(
      'identity',
      certified === undefined
        ? `the server's certificate (${describeCertificate(cert)}) names no node`
        : `the server's certificate is node ${certified}'s`,
    );
    o.logger.warn(`transport: not talking to peer ${this.peerId} at ${this.address}: ${e.message}`);
    this.outageLogged = true;
    this.onFailure(socket, e);
    return false;
  }

  private onFrame(decoder: FrameDecoder, kind: number, payload: Uint8Array): void {
    const socket = this.socket!;
    if (this.state === 'connecting') {
      if (kind === FrameKind.Welcome) {
        clearTimeout(this.timer);
        this.timer = undefined;
        this.state = 'connected';
        this.backoff.reset();
        this.outageLogged = false;
        decoder.maxPayloadBytes = this.ctx.options.maxFrameBytes;
        this.ctx.options.logger.info(`transport: connected to peer ${this.peerId} at ${this.address}`);
        this.ctx.events.emit('peerConnected', this.peerId);
        this.flush();
        return;
      }
      if (kind === FrameKind.Refused) {
        const e = decodeRefusal(payload);
        this.ctx.counters.refusedByPeers++;
        this.ctx.options.logger.warn(`transport: peer ${this.peerId} at ${this.address} refused our handshake (${e.reason}): ${e.message}`);
        this.ctx.events.emit('handshakeRejected', this.peerId, e.reason, e.message);
        this.outageLogged = true;
        this.onFailure(socket, e);
        return;
      }
    } else if (this.state === 'connected' && kind === FrameKind.StreamAck) {
      this.onStreamAck(decodeStreamAck(payload));
      return;
    }
    this.onFailure(socket, new Error(`unexpected frame kind ${kind} from peer ${this.peerId}`));
  }

  private enqueueStream(m: Message): boolean {
    const isSnap = m.type === MessageType.MsgSnap;
    const snapshotBusy = isSnap && (this.streams.some((s) => s.isSnapshot) || [...this.awaitingAck.values()].some((a) => a.stream.isSnapshot));
    if (this.state !== 'connected' || this.streams.length + this.awaitingAck.size >= MAX_STREAMS || snapshotBusy) {
      return this.drop(m);
    }
    const body = this.ctx.encoder.encode([m]);
    if (body.length > this.ctx.options.maxMessageBytes) {
      this.ctx.options.logger.warn(`transport: dropping a ${MessageType[m.type]} of ${body.length} bytes to peer ${this.peerId}: over maxMessageBytes`);
      return this.drop(m);
    }
    this.streams.push(new OutboundStream(this.nextStreamId++, m, body));
    // The stream starts in the transport's flush of this turn, after the queued small messages.
    return true;
  }

  /** Writes stream chunks while the socket has room; 'drain' calls it again. */
  pumpStreams(): void {
    const o = this.ctx.options;
    while (this.state === 'connected' && this.streams.length > 0) {
      const socket = this.socket!;
      const s = this.streams[0]!;
      if (!this.streamBegun) {
        const begin = encodeStreamBegin(s.streamId, s.totalBytes);
        socket.write(begin);
        this.counters.bytesOut += begin.length;
        this.streamBegun = true;
      }
      while (!s.done) {
        // Backpressure: at most about one chunk waits in user space; the rest waits in `s`.
        if (socket.writableLength >= o.chunkBytes) return;
        const { buffers, bytes } = s.nextChunk(o.chunkBytes);
        socket.cork();
        for (const b of buffers) socket.write(b);
        socket.uncork();
        this.counters.bytesOut += bytes;
      }
      this.streams.shift();
      this.streamBegun = false;
      const timer = setTimeout(() => this.onStreamAckTimeout(s.streamId), o.streamAckTimeoutMs);
      this.awaitingAck.set(s.streamId, { stream: s, timer });
    }
  }

  private onStreamAck(streamId: number): void {
    const snap = this.snapshotOut;
    if (snap !== undefined && snap.streamId === streamId && this.snapshotAckTimer !== undefined) {
      clearTimeout(this.snapshotAckTimer);
      this.snapshotAckTimer = undefined;
      this.snapshotOut = undefined;
      snap.close();
      this.counters.messagesOut++;
      this.counters.snapshotsSent++;
      this.ctx.reportSnapshot(this.peerId, 'finished');
      return;
    }
    const a = this.awaitingAck.get(streamId);
    if (a === undefined) return; // late ack of a stream already timed out
    clearTimeout(a.timer);
    this.awaitingAck.delete(streamId);
    this.counters.messagesOut++;
    if (a.stream.isSnapshot) {
      this.counters.snapshotsSent++;
      this.ctx.reportSnapshot(this.peerId, 'finished');
    }
  }

  private onStreamAckTimeout(streamId: number): void {
    const a = this.awaitingAck.get(streamId);
    if (a === undefined) return;
    this.awaitingAck.delete(streamId);
    this.ctx.options.logger.warn(`transport: peer ${this.peerId} did not acknowledge stream ${streamId} in time`);
    this.failStream(a.stream);
  }

  private failStream(s: OutboundStream): void {
    if (s.isSnapshot) {
      this.counters.snapshotsFailed++;
      this.ctx.reportSnapshot(this.peerId, 'failed');
    } else {
      this.drop(s.message);
    }
  }

  private drop(m: Message): boolean {
    this.counters.dropped++;
    if (m.type === MessageType.MsgSnap) {
      this.counters.snapshotsFailed++;
      this.ctx.reportSnapshot(this.peerId, 'failed');
    } else {
      this.ctx.reportUnreachable(this.peerId);
    }
    this.ctx.events.emit('messagesDropped', this.peerId, 1);
    return false;
  }

  /** The socket failed, closed, timed out or was refused: drop its work and redial later. */
  private onFailure(socket: net.Socket, error: Error): void {
    if (this.socket !== socket || this.state === 'closed') return;
    const wasConnected = this.state === 'connected';
    this.teardown(error.message, true);
    if (wasConnected) {
      this.ctx.options.logger.warn(`transport: lost connection to peer ${this.peerId} at ${this.address}: ${error.message}`);
      this.ctx.events.emit('peerDisconnected', this.peerId, error.message);
      this.outageLogged = true;
    } else if (!this.outageLogged) {
      this.ctx.options.logger.warn(`transport: cannot connect to peer ${this.peerId} at ${this.address}: ${error.message}`);
      this.outageLogged = true;
    }
    this.state = 'backoff';
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.counters.reconnects++;
      this.connect();
    }, this.backoff.next());
  }

  /** Destroys the socket and clears timers; queued work is dropped (reported if `report`). */
  private teardown(reason: string, report: boolean): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const socket = this.socket;
    this.socket = undefined;
    socket?.destroy();
    this.writer.reset();
    const pending = this.pending;
    const streams = this.streams;
    const awaiting = [...this.awaitingAck.values()];
    this.pending = [];
    this.pendingBytes = 0;
    this.streams = [];
    this.streamBegun = false;
    this.awaitingAck.clear();
    for (const a of awaiting) clearTimeout(a.timer);
    if (this.snapshotOut !== undefined) {
      if (report) this.failSnapshot();
      else {
        clearTimeout(this.snapshotAckTimer);
        this.snapshotAckTimer = undefined;
        this.snapshotOut.close();
        this.snapshotOut = undefined;
      }
    }
    if (!report) return;
    if (pending.length > 0) {
      this.counters.dropped += pending.length;
      this.ctx.reportUnreachable(this.peerId);
      this.ctx.events.emit('messagesDropped', this.peerId, pending.length);
    }
    for (const s of streams) this.failStream(s);
    for (const a of awaiting) this.failStream(a.stream);
    this.ctx.options.logger.debug(`transport: connection to peer ${this.peerId} torn down: ${reason}`);
  }
}
