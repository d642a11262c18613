/**
 * A client URL as etcd serves it: gRPC (HTTP/2) and, on the same port, HTTP/1.1 for `/health`,
 * `/metrics` and `/version` (etcd multiplexes them with cmux). gRPC connections are handed to
 * the gRPC server in this process as they are (no relay through a loopback port: that hop cost
 * two more socket writes and reads per message, and its Nagle delays put ~40 ms on small
 * answers); HTTP/1.1 requests are answered here. A plain connection is told apart by the HTTP/2
 * preface (`PRI * HTTP/2.0`); with TLS the port terminates TLS (ALPN `h2` and `http/1.1`, client
 * certificates checked against `--trusted-ca-file` with `--client-cert-auth`) and routes on the
 * protocol ALPN chose. The client's HTTP/2 bytes pass through request-authority.ts on their way
 * to gRPC.
 */
import http from 'node:http';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import tls from 'node:tls';
import { AuthorityRewritingConnection } from './request-authority.js';
import type { TlsMaterial } from './tls-material.js';

const H2_PREFACE = Buffer.from('PRI * HTTP/2.0', 'latin1');

export interface ClientPortOptions {
  readonly host: string;
  readonly port: number;
  /** The gRPC server, taking connections accepted here (TLS already terminated). */
  readonly grpc: { injectConnection(connection: Duplex): void };
  readonly tls?: TlsMaterial;
  /** Answers HTTP/1.1: the JSON gateway, `/health`, `/metrics`, `/version`. */
  readonly http: http.RequestListener;
}

/** One listening client URL. */
export class ClientPort {
  private server: net.Server | undefined;
  private readonly httpServer: http.Server;
  private readonly sockets = new Set<net.Socket>();

  constructor(private readonly options: ClientPortOptions) {
    // No limit on how long a request body may take: a gateway watch streams its requests in
    // the body for as long as it watches (etcd's Go server sets none either).
    this.httpServer = http.createServer({ requestTimeout: 0 }, options.http);
    // Idle keep-alive connections stay open, as on etcd's port (Node's default closes them after
    // 5 s, racing clients that reuse a connection every 10 s, as Patroni does).
    this.httpServer.keepAliveTimeout = 0;
  }

  async listen(): Promise<void> {
    const o = this.options;
    const server =
      o.tls === undefined
        ? net.createServer((s) => this.sniff(s))
        : tls.createServer(
            {
              cert: o.tls.cert,
              key: o.tls.key,
              ...(o.tls.ca === undefined ? {} : { ca: o.tls.ca }),
              requestCert: o.tls.clientCertAuth,
              rejectUnauthorized: o.tls.clientCertAuth,
              ALPNProtocols: ['h2', 'http/1.1'],
              minVersion: 'TLSv1.2',
            },
            (s) => (s.alpnProtocol === 'h2' ? this.serveGrpc(s, Buffer.alloc(0)) : this.sniff(s)),
          );
    server.on('connection', (s: net.Socket) => {
      this.sockets.add(s);
      s.once('close', () => this.sockets.delete(s));
      s.on('error', () => s.destroy());
    });
    server.on('tlsClientError', () => undefined);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(o.port, o.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const s of this.sockets) s.destroy();
    this.httpServer.close();
    if (server !== undefined) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private sniff(socket: net.Socket): void {
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
    let head = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      head = Buffer.concat([head, chunk]);
      const n = Math.min(head.length, H2_PREFACE.length);
      const maybeH2 = head.subarray(0, n).equals(H2_PREFACE.subarray(0, n));
      if (maybeH2 && head.length < H2_PREFACE.length) return;
      socket.off('data', onData);
      socket.pause();
      if (maybeH2) {
        this.serveGrpc(socket, head);
      } else {
        socket.unshift(head);
        this.httpServer.emit('connection', socket);
        socket.resume();
      }
    };
    socket.on('data', onData);
  }

  /** `head`: what sniffing read off the socket; the HTTP/2 session reads it back first. */
  private serveGrpc(socket: net.Socket, head: Buffer): void {
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
    // Small answers (a get, a put's header and trailers) must leave at once, not wait for the
    // client's delayed ACK of the previous segment.
    socket.setNoDelay(true);
    // Not the socket itself: etcd's Go clients may need their :authority rewritten first.
    this.options.grpc.injectConnection(new AuthorityRewritingConnection(socket, head));
  }
}
