/**
 * Helpers for membership change requests: the v1/v2 views of a change, when a change enters or
 * leaves joint consensus, the
 * binary encoding stored in conf change entries, and ConfState comparison.
 *
 * Ported from etcd raft's `raftpb/confchange.go` and `raftpb/confstate.go`; the binary format
 * is Pontoon's own (etcd uses protobuf).
 */

import { ConfChangeError, DecodeError } from './errors.js';
import {
  type ConfChange,
  type ConfChangeSingle,
  ConfChangeTransition,
  ConfChangeType,
  type ConfChangeV2,
  type ConfState,
  EMPTY_BYTES,
  EntryType,
} from './types.js';

/** A membership change in either API: the single-node v1 or the joint-capable v2. */
export type ConfChangeI = ConfChange | ConfChangeV2;

/** Whether the change is a ConfChangeV2 (it has a list of changes rather than one node). */
export function isConfChangeV2(cc: ConfChangeI): cc is ConfChangeV2 {
  return 'changes' in cc;
}

/** The change as a ConfChangeV2 carrying out the same operation (a v2 change is returned as is). */
export function confChangeAsV2(cc: ConfChangeI): ConfChangeV2 {
  if (isConfChangeV2(cc)) return cc;
  return {
    transition: ConfChangeTransition.ConfChangeTransitionAuto,
    changes: [{ type: cc.type, nodeId: cc.nodeId }],
    context: cc.context,
  };
}

/** The change as a v1 ConfChange, or undefined when it is a v2 change. */
export function asV1(cc: ConfChangeI): ConfChange | undefined {
  return isConfChangeV2(cc) ? undefined : cc;
}

/**
 * Whether applying the change enters joint consensus (`ok`), and if so whether the joint
 * configuration is left automatically (`autoLeave`). Joint consensus is used when asked for
 * explicitly or when more than one change is made at once: some multi-change requests would be
 * safe as simple changes, depending on the configuration they apply to, but telling which is
 * not worth it.
 */
export function enterJoint(cc: ConfChangeV2): { autoLeave: boolean; ok: boolean } {
  if (cc.transition !== ConfChangeTransition.ConfChangeTransitionAuto || cc.changes.length > 1) {
    switch (cc.transition) {
      case ConfChangeTransition.ConfChangeTransitionAuto:
      case ConfChangeTransition.ConfChangeTransitionJointImplicit:
        return { autoLeave: true, ok: true };
      case ConfChangeTransition.ConfChangeTransitionJointExplicit:
        return { autoLeave: false, ok: true };
      default:
        throw new ConfChangeError(`unknown transition: ${cc.transition as number}`);
    }
  }
  return { autoLeave: false, ok: false };
}

/**
 * Whether the change leaves a joint configuration: that is what a zero ConfChangeV2 (no
 * changes, automatic transition; the context does not matter) means.
 */
export function leaveJoint(cc: ConfChangeV2): boolean {
  return cc.transition === ConfChangeTransition.ConfChangeTransitionAuto && cc.changes.length === 0;
}

/**
 * Whether two ConfStates describe the same configuration, regardless of the order of ids.
 * Returns undefined when they do, otherwise a message that shows both (sorted and as given).
 */
export function confStateEquivalent(a: ConfState, b: ConfState): string | undefined {
  const norm = (cs: ConfState): ConfState => ({
    voters: sortedCopy(cs.voters),
    learners: sortedCopy(cs.learners),
    votersOutgoing: sortedCopy(cs.votersOutgoing),
    learnersNext: sortedCopy(cs.learnersNext),
    autoLeave: cs.autoLeave,
  });
  const na = norm(a);
  const nb = norm(b);
  if (
    sameList(na.voters, nb.voters) &&
    sameList(na.learners, nb.learners) &&
    sameList(na.votersOutgoing, nb.votersOutgoing) &&
    sameList(na.learnersNext, nb.learnersNext) &&
    na.autoLeave === nb.autoLeave
  ) {
    return undefined;
  }
  const show = (cs: ConfState): string => JSON.stringify(cs);
  return `ConfStates not equivalent after sorting:\n${show(na)}\n${show(nb)}\nInputs were:\n${show(a)}\n${show(b)}`;
}

function sortedCopy(ids: readonly number[]): number[] {
  return [...ids].sort((x, y) => x - y);
}

function sameList(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

// Binary encoding of conf change entry payloads.
//
//   ConfChange:   0x01 type:uvarint nodeId:uvarint context
//   ConfChangeV2: 0x02 transition:uvarint count:uvarint (type:uvarint nodeId:uvarint)* context
//   context:      0 (absent) | (length+1):uvarint bytes
//
// uvarint is unsigned LEB128 limited to safe integers, in its shortest form only, so every
// value has exactly one encoding. An empty payload decodes to the zero change (as an empty
// protobuf does in etcd): that is how raft proposes leaving a joint configuration.

const FORMAT_V1 = 0x01;
const FORMAT_V2 = 0x02;

/** Encodes a v1 change for an EntryConfChange entry. */
export function encodeConfChange(cc: ConfChange): Uint8Array {
  const w = new Writer(3 + 2 * MAX_VARINT + contextSize(cc.context));
  w.byte(FORMAT_V1);
  w.uvarint(cc.type);
  w.uvarint(cc.nodeId);
  w.context(cc.context);
  return w.finish();
}

/**
 * Decodes the payload of an EntryConfChange entry. Throws DecodeError (and nothing else) when
 * the bytes are not a valid encoding.
 */
export function decodeConfChange(b: Uint8Array): ConfChange {
  if (b.length === 0) return { type: ConfChangeType.ConfChangeAddNode, nodeId: 0 };
  const r = new Reader(b);
  r.format(FORMAT_V1, 'ConfChange');
  const type = r.changeType();
  const nodeId = r.uvarint('node id');
  const context = r.context();
  r.end();
  const cc: ConfChange = { type, nodeId };
  if (context !== undefined) cc.context = context;
  return cc;
}

/** Encodes a v2 change for an EntryConfChangeV2 entry. */
export function encodeConfChangeV2(cc: ConfChangeV2): Uint8Array {
  const w = new Writer(2 + MAX_VARINT * (2 + 2 * cc.changes.length) + contextSize(cc.context));
  w.byte(FORMAT_V2);
  w.uvarint(cc.transition);
  w.uvarint(cc.changes.length);
  for (const c of cc.changes) {
    w.uvarint(c.type);
    w.uvarint(c.nodeId);
  }
  w.context(cc.context);
  return w.finish();
}

/**
 * Decodes the payload of an EntryConfChangeV2 entry. Throws DecodeError (and nothing else) when
 * the bytes are not a valid encoding.
 */
export function decodeConfChangeV2(b: Uint8Array): ConfChangeV2 {
  if (b.length === 0) return { transition: ConfChangeTransition.ConfChangeTransitionAuto, changes: [] };
  const r = new Reader(b);
  r.format(FORMAT_V2, 'ConfChangeV2');
  const transition = r.uvarint('transition');
  if (ConfChangeTransition[transition] === undefined) throw new DecodeError(`conf change: unknown transition ${transition}`);
  const count = r.uvarint('change count');
  // Each change takes at least two bytes: refuse counts the input cannot hold before allocating.
  if (count > r.remaining() / 2) throw new DecodeError(`conf change: ${count} changes do not fit in the input`);
  const changes: ConfChangeSingle[] = [];
  for (let i = 0; i < count; i++) {
    const type = r.changeType();
    const nodeId = r.uvarint('node id');
    changes.push({ type, nodeId });
  }
  const context = r.context();
  r.end();
  const cc: ConfChangeV2 = { transition: transition as ConfChangeTransition, changes };
  if (context !== undefined) cc.context = context;
  return cc;
}

/**
 * The entry type and payload that propose `cc`. Without a change, the payload is empty: an
 * EntryConfChangeV2 that leaves a joint configuration (and that no size limit can refuse).
 */
export function marshalConfChange(cc?: ConfChangeI): { type: EntryType; data: Uint8Array } {
  if (cc === undefined) return { type: EntryType.EntryConfChangeV2, data: EMPTY_BYTES };
  if (isConfChangeV2(cc)) return { type: EntryType.EntryConfChangeV2, data: encodeConfChangeV2(cc) };
  return { type: EntryType.EntryConfChange, data: encodeConfChange(cc) };
}

/** The most bytes a uvarint of a safe integer takes (53 bits in 7-bit groups). */
const MAX_VARINT = 8;

function contextSize(ctx: Uint8Array | undefined): number {
  return ctx === undefined ? 1 : MAX_VARINT + ctx.length;
}

class Writer {
  private buf: Uint8Array;
  private pos = 0;

  constructor(capacity: number) {
    this.buf = new Uint8Array(capacity);
  }

  byte(v: number): void {
    this.buf[this.pos++] = v;
  }

  uvarint(v: number): void {
    if (!Number.isSafeInteger(v) || v < 0) {
      throw new ConfChangeError(`conf change field is not a non-negative safe integer: ${v}`);
    }
    // Division rather than bit shifts: values go up to 2^53, beyond 32-bit operators.
    while (v >= 0x80) {
      this.buf[this.pos++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    this.buf[this.pos++] = v;
  }

  context(ctx: Uint8Array | undefined): void {
    if (ctx === undefined) {
      this.byte(0);
      return;
    }
    this.uvarint(ctx.length + 1);
    this.buf.set(ctx, this.pos);
    this.pos += ctx.length;
  }

  finish(): Uint8Array {
    return this.buf.subarray(0, this.pos);
  }
}

class Reader {
  private readonly b: Uint8Array;
  private pos = 0;

  constructor(b: Uint8Array) {
    this.b = b;
  }

  remaining(): number {
    return this.b.length - this.pos;
  }

  format(want: number, what: string): void {
    const got = this.b[this.pos++];
    if (got !== want) throw new DecodeError(`${what}: unknown format byte ${got ?? 'none'}`);
  }

  uvarint(what: string): number {
    let v = 0;
    let scale = 1;
    for (let i = 0; i < MAX_VARINT; i++) {
      if (this.pos >= this.b.length) throw new DecodeError(`conf change: truncated ${what}`);
      const c = this.b[this.pos++]!;
      v += (c & 0x7f) * scale;
      if (c < 0x80) {
        if (c === 0 && i > 0) throw new DecodeError(`conf change: non-minimal varint in ${what}`);
        if (!Number.isSafeInteger(v)) throw new DecodeError(`conf change: ${what} out of range`);
        return v;
      }
      scale *= 0x80;
    }
    throw new DecodeError(`conf change: ${what} out of range`);
  }

  changeType(): ConfChangeType {
    const t = this.uvarint('change type');
    if (ConfChangeType[t] === undefined) throw new DecodeError(`conf change: unknown change type ${t}`);
    return t as ConfChangeType;
  }

  context(): Uint8Array | undefined {
    const n = this.uvarint('context length');
    if (n === 0) return undefined;
    const len = n - 1;
    if (len > this.remaining()) throw new DecodeError('conf change: truncated context');
    // A copy: the context must not pin (or alias) the entry's buffer.
    const ctx = this.b.slice(this.pos, this.pos + len);
    this.pos += len;
    return ctx;
  }

  end(): void {
    if (this.pos !== this.b.length) throw new DecodeError(`conf change: ${this.remaining()} trailing bytes`);
  }
}
