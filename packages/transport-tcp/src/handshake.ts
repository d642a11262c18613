/**
 * The handshake: the dialling node opens with a Hello naming the protocol version, the cluster,
 * itself and the node it means to reach; the listening node answers Welcome, or Refused with a
 * reason and closes. Only then do Raft messages flow, and only from the node the Hello named.
 */
import { Packr, Unpackr } from 'msgpackr';
import { HandshakeError } from './errors.js';
import type { HandshakeRefusal } from './errors.js';

/** The one protocol version this build speaks. */
export const PROTOCOL_VERSION = 1;

/** Marks a Hello as ours: a stray client of another protocol is refused as malformed. */
const MAGIC = 'pontoon';

/** A Hello is tiny; before the handshake no frame may be larger than this. */
export const MAX_HANDSHAKE_FRAME_BYTES = 1024;

/** What a dialling node says about itself. */
export interface Hello {
  version: number;
  clusterId: string;
  /** The dialling node's id. */
  from: number;
  /** The id of the node it means to reach. */
  to: number;
}

const packr = new Packr({ useRecords: false });
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: false });

export function encodeHello(h: Hello): Uint8Array {
  return packr.pack([MAGIC, h.version, h.clusterId, h.from, h.to]);
}

function isId(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v > 0;
}

/** Decodes a Hello, checking its shape only (not whom it names). Throws HandshakeError. */
export function decodeHello(payload: Uint8Array): Hello {
  let v: unknown;
  try {
    v = unpackr.unpack(payload);
  } catch {
    throw new HandshakeError('malformed', 'hello is not valid msgpack');
  }
  if (!Array.isArray(v) || v.length !== 5 || v[0] !== MAGIC) {
    throw new HandshakeError('malformed', 'hello is not a pontoon hello');
  }
  const [, version, clusterId, from, to] = v as unknown[];
  if (typeof version !== 'number' || !Number.isSafeInteger(version)) {
    throw new HandshakeError('malformed', 'hello has no protocol version');
  }
  if (typeof clusterId !== 'string' || clusterId.length > 256) {
    throw new HandshakeError('malformed', 'hello has no cluster id');
  }
  if (!isId(from) || !isId(to)) throw new HandshakeError('malformed', 'hello has bad node ids');
  return { version, clusterId, from, to };
}

/** What the listening node knows to judge a Hello. */
export interface HandshakeContext {
  clusterId: string;
  selfId: number;
  isKnownPeer(id: number): boolean;
}

/** Throws HandshakeError naming why `h` is refused, or returns if it is accepted. */
export function checkHello(h: Hello, ctx: HandshakeContext): void {
  if (h.version !== PROTOCOL_VERSION) {
    throw new HandshakeError('version', `protocol version ${h.version} is not spoken here (we speak ${PROTOCOL_VERSION})`);
  }
  if (h.clusterId !== ctx.clusterId) {
    throw new HandshakeError('cluster', `cluster id ${JSON.stringify(h.clusterId)} is not ours (${JSON.stringify(ctx.clusterId)})`);
  }
  if (h.to !== ctx.selfId) {
    throw new HandshakeError('wrong-receiver', `hello is for node ${h.to}, this is node ${ctx.selfId}`);
  }
  if (!ctx.isKnownPeer(h.from)) {
    throw new HandshakeError('unknown-sender', `node ${h.from} is not a known peer`);
  }
}

export function encodeRefusal(e: HandshakeError): Uint8Array {
  return packr.pack([e.reason, e.message]);
}

/** Decodes a Refused payload into the error the peer gave (or a malformed one). */
export function decodeRefusal(payload: Uint8Array): HandshakeError {
  try {
    const v: unknown = unpackr.unpack(payload);
    if (Array.isArray(v) && typeof v[0] === 'string' && typeof v[1] === 'string') {
      return new HandshakeError(v[0] as HandshakeRefusal, v[1].slice(0, 512));
    }
  } catch {
    // fall through
  }
  return new HandshakeError('malformed', 'peer refused the handshake with an unreadable reason');
}
