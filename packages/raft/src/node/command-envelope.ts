/**
 * How a command sits in a log entry. Most commands are stored as they are. A command that a
 * follower forwards to the leader is wrapped in an envelope that names the proposing member
 * (id and a per-incarnation nonce), a sequence number, and the term it was forwarded in: the
 * proposer recognizes its entry when it applies, and every member skips a copy that a later
 * leader appended (see forwarding.ts). The envelope is stripped before the state machine sees
 * the command.
 *
 * An envelope starts with 0xC1, a byte that begins no msgpack value and no UTF-8 text; a plain
 * command that happens to start with it is escaped, so that every entry decodes one way.
 */
import type { Entry } from '../types.js';

/** The first byte of an envelope. */
export const ENVELOPE_MARK = 0xc1;
const KIND_ESCAPED = 0;
const KIND_FORWARDED = 1;
/** mark, kind, member id (f64), nonce (8 bytes), sequence (f64), term (f64). */
const FORWARDED_HEADER = 2 + 8 + 8 + 8 + 8;

/** Who forwarded a command: the member, its incarnation, and the command's number there. */
export interface ForwardTag {
  memberId: number;
  /** 8 random bytes per incarnation of the member, so that a restart never reuses a tag. */
  nonce: Uint8Array;
  seq: number;
  /** The term the proposer forwarded it in: only the leader of that term may append it. */
  term: number;
}

/** A command as stored by the node that proposes it as the leader. */
export function encodePlainCommand(command: Uint8Array): Uint8Array {
  if (command.length === 0 || command[0] !== ENVELOPE_MARK) return command;
  const out = new Uint8Array(command.length + 2);
  out[0] = ENVELOPE_MARK;
  out[1] = KIND_ESCAPED;
  out.set(command, 2);
  return out;
}

/** A command wrapped for forwarding. */
export function encodeForwardedCommand(tag: ForwardTag, command: Uint8Array): Uint8Array {
  const out = new Uint8Array(FORWARDED_HEADER + command.length);
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  out[0] = ENVELOPE_MARK;
  out[1] = KIND_FORWARDED;
  view.setFloat64(2, tag.memberId);
  out.set(tag.nonce.subarray(0, 8), 10);
  view.setFloat64(18, tag.seq);
  view.setFloat64(26, tag.term);
  out.set(command, FORWARDED_HEADER);
  return out;
}

/** A decoded entry: the command for the state machine, and the forwarding tag if any. */
export type DecodedCommand =
  | { kind: 'plain'; command: Uint8Array; tag: undefined }
  | { kind: 'forwarded'; command: Uint8Array; tag: ForwardTag }
  | { kind: 'malformed'; reason: string };

/** Decodes an entry's data (never empty). */
export function decodeCommand(data: Uint8Array): DecodedCommand {
  if (data[0] !== ENVELOPE_MARK) return { kind: 'plain', command: data, tag: undefined };
  if (data.length >= 3 && data[1] === KIND_ESCAPED) return { kind: 'plain', command: data.subarray(2), tag: undefined };
  if (data[1] !== KIND_FORWARDED) return { kind: 'malformed', reason: `unknown envelope kind ${String(data[1])}` };
  if (data.length <= FORWARDED_HEADER) return { kind: 'malformed', reason: `a forwarded command of ${data.length} bytes is too short` };
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const memberId = view.getFloat64(2);
  const seq = view.getFloat64(18);
  const term = view.getFloat64(26);
  if (![memberId, seq, term].every((n) => Number.isSafeInteger(n) && n > 0)) {
    return { kind: 'malformed', reason: 'a forwarded command with an invalid member id, sequence or term' };
  }
  return {
    kind: 'forwarded',
    command: data.subarray(FORWARDED_HEADER),
    tag: { memberId, nonce: data.subarray(10, 18), seq, term },
  };
}

/** The entry as the state machine sees it: `entry` itself unless its command was wrapped. */
export function withCommand(entry: Entry, command: Uint8Array): Entry {
  return command === entry.data ? entry : { term: entry.term, index: entry.index, type: entry.type, data: command };
}
