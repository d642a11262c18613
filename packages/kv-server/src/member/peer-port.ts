/**
 * One listening port for everything members say to one another, as etcd serves Raft and its
 * `/leases` requests on the peer URL. Two protocols share it: Pontoon's TCP transport (Raft
 * messages and snapshots) and the peer link (a follower's write handed to the leader, lease
 * keepalives and TimeToLive). A peer-link connection opens with PEER_LINK_MAGIC; anything else
 * is the transport's and is handed, with the bytes already read, to this process's TcpTransport
 * (`acceptConnection`), which serves it as its own. The magic cannot open a transport
 * connection: read as the transport's frame length it is over a gigabyte, far past any frame it
 * accepts.
 *
 * With peer TLS (`--peer-cert-file`, ...), this port terminates TLS for both protocols, and
 * connections out to other members go through TLS too (PeerDialer), as etcd's peers: the
 * certificate must chain to `--peer-trusted-ca-file`, and with `--peer-client-cert-auth` the
 * dialling member must present one. Raft traffic out to a member goes through a loopback
 * forwarder that dials it over TLS (PeerDialer); coming in, this port hands the TLS connection
 * to the transport.
 */
import net from 'node:net';
import tls from 'node:tls';
import { Packr } from 'msgpackr';
import type { Logger } from '@pontoon/raft';
import { PeerUnreachableError, RequestTimeoutError, type KvPeerLink, type PeerHandler, type PeerRequest, type PeerResponse } from '@pontoon/kv';
import type { ReplicationProgress } from '../server/learner-readiness.js';
import { fromWireError, toWireError, type WireError } from './remote-error.js';

/** Opens a peer-link connection (`PKVL`). */
export const PEER_LINK_MAGIC = Buffer.from('PKVL', 'latin1');
/** The largest peer-link frame accepted (a proposal is at most --max-request-bytes plus overhead). */
const MAX_LINK_FRAME = 64 * 1024 * 1024;
const CONNECT_TIMEOUT_MS = 3000;

const packr = new Packr({ useRecords: false, int64AsType: 'bigint', mapsAsObjects: true });

/** TLS between members (PEM). */
export interface PeerTls {
  readonly cert: Buffer;
  readonly key: Buffer;
  /** Certificates of other members must chain to it; absent: the system's CAs (or none with auto TLS). */
  readonly ca?: Buffer;
  /** Require a certificate from dialling members (--peer-client-cert-auth). */
  readonly clientCertAuth: boolean;
  /** Accept any certificate (etcd's --peer-auto-tls trusts self-signed peers). */
  readonly insecureSkipVerify: boolean;
}

export interface PeerPortOptions {
  readonly host: string;
  readonly port: number;
  /** This process's TcpTransport, which serves the Raft connections accepted here. */
  readonly transport: { acceptConnection(socket: net.Socket, head: Buffer): void };
  readonly tls?: PeerTls;
  readonly logger: Logger;
  /** This member's attributes, answered to a peer's MEMBER_ATTRIBUTES request. */
  readonly attributes: () => PublishedAttributes;
  /** This member's replication progress if it leads (REPLICATION_PROGRESS), else undefined. */
  readonly progress: () => ReplicationProgress | undefined;
  /** How long this member has followed (or been) a leader without a break (LEADER_CONTACT; leader-contact.ts). */
  readonly leaderContact: () => number | undefined;
}

/** What a member publishes about itself to its peers (etcd's member attributes). */
export interface PublishedAttributes {
  readonly clusterId: bigint;
  /** The Raft members this member knows, with their peer addresses (how a joining member finds its Raft id). */
  readonly raftMembers: ReadonlyArray<{ readonly raftId: number; readonly address: string; readonly etcdId?: bigint }>;
  readonly id: bigint;
  readonly name: string;
  readonly peerURLs: readonly string[];
  readonly clientURLs: readonly string[];
}

/** The peer-link request for a member's attributes (answered by the port, not the KvMember). */
const MEMBER_ATTRIBUTES = 'pontoonMemberAttributes';
/** The peer-link request for the leader's replication progress (answered by the port). */
const REPLICATION_PROGRESS = 'pontoonReplicationProgress';
/** The peer-link request for a member's LeaderContact (answered by the port). */
const LEADER_CONTACT = 'pontoonLeaderContact';
type PortRequest = { kind: typeof MEMBER_ATTRIBUTES } | { kind: typeof REPLICATION_PROGRESS } | { kind: typeof LEADER_CONTACT };

/** The member's peer port: accepts both protocols and serves the peer link's requests. */
export class PeerPort {
  private server: net.Server | undefined;
  private handler: PeerHandler | undefined;
  private readonly sockets = new Set<net.Socket>();

  constructor(private readonly options: PeerPortOptions) {}

  /** Binds the port. */
  async listen(): Promise<void> {
    const o = this.options;
    const server =
      o.tls === undefined
        ? net.createServer()
        : tls.createServer({
            cert: o.tls.cert,
            key: o.tls.key,
            ...(o.tls.ca === undefined ? {} : { ca: o.tls.ca }),
            requestCert: o.tls.clientCertAuth,
            rejectUnauthorized: o.tls.clientCertAuth && !o.tls.insecureSkipVerify,
            minVersion: 'TLSv1.2',
          });
    server.on(o.tls === undefined ? 'connection' : 'secureConnection', (socket: net.Socket) => this.accept(socket));
    server.on('connection', (socket: net.Socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
    server.on('tlsClientError', (err: Error) => o.logger.warn(`peer port: refused a TLS connection: ${err.message}`));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(o.port, o.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
  }

  /** Serves peer-link requests with `handler` (the member's). */
  serve(handler: PeerHandler | undefined): void {
    this.handler = handler;
  }

  /** Stops listening and drops every connection. */
  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const s of this.sockets) s.destroy();
    if (server !== undefined) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private accept(socket: net.Socket): void {
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    let head = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      head = Buffer.concat([head, chunk]);
      if (head.length < PEER_LINK_MAGIC.length && PEER_LINK_MAGIC.subarray(0, head.length).equals(head)) return;
      socket.off('data', onData);
      socket.pause();
      if (head.subarray(0, PEER_LINK_MAGIC.length).equals(PEER_LINK_MAGIC)) {
        this.serveLink(socket, head.subarray(PEER_LINK_MAGIC.length));
      } else {
        this.options.transport.acceptConnection(socket, head);
      }
    };
    socket.on('data', onData);
  }

  /** One request a connection: read its frame, answer with the handler's result or error. */
  private serveLink(socket: net.Socket, first: Buffer): void {
    const abort = new AbortController();
    socket.once('close', () => abort.abort(new PeerUnreachableError(0)));
    readFrame(socket, first)
      .then(async (payload) => {
        const request = packr.unpack(payload) as PeerRequest | PortRequest;
        if (request.kind === MEMBER_ATTRIBUTES) return packr.pack({ ok: true, value: this.options.attributes() });
        if (request.kind === REPLICATION_PROGRESS) return packr.pack({ ok: true, value: this.options.progress() ?? null });
        if (request.kind === LEADER_CONTACT) return packr.pack({ ok: true, value: this.options.leaderContact() ?? null });
        const handler = this.handler;
        if (handler === undefined) throw new PeerUnreachableError(0);
        const response = await handler(request, abort.signal);
        return packr.pack({ ok: true, value: response });
      })
      .catch((err: unknown) => packr.pack({ ok: false, error: toWireError(err) }))
      .then((answer) => {
        socket.end(frame(answer));
      })
      .catch(() => socket.destroy());
  }
}

/**
 * The peer link between member processes: each call opens a connection to the member's peer
 * port, sends one request and reads one answer. A member that cannot be reached (refused,
 * reset, silent past the connect timeout) is PeerUnreachableError, which the member treats as
 * "not delivered" and retries elsewhere.
 */
export class TcpPeerLink implements KvPeerLink {
  constructor(
    /** The member's peer ports (one per --listen-peer-urls); all serve its handler. */
    private readonly ports: readonly PeerPort[],
    /** The peer address (`host:port` of its peer URL) of a member, by Raft id. */
    private readonly addressOf: (raftId: number) => string | undefined,
    private readonly tls: PeerTls | undefined,
  ) {}

  serve(handler: PeerHandler): void {
    for (const p of this.ports) p.serve(handler);
  }

  close(): void {
    for (const p of this.ports) p.serve(undefined);
  }

  /** A member's published attributes, asked at its peer address; undefined if unreachable. */
  async attributesAt(address: string, signal?: AbortSignal): Promise<PublishedAttributes | undefined> {
    return (await this.askPort<PublishedAttributes>(address, MEMBER_ATTRIBUTES, signal)) ?? undefined;
  }

  /**
   * The replication progress of the member at `address`: null if it does not lead, undefined if
   * it cannot be reached.
   */
  progressAt(address: string, signal?: AbortSignal): Promise<ReplicationProgress | null | undefined> {
    return this.askPort<ReplicationProgress | null>(address, REPLICATION_PROGRESS, signal);
  }

  /**
   * How long the member at `address` has followed a leader without a break, in ms: undefined if
   * it has no leader, cannot be reached, or predates the request.
   */
  async leaderContactAt(address: string, signal?: AbortSignal): Promise<number | undefined> {
    const ms = await this.askPort<number | null>(address, LEADER_CONTACT, signal);
    return typeof ms === 'number' ? ms : undefined;
  }

  /** One request answered by a peer's port itself; undefined if unreachable or refused. */
  private async askPort<T>(address: string, kind: PortRequest['kind'], signal: AbortSignal | undefined): Promise<T | undefined> {
    let socket: net.Socket;
    try {
      socket = await dial(address, this.tls, signal);
    } catch {
      return undefined;
    }
    try {
      socket.write(Buffer.concat([PEER_LINK_MAGIC, frame(packr.pack({ kind }))]));
      const answer = packr.unpack(await readFrame(socket, Buffer.alloc(0))) as { ok: boolean; value?: T };
      return answer.ok ? answer.value : undefined;
    } catch {
      return undefined;
    } finally {
      socket.destroy();
    }
  }

  async call<R extends PeerRequest>(to: number, request: R, signal?: AbortSignal): Promise<PeerResponse<R['kind']>> {
    const address = this.addressOf(to);
    if (address === undefined) throw new PeerUnreachableError(to);
    let socket: net.Socket;
    try {
      socket = await dial(address, this.tls, signal);
    } catch (err) {
      signal?.throwIfAborted();
      throw new PeerUnreachableError(to);
    }
    const onAbort = (): void => {
      socket.destroy();
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      socket.write(Buffer.concat([PEER_LINK_MAGIC, frame(packr.pack(request))]));
      let payload: Buffer;
      try {
        payload = await readFrame(socket, Buffer.alloc(0));
      } catch {
        signal?.throwIfAborted();
        // The connection broke after the request went out. A lease request changes nothing and
        // may be sent again; a membership change may already be in the leader's log, so sending
        // it again could apply it twice: its outcome is unknown, etcd's "request timed out".
        if (request.kind === 'changeMembership') throw new RequestTimeoutError(`member ${to} went away before answering`);
        throw new PeerUnreachableError(to);
      }
      const answer = packr.unpack(payload) as { ok: true; value: unknown } | { ok: false; error: WireError };
      if (!answer.ok) throw fromWireError(answer.error);
      return answer.value as PeerResponse<R['kind']>;
    } finally {
      signal?.removeEventListener('abort', onAbort);
      socket.destroy();
    }
  }
}

/**
 * Raft traffic out to other members with peer TLS: TcpTransport dials a loopback forwarder per
 * member, which dials the member's peer URL over TLS and relays.
 */
export class PeerDialer {
  private readonly forwarders = new Map<number, net.Server>();
  private readonly sockets = new Set<net.Socket>();

  constructor(private readonly tls: PeerTls) {}

  /** The loopback address TcpTransport should dial to reach `peerAddress`. */
  async forward(raftId: number, peerAddress: string): Promise<string> {
    this.remove(raftId);
    const server = net.createServer((inbound) => {
      this.sockets.add(inbound);
      inbound.once('close', () => this.sockets.delete(inbound));
      inbound.pause();
      dial(peerAddress, this.tls, undefined).then(
        (outbound) => {
          this.sockets.add(outbound);
          outbound.once('close', () => this.sockets.delete(outbound));
          pipeBoth(inbound, outbound);
        },
        () => inbound.destroy(),
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.forwarders.set(raftId, server);
    return `127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  }

  remove(raftId: number): void {
    this.forwarders.get(raftId)?.close();
    this.forwarders.delete(raftId);
  }

  close(): void {
    for (const id of [...this.forwarders.keys()]) this.remove(id);
    for (const s of this.sockets) s.destroy();
  }
}

function frame(payload: Buffer | Uint8Array): Buffer {
  const header = Buffer.alloc(4);
  header.writeUInt32BE(payload.length, 0);
  return Buffer.concat([header, payload]);
}

/** Reads one length-prefixed frame, starting with bytes already read. */
function readFrame(socket: net.Socket, first: Buffer): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    let buf = first;
    const done = (err: Error | undefined, payload?: Buffer): void => {
      socket.off('data', onData);
      socket.off('close', onClose);
      socket.off('error', onClose);
      socket.pause();
      if (err !== undefined) reject(err);
      else resolve(payload!);
    };
    const check = (): void => {
      if (buf.length < 4) return;
      const length = buf.readUInt32BE(0);
      if (length > MAX_LINK_FRAME) return done(new Error(`peer link frame of ${length} bytes refused`));
      if (buf.length >= 4 + length) done(undefined, buf.subarray(4, 4 + length));
    };
    const onData = (chunk: Buffer): void => {
      buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
      check();
    };
    const onClose = (): void => done(new Error('connection closed before a whole frame'));
    socket.on('data', onData);
    socket.once('close', onClose);
    socket.once('error', onClose);
    socket.resume();
    check();
  });
}

function dial(address: string, peerTls: PeerTls | undefined, signal: AbortSignal | undefined): Promise<net.Socket> {
  const i = address.lastIndexOf(':');
  const host = address.slice(0, i).replace(/^\[|\]$/g, '');
  const port = Number(address.slice(i + 1));
  return new Promise<net.Socket>((resolve, reject) => {
    const socket =
      peerTls === undefined
        ? net.connect({ host, port })
        : tls.connect({
            host,
            port,
            cert: peerTls.cert,
            key: peerTls.key,
            ...(peerTls.ca === undefined ? {} : { ca: peerTls.ca }),
            rejectUnauthorized: !peerTls.insecureSkipVerify,
            // etcd checks the peer's certificate against its CA, not against the host name dialled.
            checkServerIdentity: () => undefined,
            minVersion: 'TLSv1.2',
          });
    const timer = setTimeout(() => fail(new Error(`connect to ${address} timed out`)), CONNECT_TIMEOUT_MS);
    const fail = (err: Error): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      socket.destroy();
      reject(err);
    };
    const onAbort = (): void => fail(signal!.reason as Error);
    signal?.addEventListener('abort', onAbort, { once: true });
    socket.once('error', fail);
    socket.once(peerTls === undefined ? 'connect' : 'secureConnect', () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      socket.off('error', fail);
      socket.on('error', () => socket.destroy());
      resolve(socket);
    });
  });
}

function pipeBoth(a: net.Socket, b: net.Socket): void {
  // Raft's small messages (an append's answer, a heartbeat) must not wait behind Nagle for the
  // delayed ACK of the previous segment: ~40 ms a hop on Linux. The transport's own sockets
  // have Nagle off; a relay in between has to as well.
  a.setNoDelay(true);
  b.setNoDelay(true);
  a.on('error', () => b.destroy());
  b.on('error', () => a.destroy());
  a.once('close', () => b.destroy());
  b.once('close', () => a.destroy());
  a.pipe(b);
  b.pipe(a);
  a.resume();
}
