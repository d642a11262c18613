/**
 * The body of a Messages frame (and of a streamed message):
 *
 *     [u32 BE header length][msgpack header: a flat array of non-negative integers][raw bytes]
 *
 * The header holds every numeric field of every message, and the length of each byte field
 * (entry data, context, snapshot data); the bytes follow the header raw, in the same order.
 * Why not msgpack the messages as objects: msgpackr spends 300-600 ns on each Uint8Array
 * (its extension path) against ~20 ns per small integer, and a flat integer array is also the
 * easiest shape to check completely on the way in. The array itself is written and read by
 * msgpack-ints (a specialised msgpack writer/reader; see there why).
 *
 * Header layout: `[count, ...message]`, each message being
 * `type, to, from, term, logTerm, index, commit, vote, rejectHint, flags, entryCount,
 *  (term, index, type, dataLength) x entryCount,
 *  contextLength            if flags & HAS_CONTEXT,
 *  index, term, voters..., learners..., votersOutgoing..., learnersNext..., dataLength
 *                           if flags & HAS_SNAPSHOT (each id list as count then ids)`.
 */
import { EMPTY_BYTES, EntryType, newMessage } from '@pontoon/raft';
import type { ConfState, Entry, Message, Snapshot } from '@pontoon/raft';
import { MessageDecodeError } from './errors.js';
import { readU32, writeU32 } from './frame-codec.js';
import { IntArrayReader, IntArrayWriter } from './msgpack-ints.js';

const FLAG_REJECT = 1;
const FLAG_HAS_CONTEXT = 2;
const FLAG_HAS_SNAPSHOT = 4;
const FLAG_AUTO_LEAVE = 8;
const KNOWN_FLAGS = FLAG_REJECT | FLAG_HAS_CONTEXT | FLAG_HAS_SNAPSHOT | FLAG_AUTO_LEAVE;

/** Header integers of a message without entries, context or snapshot. */
const FIXED_FIELDS = 11;

/** A body not yet laid out: the encoded header, then the byte fields to append raw. */
export interface EncodedBody {
  header: Uint8Array;
  payloads: Uint8Array[];
  /** Total body length: 4 + header + payloads. */
  length: number;
}

/** An upper estimate of a message's encoded size, for queue accounting and frame splitting. */
export function estimateMessageBytes(m: Message): number {
  let n = 64 + (m.context?.length ?? 0);
  for (const e of m.entries) n += 24 + e.data.length;
  if (m.snapshot !== undefined) {
    const cs = m.snapshot.metadata.confState;
    n += 32 + m.snapshot.data.length;
    n += 9 * (cs.voters.length + cs.learners.length + cs.votersOutgoing.length + cs.learnersNext.length);
  }
  return n;
}

/** Encodes message headers with one reused packer (not re-entrant; one per transport). */
export class MessageEncoder {
  private readonly ints = new IntArrayWriter();
  private readonly payloads: Uint8Array[] = [];

  /** Encodes `messages` into one body. `responses` (local-only) is never sent. */
  encode(messages: readonly Message[]): EncodedBody {
    const ints = this.ints;
    const payloads = this.payloads;
    ints.reset();
    payloads.length = 0;
    let payloadBytes = 0;
    ints.push(messages.length);
    for (const m of messages) {
      const snap = m.snapshot;
      const hasSnap = snap !== undefined && snap !== null;
      let flags = m.reject ? FLAG_REJECT : 0;
      if (m.context !== undefined && m.context !== null) flags |= FLAG_HAS_CONTEXT;
      if (hasSnap) flags |= FLAG_HAS_SNAPSHOT;
      if (hasSnap && snap.metadata.confState.autoLeave) flags |= FLAG_AUTO_LEAVE;
      ints.push(m.type);
      ints.push(m.to);
      ints.push(m.from);
      ints.push(m.term);
      ints.push(m.logTerm);
      ints.push(m.index);
      ints.push(m.commit);
      ints.push(m.vote);
      ints.push(m.rejectHint);
      ints.push(flags);
      ints.push(m.entries.length);
      for (const e of m.entries) {
        ints.push(e.term);
        ints.push(e.index);
        ints.push(e.type);
        ints.push(e.data.length);
        if (e.data.length > 0) {
          payloads.push(e.data);
          payloadBytes += e.data.length;
        }
      }
      if ((flags & FLAG_HAS_CONTEXT) !== 0) {
        const ctx = m.context!;
        ints.push(ctx.length);
        if (ctx.length > 0) {
          payloads.push(ctx);
          payloadBytes += ctx.length;
        }
      }
      if (hasSnap) {
        const md = snap.metadata;
        const cs = md.confState;
        ints.push(md.index);
        ints.push(md.term);
        pushIds(ints, cs.voters);
        pushIds(ints, cs.learners);
        pushIds(ints, cs.votersOutgoing);
        pushIds(ints, cs.learnersNext);
        ints.push(snap.data.length);
        if (snap.data.length > 0) {
          payloads.push(snap.data);
          payloadBytes += snap.data.length;
        }
      }
    }
    const header = ints.finish();
    return { header, payloads: payloads.slice(), length: 4 + header.length + payloadBytes };
  }
}

function pushIds(ints: IntArrayWriter, ids: readonly number[]): void {
  ints.push(ids.length);
  for (const id of ids) ints.push(id);
}

/** Lays `body` out at `offset` of `target` (which has room for body.length bytes). */
export function writeBody(target: Uint8Array, offset: number, body: EncodedBody): void {
  writeU32(target, offset, body.header.length);
  let off = offset + 4;
  target.set(body.header, off);
  off += body.header.length;
  for (const p of body.payloads) {
    target.set(p, off);
    off += p.length;
  }
}

/** Limits a decoder enforces beyond the frame size. */
export interface DecodeLimits {
  /** Most messages in one body. */
  maxMessages: number;
  /** Most entries in one message. */
  maxEntries: number;
}

/**
 * Decodes bodies, checking their shape completely: every header value a non-negative safe
 * integer, every count within what is left, every byte length within the bytes that follow,
 * nothing left over. Semantic checks (Raft's rules) are validateMessage's job, after this.
 */
export class MessageDecoder {
  private readonly limits: DecodeLimits;

  constructor(limits: DecodeLimits) {
    this.limits = limits;
  }

  /**
   * Decodes one body. Byte fields are views of `body`'s payload area; with `copyPayloads`, of a
   * fresh copy of it instead when the views would otherwise pin a buffer more than twice their
   * size (a small frame inside a 64 KiB socket read, kept for as long as the log keeps its
   * entries). A large frame assembled for itself is not copied again: that copy cost 4.6 us per
   * 4 KiB entry, most of the receive path (see the README's performance notes).
   */
  decode(body: Uint8Array, copyPayloads: boolean): Message[] {
    if (body.length < 4) throw new MessageDecodeError(`body of ${body.length} bytes has no header length`);
    const headerLength = readU32(body, 0);
    if (headerLength === 0 || headerLength > body.length - 4) {
      throw new MessageDecodeError(`header length ${headerLength} does not fit a body of ${body.length} bytes`);
    }
    const ints = new IntArrayReader(body, 4, 4 + headerLength);
    let tail = body.subarray(4 + headerLength);
    if (copyPayloads && tail.length > 0 && tail.length * 2 < tail.buffer.byteLength) {
      const copy = Buffer.allocUnsafeSlow(tail.length); // its own ArrayBuffer, not the pool's
      copy.set(tail);
      tail = new Uint8Array(copy.buffer, copy.byteOffset, copy.length);
    } else if (tail.length > 0 && Buffer.isBuffer(tail)) {
      // Views of a plain Uint8Array are cheaper to make than views of a Buffer.
      tail = new Uint8Array(tail.buffer, tail.byteOffset, tail.length);
    }
    return new HeaderReader(ints, tail, this.limits).readAll();
  }
}

class HeaderReader {
  private tailPos = 0;

  constructor(
    private readonly ints: IntArrayReader,
    private readonly tail: Uint8Array,
    private readonly limits: DecodeLimits,
  ) {}

  readAll(): Message[] {
    const count = this.int('message count');
    if (count === 0 || count > this.limits.maxMessages) {
      throw new MessageDecodeError(`message count ${count} outside [1, ${this.limits.maxMessages}]`);
    }
    const out: Message[] = [];
    for (let i = 0; i < count; i++) out.push(this.message());
    if (!this.ints.finished) throw new MessageDecodeError('header values or bytes left over');
    if (this.tailPos !== this.tail.length) {
      throw new MessageDecodeError(`${this.tail.length - this.tailPos} payload bytes left over`);
    }
    return out;
  }

  private message(): Message {
    if (this.ints.remaining < FIXED_FIELDS) throw new MessageDecodeError('header ends inside a message');
    const type = this.int('type');
    const to = this.int('to');
    const from = this.int('from');
    const term = this.int('term');
    const logTerm = this.int('logTerm');
    const index = this.int('index');
    const commit = this.int('commit');
    const vote = this.int('vote');
    const rejectHint = this.int('rejectHint');
    const flags = this.int('flags');
    if ((flags & ~KNOWN_FLAGS) !== 0 || flags > KNOWN_FLAGS) throw new MessageDecodeError(`unknown flags ${flags}`);
    const entryCount = this.int('entry count');
    if (entryCount > this.limits.maxEntries || entryCount * 4 > this.ints.remaining) {
      throw new MessageDecodeError(`entry count ${entryCount} exceeds what the header holds`);
    }
    const entries: Entry[] = new Array<Entry>(entryCount);
    for (let i = 0; i < entryCount; i++) {
      const eTerm = this.int('entry term');
      const eIndex = this.int('entry index');
      const eType = this.int('entry type');
      if (eType > EntryType.EntryConfChangeV2) throw new MessageDecodeError(`unknown entry type ${eType}`);
      entries[i] = { term: eTerm, index: eIndex, type: eType, data: this.bytes('entry data') };
    }
    const context = (flags & FLAG_HAS_CONTEXT) !== 0 ? this.bytes('context') : undefined;
    const snapshot = (flags & FLAG_HAS_SNAPSHOT) !== 0 ? this.snapshot((flags & FLAG_AUTO_LEAVE) !== 0) : undefined;
    return newMessage({
      type,
      to,
      from,
      term,
      logTerm,
      index,
      commit,
      vote,
      rejectHint,
      reject: (flags & FLAG_REJECT) !== 0,
      entries,
      context,
      snapshot,
    });
  }

  private snapshot(autoLeave: boolean): Snapshot {
    const index = this.int('snapshot index');
    const term = this.int('snapshot term');
    const confState: ConfState = {
      voters: this.ids('voters'),
      learners: this.ids('learners'),
      votersOutgoing: this.ids('votersOutgoing'),
      learnersNext: this.ids('learnersNext'),
      autoLeave,
    };
    return { data: this.bytes('snapshot data'), metadata: { index, term, confState } };
  }

  private ids(what: string): number[] {
    const n = this.int(`${what} count`);
    if (n > this.ints.remaining) throw new MessageDecodeError(`${what} count ${n} exceeds the header`);
    const ids = new Array<number>(n);
    for (let i = 0; i < n; i++) ids[i] = this.int(what);
    return ids;
  }

  private int(what: string): number {
    return this.ints.next(what);
  }

  private bytes(what: string): Uint8Array {
    const len = this.int(`${what} length`);
    if (len > this.tail.length - this.tailPos) {
      throw new MessageDecodeError(`${what} of ${len} bytes exceeds the ${this.tail.length - this.tailPos} left`);
    }
    if (len === 0) return EMPTY_BYTES;
    const start = this.tailPos;
    this.tailPos += len;
    return this.tail.subarray(start, this.tailPos);
  }
}
