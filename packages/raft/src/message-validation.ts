import { StepError } from './errors.js';
import { EntryType, MessageType } from './types.js';
import type { Entry, Message } from './types.js';

function isIndex(n: unknown): n is number {
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;
}

function checkEntry(e: Entry | undefined, where: string): void {
  if (typeof e !== 'object' || e === null) throw new StepError(`${where}: not an entry`);
  if (!isIndex(e.term) || !isIndex(e.index)) throw new StepError(`${where}: term and index must be non-negative integers`);
  if (e.type !== EntryType.EntryNormal && e.type !== EntryType.EntryConfChange && e.type !== EntryType.EntryConfChangeV2) {
    throw new StepError(`${where}: unknown entry type ${String(e.type)}`);
  }
  if (!(e.data instanceof Uint8Array)) throw new StepError(`${where}: data must be a Uint8Array`);
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
  for (const f of ['to', 'from', 'term', 'logTerm', 'index', 'commit', 'vote', 'rejectHint'] as const) {
    if (!isIndex(m[f])) throw new StepError(`${name}: field ${f} must be a non-negative safe integer, got ${String(m[f])}`);
  }
  if (!Array.isArray(m.entries)) throw new StepError(`${name}: entries must be an array`);
  for (let i = 0; i < m.entries.length; i++) checkEntry(m.entries[i], `${name} entry ${i}`);

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
