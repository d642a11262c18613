/**
 * Typed errors of the TCP transport. Each extends PontoonError with a stable `code`. None of them
 * ever escapes to the process: bad input closes the one connection that carried it, and the
 * error is logged, counted and emitted (`protocolErrored`, `connectionRefused`).
 */
import { PontoonError } from '@pontoon/raft';

/** A frame that cannot be read: oversize length prefix, unknown kind, truncated at close. */
export class FrameError extends PontoonError {
  constructor(message: string) {
    super('ERR_FRAME', message);
  }
}

/** A frame whose body does not decode into well-formed Raft messages. */
export class MessageDecodeError extends PontoonError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_MESSAGE_DECODE', message, options);
  }
}

/** Why a handshake was refused. Stable strings: they travel on the wire and in logs. */
export type HandshakeRefusal =
  | 'malformed'
  | 'version'
  | 'cluster'
  | 'unknown-sender'
  | 'wrong-receiver'
  | 'timeout'
  | 'closed'
  | 'tls'
  | 'identity';

/** A connection refused during the handshake, by us or by the peer we dialled. */
export class HandshakeError extends PontoonError {
  readonly reason: HandshakeRefusal;
  constructor(reason: HandshakeRefusal, message: string) {
    super('ERR_HANDSHAKE', message);
    this.reason = reason;
  }
}

/** A message received from a peer that it may not send (spoofed sender, local-only type, ...). */
export class PeerProtocolError extends PontoonError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_PEER_PROTOCOL', message, options);
  }
}
