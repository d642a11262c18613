/**
 * A connection a peer opened to us. Before its handshake it may send one small Hello frame and
 * nothing else, within a deadline; after, Messages and stream frames from the node it named.
 * Anything wrong closes this connection (and only this one), with a log line, a counter and an
 * event: the process, and every other peer, carry on.
 */
import type net from 'node:net';
import type tls from 'node:tls';
import { MessageType, isLocalMsg, validateMessage } from '@pontoon/raft/core';
import type { Message } from '@pontoon/raft';
import type { TransportContext } from './context.js';
import { FrameError, HandshakeError, MessageDecodeError, PeerProtocolError } from './errors.js';
import { encodeFrame, FRAME_HEADER_BYTES, FrameDecoder, FrameKind, joinParts, readU32 } from './frame-codec.js';
import type { PayloadParts } from './frame-codec.js';
import { checkHello, decodeHello, encodeRefusal, MAX_HANDSHAKE_FRAME_BYTES } from './handshake.js';
import { detachPayloads, MessageDecoder } from './message-codec.js';
import { describeCertificate, nodeIdOfCertificate } from './node-identity.js';
import { decodeStreamBegin, encodeStreamAck, InboundStream } from './snapshot-chunking.js';
import { decodeSnapshotBegin, InboundSnapshot } from './snapshot-streaming.js';

/** How long a refused client gets to read our refusal before we close its socket. */
const REFUSAL_LINGER_MS = 500;

/**
 * Checks what a decoded message claims against who sent it, then Raft's own rules, so that the
 * core never sees a message it would refuse. The core checks again against its real last index
 * (here an unknown, so the commit-beyond-log check passes and is left to it).
 */
export function checkInbound(m: Message, peerId: number, selfId: number): void {
  if (isLocalMsg(m.type)) throw new PeerProtocolError(`peer ${peerId} sent local-only ${MessageType[m.type]}`);
  if (m.from !== peerId) throw new PeerProtocolError(`peer ${peerId} sent a message from ${m.from}`);
  if (m.to !== selfId) throw new PeerProtocolError(`peer ${peerId} sent a message for ${m.to}, this is ${selfId}`);
  try {
    validateMessage(m, Number.MAX_SAFE_INTEGER);
  } catch (cause) {
    throw new PeerProtocolError(`peer ${peerId} sent an invalid message: ${(cause as Error).message}`, { cause });
  }
}

export class InboundConnection {
  /** The peer's id once its handshake is accepted; 0 before. */
  peerId = 0;
  readonly remoteAddress: string;
  private state: 'handshake' | 'open' | 'closed' = 'handshake';
  private readonly socket: net.Socket;
  private readonly ctx: TransportContext;
  private readonly decoder: FrameDecoder;
  private readonly messages: MessageDecoder;
  /** Messages accepted from the read being decoded; delivered when it is done (settle). */
  private accepted: Message[] = [];
  private timer: NodeJS.Timeout | undefined;
  private stream: InboundStream | undefined;
  /** The streamed snapshot being received (its chunks go to the node's sink). */
  private snapshot: InboundSnapshot | undefined;
  private readonly onOpen: (c: InboundConnection) => void;
  private readonly onClose: (c: InboundConnection) => void;

  constructor(
    ctx: TransportContext,
    socket: net.Socket,
    onOpen: (c: InboundConnection) => void,
    onClose: (c: InboundConnection) => void,
  ) {
    this.ctx = ctx;
    this.socket = socket;
    this.onOpen = onOpen;
    this.onClose = onClose;
    this.remoteAddress = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`;
    socket.setNoDelay(true);
    this.decoder = new FrameDecoder(MAX_HANDSHAKE_FRAME_BYTES, (kind, payload, length) => this.onFrame(kind, payload, length));
    this.messages = new MessageDecoder({ maxMessages: ctx.options.maxMessagesPerFrame, maxEntries: ctx.options.maxEntriesPerMessage });
    this.timer = setTimeout(
      () => this.refuse(new HandshakeError('timeout', `no handshake within ${ctx.options.handshakeTimeoutMs} ms`)),
      ctx.options.handshakeTimeoutMs,
    );
    socket.on('data', (chunk: Buffer) => {
      let error: Error | undefined;
      try {
        this.decoder.push(chunk);
      } catch (e) {
        error = e as Error;
      }
      // The frames before a bad one were accepted whole: they are delivered, then we close.
      if (this.accepted.length > 0) this.settle();
      if (error !== undefined) this.fail(error);
    });
    socket.on('end', () => {
      if (this.decoder.pendingBytes > 0) this.fail(new FrameError(`stream ended inside a frame (${this.decoder.pendingBytes} bytes)`));
      else if (this.state === 'handshake') this.refuse(new HandshakeError('closed', 'closed before the handshake'));
      else this.close();
    });
    socket.on('error', (e) => this.fail(e));
    socket.on('close', () => this.close());
  }

  /** Closes the connection now. */
  close(): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    clearTimeout(this.timer);
    this.timer = undefined;
    this.decoder.stop();
    this.stream = undefined;
    this.snapshot?.abort();
    this.snapshot = undefined;
    this.accepted = [];
    this.socket.destroy();
    this.onClose(this);
  }

  private onFrame(kind: number, payload: PayloadParts, length: number): void {
    if (this.state === 'handshake') {
      this.onHandshakeFrame(kind, joinParts(payload, length));
      return;
    }
    if (this.state !== 'open') return;
    const bytes = FRAME_HEADER_BYTES + length;
    switch (kind) {
      case FrameKind.Messages: {
        const first = this.accepted.length;
        this.messages.decode(payload, length, this.accepted);
        this.accept(first, bytes);
        return;
      }
      case FrameKind.StreamBegin: {
        if (this.stream !== undefined) throw new FrameError('stream begun inside another stream');
        const { streamId, totalBytes } = decodeStreamBegin(joinParts(payload, length));
        if (totalBytes > this.ctx.options.maxMessageBytes || totalBytes < 4) {
          throw new FrameError(`stream of ${totalBytes} bytes outside [4, maxMessageBytes=${this.ctx.options.maxMessageBytes}]`);
        }
        this.stream = new InboundStream(streamId, totalBytes);
        this.ctx.counters.peer(this.peerId).bytesIn += bytes;
        return;
      }
      case FrameKind.SnapshotBegin: {
        if (this.snapshot !== undefined) throw new FrameError('snapshot begun inside another snapshot');
        const begin = decodeSnapshotBegin(joinParts(payload, length));
        const first = this.accepted.length;
        this.messages.decode([begin.message], begin.message.length, this.accepted);
        if (this.accepted.length !== first + 1 || this.accepted[first]!.type !== MessageType.MsgSnap) {
          this.accepted.length = first;
          throw new MessageDecodeError('a snapshot stream begins with one MsgSnap');
        }
        this.accept(first, bytes);
        // Held back until its body is in: delivered after the sink finished.
        const m = this.accepted.pop()!;
        detachPayloads([m], 0);
        this.snapshot = new InboundSnapshot(begin.streamId, m, begin.bodyBytes, this.ctx.snapshotSink(m), {
          pause: () => this.socket.pause(),
          resume: () => this.socket.resume(),
          fail: (err) => {
            this.ctx.options.logger.warn(`transport: receiving a snapshot from peer ${this.peerId} failed: ${String(err)}`);
            this.close();
          },
        });
        if (begin.bodyBytes === 0) this.finishSnapshot();
        return;
      }
      case FrameKind.StreamChunk: {
        const snap = this.snapshot;
        if (snap !== undefined && length >= 4 && readU32(payload[0]!.length >= 4 ? payload[0]! : joinParts(payload, length), 0) === snap.streamId) {
          snap.add(joinParts(payload, length).subarray(4));
          this.ctx.counters.peer(this.peerId).bytesIn += bytes;
          if (snap.complete) this.finishSnapshot();
          return;
        }
        const s = this.stream;
        if (s === undefined) throw new FrameError('stream chunk outside a stream');
        s.add(payload, length);
        this.ctx.counters.peer(this.peerId).bytesIn += bytes;
        if (!s.complete) return;
        this.stream = undefined;
        // What came before is delivered first, in order; the streamed message's byte fields are
        // views of the stream's own buffer, never worth copying again.
        this.settle();
        if (this.state !== 'open') return;
        const body = s.bytes();
        this.messages.decode([body], body.length, this.accepted);
        this.messages.viewBytes = 0;
        if (this.accepted.length !== 1) {
          const n = this.accepted.length;
          this.accepted.length = 0;
          throw new MessageDecodeError(`a stream carries one message, not ${n}`);
        }
        this.accept(0, 0);
        this.settle();
        if (this.state === 'open') this.socket.write(encodeStreamAck(s.streamId));
        return;
      }
      default:
        throw new FrameError(`unexpected frame kind ${kind}`);
    }
  }

  /**
   * The snapshot's body is all in: once the sink has made it durable, the MsgSnap goes to the
   * node and the sender gets its ack. A failing sink closes the connection (the sender reports
   * the snapshot failed; the leader retries later).
   */
  private finishSnapshot(): void {
    const snap = this.snapshot!;
    this.snapshot = undefined;
    snap.finish().then(
      () => {
        if (this.state !== 'open') return;
        this.ctx.deliver(snap.message);
        this.socket.write(encodeStreamAck(snap.streamId));
      },
      // Reported, and the connection closed, by the stream's own failure handler.
      () => {},
    );
  }

  /** Checks the messages of one frame, `accepted[first..]`: all are kept, or none (and throws). */
  private accept(first: number, bytes: number): void {
    const accepted = this.accepted;
    try {
      for (let i = first; i < accepted.length; i++) checkInbound(accepted[i]!, this.peerId, this.ctx.options.id);
    } catch (e) {
      accepted.length = first;
      throw e;
    }
    const c = this.ctx.counters.peer(this.peerId);
    c.messagesIn += accepted.length - first;
    c.bytesIn += bytes;
  }

  /** Delivers the accepted messages, first copying their byte fields if views cost too much. */
  private settle(): void {
    const accepted = this.accepted;
    this.accepted = [];
    // Views keep whole socket reads alive: fine when they hold at least half of those reads'
    // bytes, else copied out (one buffer for all), lest a small entry kept in the log hold on
    // to a 64 KiB read. In bulk replication the views hold most of the reads and stay views.
    if (this.messages.viewBytes > 0 && this.messages.viewBytes * 2 < this.decoder.bufferBytes) detachPayloads(accepted, 0);
    this.messages.viewBytes = 0;
    for (let i = 0; i < accepted.length && this.state === 'open'; i++) this.ctx.deliver(accepted[i]!);
  }

  private onHandshakeFrame(kind: number, payload: Uint8Array): void {
    if (kind !== FrameKind.Hello) throw new HandshakeError('malformed', `expected a hello, got frame kind ${kind}`);
    const hello = decodeHello(payload);
    checkHello(hello, {
      clusterId: this.ctx.options.clusterId,
      selfId: this.ctx.options.id,
      isKnownPeer: (id) => this.ctx.isKnownPeer(id),
    });
    this.checkCertifiedIdentity(hello.from);
    clearTimeout(this.timer);
    this.timer = undefined;
    this.state = 'open';
    this.peerId = hello.from;
    this.decoder.maxPayloadBytes = this.ctx.options.maxFrameBytes;
    this.ctx.counters.connectionsAccepted++;
    this.socket.write(encodeFrame(FrameKind.Welcome, new Uint8Array(0)));
    this.ctx.options.logger.info(`transport: accepted connection from peer ${hello.from} at ${this.remoteAddress}`);
    this.onOpen(this);
  }

  /** Under TLS: refuses a Hello from a node other than the one the client's certificate names. */
  private checkCertifiedIdentity(claimed: number): void {
    const o = this.ctx.options.tls;
    if (o === undefined) return;
    const cert = (this.socket as tls.TLSSocket).getPeerCertificate();
    const certified = (o.nodeIdOf ?? nodeIdOfCertificate)(cert);
    if (certified === claimed) return;
    throw new HandshakeError(
      'identity',
      certified === undefined
        ? `hello claims node ${claimed}, but the client's certificate (${describeCertificate(cert)}) names no node`
        : `hello claims node ${claimed}, but the client's certificate is node ${certified}'s`,
    );
  }

  /** Refuses the handshake: tells the client why (it logs it), counts, closes. */
  private refuse(e: HandshakeError): void {
    if (this.state !== 'handshake') return;
    this.state = 'closed';
    this.decoder.stop();
    clearTimeout(this.timer);
    const ctx = this.ctx;
    ctx.counters.connectionsRefused++;
    if (e.reason === 'identity') ctx.counters.identityMismatches++;
    ctx.options.logger.warn(`transport: refused connection from ${this.remoteAddress} (${e.reason}): ${e.message}`);
    ctx.events.emit('connectionRefused', { remoteAddress: this.remoteAddress, reason: e.reason, message: e.message });
    if (this.socket.writable) {
      this.socket.end(encodeFrame(FrameKind.Refused, encodeRefusal(e)));
      this.timer = setTimeout(() => this.socket.destroy(), REFUSAL_LINGER_MS);
      this.socket.once('close', () => clearTimeout(this.timer));
    } else {
      this.socket.destroy();
    }
    this.onClose(this);
  }

  /** Bad input or a socket error: refuse (before the handshake) or close (after). */
  private fail(e: Error): void {
    if (this.state === 'handshake') {
      this.refuse(e instanceof HandshakeError ? e : new HandshakeError('malformed', e.message));
      return;
    }
    if (this.state !== 'open') return;
    const isBadInput = e instanceof FrameError || e instanceof MessageDecodeError || e instanceof PeerProtocolError;
    if (isBadInput) {
      this.ctx.counters.protocolErrors++;
      this.ctx.options.logger.warn(`transport: closing connection from peer ${this.peerId} at ${this.remoteAddress}: ${e.message}`);
      this.ctx.events.emit('badInputReceived', { peerId: this.peerId, remoteAddress: this.remoteAddress, error: e });
    } else {
      this.ctx.options.logger.debug(`transport: connection from peer ${this.peerId} failed: ${e.message}`);
    }
    this.close();
  }
}
