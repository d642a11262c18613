/**
 * LogViews for the safety checker over the real things (a RaftLog, a MemoryStorage) and over
 * plain arrays (fabricated histories in tests).
 */
import type { RaftLogInternals } from './raw-node-internals.js';
import { type Entry, EntryType, type Storage } from '@pontoon/raft/core';
import type { LogView } from './safety-checker.js';

/** What a node believes its log is: storage followed by the unstable tail. */
export function raftLogView(log: RaftLogInternals): LogView {
  return {
    firstIndex: () => log.firstIndex(),
    lastIndex: () => log.lastIndex(),
    snapshotTerm: () => log.term(log.firstIndex() - 1),
    entries: () => {
      const first = log.firstIndex();
      const last = log.lastIndex();
      return first > last ? [] : log.slice(first, last + 1, Infinity);
    },
  };
}

/** What survives a crash. */
export function storageView(s: Storage): LogView {
  return {
    firstIndex: () => s.firstIndex(),
    lastIndex: () => s.lastIndex(),
    snapshotTerm: () => s.term(s.firstIndex() - 1),
    entries: () => {
      const first = s.firstIndex();
      const last = s.lastIndex();
      return first > last ? [] : s.entries(first, last + 1, Infinity);
    },
  };
}

/**
 * A log given as the terms of its entries from `firstIndex` on, with payloads; for fabricated
 * histories. `snapshotTerm` is the term at `firstIndex - 1` (0 with no snapshot).
 */
export function arrayLogView(
  ents: readonly (readonly [term: number, data: string])[],
  firstIndex = 1,
  snapshotTerm = 0,
): LogView {
  const entries: Entry[] = ents.map(([term, data], k) => ({
    term,
    index: firstIndex + k,
    type: EntryType.EntryNormal,
    data: new TextEncoder().encode(data),
  }));
  return {
    firstIndex: () => firstIndex,
    lastIndex: () => firstIndex + entries.length - 1,
    snapshotTerm: () => snapshotTerm,
    entries: () => entries,
  };
}
