/**
 * What RaftNode adds to the bytes the core carries: member addresses in conf change contexts,
 * and a header in front of the state machine's snapshot that holds the address book (a node
 * that installs a snapshot never sees the conf change entries that carried the addresses).
 */
import { DecodeError } from '../errors.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/** Encodes `{ id: address }` for a conf change context. */
export function encodeAddresses(addresses: Iterable<readonly [number, string]>): Uint8Array {
  const obj: Record<string, string> = {};
  for (const [id, address] of addresses) obj[String(id)] = address;
  return encoder.encode(JSON.stringify(obj));
}

/**
 * Decodes a conf change context written by encodeAddresses. Throws DecodeError for anything
 * else (a change proposed by other means may carry any context).
 */
export function decodeAddresses(bytes: Uint8Array): Map<number, string> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(decoder.decode(bytes));
  } catch (err) {
    throw new DecodeError(`conf change context is not an address map: ${String(err)}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new DecodeError('conf change context is not an address map');
  }
  const out = new Map<number, string>();
  for (const [key, value] of Object.entries(parsed as Record<string, unknown>)) {
    const id = Number(key);
    if (!Number.isSafeInteger(id) || id <= 0 || typeof value !== 'string') {
      throw new DecodeError(`conf change context: bad address entry ${key}`);
    }
    out.set(id, value);
  }
  return out;
}

// Snapshot payload: "PNS1" | header length (u32 BE) | header (JSON: { addresses }) | user data.
const MAGIC = [0x50, 0x4e, 0x53, 0x31];
const PREFIX = MAGIC.length + 4;

/** Wraps the state machine's snapshot with the address book. */
export function encodeSnapshotData(addresses: ReadonlyMap<number, string>, data: Uint8Array): Uint8Array {
  const header = encodeAddresses(addresses);
  const out = new Uint8Array(PREFIX + header.length + data.length);
  out.set(MAGIC, 0);
  new DataView(out.buffer, out.byteOffset, out.byteLength).setUint32(MAGIC.length, header.length);
  out.set(header, PREFIX);
  out.set(data, PREFIX + header.length);
  return out;
}

/** Unwraps encodeSnapshotData. Throws DecodeError for bytes it did not write. */
export function decodeSnapshotData(bytes: Uint8Array): { addresses: Map<number, string>; data: Uint8Array } {
  if (bytes.length < PREFIX || MAGIC.some((b, i) => bytes[i] !== b)) {
    throw new DecodeError('snapshot data was not written by RaftNode (bad header)');
  }
  const len = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(MAGIC.length);
  if (PREFIX + len > bytes.length) throw new DecodeError('snapshot data: truncated header');
  const addresses = decodeAddresses(bytes.subarray(PREFIX, PREFIX + len));
  return { addresses, data: bytes.subarray(PREFIX + len) };
}
