import { StepError } from './errors.js';
import { EntryType, MessageType, isLocalMsg } from './types.js';
import type { ConfState, Entry, Message } from './types.js';
import { ConfChangeError } from './errors.js';
import { Changer } from './confchange/changer.js';
import { restore } from './confchange/restore.js';
import { ProgressTracker } from './tracker/progress-tracker.js';
import { confStateEquivalent } from './conf-change.js';

/**
 * A snapshot's ConfState must describe a configuration that membership changes could have
 * produced (no node both voter and learner, ...): the receiver installs it wholesale. Building
 * it the way the receiver would is the one check that cannot drift from what is accepted.
 */
function checkConfState(cs: ConfState): void {
  const trk = new ProgressTracker(1, Infinity);
  try {
    const [cfg, prs] = restore(new Changer(trk, 0), cs);
    trk.config = cfg;
    trk.progress = prs;
  } catch (err) {
    if (err instanceof ConfChangeError) throw new StepError(`MsgSnap: invalid conf state: ${err.message}`);
    throw err;
  }
  const diff = confStateEquivalent(cs, trk.confState());
  if (diff !== undefined) throw new StepError(`MsgSnap: conf state is not a valid configuration: ${diff}`);
}

function isIndex(n: unknown): n is number {
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;
}

/** The fields that must hold a non-negative safe integer, in the order they are checked. */
const INDEX_FIELDS = ['to', 'from', 'term', 'logTerm', 'index', 'commit', 'vote', 'rejectHint'] as const;

function isValidEntry(e: Entry | undefined): boolean {
  return (
    typeof e === 'object' &&
    e !== null &&
    isIndex(e.term) &&
    isIndex(e.index) &&
    (e.type === EntryType.EntryNormal || e.type === EntryType.EntryConfChange || e.type === EntryType.EntryConfChangeV2) &&
    e.data instanceof Uint8Array
  );
}

/** The error for an entry that isValidEntry() refused: which check failed, and where. */
function entryError(e: Entry | undefined, name: string, i: number): StepError {
  const where = `${name} entry ${i}`;
  if (typeof e !== 'object' || e === null) return new StepError(`${where}: not an entry`);
  if (!isIndex(e.term) || !isIndex(e.index)) return new StepError(`${where}: term and index must be non-negative integers`);
  if (e.type !== EntryType.EntryNormal && e.type !== EntryType.EntryConfChange && e.type !== EntryType.EntryConfChangeV2) {
    return new StepError(`${where}: unknown entry type ${String(e.type)}`);
  }
  return new StepError(`${where}: data must be a Uint8Array`);
}

/**
 * Checks that a message from outside is well formed before the core sees it, so that a buggy
 * or hostile peer gets a StepError instead of corrupting state or tripping an invariant.
 * `lastIndex` is the receiver's last log index.
 */
export function validateMessage(m: Message, lastIndex: number): void {
  if (typeof m !== 'object' || m === null) throw new StepError('message is not an object');
  if (typeof m.type !== 'number' || MessageType[m.type] === undefined) {
    throw new StepError(`unknown message type ${String(m.type)}`);
  }
  const name = MessageType[m.type];
  // Every message passes here, so the checks that pass are written out as plain property reads;
  // the error messages (and the first failing check they name) are only worked out on failure.
  if (
    !isIndex(m.to) ||
    !isIndex(m.from) ||
    !isIndex(m.term) ||
    !isIndex(m.logTerm) ||
    !isIndex(m.index) ||
    !isIndex(m.commit) ||
    !isIndex(m.vote) ||
    !isIndex(m.rejectHint)
  ) {
    const f = INDEX_FIELDS.find((k) => !isIndex(m[k]))!;
    throw new StepError(`${name}: field ${f} must be a non-negative safe integer, got ${String(m[f])}`);
  }
  // Only proposals and read requests forwarded to the leader travel without a term; for any
  // other message from the network, term 0 would be taken for a local message and skip the
  // term rules (a term-0 heartbeat could commit, a term-0 snapshot could be installed).
  if (m.term === 0 && !isLocalMsg(m.type) && m.type !== MessageType.MsgProp && m.type !== MessageType.MsgReadIndex) {
    throw new StepError(`${name}: term 0 is only valid for local messages, proposals and read requests`);
  }
  const ents = m.entries;
  if (!Array.isArray(ents)) throw new StepError(`${name}: entries must be an array`);
  for (let i = 0; i < ents.length; i++) {
    if (!isValidEntry(ents[i])) throw entryError(ents[i], name, i);
  }

  switch (m.type) {
    case MessageType.MsgApp: {
      // Entries must extend (index, logTerm) contiguously, with terms that never go down and
      // never exceed the leader's term: anything else is not a log a leader can send.
      let prevTerm = m.logTerm;
      for (let i = 0; i < m.entries.length; i++) {
        const e = m.entries[i]!;
        if (e.index !== m.index + 1 + i) {
          throw new StepError(`MsgApp: entry ${i} has index ${e.index}, expected ${m.index + 1 + i}`);
        }
        if (e.term < prevTerm || e.term > m.term) {
          throw new StepError(`MsgApp: entry ${e.index} has term ${e.term} outside [${prevTerm}, ${m.term}]`);
        }
        prevTerm = e.term;
      }
      if (m.logTerm > m.term) throw new StepError(`MsgApp: logTerm ${m.logTerm} above term ${m.term}`);
      break;
    }
    case MessageType.MsgHeartbeat:
      // A leader sends min(match, committed): a commit beyond our log means the peer is wrong
      // (or we lost acknowledged data); committing it would be unsafe.
      if (m.commit > lastIndex) {
        throw new StepError(`MsgHeartbeat: commit ${m.commit} beyond last index ${lastIndex}`);
      }
      break;
    case MessageType.MsgSnap: {
      const s = m.snapshot;
      if (s === undefined || typeof s !== 'object' || s === null) throw new StepError('MsgSnap: missing snapshot');
      if (!(s.data instanceof Uint8Array)) throw new StepError('MsgSnap: snapshot data must be a Uint8Array');
      const md = s.metadata;
      if (typeof md !== 'object' || md === null || !isIndex(md.index) || !isIndex(md.term)) {
        throw new StepError('MsgSnap: bad snapshot metadata');
      }
      const cs = md.confState;
      if (typeof cs !== 'object' || cs === null) throw new StepError('MsgSnap: missing conf state');
      for (const f of ['voters', 'learners', 'votersOutgoing', 'learnersNext'] as const) {
        if (!Array.isArray(cs[f]) || !cs[f].every(isIndex)) throw new StepError(`MsgSnap: conf state ${f} malformed`);
      }
      checkConfState(cs);
      break;
    }
    case MessageType.MsgProp:
      if (m.entries.length === 0) throw new StepError('MsgProp: no entries');
      break;
    case MessageType.MsgReadIndex:
      if (m.entries.length !== 1) throw new StepError('MsgReadIndex: must carry exactly one entry (the request context)');
      break;
    default:
      break;
  }
  if (m.context !== undefined && !(m.context instanceof Uint8Array)) {
    throw new StepError(`${name}: context must be a Uint8Array`);
  }
}
