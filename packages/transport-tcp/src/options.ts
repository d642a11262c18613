/** Options of TcpTransport, their defaults and their checks. */
import { ConfigError, silentLogger } from '@pontoon/raft';
import type { Logger } from '@pontoon/raft';
import type { BackoffOptions } from './backoff.js';
import { MAX_STREAM_BYTES } from './snapshot-chunking.js';

/**
 * Mutual TLS: every node presents a certificate signed by the cluster's CA and accepts only
 * peers that do the same. PEM strings or buffers.
 */
export interface TlsOptions {
  /** The cluster's CA certificate(s): the only issuers trusted, for clients and servers. */
  ca: string | Buffer | Array<string | Buffer>;
  /** This node's certificate chain. */
  cert: string | Buffer;
  /** This node's private key. */
  key: string | Buffer;
  /**
   * Checks the server certificate's identity against the dialled host. The default is Node's
   * (the host of the peer's address must be in the certificate's SAN); pass `() => undefined` to
   * trust any certificate the CA signed, whatever name it carries.
   */
  checkServerIdentity?: (host: string, cert: import('node:tls').PeerCertificate) => Error | undefined;
  /**
   * The node id a peer's certificate speaks for (undefined: none). A client is refused unless
   * its certificate speaks for the node its handshake claims to be, and a server we dial unless
   * its certificate speaks for the node we dialled. Default: the id in the certificate's one URI
   * SAN `pontoon://node/<id>` (see node-identity.ts); pass your own to name nodes otherwise (by
   * CN, say). There is no way to turn the check off: a certificate that names no node is
   * refused.
   */
  nodeIdOf?: (cert: import('node:tls').PeerCertificate) => number | undefined;
}

export interface TcpTransportOptions {
  /** This node's Raft id (> 0). */
  id: number;
  /** Names the cluster; a peer of another cluster is refused at the handshake. */
  clusterId: string;
  /** Where to listen. Default: 127.0.0.1 and an ephemeral port (see `listen()`'s result). */
  listen?: { host?: string; port?: number } | undefined;
  /** Mutual TLS. Without it, traffic is plain TCP: authenticated by cluster id only. */
  tls?: TlsOptions | undefined;
  /** Where log lines go. Default: nowhere. */
  logger?: Logger | undefined;
  /** The largest frame payload sent or accepted. Default 1 MiB. */
  maxFrameBytes?: number | undefined;
  /** The largest message (in practice, snapshot) accepted as a stream. Default 256 MiB. */
  maxMessageBytes?: number | undefined;
  /**
   * The most bytes waiting for one peer (queued messages plus bytes the socket has not yet
   * handed to the kernel); past it, messages to that peer are dropped. Default 8 MiB.
   */
  maxQueueBytes?: number | undefined;
  /** The payload of one stream chunk. Default 256 KiB (at most maxFrameBytes - 4). */
  chunkBytes?: number | undefined;
  /** Time allowed for connect, TLS and handshake, each way. Default 5000 ms. */
  handshakeTimeoutMs?: number | undefined;
  /** Time allowed between the last chunk of a stream and its ack. Default 60000 ms. */
  streamAckTimeoutMs?: number | undefined;
  /** Reconnect delays. Default 50 ms doubling to 5 s, jittered. */
  backoff?: Partial<BackoffOptions> | undefined;
  /** Most messages in one frame and entries in one message accepted. Default 100000 each. */
  maxMessagesPerFrame?: number | undefined;
  maxEntriesPerMessage?: number | undefined;
}

export interface ResolvedOptions {
  id: number;
  clusterId: string;
  host: string;
  port: number;
  tls: TlsOptions | undefined;
  logger: Logger;
  maxFrameBytes: number;
  maxMessageBytes: number;
  maxQueueBytes: number;
  chunkBytes: number;
  handshakeTimeoutMs: number;
  streamAckTimeoutMs: number;
  backoff: BackoffOptions;
  maxMessagesPerFrame: number;
  maxEntriesPerMessage: number;
}

function positiveInt(field: string, v: number | undefined, dflt: number, max = Number.MAX_SAFE_INTEGER): number {
  const x = v ?? dflt;
  if (!Number.isSafeInteger(x) || x <= 0 || x > max) throw new ConfigError(field, `must be an integer in [1, ${max}], got ${String(x)}`);
  return x;
}

export function resolveOptions(o: TcpTransportOptions): ResolvedOptions {
  const id = positiveInt('id', o.id, 0);
  if (typeof o.clusterId !== 'string' || o.clusterId.length === 0 || o.clusterId.length > 256) {
    throw new ConfigError('clusterId', 'must be a non-empty string of at most 256 characters');
  }
  const maxFrameBytes = positiveInt('maxFrameBytes', o.maxFrameBytes, 1 << 20, 0x7fff_ffff);
  if (maxFrameBytes < 4096) throw new ConfigError('maxFrameBytes', 'must be at least 4096');
  const port = o.listen?.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ConfigError('listen.port', `bad port ${port}`);
  const initialMs = positiveInt('backoff.initialMs', o.backoff?.initialMs, 50);
  const maxMs = positiveInt('backoff.maxMs', o.backoff?.maxMs, 5000);
  if (maxMs < initialMs) throw new ConfigError('backoff.maxMs', 'must be at least backoff.initialMs');
  return {
    id,
    clusterId: o.clusterId,
    host: o.listen?.host ?? '127.0.0.1',
    port,
    tls: o.tls,
    logger: o.logger ?? silentLogger,
    maxFrameBytes,
    maxMessageBytes: positiveInt('maxMessageBytes', o.maxMessageBytes, 256 << 20, MAX_STREAM_BYTES),
    maxQueueBytes: positiveInt('maxQueueBytes', o.maxQueueBytes, 8 << 20),
    chunkBytes: positiveInt('chunkBytes', o.chunkBytes, Math.min(256 << 10, maxFrameBytes - 4), maxFrameBytes - 4),
    handshakeTimeoutMs: positiveInt('handshakeTimeoutMs', o.handshakeTimeoutMs, 5000),
    streamAckTimeoutMs: positiveInt('streamAckTimeoutMs', o.streamAckTimeoutMs, 60_000),
    backoff: { initialMs, maxMs, random: o.backoff?.random ?? Math.random },
    maxMessagesPerFrame: positiveInt('maxMessagesPerFrame', o.maxMessagesPerFrame, 100_000),
    maxEntriesPerMessage: positiveInt('maxEntriesPerMessage', o.maxEntriesPerMessage, 100_000),
  };
}

/** A peer address, "host:port" or "[ipv6]:port". Throws ConfigError if it is not one. */
export function parseAddress(address: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(address);
  const port = m === null ? NaN : Number(m[3]);
  if (m === null || port < 1 || port > 65535) {
    throw new ConfigError('address', `${JSON.stringify(address)} is not host:port`);
  }
  return { host: (m[1] ?? m[2])!, port };
}
