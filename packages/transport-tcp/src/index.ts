/**
 * @pontoon/transport-tcp: Raft peer messaging over TCP, or mutually authenticated TLS.
 * See the package README for an example.
 */
export { TcpTransport } from './tcp-transport.js';
export type { TcpTransportOptions, TlsOptions } from './options.js';
export type { TransportEvents } from './events.js';
export type { PeerCounters, TransportCounters } from './counters.js';
export type { BackoffOptions } from './backoff.js';
export { FrameError, HandshakeError, MessageDecodeError, PeerProtocolError } from './errors.js';
export type { HandshakeRefusal } from './errors.js';
export { PROTOCOL_VERSION } from './handshake.js';
