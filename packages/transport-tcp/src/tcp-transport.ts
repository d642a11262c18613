/**
 * TcpTransport: the Transport of @pontoon/raft over node:net, or node:tls with mutual
 * authentication when certificates are given. One connection per direction per pair of nodes:
 * we dial each peer for what we send it, and accept its dial for what it sends us.
 */
import net from 'node:net';
import tls from 'node:tls';
import { EventEmitter } from 'eventemitter3';
import type { Message, SnapshotSource, SnapshotStatus, SnapshotStreamHandler, Transport } from '@pontoon/raft';
import { MessageType } from '@pontoon/raft';
import type { TransportContext } from './context.js';
import { Counters } from './counters.js';
import type { TransportCounters } from './counters.js';
import type { TransportEvents } from './events.js';
import { InboundConnection } from './inbound-connection.js';
import { MessageEncoder } from './message-codec.js';
import { parseAddress, resolveOptions } from './options.js';
import type { ResolvedOptions, TcpTransportOptions } from './options.js';
import { PeerConnection } from './peer-connection.js';

type MessageHandler = (message: Message) => void;
type UnreachableHandler = (peerId: number) => void;
type SnapshotStatusHandler = (peerId: number, status: SnapshotStatus) => void;

/**
 * A Transport over TCP. Create it, `listen()`, add peers, hand it to the node.
 *
 * Fire-and-forget as the interface asks: `send` never throws for a network problem and never
 * blocks; messages it cannot deliver are dropped and reported through `onUnreachable`.
 * Callbacks to the core (`onUnreachable`, `onSnapshotStatus`) are never made from inside
 * `send`: they run after the current turn of the event loop.
 */
export class TcpTransport implements Transport {
  /** Typed events: connections made, lost and refused, drops, bad input, snapshot results. */
  readonly events = new EventEmitter<TransportEvents>();
  private readonly options: ResolvedOptions;
  private readonly counters = new Counters();
  private readonly ctx: TransportContext;
  private readonly peers = new Map<number, PeerConnection>();
  private readonly inbound = new Set<InboundConnection>();
  private readonly rawSockets = new Set<net.Socket>();
  private server: net.Server | undefined;
  private listening: { host: string; port: number } | undefined;
  private listenCall: Promise<{ host: string; port: number }> | undefined;
  private messageHandler: MessageHandler = () => {};
  private unreachableHandler: UnreachableHandler = () => {};
  private snapshotStatusHandler: SnapshotStatusHandler = () => {};
  private snapshotStreamHandler: SnapshotStreamHandler | undefined;
  private readonly dirty = new Set<PeerConnection>();
  private readonly unreachable = new Set<number>();
  private snapshotStatuses: Array<[number, SnapshotStatus]> = [];
  private immediate: NodeJS.Immediate | undefined;
  private closed = false;
  private closing: Promise<void> | undefined;

  constructor(options: TcpTransportOptions) {
    this.options = resolveOptions(options);
    const o = this.options;
    this.ctx = {
      options: o,
      counters: this.counters,
      events: this.events,
      encoder: new MessageEncoder(),
      isKnownPeer: (id) => this.peers.has(id),
      deliver: (message) => this.deliver(message),
      reportUnreachable: (id) => {
        this.unreachable.add(id);
        this.schedule();
      },
      snapshotSink: (m) =>
        this.snapshotStreamHandler === undefined
          ? Promise.reject(new Error('this node takes no streamed snapshots (no onSnapshotStream handler)'))
          : this.snapshotStreamHandler(m),
      reportSnapshot: (id, status) => {
        this.snapshotStatuses.push([id, status]);
        this.events.emit('snapshotSent', id, status);
        this.schedule();
      },
    };
  }

  /** This node's id. */
  get id(): number {
    return this.options.id;
  }

  /**
   * Starts accepting peers' connections. Resolves with the address bound (the port is the
   * ephemeral one chosen when `listen.port` is 0 or absent).
   */
  listen(): Promise<{ host: string; port: number }> {
    if (this.closed) return Promise.reject(new Error('transport is closed'));
    // One bind however many callers (the application and RaftNode both call it).
    this.listenCall ??= this.bind().catch((err: unknown) => {
      this.listenCall = undefined; // a failed bind may be retried
      throw err;
    });
    return this.listenCall;
  }

  private async bind(): Promise<{ host: string; port: number }> {
    const o = this.options;
    const server =
      o.tls === undefined
        ? net.createServer()
        : tls.createServer({
            ca: o.tls.ca,
            cert: o.tls.cert,
            key: o.tls.key,
            // Mutual authentication: a client must present a certificate our CA signed.
            requestCert: true,
            rejectUnauthorized: true,
            minVersion: 'TLSv1.2',
            handshakeTimeout: o.handshakeTimeoutMs,
          });
    this.server = server;
    // Every raw socket, TLS or not, so that close() can end even those mid-TLS-handshake.
    server.on('connection', (socket: net.Socket) => {
      this.rawSockets.add(socket);
      socket.once('close', () => this.rawSockets.delete(socket));
      if (o.tls === undefined) this.accept(socket);
    });
    if (o.tls !== undefined) {
      server.on('secureConnection', (socket: tls.TLSSocket) => this.accept(socket));
      server.on('tlsClientError', (err: Error, socket: tls.TLSSocket) => {
        const remoteAddress = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`;
        this.counters.connectionsRefused++;
        o.logger.warn(`transport: refused TLS connection from ${remoteAddress}: ${err.message}`);
        this.events.emit('connectionRefused', { remoteAddress, reason: 'tls', message: err.message });
        socket.destroy();
      });
    }
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(o.port, o.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (e) => o.logger.error(`transport: server error: ${e.message}`));
    const a = server.address() as net.AddressInfo;
    this.listening = { host: a.address, port: a.port };
    o.logger.info(`transport: node ${o.id} listening on ${a.address}:${a.port}${o.tls === undefined ? '' : ' (mutual TLS)'}`);
    return this.listening;
  }

  /**
   * Serves a connection that a peer opened to a port this process listens on for other
   * protocols as well (pontoon-kv's peer port shares one port with its peer link), as if this
   * transport's own listener had accepted it, without a loopback relay in between: a relay cost
   * the receiving process two more socket calls and a turn of its event loop per message.
   * `head`: bytes already read from the socket (the caller's protocol sniffing), read first. TLS
   * is the caller's to terminate (the transport's `tls` option is its own listener's).
   */
  acceptConnection(socket: net.Socket, head?: Uint8Array): void {
    this.rawSockets.add(socket);
    socket.once('close', () => this.rawSockets.delete(socket));
    if (head !== undefined && head.length > 0) socket.unshift(head);
    this.accept(socket);
    // The caller may have paused it to sniff; the connection reads from here on.
    socket.resume();
  }

  /** The address `listen()` bound, as "host:port" for peers' addPeer; undefined before. */
  get address(): string | undefined {
    if (this.listening === undefined) return undefined;
    const { host, port } = this.listening;
    return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
  }

  send(messages: readonly Message[]): void {
    if (this.closed) return;
    // A batch is mostly for one peer (a leader's appends, a follower's answers): look it up once.
    let peer: PeerConnection | undefined;
    let dirty: PeerConnection | undefined;
    for (const m of messages) {
      if (peer === undefined || peer.peerId !== m.to) peer = this.peers.get(m.to);
      if (peer === undefined) {
        this.counters.peer(m.to).dropped++;
        if (m.type === MessageType.MsgSnap) this.ctx.reportSnapshot(m.to, 'failed');
        else this.ctx.reportUnreachable(m.to);
        continue;
      }
      if (peer.enqueue(m) && peer !== dirty) {
        this.dirty.add(peer);
        dirty = peer;
      }
    }
    if (this.dirty.size > 0) this.schedule();
  }

  /**
   * Streams a snapshot of an on-disk state machine to `message.to`: the MsgSnap, then the
   * source's chunks as the connection takes them. See Transport.sendSnapshot.
   */
  sendSnapshot(message: Message, source: SnapshotSource): void {
    const peer = this.closed ? undefined : this.peers.get(message.to);
    if (peer === undefined) {
      void source.close().catch(() => {});
      this.counters.peer(message.to).dropped++;
      this.ctx.reportSnapshot(message.to, 'failed');
      return;
    }
    peer.sendSnapshot(message, source);
    this.dirty.add(peer);
    this.schedule();
  }

  onSnapshotStream(handler: SnapshotStreamHandler): void {
    this.snapshotStreamHandler = handler;
  }

  onMessage(handler: MessageHandler): void {
    this.messageHandler = handler;
  }

  onUnreachable(handler: UnreachableHandler): void {
    this.unreachableHandler = handler;
  }

  onSnapshotStatus(handler: SnapshotStatusHandler): void {
    this.snapshotStatusHandler = handler;
  }

  /** Adds a peer (and dials it), or points a known peer at a new address. */
  addPeer(peerId: number, address: string): void {
    if (this.closed) return;
    if (!Number.isSafeInteger(peerId) || peerId <= 0 || peerId === this.options.id) {
      throw new RangeError(`bad peer id ${peerId}`);
    }
    parseAddress(address); // throws ConfigError before any state changes
    const existing = this.peers.get(peerId);
    if (existing !== undefined) {
      existing.setAddress(address);
      return;
    }
    this.peers.set(peerId, new PeerConnection(this.ctx, peerId, address));
  }

  /** Forgets a peer: closes our connection to it and its connections to us. */
  removePeer(peerId: number): void {
    const peer = this.peers.get(peerId);
    if (peer === undefined) return;
    this.peers.delete(peerId);
    this.dirty.delete(peer);
    void peer.close();
    for (const c of this.inbound) if (c.peerId === peerId) c.close();
  }

  /** Bytes waiting for `peerId` (queued and unsent socket bytes); 0 for an unknown peer. */
  queuedBytes(peerId: number): number {
    return this.peers.get(peerId)?.queuedBytes ?? 0;
  }

  /** Whether our connection to `peerId` is up (handshake done). */
  isConnected(peerId: number): boolean {
    return this.peers.get(peerId)?.connected ?? false;
  }

  /** A copy of the counters. */
  stats(): TransportCounters {
    return this.counters.snapshot();
  }

  close(): Promise<void> {
    if (this.closing !== undefined) return this.closing;
    this.closed = true;
    if (this.immediate !== undefined) clearImmediate(this.immediate);
    this.immediate = undefined;
    this.dirty.clear();
    this.unreachable.clear();
    this.snapshotStatuses = [];
    const waits: Promise<void>[] = [];
    for (const peer of this.peers.values()) waits.push(peer.close());
    this.peers.clear();
    for (const c of this.inbound) c.close();
    const server = this.server;
    if (server !== undefined) waits.push(new Promise((r) => server.close(() => r())));
    for (const s of this.rawSockets) {
      if (!s.closed) waits.push(new Promise((r) => s.once('close', () => r())));
      s.destroy();
    }
    this.closing = Promise.all(waits)
      // A socket's 'close' event comes before libuv has released its handle (that happens in
      // the loop's close phase); one more turn and nothing of ours is left in the loop.
      .then(() => new Promise<void>((r) => setTimeout(r, 0)))
      .then(() => this.options.logger.info(`transport: node ${this.options.id} closed`));
    return this.closing;
  }

  private accept(socket: net.Socket): void {
    if (this.closed) {
      socket.destroy();
      return;
    }
    const conn = new InboundConnection(
      this.ctx,
      socket,
      (c) => {
        // A peer that redials replaces its older connection (which may be half dead).
        for (const other of this.inbound) if (other !== c && other.peerId === c.peerId) other.close();
        this.peers.get(c.peerId)?.peerIsUp();
      },
      (c) => this.inbound.delete(c),
    );
    this.inbound.add(conn);
  }

  private deliver(m: Message): void {
    try {
      this.messageHandler(m);
    } catch (e) {
      // The handler's problem (e.g. the node refusing a message from a removed peer), not the
      // peer's: the connection stays.
      this.options.logger.debug(`transport: message handler threw for ${MessageType[m.type]} from ${m.from}: ${(e as Error).message}`);
    }
  }

  private schedule(): void {
    if (this.immediate === undefined && !this.closed) this.immediate = setImmediate(() => this.onTurnEnd());
  }

  /** Once a turn: write each dirty peer's queue in one go, then tell the core what was lost. */
  private onTurnEnd(): void {
    this.immediate = undefined;
    for (const peer of this.dirty) peer.flush();
    this.dirty.clear();
    // Most turns lose nothing: allocate nothing for them.
    if (this.unreachable.size > 0) {
      const unreachable = [...this.unreachable];
      this.unreachable.clear();
      for (const id of unreachable) this.unreachableHandler(id);
    }
    if (this.snapshotStatuses.length > 0) {
      const statuses = this.snapshotStatuses;
      this.snapshotStatuses = [];
      for (const [id, status] of statuses) this.snapshotStatusHandler(id, status);
    }
  }
}
