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
import { EntryType, EMPTY_BYTES } from '@pontoon/raft/core';
import type { ConfState, Entry, Message, Snapshot } from '@pontoon/raft';
import { MessageDecodeError } from './errors.js';
import { readU32, writeU32 } from './frame-codec.js';
import type { PayloadParts } from './frame-codec.js';
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
  private readonly body: EncodedBody = { header: EMPTY_BYTES, payloads: [], length: 0 };

  /**
   * Encodes `messages` into one body. `responses` (local-only) is never sent. The result (and
   * its arrays) is reused: valid until the next call.
   */
  encode(messages: readonly Message[]): EncodedBody {
    const ints = this.ints;
    const payloads: Uint8Array[] = [];
    this.body.payloads = payloads;
    ints.reset();
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
    const body = this.body;
    body.header = ints.finish();
    body.length = 4 + body.header.length + payloadBytes;
    return body;
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

const NO_PARTS: PayloadParts = [];

/**
 * Decodes bodies, checking their shape completely: every header value a non-negative safe
 * integer, every count within what is left, every byte length within the bytes that follow,
 * nothing left over. Semantic checks (Raft's rules) are validateMessage's job, after this.
 *
 * A body is read where it arrived, in the parts of the socket reads it spans (see
 * PayloadParts): byte fields are views of those reads, except one that straddles two reads,
 * which is copied. Whether views are worth the reads they keep alive is the caller's call
 * (`viewBytes`, detachPayloads). One decoder per connection: it is not re-entrant.
 */
export class MessageDecoder {
  /** Bytes of the byte fields handed out as views since the caller last set this to 0. */
  viewBytes = 0;
  private readonly limits: DecodeLimits;
  private readonly ints = new IntArrayReader();
  // The raw bytes after the header: where the next byte field starts, in which part.
  private parts: PayloadParts = NO_PARTS;
  private part = 0;
  private buffer: ArrayBufferLike = EMPTY_BYTES.buffer;
  private pos = 0;
  private partLeft = 0;
  private tailLeft = 0;

  constructor(limits: DecodeLimits) {
    this.limits = limits;
  }

  /**
   * Decodes the body in `parts` (`length` bytes in all) and appends its messages to `out`; on
   * a MessageDecodeError, appends nothing.
   */
  decode(parts: PayloadParts, length: number, out: Message[]): void {
    const first = out.length;
    try {
      this.readBody(parts, length, out);
    } catch (e) {
      out.length = first;
      throw e;
    } finally {
      this.parts = NO_PARTS;
      this.buffer = EMPTY_BYTES.buffer;
      this.ints.release();
    }
  }

  private readBody(parts: PayloadParts, length: number, out: Message[]): void {
    if (length < 4) throw new MessageDecodeError(`body of ${length} bytes has no header length`);
    const head = parts[0]!;
    const headerLength = readU32(head.length >= 4 ? head : copyRange(parts, 0, 4), 0);
    if (headerLength === 0 || headerLength > length - 4) {
      throw new MessageDecodeError(`header length ${headerLength} does not fit a body of ${length} bytes`);
    }
    if (head.length >= 4 + headerLength) this.ints.reset(head, 4, 4 + headerLength);
    else this.ints.reset(copyRange(parts, 4, headerLength), 0, headerLength);
    // Position the tail cursor just after the header.
    this.parts = parts;
    let skip = 4 + headerLength;
    let i = 0;
    while (skip > parts[i]!.length) skip -= parts[i++]!.length;
    const p = parts[i]!;
    this.part = i;
    this.buffer = p.buffer;
    this.pos = p.byteOffset + skip;
    this.partLeft = p.length - skip;
    this.tailLeft = length - 4 - headerLength;

    const count = this.ints.next('message count');
    if (count === 0 || count > this.limits.maxMessages) {
      throw new MessageDecodeError(`message count ${count} outside [1, ${this.limits.maxMessages}]`);
    }
    for (let k = 0; k < count; k++) out.push(this.message());
    if (!this.ints.finished) throw new MessageDecodeError('header values or bytes left over');
    if (this.tailLeft !== 0) throw new MessageDecodeError(`${this.tailLeft} payload bytes left over`);
  }

  private message(): Message {
    const ints = this.ints;
    if (ints.remaining < FIXED_FIELDS) throw new MessageDecodeError('header ends inside a message');
    const type = ints.next('type');
    const to = ints.next('to');
    const from = ints.next('from');
    const term = ints.next('term');
    const logTerm = ints.next('logTerm');
    const index = ints.next('index');
    const commit = ints.next('commit');
    const vote = ints.next('vote');
    const rejectHint = ints.next('rejectHint');
    const flags = ints.next('flags');
    if ((flags & ~KNOWN_FLAGS) !== 0 || flags > KNOWN_FLAGS) throw new MessageDecodeError(`unknown flags ${flags}`);
    const entryCount = ints.next('entry count');
    if (entryCount > this.limits.maxEntries || entryCount * 4 > ints.remaining) {
      throw new MessageDecodeError(`entry count ${entryCount} exceeds what the header holds`);
    }
    // One entry is the common case: an array literal of one is allocated at its exact size.
    const entries: Entry[] = entryCount === 1 ? [this.entry()] : [];
    for (let i = entryCount === 1 ? 1 : 0; i < entryCount; i++) entries.push(this.entry());
    const context = (flags & FLAG_HAS_CONTEXT) !== 0 ? this.bytes('context length', 'context') : undefined;
    const snapshot = (flags & FLAG_HAS_SNAPSHOT) !== 0 ? this.snapshot((flags & FLAG_AUTO_LEAVE) !== 0) : undefined;
    // The field order of newMessage(), so that these share its hidden class (without building
    // the options object it reads from).
    return {
      type,
      to,
      from,
      term,
      logTerm,
      index,
      entries,
      commit,
      vote,
      snapshot,
      reject: (flags & FLAG_REJECT) !== 0,
      rejectHint,
      context,
      responses: undefined,
    };
  }

  private entry(): Entry {
    const term = this.ints.next('entry term');
    const index = this.ints.next('entry index');
    const type = this.ints.next('entry type');
    if (type > EntryType.EntryConfChangeV2) throw new MessageDecodeError(`unknown entry type ${type}`);
    return { term, index, type, data: this.bytes('entry data length', 'entry data') };
  }

  private snapshot(autoLeave: boolean): Snapshot {
    const index = this.ints.next('snapshot index');
    const term = this.ints.next('snapshot term');
    const confState: ConfState = {
      voters: this.ids('voters'),
      learners: this.ids('learners'),
      votersOutgoing: this.ids('votersOutgoing'),
      learnersNext: this.ids('learnersNext'),
      autoLeave,
    };
    return { data: this.bytes('snapshot data length', 'snapshot data'), metadata: { index, term, confState } };
  }

  private ids(what: string): number[] {
    const n = this.ints.next(what);
    if (n > this.ints.remaining) throw new MessageDecodeError(`${what} count ${n} exceeds the header`);
    const ids: number[] = [];
    for (let i = 0; i < n; i++) ids.push(this.ints.next(what));
    return ids;
  }

  /** The next byte field: a view where it lies within one part, else a copy. */
  private bytes(lengthName: string, what: string): Uint8Array {
    const len = this.ints.next(lengthName);
    if (len > this.tailLeft) throw new MessageDecodeError(`${what} of ${len} bytes exceeds the ${this.tailLeft} left`);
    if (len === 0) return EMPTY_BYTES;
    this.tailLeft -= len;
    while (this.partLeft === 0) this.nextPart(); // a field may begin where a read began
    if (len > this.partLeft) return this.copyAcrossParts(len);
    // A plain Uint8Array on the ArrayBuffer: a third of the cost of subarray() (of a Buffer, a sixth).
    const view = new Uint8Array(this.buffer, this.pos, len);
    this.pos += len;
    this.partLeft -= len;
    this.viewBytes += len;
    return view;
  }

  private copyAcrossParts(len: number): Uint8Array {
    const out = uninitializedBytes(len);
    let got = 0;
    while (got < len) {
      while (this.partLeft === 0) this.nextPart();
      const take = Math.min(len - got, this.partLeft);
      out.set(new Uint8Array(this.buffer, this.pos, take), got);
      got += take;
      this.pos += take;
      this.partLeft -= take;
    }
    return out;
  }

  private nextPart(): void {
    const p = this.parts[++this.part]!;
    this.buffer = p.buffer;
    this.pos = p.byteOffset;
    this.partLeft = p.length;
  }
}

/**
 * A Uint8Array of its own buffer, not zero-filled (the caller fills all of it): zeroing costs as
 * much as the copy that follows.
 */
function uninitializedBytes(n: number): Uint8Array {
  const b = Buffer.allocUnsafeSlow(n);
  return new Uint8Array(b.buffer, b.byteOffset, n);
}

/** Bytes `[from, from + n)` of the parts, copied into one array. */
function copyRange(parts: PayloadParts, from: number, n: number): Uint8Array {
  const out = new Uint8Array(n);
  let got = 0;
  for (const p of parts) {
    if (got === n) break;
    if (from >= p.length) {
      from -= p.length;
      continue;
    }
    const take = Math.min(n - got, p.length - from);
    out.set(p.subarray(from, from + take), got);
    got += take;
    from = 0;
  }
  return out;
}

/**
 * Copies every byte field (entry data, context, snapshot data) of `messages[first..]` into one
 * new buffer, so that they keep alive nothing but their own bytes. For views that would keep a
 * much larger socket read alive: a small entry can stay in the log for a long time.
 */
export function detachPayloads(messages: readonly Message[], first: number): void {
  let total = 0;
  for (let i = first; i < messages.length; i++) {
    const m = messages[i]!;
    for (const e of m.entries) total += e.data.length;
    total += (m.context?.length ?? 0) + (m.snapshot?.data.length ?? 0);
  }
  if (total === 0) return;
  const into = uninitializedBytes(total);
  let off = 0;
  const move = (b: Uint8Array): Uint8Array => {
    if (b.length === 0) return b;
    into.set(b, off);
    off += b.length;
    return into.subarray(off - b.length, off);
  };
  for (let i = first; i < messages.length; i++) {
    const m = messages[i]!;
    for (const e of m.entries) e.data = move(e.data);
    if (m.context !== undefined) m.context = move(m.context);
    if (m.snapshot !== undefined) m.snapshot.data = move(m.snapshot.data);
  }
}
