/**
 * Human-readable renderings of the core's data for debugging and for scenario files. The
 * formats are those of etcd raft's util.go (DescribeReady, DescribeMessage, ...) character for
 * character, so that etcd's interaction scenarios can be compared with our output verbatim.
 */

import { confChangeAsV2, decodeConfChange, decodeConfChangeV2 } from '../../src/conf-change.js';
import { confChangesToString } from './conf-change-text.js';
import { LocalAppendThread, LocalApplyThread } from '../../src/local-threads.js';
import type { ReadState } from '../../src/read-only.js';
import {
  EntryType,
  MessageType,
  None,
  StateType,
  isEmptyHardState,
  isEmptySnap,
  type ConfState,
  type Entry,
  type HardState,
  type Message,
  type Snapshot,
  type SoftState,
} from '../../src/types.js';

/**
 * Renders the payload of a normal entry. The default quotes the bytes as Go's `%q` would.
 * Applications can pass their own to show commands in their terms.
 */
export type EntryFormatter = (data: Uint8Array) => string;

/** What describeReady needs of a Ready (structurally compatible with RawNode's Ready). */
export interface DescribableReady {
  softState?: SoftState | undefined;
  hardState: HardState;
  readStates: readonly ReadState[];
  entries: readonly Entry[];
  snapshot: Snapshot;
  committedEntries: readonly Entry[];
  messages: readonly Message[];
  mustSync: boolean;
}

/** `Term:1 Vote:2 Commit:3` (Vote omitted when 0). */
export function describeHardState(hs: HardState): string {
  let s = `Term:${hs.term}`;
  if (hs.vote !== 0) s += ` Vote:${hs.vote}`;
  return `${s} Commit:${hs.commit}`;
}

/** `Lead:1 State:StateLeader`. */
export function describeSoftState(ss: SoftState): string {
  return `Lead:${ss.lead} State:${StateType[ss.raftState]}`;
}

/** `Voters:[1 2 3] VotersOutgoing:[] Learners:[] LearnersNext:[] AutoLeave:false`. */
export function describeConfState(cs: ConfState): string {
  return (
    `Voters:${goUintSlice(cs.voters)} VotersOutgoing:${goUintSlice(cs.votersOutgoing)} ` +
    `Learners:${goUintSlice(cs.learners)} LearnersNext:${goUintSlice(cs.learnersNext)} ` +
    `AutoLeave:${cs.autoLeave}`
  );
}

/** `Index:11 Term:1 ConfState:Voters:[...] ...`. */
export function describeSnapshot(snap: Snapshot): string {
  const m = snap.metadata;
  return `Index:${m.index} Term:${m.term} ConfState:${describeConfState(m.confState)}`;
}

/** Renders a Ready, section by section; `<empty Ready>` when it carries nothing. */
export function describeReady(rd: DescribableReady, f?: EntryFormatter): string {
  let buf = '';
  if (rd.softState !== undefined) buf += `${describeSoftState(rd.softState)}\n`;
  if (!isEmptyHardState(rd.hardState)) buf += `HardState ${describeHardState(rd.hardState)}\n`;
  if (rd.readStates.length > 0) buf += `ReadStates ${describeReadStates(rd.readStates)}\n`;
  if (rd.entries.length > 0) buf += `Entries:\n${describeEntries(rd.entries, f)}`;
  if (!isEmptySnap(rd.snapshot)) buf += `Snapshot ${describeSnapshot(rd.snapshot)}\n`;
  if (rd.committedEntries.length > 0) {
    buf += `CommittedEntries:\n${describeEntries(rd.committedEntries, f)}`;
  }
  if (rd.messages.length > 0) {
    buf += 'Messages:\n';
    for (const m of rd.messages) buf += `${describeMessage(m, f)}\n`;
  }
  if (buf.length > 0) return `Ready MustSync=${rd.mustSync}:\n${buf}`;
  return '<empty Ready>';
}

/** Go's `%v` of a []ReadState: `[{12 [102 111 111]}]`. */
function describeReadStates(rss: readonly ReadState[]): string {
  return `[${rss.map((rs) => `{${rs.index} [${Array.from(rs.requestCtx).join(' ')}]}`).join(' ')}]`;
}

/**
 * One message on one line (entries, a snapshot and local-thread responses continue on indented
 * lines): `1->2 MsgApp Term:1 Log:1/10 Commit:10 Entries:[1/11 EntryNormal ""]`.
 */
export function describeMessage(m: Message, f?: EntryFormatter): string {
  return describeMessageWithIndent('', m, f);
}

function describeMessageWithIndent(indent: string, m: Message, f?: EntryFormatter): string {
  let buf =
    `${indent}${describeTarget(m.from)}->${describeTarget(m.to)} ${messageTypeName(m.type)} ` +
    `Term:${m.term} Log:${m.logTerm}/${m.index}`;
  if (m.reject) buf += ` Rejected (Hint: ${m.rejectHint})`;
  if (m.commit !== 0) buf += ` Commit:${m.commit}`;
  if (m.vote !== 0) buf += ` Vote:${m.vote}`;
  const ents = m.entries;
  if (ents.length === 1) {
    buf += ` Entries:[${describeEntry(ents[0]!, f)}]`;
  } else if (ents.length > 1) {
    buf += ' Entries:[';
    for (const e of ents) buf += `\n${indent}  ${describeEntry(e, f)}`;
    buf += `\n${indent}]`;
  }
  if (m.snapshot !== undefined && !isEmptySnap(m.snapshot)) {
    buf += `\n${indent}  Snapshot: ${describeSnapshot(m.snapshot)}`;
  }
  if (m.responses !== undefined && m.responses.length > 0) {
    buf += ' Responses:[';
    for (const r of m.responses) buf += `\n${describeMessageWithIndent(`${indent}  `, r, f)}`;
    buf += `\n${indent}]`;
  }
  return buf;
}

/** A node as etcd prints it in a message: hex id, `None`, or a local storage thread. */
export function describeTarget(id: number): string {
  switch (id) {
    case None:
      return 'None';
    case LocalAppendThread:
      return 'AppendThread';
    case LocalApplyThread:
      return 'ApplyThread';
    default:
      return id.toString(16);
  }
}

function messageTypeName(t: MessageType): string {
  return MessageType[t] ?? String(t);
}

/**
 * `1/11 EntryNormal "data"`; conf change entries show their changes (`1/3 EntryConfChangeV2
 * v2 v3`), or the decoding error when the payload is not a conf change.
 */
export function describeEntry(e: Entry, f: EntryFormatter = goQuote): string {
  let formatted = '';
  switch (e.type) {
    case EntryType.EntryNormal:
      formatted = f(e.data);
      break;
    case EntryType.EntryConfChange:
      try {
        formatted = confChangesToString(confChangeAsV2(decodeConfChange(e.data)).changes);
      } catch (err) {
        formatted = (err as Error).message;
      }
      break;
    case EntryType.EntryConfChangeV2:
      try {
        formatted = confChangesToString(decodeConfChangeV2(e.data).changes);
      } catch (err) {
        formatted = (err as Error).message;
      }
      break;
  }
  if (formatted !== '') formatted = ` ${formatted}`;
  return `${e.term}/${e.index} ${EntryType[e.type] ?? String(e.type)}${formatted}`;
}

/** describeEntry of each entry, each followed by a newline. */
export function describeEntries(ents: readonly Entry[], f?: EntryFormatter): string {
  let buf = '';
  for (const e of ents) buf += `${describeEntry(e, f)}\n`;
  return buf;
}

/** Go's `%v` of a []uint64: `[1 2 3]`. */
function goUintSlice(ids: readonly number[] | undefined): string {
  return `[${(ids ?? []).join(' ')}]`;
}

/**
 * Quotes bytes exactly as Go's `fmt.Sprintf("%q", b)` does: a double-quoted string with Go
 * escapes; printable UTF-8 is kept, invalid UTF-8 bytes become `\xNN`.
 */
export function goQuote(b: Uint8Array): string {
  let out = '"';
  let i = 0;
  while (i < b.length) {
    const c = b[i]!;
    if (c < 0x80) {
      out += quoteAsciiByte(c);
      i++;
      continue;
    }
    const [rune, width] = decodeRune(b, i);
    if (rune < 0) {
      out += `\\x${hex2(c)}`;
      i++;
      continue;
    }
    out += isGoPrint(rune) ? String.fromCodePoint(rune) : escapeRune(rune);
    i += width;
  }
  return `${out}"`;
}

function quoteAsciiByte(c: number): string {
  switch (c) {
    case 0x07:
      return '\\a';
    case 0x08:
      return '\\b';
    case 0x0c:
      return '\\f';
    case 0x0a:
      return '\\n';
    case 0x0d:
      return '\\r';
    case 0x09:
      return '\\t';
    case 0x0b:
      return '\\v';
    case 0x22:
      return '\\"';
    case 0x5c:
      return '\\\\';
    default:
      if (c < 0x20 || c === 0x7f) return `\\x${hex2(c)}`;
      return String.fromCharCode(c);
  }
}

function escapeRune(r: number): string {
  if (r < 0x10000) return `\\u${r.toString(16).padStart(4, '0')}`;
  return `\\U${r.toString(16).padStart(8, '0')}`;
}

function hex2(c: number): string {
  return c.toString(16).padStart(2, '0');
}

/** Decodes one UTF-8 sequence at `i`: [rune, width], or [-1, 1] when invalid (as Go does). */
function decodeRune(b: Uint8Array, i: number): [number, number] {
  const c0 = b[i]!;
  const cont = (k: number): number => {
    const c = b[i + k];
    return c !== undefined && (c & 0xc0) === 0x80 ? c & 0x3f : -1;
  };
  if (c0 >= 0xc2 && c0 <= 0xdf) {
    const c1 = cont(1);
    if (c1 < 0) return [-1, 1];
    return [((c0 & 0x1f) << 6) | c1, 2];
  }
  if (c0 >= 0xe0 && c0 <= 0xef) {
    const c1 = cont(1);
    const c2 = cont(2);
    if (c1 < 0 || c2 < 0) return [-1, 1];
    const r = ((c0 & 0x0f) << 12) | (c1 << 6) | c2;
    if (r < 0x800 || (r >= 0xd800 && r <= 0xdfff)) return [-1, 1];
    return [r, 3];
  }
  if (c0 >= 0xf0 && c0 <= 0xf4) {
    const c1 = cont(1);
    const c2 = cont(2);
    const c3 = cont(3);
    if (c1 < 0 || c2 < 0 || c3 < 0) return [-1, 1];
    const r = ((c0 & 0x07) << 18) | (c1 << 12) | (c2 << 6) | c3;
    if (r < 0x10000 || r > 0x10ffff) return [-1, 1];
    return [r, 4];
  }
  return [-1, 1];
}

/**
 * Approximates Go's unicode.IsPrint for non-ASCII runes (letters, marks, numbers, punctuation,
 * symbols and U+0020; no other spaces, controls, formats, surrogates or unassigned code points).
 */
function isGoPrint(r: number): boolean {
  return /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u.test(String.fromCodePoint(r));
}
