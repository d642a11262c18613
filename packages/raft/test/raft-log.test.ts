// Ported from etcd's raft log_test.go, plus a property test of RaftLog over MemoryStorage.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { AssertionError, CompactedError, UnavailableError } from '../src/errors.js';
import { noLimit } from '../src/log/limit-size.js';
import { RaftLog } from '../src/log/raft-log.js';
import { MemoryStorage } from '../src/storage.js';
import {
  type Entry,
  EntryType,
  EMPTY_BYTES,
  type Snapshot,
  emptyConfState,
  entriesSize,
  entrySize,
} from '../src/types.js';

/** Entries at consecutive indices from `index`, with the given terms (etcd's index(i).terms()). */
function ents(index: number, ...terms: number[]): Entry[] {
  return terms.map((term, k) => ({ term, index: index + k, type: EntryType.EntryNormal, data: EMPTY_BYTES }));
}

/** `to - from` entries at consecutive indices from `index`, with terms `from, ..., to - 1`. */
function termRange(index: number, from: number, to: number): Entry[] {
  const out: Entry[] = [];
  for (let term = from; term < to; term++) out.push(...ents(index + (term - from), term));
  return out;
}

function snap(index: number, term: number): Snapshot {
  return { data: EMPTY_BYTES, metadata: { index, term, confState: emptyConfState() } };
}

function storageWithSnapshot(index: number, term: number): MemoryStorage {
  const s = new MemoryStorage();
  s.applySnapshot(snap(index, term));
  return s;
}

const cases = <T>(list: T[]): (readonly [number, T])[] => list.map((c, i) => [i, c] as const);

describe('RaftLog', () => {
  describe('findConflict', () => {
    const previousEnts = ents(1, 1, 2, 3);
    const tests: { ents: Entry[]; wconflict: number }[] = [
      // no conflict, empty ent
      { ents: [], wconflict: 0 },
      // no conflict
      { ents: ents(1, 1, 2, 3), wconflict: 0 },
      { ents: ents(2, 2, 3), wconflict: 0 },
      { ents: ents(3, 3), wconflict: 0 },
      // no conflict, but has new entries
      { ents: ents(1, 1, 2, 3, 4, 4), wconflict: 4 },
      { ents: ents(2, 2, 3, 4, 5), wconflict: 4 },
      { ents: ents(3, 3, 4, 4), wconflict: 4 },
      { ents: ents(4, 4, 4), wconflict: 4 },
      // conflicts with existing entries
      { ents: ents(1, 4, 4), wconflict: 1 },
      { ents: ents(2, 1, 4, 4), wconflict: 2 },
      { ents: ents(3, 1, 2, 4, 4), wconflict: 3 },
    ];
    it.each(cases(tests))('#%i', (_i, tt) => {
      const log = new RaftLog(new MemoryStorage());
      log.append(previousEnts);
      expect(log.findConflict(tt.ents)).toBe(tt.wconflict);
    });
  });

  describe('findConflictByTerm', () => {
    // ents[0] holds the (index, term) of the snapshot.
    const tests: { ents: Entry[]; index: number; term: number; want: number }[] = [
      // Log starts from index 1.
      { ents: ents(0, 0, 2, 2, 5, 5, 5), index: 100, term: 2, want: 100 }, // UnavailableError
      { ents: ents(0, 0, 2, 2, 5, 5, 5), index: 5, term: 6, want: 5 },
      { ents: ents(0, 0, 2, 2, 5, 5, 5), index: 5, term: 5, want: 5 },
      { ents: ents(0, 0, 2, 2, 5, 5, 5), index: 5, term: 4, want: 2 },
      { ents: ents(0, 0, 2, 2, 5, 5, 5), index: 5, term: 2, want: 2 },
      { ents: ents(0, 0, 2, 2, 5, 5, 5), index: 5, term: 1, want: 0 },
      { ents: ents(0, 0, 2, 2, 5, 5, 5), index: 1, term: 2, want: 1 },
      { ents: ents(0, 0, 2, 2, 5, 5, 5), index: 1, term: 1, want: 0 },
      { ents: ents(0, 0, 2, 2, 5, 5, 5), index: 0, term: 0, want: 0 },
      // Log with compacted entries.
      { ents: ents(10, 3, 3, 3, 4, 4, 4), index: 30, term: 3, want: 30 }, // UnavailableError
      { ents: ents(10, 3, 3, 3, 4, 4, 4), index: 14, term: 9, want: 14 },
      { ents: ents(10, 3, 3, 3, 4, 4, 4), index: 14, term: 4, want: 14 },
      { ents: ents(10, 3, 3, 3, 4, 4, 4), index: 14, term: 3, want: 12 },
      { ents: ents(10, 3, 3, 3, 4, 4, 4), index: 14, term: 2, want: 9 },
      { ents: ents(10, 3, 3, 3, 4, 4, 4), index: 11, term: 5, want: 11 },
      { ents: ents(10, 3, 3, 3, 4, 4, 4), index: 10, term: 5, want: 10 },
      { ents: ents(10, 3, 3, 3, 4, 4, 4), index: 10, term: 3, want: 10 },
      { ents: ents(10, 3, 3, 3, 4, 4, 4), index: 10, term: 2, want: 9 },
      { ents: ents(10, 3, 3, 3, 4, 4, 4), index: 9, term: 2, want: 9 }, // CompactedError
      { ents: ents(10, 3, 3, 3, 4, 4, 4), index: 4, term: 2, want: 4 }, // CompactedError
      { ents: ents(10, 3, 3, 3, 4, 4, 4), index: 0, term: 0, want: 0 }, // CompactedError
    ];
    it.each(cases(tests))('#%i', (_i, tt) => {
      const st = storageWithSnapshot(tt.ents[0].index, tt.ents[0].term);
      const l = new RaftLog(st);
      l.append(tt.ents.slice(1));
      const got = l.findConflictByTerm(tt.index, tt.term);
      expect(got.index).toBe(tt.want);
      expect(got.term).toBe(l.termOrZero(got.index));
    });
  });

  describe('isUpToDate', () => {
    const log = new RaftLog(new MemoryStorage());
    log.append(ents(1, 1, 2, 3));
    const last = log.lastIndex();
    const tests: { lastIndex: number; term: number; wUpToDate: boolean }[] = [
      // greater term, ignore lastIndex
      { lastIndex: last - 1, term: 4, wUpToDate: true },
      { lastIndex: last, term: 4, wUpToDate: true },
      { lastIndex: last + 1, term: 4, wUpToDate: true },
      // smaller term, ignore lastIndex
      { lastIndex: last - 1, term: 2, wUpToDate: false },
      { lastIndex: last, term: 2, wUpToDate: false },
      { lastIndex: last + 1, term: 2, wUpToDate: false },
      // equal term, equal or larger lastIndex wins
      { lastIndex: last - 1, term: 3, wUpToDate: false },
      { lastIndex: last, term: 3, wUpToDate: true },
      { lastIndex: last + 1, term: 3, wUpToDate: true },
    ];
    it.each(cases(tests))('#%i', (_i, tt) => {
      expect(log.isUpToDate(tt.lastIndex, tt.term)).toBe(tt.wUpToDate);
    });
  });

  describe('append', () => {
    const previousEnts = ents(1, 1, 2);
    const tests: { ents: Entry[]; windex: number; wents: Entry[]; wunstable: number }[] = [
      { ents: [], windex: 2, wents: ents(1, 1, 2), wunstable: 3 },
      { ents: ents(3, 2), windex: 3, wents: ents(1, 1, 2, 2), wunstable: 3 },
      // conflicts with index 1
      { ents: ents(1, 2), windex: 1, wents: ents(1, 2), wunstable: 1 },
      // conflicts with index 2
      { ents: ents(2, 3, 3), windex: 3, wents: ents(1, 1, 3, 3), wunstable: 2 },
    ];
    it.each(cases(tests))('#%i', (_i, tt) => {
      const storage = new MemoryStorage();
      storage.append(previousEnts);
      const log = new RaftLog(storage);
      expect(log.append(tt.ents)).toBe(tt.windex);
      expect(log.entries(1, noLimit)).toEqual(tt.wents);
      expect(log.unstable.offset).toBe(tt.wunstable);
    });

    it('panics when truncating committed entries', () => {
      const log = new RaftLog(new MemoryStorage());
      log.append(ents(1, 1, 2, 3));
      log.commitTo(2);
      expect(() => log.append(ents(2, 4))).toThrow(AssertionError);
      expect(log.append(ents(3, 4))).toBe(3);
    });
  });

  // If the given (index, term) matches the log: an existing entry that conflicts with a new one
  // (same index, different terms) is deleted with all that follow it, and the new entries not
  // already in the log are appended. If it does not match: refused.
  describe('maybeAppend', () => {
    const previousEnts = ents(1, 1, 2, 3);
    const lastindex = 3;
    const lastterm = 3;
    const commit = 1;
    const tests: {
      index: number;
      logTerm: number;
      committed: number;
      ents: Entry[];
      wlasti: number;
      wappend: boolean;
      wcommit: number;
      wpanic?: boolean;
    }[] = [
      // not match: term is different
      { index: lastindex, logTerm: lastterm - 1, committed: lastindex, ents: ents(lastindex + 1, 4), wlasti: 0, wappend: false, wcommit: commit },
      // not match: index out of bound
      { index: lastindex + 1, logTerm: lastterm, committed: lastindex, ents: ents(lastindex + 2, 4), wlasti: 0, wappend: false, wcommit: commit },
      // match with the last existing entry
      { index: lastindex, logTerm: lastterm, committed: lastindex, ents: [], wlasti: lastindex, wappend: true, wcommit: lastindex },
      // do not increase commit higher than lastnewi
      { index: lastindex, logTerm: lastterm, committed: lastindex + 1, ents: [], wlasti: lastindex, wappend: true, wcommit: lastindex },
      // commit up to the commit in the message
      { index: lastindex, logTerm: lastterm, committed: lastindex - 1, ents: [], wlasti: lastindex, wappend: true, wcommit: lastindex - 1 },
      // commit do not decrease
      { index: lastindex, logTerm: lastterm, committed: 0, ents: [], wlasti: lastindex, wappend: true, wcommit: commit },
      // commit do not decrease
      { index: 0, logTerm: 0, committed: lastindex, ents: [], wlasti: 0, wappend: true, wcommit: commit },
      { index: lastindex, logTerm: lastterm, committed: lastindex, ents: ents(lastindex + 1, 4), wlasti: lastindex + 1, wappend: true, wcommit: lastindex },
      { index: lastindex, logTerm: lastterm, committed: lastindex + 1, ents: ents(lastindex + 1, 4), wlasti: lastindex + 1, wappend: true, wcommit: lastindex + 1 },
      // do not increase commit higher than lastnewi
      { index: lastindex, logTerm: lastterm, committed: lastindex + 2, ents: ents(lastindex + 1, 4), wlasti: lastindex + 1, wappend: true, wcommit: lastindex + 1 },
      { index: lastindex, logTerm: lastterm, committed: lastindex + 2, ents: ents(lastindex + 1, 4, 4), wlasti: lastindex + 2, wappend: true, wcommit: lastindex + 2 },
      // match with the entry in the middle
      { index: lastindex - 1, logTerm: lastterm - 1, committed: lastindex, ents: ents(lastindex, 4), wlasti: lastindex, wappend: true, wcommit: lastindex },
      { index: lastindex - 2, logTerm: lastterm - 2, committed: lastindex, ents: ents(lastindex - 1, 4), wlasti: lastindex - 1, wappend: true, wcommit: lastindex - 1 },
      // conflict with existing committed entry
      { index: lastindex - 3, logTerm: lastterm - 3, committed: lastindex, ents: ents(lastindex - 2, 4), wlasti: lastindex - 2, wappend: true, wcommit: lastindex - 2, wpanic: true },
      { index: lastindex - 2, logTerm: lastterm - 2, committed: lastindex, ents: ents(lastindex - 1, 4, 4), wlasti: lastindex, wappend: true, wcommit: lastindex },
    ];
    it.each(cases(tests))('#%i', (_i, tt) => {
      const log = new RaftLog(new MemoryStorage());
      log.append(previousEnts);
      log.committed = commit;
      if (tt.wpanic === true) {
        expect(() => log.maybeAppend(tt.index, tt.logTerm, tt.committed, tt.ents)).toThrow(AssertionError);
        return;
      }
      const got = log.maybeAppend(tt.index, tt.logTerm, tt.committed, tt.ents);
      expect(got.lastNewIndex).toBe(tt.wlasti);
      expect(got.ok).toBe(tt.wappend);
      expect(log.committed).toBe(tt.wcommit);
      if (got.ok && tt.ents.length !== 0) {
        const last = log.lastIndex();
        expect(log.slice(last - tt.ents.length + 1, last + 1, noLimit)).toEqual(tt.ents);
      }
    });

    it('takes the same append as a LogSlice', () => {
      const log = new RaftLog(new MemoryStorage());
      log.append(previousEnts);
      const got = log.maybeAppendSlice({ term: 100, prev: { index: 2, term: 2 }, entries: ents(3, 4, 4) }, 3);
      expect(got).toEqual({ lastNewIndex: 4, ok: true });
      expect(log.allEntries()).toEqual(ents(1, 1, 2, 4, 4));
      expect(log.committed).toBe(3);
    });
  });

  // All the log functionality keeps working after a compaction.
  it('compaction side effects', () => {
    // Populate the log with 1000 entries; 750 in stable storage and 250 in unstable.
    const lastIndex = 1000;
    const unstableIndex = 750;
    const storage = new MemoryStorage();
    storage.append(termRange(1, 1, unstableIndex + 1));
    const log = new RaftLog(storage);
    log.append(termRange(unstableIndex + 1, unstableIndex + 1, lastIndex + 1));

    expect(log.maybeCommit(log.lastIndex(), log.lastTerm())).toBe(true);
    log.appliedTo(log.committed, 0);

    const offset = 500;
    storage.compact(offset);
    expect(log.lastIndex()).toBe(lastIndex);

    for (let j = offset; j <= log.lastIndex(); j++) expect(log.term(j)).toBe(j);
    for (let j = offset; j <= log.lastIndex(); j++) expect(log.matchTerm(j, j)).toBe(true);

    const unstableEnts = log.nextUnstableEnts();
    expect(unstableEnts.length).toBe(250);
    expect(unstableEnts[0].index).toBe(751);

    const prev = log.lastIndex();
    log.append(ents(prev + 1, prev + 1));
    expect(log.lastIndex()).toBe(prev + 1);

    expect(log.entries(log.lastIndex(), noLimit).length).toBe(1);
  });

  // Shared setup of etcd's TestHasNextCommittedEnts, TestNextCommittedEnts, TestAcceptApplying
  // and TestAppliedTo: a snapshot at 3, entry 4 stable, entries 5 and 6 unstable, 5 committed.
  function applyingFixture(maxSize: number = noLimit): { log: RaftLog; ents: Entry[] } {
    const snapshot = snap(3, 1);
    const log6 = ents(4, 1, 1, 1);
    const storage = new MemoryStorage();
    storage.applySnapshot(snapshot);
    storage.append(log6.slice(0, 1));
    const log = new RaftLog(storage, undefined, maxSize);
    log.append(log6);
    log.stableTo(4, 1);
    log.maybeCommit(5, 1);
    return { log, ents: log6 };
  }

  describe('hasNextCommittedEnts', () => {
    const tests: { applied: number; applying: number; allowUnstable: boolean; paused?: boolean; snap?: boolean; whasNext: boolean }[] = [
      { applied: 3, applying: 3, allowUnstable: true, whasNext: true },
      { applied: 3, applying: 4, allowUnstable: true, whasNext: true },
      { applied: 3, applying: 5, allowUnstable: true, whasNext: false },
      { applied: 4, applying: 4, allowUnstable: true, whasNext: true },
      { applied: 4, applying: 5, allowUnstable: true, whasNext: false },
      { applied: 5, applying: 5, allowUnstable: true, whasNext: false },
      // Don't allow unstable entries.
      { applied: 3, applying: 3, allowUnstable: false, whasNext: true },
      { applied: 3, applying: 4, allowUnstable: false, whasNext: false },
      { applied: 3, applying: 5, allowUnstable: false, whasNext: false },
      { applied: 4, applying: 4, allowUnstable: false, whasNext: false },
      { applied: 4, applying: 5, allowUnstable: false, whasNext: false },
      { applied: 5, applying: 5, allowUnstable: false, whasNext: false },
      // Paused.
      { applied: 3, applying: 3, allowUnstable: true, paused: true, whasNext: false },
      // With snapshot.
      { applied: 3, applying: 3, allowUnstable: true, snap: true, whasNext: false },
    ];
    it.each(cases(tests))('#%i', (_i, tt) => {
      const { log } = applyingFixture();
      log.appliedTo(tt.applied, 0);
      log.acceptApplying(tt.applying, 0, tt.allowUnstable);
      log.applyingEntsPaused = tt.paused ?? false;
      if (tt.snap === true) log.restore(snap(4, 1));
      expect(log.hasNextCommittedEnts(tt.allowUnstable)).toBe(tt.whasNext);
    });
  });

  describe('nextCommittedEnts', () => {
    const log6 = ents(4, 1, 1, 1);
    const tests: { applied: number; applying: number; allowUnstable: boolean; paused?: boolean; snap?: boolean; wents: Entry[] }[] = [
      { applied: 3, applying: 3, allowUnstable: true, wents: log6.slice(0, 2) },
      { applied: 3, applying: 4, allowUnstable: true, wents: log6.slice(1, 2) },
      { applied: 3, applying: 5, allowUnstable: true, wents: [] },
      { applied: 4, applying: 4, allowUnstable: true, wents: log6.slice(1, 2) },
      { applied: 4, applying: 5, allowUnstable: true, wents: [] },
      { applied: 5, applying: 5, allowUnstable: true, wents: [] },
      // Don't allow unstable entries.
      { applied: 3, applying: 3, allowUnstable: false, wents: log6.slice(0, 1) },
      { applied: 3, applying: 4, allowUnstable: false, wents: [] },
      { applied: 3, applying: 5, allowUnstable: false, wents: [] },
      { applied: 4, applying: 4, allowUnstable: false, wents: [] },
      { applied: 4, applying: 5, allowUnstable: false, wents: [] },
      { applied: 5, applying: 5, allowUnstable: false, wents: [] },
      // Paused.
      { applied: 3, applying: 3, allowUnstable: true, paused: true, wents: [] },
      // With snapshot.
      { applied: 3, applying: 3, allowUnstable: true, snap: true, wents: [] },
    ];
    it.each(cases(tests))('#%i', (_i, tt) => {
      const { log } = applyingFixture();
      log.appliedTo(tt.applied, 0);
      log.acceptApplying(tt.applying, 0, tt.allowUnstable);
      log.applyingEntsPaused = tt.paused ?? false;
      if (tt.snap === true) log.restore(snap(4, 1));
      expect(log.nextCommittedEnts(tt.allowUnstable)).toEqual(tt.wents);
    });

    it('caps the entries at the remaining applying budget', () => {
      const one = entrySize(ents(4, 1)[0]);
      const { log } = applyingFixture(one * 2 + 1);
      log.appliedTo(3, 0);
      log.commitTo(6);
      expect(log.nextCommittedEnts(true)).toEqual(ents(4, 1, 1));
      log.acceptApplying(5, one * 2, true);
      // One byte of budget left, less than an entry: paused until appliedTo frees some.
      expect(log.applyingEntsPaused).toBe(true);
      expect(log.nextCommittedEnts(true)).toEqual([]);
      log.appliedTo(5, one * 2);
      expect(log.applyingEntsPaused).toBe(false);
      expect(log.nextCommittedEnts(true)).toEqual(ents(6, 1));
    });
  });

  describe('acceptApplying', () => {
    const maxSize = 100;
    const tests: { index: number; allowUnstable: boolean; size: number; wpaused: boolean }[] = [
      { index: 3, allowUnstable: true, size: maxSize - 1, wpaused: true },
      { index: 3, allowUnstable: true, size: maxSize, wpaused: true },
      { index: 3, allowUnstable: true, size: maxSize + 1, wpaused: true },
      { index: 4, allowUnstable: true, size: maxSize - 1, wpaused: true },
      { index: 4, allowUnstable: true, size: maxSize, wpaused: true },
      { index: 4, allowUnstable: true, size: maxSize + 1, wpaused: true },
      { index: 5, allowUnstable: true, size: maxSize - 1, wpaused: false },
      { index: 5, allowUnstable: true, size: maxSize, wpaused: true },
      { index: 5, allowUnstable: true, size: maxSize + 1, wpaused: true },
      // Don't allow unstable entries.
      { index: 3, allowUnstable: false, size: maxSize - 1, wpaused: true },
      { index: 3, allowUnstable: false, size: maxSize, wpaused: true },
      { index: 3, allowUnstable: false, size: maxSize + 1, wpaused: true },
      { index: 4, allowUnstable: false, size: maxSize - 1, wpaused: false },
      { index: 4, allowUnstable: false, size: maxSize, wpaused: true },
      { index: 4, allowUnstable: false, size: maxSize + 1, wpaused: true },
      { index: 5, allowUnstable: false, size: maxSize - 1, wpaused: false },
      { index: 5, allowUnstable: false, size: maxSize, wpaused: true },
      { index: 5, allowUnstable: false, size: maxSize + 1, wpaused: true },
    ];
    it.each(cases(tests))('#%i', (_i, tt) => {
      const { log } = applyingFixture(maxSize);
      log.appliedTo(3, 0);
      log.acceptApplying(tt.index, tt.size, tt.allowUnstable);
      expect(log.applyingEntsPaused).toBe(tt.wpaused);
    });

    it('panics beyond the commit index', () => {
      const { log } = applyingFixture(maxSize);
      expect(() => log.acceptApplying(6, 0, true)).toThrow(AssertionError);
    });
  });

  describe('appliedTo', () => {
    const maxSize = 100;
    const overshoot = 5;
    const tests: { index: number; size: number; wapplyingSize: number; wpaused: boolean }[] = [
      // Apply some of in-progress entries (applying = 5 below).
      { index: 4, size: overshoot - 1, wapplyingSize: maxSize + 1, wpaused: true },
      { index: 4, size: overshoot, wapplyingSize: maxSize, wpaused: true },
      { index: 4, size: overshoot + 1, wapplyingSize: maxSize - 1, wpaused: false },
      // Apply all of in-progress entries.
      { index: 5, size: overshoot - 1, wapplyingSize: maxSize + 1, wpaused: true },
      { index: 5, size: overshoot, wapplyingSize: maxSize, wpaused: true },
      { index: 5, size: overshoot + 1, wapplyingSize: maxSize - 1, wpaused: false },
      // Apply all of outstanding bytes.
      { index: 4, size: maxSize + overshoot, wapplyingSize: 0, wpaused: false },
      // Apply more than outstanding bytes.
      // Incorrect accounting doesn't underflow applyingSize.
      { index: 4, size: maxSize + overshoot + 1, wapplyingSize: 0, wpaused: false },
    ];
    it.each(cases(tests))('#%i', (_i, tt) => {
      const { log } = applyingFixture(maxSize);
      log.appliedTo(3, 0);
      log.acceptApplying(5, maxSize + overshoot, false);

      log.appliedTo(tt.index, tt.size);
      expect(log.applied).toBe(tt.index);
      expect(log.applying).toBe(5);
      expect(log.applyingEntsSize).toBe(tt.wapplyingSize);
      expect(log.applyingEntsPaused).toBe(tt.wpaused);
    });

    it.each([
      [2, 'below applied'],
      [6, 'beyond committed'],
    ])('panics at %i (%s)', (i) => {
      const { log } = applyingFixture(maxSize);
      log.appliedTo(3, 0);
      expect(() => log.appliedTo(i, 0)).toThrow(AssertionError);
    });
  });

  // nextUnstableEnts returns the unstable part of the entries.
  describe('nextUnstableEnts', () => {
    const previousEnts = ents(1, 1, 2);
    const tests: { unstable: number; wents: Entry[] }[] = [
      { unstable: 3, wents: [] },
      { unstable: 1, wents: previousEnts },
    ];
    it.each(cases(tests))('#%i', (_i, tt) => {
      // append stable entries to storage
      const storage = new MemoryStorage();
      storage.append(previousEnts.slice(0, tt.unstable - 1));
      // append unstable entries to raftlog
      const log = new RaftLog(storage);
      log.append(previousEnts.slice(tt.unstable - 1));

      expect(log.hasNextUnstableEnts()).toBe(tt.wents.length > 0);
      const got = log.nextUnstableEnts();
      expect(log.unstableEntries()).toEqual(got);
      if (got.length > 0) {
        const last = got[got.length - 1];
        log.stableTo(last.index, last.term);
      }
      expect(got).toEqual(tt.wents);
      expect(log.unstable.offset).toBe(previousEnts[previousEnts.length - 1].index + 1);
    });

    it('stops handing out entries once accepted, until new ones arrive', () => {
      const log = new RaftLog(new MemoryStorage());
      log.append(ents(1, 1, 1));
      log.acceptUnstable();
      expect(log.hasNextUnstableEnts()).toBe(false);
      expect(log.hasNextOrInProgressUnstableEnts()).toBe(true);
      expect(log.nextUnstableEnts()).toEqual([]);
      log.append(ents(3, 1));
      expect(log.nextUnstableEnts()).toEqual(ents(3, 1));
    });
  });

  describe('commitTo', () => {
    const previousEnts = ents(1, 1, 2, 3);
    const commit = 2;
    const tests: { commit: number; wcommit: number; wpanic?: boolean }[] = [
      { commit: 3, wcommit: 3 },
      { commit: 1, wcommit: 2 }, // never decrease
      { commit: 4, wcommit: 0, wpanic: true }, // commit out of range -> panic
    ];
    it.each(cases(tests))('#%i', (_i, tt) => {
      const log = new RaftLog(new MemoryStorage());
      log.append(previousEnts);
      log.committed = commit;
      if (tt.wpanic === true) {
        expect(() => log.commitTo(tt.commit)).toThrow(AssertionError);
        return;
      }
      log.commitTo(tt.commit);
      expect(log.committed).toBe(tt.wcommit);
    });
  });

  describe('stableTo', () => {
    const tests: { stablei: number; stablet: number; wunstable: number }[] = [
      { stablei: 1, stablet: 1, wunstable: 2 },
      { stablei: 2, stablet: 2, wunstable: 3 },
      { stablei: 2, stablet: 1, wunstable: 1 }, // bad term
      { stablei: 3, stablet: 1, wunstable: 1 }, // bad index
    ];
    it.each(cases(tests))('#%i', (_i, tt) => {
      const log = new RaftLog(new MemoryStorage());
      log.append(ents(1, 1, 2));
      log.stableTo(tt.stablei, tt.stablet);
      expect(log.unstable.offset).toBe(tt.wunstable);
    });
  });

  describe('stableTo with snapshot', () => {
    const snapi = 5;
    const snapt = 2;
    const tests: { stablei: number; stablet: number; newEnts: Entry[]; wunstable: number }[] = [
      { stablei: snapi + 1, stablet: snapt, newEnts: [], wunstable: snapi + 1 },
      { stablei: snapi, stablet: snapt, newEnts: [], wunstable: snapi + 1 },
      { stablei: snapi - 1, stablet: snapt, newEnts: [], wunstable: snapi + 1 },

      { stablei: snapi + 1, stablet: snapt + 1, newEnts: [], wunstable: snapi + 1 },
      { stablei: snapi, stablet: snapt + 1, newEnts: [], wunstable: snapi + 1 },
      { stablei: snapi - 1, stablet: snapt + 1, newEnts: [], wunstable: snapi + 1 },

      { stablei: snapi + 1, stablet: snapt, newEnts: ents(snapi + 1, snapt), wunstable: snapi + 2 },
      { stablei: snapi, stablet: snapt, newEnts: ents(snapi + 1, snapt), wunstable: snapi + 1 },
      { stablei: snapi - 1, stablet: snapt, newEnts: ents(snapi + 1, snapt), wunstable: snapi + 1 },

      { stablei: snapi + 1, stablet: snapt + 1, newEnts: ents(snapi + 1, snapt), wunstable: snapi + 1 },
      { stablei: snapi, stablet: snapt + 1, newEnts: ents(snapi + 1, snapt), wunstable: snapi + 1 },
      { stablei: snapi - 1, stablet: snapt + 1, newEnts: ents(snapi + 1, snapt), wunstable: snapi + 1 },
    ];
    it.each(cases(tests))('#%i', (_i, tt) => {
      const log = new RaftLog(storageWithSnapshot(snapi, snapt));
      log.append(tt.newEnts);
      log.stableTo(tt.stablei, tt.stablet);
      expect(log.unstable.offset).toBe(tt.wunstable);
    });
  });

  // The number of log entries is correct after compactions.
  describe('compaction', () => {
    const tests: { lastIndex: number; compact: number[]; wleft: number[]; wallow: boolean }[] = [
      // out of upper bound
      { lastIndex: 1000, compact: [1001], wleft: [-1], wallow: false },
      { lastIndex: 1000, compact: [300, 500, 800, 900], wleft: [700, 500, 200, 100], wallow: true },
      // out of lower bound
      { lastIndex: 1000, compact: [300, 299], wleft: [700, -1], wallow: false },
    ];
    it.each(cases(tests))('#%i', (_i, tt) => {
      const storage = new MemoryStorage();
      storage.append(termRange(1, 1, tt.lastIndex + 1));
      const log = new RaftLog(storage);
      log.maybeCommit(tt.lastIndex, 0); // a no-op: term 0 never matches
      log.appliedTo(log.committed, 0);
      let failed = false;
      for (let j = 0; j < tt.compact.length; j++) {
        if (tt.wleft[j] === -1) {
          expect(() => storage.compact(tt.compact[j])).toThrow(j === 0 ? AssertionError : CompactedError);
          failed = true;
          continue;
        }
        storage.compact(tt.compact[j]);
        expect(log.allEntries().length).toBe(tt.wleft[j]);
      }
      expect(failed).toBe(!tt.wallow);
    });
  });

  it('restore from storage snapshot', () => {
    const index = 1000;
    const term = 1000;
    const log = new RaftLog(storageWithSnapshot(index, term));
    expect(log.allEntries().length).toBe(0);
    expect(log.firstIndex()).toBe(index + 1);
    expect(log.committed).toBe(index);
    expect(log.unstable.offset).toBe(index + 1);
    expect(log.term(index)).toBe(term);
  });

  describe('mustCheckOutOfBounds', () => {
    const offset = 100;
    const num = 100;
    const log = new RaftLog(storageWithSnapshot(offset, 0));
    log.append(termRange(offset + 1, offset + 1, offset + num + 1));
    const first = offset + 1;
    const tests: { lo: number; hi: number; wpanic: boolean; wErrCompacted: boolean }[] = [
      { lo: first - 2, hi: first + 1, wpanic: false, wErrCompacted: true },
      { lo: first - 1, hi: first + 1, wpanic: false, wErrCompacted: true },
      { lo: first, hi: first, wpanic: false, wErrCompacted: false },
      { lo: first + num / 2, hi: first + num / 2, wpanic: false, wErrCompacted: false },
      { lo: first + num - 1, hi: first + num - 1, wpanic: false, wErrCompacted: false },
      { lo: first + num, hi: first + num, wpanic: false, wErrCompacted: false },
      { lo: first + num, hi: first + num + 1, wpanic: true, wErrCompacted: false },
      { lo: first + num + 1, hi: first + num + 1, wpanic: true, wErrCompacted: false },
    ];
    it.each(cases(tests))('#%i', (_i, tt) => {
      const check = (): void => log.mustCheckOutOfBounds(tt.lo, tt.hi);
      if (tt.wpanic) expect(check).toThrow(AssertionError);
      else if (tt.wErrCompacted) expect(check).toThrow(CompactedError);
      else expect(check).not.toThrow();
    });

    it('panics when lo > hi', () => {
      expect(() => log.mustCheckOutOfBounds(first + 2, first + 1)).toThrow(AssertionError);
    });
  });

  describe('term', () => {
    const offset = 100;
    const num = 100;
    const log = new RaftLog(storageWithSnapshot(offset, 1));
    log.append(termRange(offset + 1, 1, num));
    const tests: { idx: number; term?: number; err?: typeof CompactedError }[] = [
      { idx: offset - 1, err: CompactedError },
      { idx: offset, term: 1 },
      { idx: offset + num / 2, term: num / 2 },
      { idx: offset + num - 1, term: num - 1 },
      { idx: offset + num, err: UnavailableError },
    ];
    it.each(cases(tests))('#%i', (_i, tt) => {
      if (tt.err !== undefined) {
        expect(() => log.term(tt.idx)).toThrow(tt.err);
        expect(log.termOrZero(tt.idx)).toBe(0);
        expect(log.termOrUndefined(tt.idx)).toBeUndefined();
        expect(log.matchTerm(tt.idx, 0)).toBe(false);
      } else {
        expect(log.term(tt.idx)).toBe(tt.term);
        expect(log.termOrZero(tt.idx)).toBe(tt.term);
        expect(log.matchTerm(tt.idx, tt.term!)).toBe(true);
      }
    });
  });

  describe('term with unstable snapshot', () => {
    const storagesnapi = 100;
    const unstablesnapi = storagesnapi + 5;
    const log = new RaftLog(storageWithSnapshot(storagesnapi, 1));
    log.restore(snap(unstablesnapi, 1));
    const tests: { idx: number; term?: number; err?: typeof CompactedError }[] = [
      // cannot get term from storage
      { idx: storagesnapi, err: CompactedError },
      // cannot get term from the gap between storage ents and unstable snapshot
      { idx: storagesnapi + 1, err: CompactedError },
      { idx: unstablesnapi - 1, err: CompactedError },
      // get term from unstable snapshot index
      { idx: unstablesnapi, term: 1 },
      // the log beyond the unstable snapshot is empty
      { idx: unstablesnapi + 1, err: UnavailableError },
    ];
    it.each(cases(tests))('#%i', (_i, tt) => {
      if (tt.err !== undefined) expect(() => log.term(tt.idx)).toThrow(tt.err);
      else expect(log.term(tt.idx)).toBe(tt.term);
    });

    it('serves the unstable snapshot until it is stable', () => {
      expect(log.snapshot().metadata.index).toBe(unstablesnapi);
      expect(log.hasNextOrInProgressSnapshot()).toBe(true);
      expect(log.hasNextUnstableSnapshot()).toBe(true);
      expect(log.nextUnstableSnapshot()?.metadata.index).toBe(unstablesnapi);
      log.acceptUnstable();
      expect(log.hasNextUnstableSnapshot()).toBe(false);
      expect(log.nextUnstableSnapshot()).toBeUndefined();
      expect(log.hasNextOrInProgressSnapshot()).toBe(true);
    });
  });

  describe('slice', () => {
    const offset = 100;
    const num = 100;
    const last = offset + num;
    const half = offset + num / 2;
    const halfe: Entry = ents(half, half)[0];
    const range = (from: number, to: number): Entry[] => termRange(from, from, to);
    const size = entrySize(halfe);

    const storage = storageWithSnapshot(offset, 0);
    storage.append(range(offset + 1, half));
    const log = new RaftLog(storage);
    log.append(range(half, last));

    const tests: { lo: number; hi: number; lim: number; w?: Entry[]; wpanic?: boolean }[] = [
      // CompactedError.
      { lo: offset - 1, hi: offset + 1, lim: noLimit },
      { lo: offset, hi: offset + 1, lim: noLimit },
      // panics
      { lo: half, hi: half - 1, lim: noLimit, wpanic: true }, // lo and hi inversion
      { lo: last, hi: last + 1, lim: noLimit, wpanic: true }, // hi is out of bounds

      // No limit.
      { lo: offset + 1, hi: offset + 1, lim: noLimit, w: [] },
      { lo: offset + 1, hi: half - 1, lim: noLimit, w: range(offset + 1, half - 1) },
      { lo: offset + 1, hi: half, lim: noLimit, w: range(offset + 1, half) },
      { lo: offset + 1, hi: half + 1, lim: noLimit, w: range(offset + 1, half + 1) },
      { lo: offset + 1, hi: last, lim: noLimit, w: range(offset + 1, last) },
      { lo: half - 1, hi: half, lim: noLimit, w: range(half - 1, half) },
      { lo: half - 1, hi: half + 1, lim: noLimit, w: range(half - 1, half + 1) },
      { lo: half - 1, hi: last, lim: noLimit, w: range(half - 1, last) },
      { lo: half, hi: half + 1, lim: noLimit, w: range(half, half + 1) },
      { lo: half, hi: last, lim: noLimit, w: range(half, last) },
      { lo: last - 1, hi: last, lim: noLimit, w: range(last - 1, last) },

      // At least one entry is always returned.
      { lo: offset + 1, hi: last, lim: 0, w: range(offset + 1, offset + 2) },
      { lo: half - 1, hi: half + 1, lim: 0, w: range(half - 1, half) },
      { lo: half, hi: last, lim: 0, w: range(half, half + 1) },
      { lo: half + 1, hi: last, lim: 0, w: range(half + 1, half + 2) },
      // Low limit.
      { lo: offset + 1, hi: last, lim: size - 1, w: range(offset + 1, offset + 2) },
      { lo: half - 1, hi: half + 1, lim: size - 1, w: range(half - 1, half) },
      { lo: half, hi: last, lim: size - 1, w: range(half, half + 1) },
      // Just enough for one limit.
      { lo: offset + 1, hi: last, lim: size, w: range(offset + 1, offset + 2) },
      { lo: half - 1, hi: half + 1, lim: size, w: range(half - 1, half) },
      { lo: half, hi: last, lim: size, w: range(half, half + 1) },
      // Not enough for two limit.
      { lo: offset + 1, hi: last, lim: size + 1, w: range(offset + 1, offset + 2) },
      { lo: half - 1, hi: half + 1, lim: size + 1, w: range(half - 1, half) },
      { lo: half, hi: last, lim: size + 1, w: range(half, half + 1) },
      // Enough for two limit.
      { lo: offset + 1, hi: last, lim: size * 2, w: range(offset + 1, offset + 3) },
      { lo: half - 2, hi: half + 1, lim: size * 2, w: range(half - 2, half) },
      { lo: half - 1, hi: half + 1, lim: size * 2, w: range(half - 1, half + 1) },
      { lo: half, hi: last, lim: size * 2, w: range(half, half + 2) },
      // Not enough for three.
      { lo: half - 2, hi: half + 1, lim: size * 3 - 1, w: range(half - 2, half) },
      // Enough for three.
      { lo: half - 1, hi: half + 2, lim: size * 3, w: range(half - 1, half + 2) },
    ];
    it.each(cases(tests))('#%i', (_i, tt) => {
      const get = (): Entry[] => log.slice(tt.lo, tt.hi, tt.lim);
      if (tt.wpanic === true) {
        expect(get).toThrow(AssertionError);
      } else if (tt.lo <= offset) {
        expect(get).toThrow(CompactedError);
      } else {
        expect(get()).toEqual(tt.w);
      }
    });

    it('returns arrays the caller may append to', () => {
      const got = log.slice(half - 1, half + 1, noLimit);
      got.push(...ents(half + 1, 999));
      expect(log.slice(half - 1, half + 2, noLimit)).toEqual(range(half - 1, half + 2));
      const tail = log.slice(half, half + 1, noLimit);
      tail.push(...ents(half + 1, 999));
      expect(log.term(half + 1)).toBe(half + 1);
    });

    it('panics if storage lacks entries before the unstable offset', () => {
      const broken = new RaftLog(storageWithSnapshot(offset, 0));
      broken.append(range(offset + 1, offset + 3));
      // Pretend the first two were persisted without giving them to storage.
      broken.stableTo(offset + 2, offset + 2);
      expect(() => broken.slice(offset + 1, offset + 2, noLimit)).toThrow(AssertionError);
    });
  });

  describe('scan', () => {
    const offset = 47;
    const num = 20;
    const last = offset + num;
    const half = offset + num / 2;
    const range = (from: number, to: number): Entry[] => termRange(from, from, to);
    const size = entriesSize(range(half, half + 1));

    const storage = storageWithSnapshot(offset, 0);
    storage.append(range(offset + 1, half));
    const log = new RaftLog(storage);
    log.append(range(half, last));

    it('returns the same entries as slice() on all inputs', () => {
      for (const pageSize of [0, 1, 10, 100, size, size + 1]) {
        for (let lo = offset + 1; lo < last; lo++) {
          for (let hi = lo; hi <= last; hi++) {
            const got: Entry[] = [];
            log.scan(lo, hi, pageSize, (e) => {
              got.push(...e);
              expect(e.length === 1 || entriesSize(e) <= pageSize).toBe(true);
            });
            expect(got, `scan() and slice() mismatch on [${lo}, ${hi}) @ ${pageSize}`).toEqual(
              log.slice(lo, hi, noLimit),
            );
          }
        }
      }
    });

    it('propagates an error thrown by the callback', () => {
      const errBreak = new Error('break');
      let iters = 0;
      expect(() =>
        log.scan(offset + 1, half, 0, () => {
          iters++;
          if (iters === 2) throw errBreak;
        }),
      ).toThrow(errBreak);
      expect(iters).toBe(2);
    });

    it('stops when the callback returns false', () => {
      let iters = 0;
      log.scan(offset + 1, half, 0, () => {
        iters++;
        return iters !== 3;
      });
      expect(iters).toBe(3);
    });

    it('maxes out the page size rather than returning single entries', () => {
      // Works only because the requested range length is even.
      log.scan(offset + 1, offset + 11, size * 2, (e) => {
        expect(e.length).toBe(2);
        expect(entriesSize(e)).toBe(size * 2);
      });
    });

    it('throws CompactedError below firstIndex', () => {
      expect(() => log.scan(offset, half, noLimit, () => {})).toThrow(CompactedError);
    });
  });

  it('toString matches etcd', () => {
    const log = new RaftLog(new MemoryStorage());
    log.append(ents(1, 1, 1));
    expect(String(log)).toBe(
      'committed=0, applied=0, applying=0, unstable.offset=1, unstable.offsetInProgress=1, len(unstable.Entries)=2',
    );
  });
});

// Random sequences of what a node does to its log (append, overwrite from a new leader, write
// to storage in the background, commit, apply in the background, compact, install a snapshot)
// keep the log's invariants and agree with a plain model of the log.
describe('RaftLog property', () => {
  type Op =
    | { kind: 'append'; n: number; newTerm: boolean }
    | { kind: 'overwrite'; back: number; n: number; leaderCommit: number }
    | { kind: 'startWrite' }
    | { kind: 'finishWrite' }
    | { kind: 'commit'; frac: number }
    | { kind: 'startApply'; allowUnstable: boolean }
    | { kind: 'finishApply' }
    | { kind: 'compact'; frac: number }
    | { kind: 'snapshot'; gap: number }
    | { kind: 'read'; frac: number; maxSize: number };

  const opArb: fc.Arbitrary<Op> = fc.oneof(
    fc.record({ kind: fc.constant('append' as const), n: fc.integer({ min: 1, max: 5 }), newTerm: fc.boolean() }),
    fc.record({
      kind: fc.constant('overwrite' as const),
      back: fc.integer({ min: 0, max: 6 }),
      n: fc.integer({ min: 0, max: 4 }),
      leaderCommit: fc.double({ min: 0, max: 1, noNaN: true }),
    }),
    fc.record({ kind: fc.constant('startWrite' as const) }),
    fc.record({ kind: fc.constant('finishWrite' as const) }),
    fc.record({ kind: fc.constant('commit' as const), frac: fc.double({ min: 0, max: 1, noNaN: true }) }),
    fc.record({ kind: fc.constant('startApply' as const), allowUnstable: fc.boolean() }),
    fc.record({ kind: fc.constant('finishApply' as const) }),
    fc.record({ kind: fc.constant('compact' as const), frac: fc.double({ min: 0, max: 1, noNaN: true }) }),
    fc.record({ kind: fc.constant('snapshot' as const), gap: fc.integer({ min: 0, max: 4 }) }),
    fc.record({
      kind: fc.constant('read' as const),
      frac: fc.double({ min: 0, max: 1, noNaN: true }),
      maxSize: fc.oneof(fc.constant(noLimit), fc.integer({ min: 0, max: 80 })),
    }),
  );

  function run(ops: Op[], maxApplying: number): void {
    const storage = new MemoryStorage();
    const log = new RaftLog(storage, undefined, maxApplying);
    // model[i] is the term of entry i of the logical log (index 0 is the empty log's dummy).
    const model: number[] = [0];
    let term = 1;
    const writes: { ents: Entry[]; snapshot?: Snapshot }[] = [];
    const applies: { index: number; size: number }[] = [];
    let lastHandedOut = log.applying;

    const appendEntries = (from: number, n: number, t: number): Entry[] => {
      const out: Entry[] = [];
      for (let k = 0; k < n; k++) out.push({ term: t, index: from + k, type: EntryType.EntryNormal, data: new Uint8Array(k % 3) });
      return out;
    };
    const drain = (): void => {
      while (writes.length > 0) finishWrite();
      while (applies.length > 0) finishApply();
    };
    const finishWrite = (): void => {
      const w = writes.shift();
      if (w === undefined) return;
      if (w.snapshot !== undefined) {
        storage.applySnapshot(w.snapshot);
        log.stableSnapTo(w.snapshot.metadata.index);
      }
      if (w.ents.length > 0) {
        storage.append(w.ents);
        const lastEnt = w.ents[w.ents.length - 1];
        log.stableTo(lastEnt.index, lastEnt.term);
      }
    };
    const finishApply = (): void => {
      const a = applies.shift();
      if (a !== undefined) log.appliedTo(a.index, a.size);
    };

    for (const op of ops) {
      switch (op.kind) {
        case 'append': {
          if (op.newTerm) term++;
          const from = log.lastIndex() + 1;
          const added = appendEntries(from, op.n, term);
          expect(log.append(added)).toBe(from + op.n - 1);
          for (const e of added) model[e.index] = e.term;
          break;
        }
        case 'overwrite': {
          // A new leader's append that matches at prev and may replace the uncommitted suffix.
          term++;
          const prev = Math.max(log.committed, log.lastIndex() - op.back);
          const added = appendEntries(prev + 1, op.n, term);
          const leaderCommit = Math.floor(op.leaderCommit * (prev + op.n));
          const res = log.maybeAppend(prev, model[prev], leaderCommit, added);
          expect(res).toEqual({ lastNewIndex: prev + op.n, ok: true });
          if (op.n > 0) {
            model.length = prev + 1;
            for (const e of added) model[e.index] = e.term;
          }
          expect(log.committed).toBeGreaterThanOrEqual(Math.min(leaderCommit, prev + op.n));
          break;
        }
        case 'startWrite': {
          const snapshot = log.nextUnstableSnapshot();
          const pending = log.nextUnstableEnts();
          log.acceptUnstable();
          if (snapshot !== undefined || pending.length > 0) writes.push({ ents: pending, snapshot });
          break;
        }
        case 'finishWrite':
          finishWrite();
          break;
        case 'commit':
          log.commitTo(log.committed + Math.floor(op.frac * (log.lastIndex() - log.committed)));
          break;
        case 'startApply': {
          const got = log.nextCommittedEnts(op.allowUnstable);
          expect(got.length > 0).toBe(
            !log.applyingEntsPaused &&
              !log.hasNextOrInProgressSnapshot() &&
              log.applying < log.maxAppliableIndex(op.allowUnstable),
          );
          if (got.length === 0) break;
          // Handed out in order, without gaps or repeats.
          expect(got[0].index).toBe(lastHandedOut + 1);
          const lastEnt = got[got.length - 1];
          lastHandedOut = lastEnt.index;
          for (const e of got) expect(e.term).toBe(model[e.index]);
          const size = entriesSize(got);
          if (maxApplying !== noLimit && got.length > 1) expect(size).toBeLessThanOrEqual(maxApplying);
          log.acceptApplying(lastEnt.index, size, op.allowUnstable);
          applies.push({ index: lastEnt.index, size });
          break;
        }
        case 'finishApply':
          finishApply();
          break;
        case 'compact': {
          const lo = storage.firstIndex();
          const hi = Math.min(log.applied, storage.lastIndex());
          if (hi < lo) break;
          storage.compact(lo + Math.floor(op.frac * (hi - lo)));
          break;
        }
        case 'snapshot': {
          // The application finishes its background work first, as a node does before it
          // installs a snapshot; then writes and applies the snapshot.
          drain();
          term++;
          // Raft only restores a snapshot past its commit index; it may end inside the log.
          const index = Math.max(log.committed + 1, log.lastIndex() - 2 + op.gap);
          const s: Snapshot = { data: EMPTY_BYTES, metadata: { index, term, confState: emptyConfState() } };
          log.restore(s);
          model.length = index + 1;
          model[index] = term;
          expect(log.hasNextCommittedEnts(true)).toBe(false);
          expect(log.nextUnstableSnapshot()).toBe(s);
          writes.push({ ents: log.nextUnstableEnts(), snapshot: s });
          log.acceptUnstable();
          finishWrite();
          log.appliedTo(index, 0);
          lastHandedOut = index;
          break;
        }
        case 'read': {
          const first = log.firstIndex();
          const lo = first + Math.floor(op.frac * (log.lastIndex() + 1 - first));
          const got = log.entries(lo, op.maxSize);
          if (lo <= log.lastIndex()) expect(got.length).toBeGreaterThan(0);
          got.forEach((e, k) => expect(e.index).toBe(lo + k));
          if (got.length > 1) expect(entriesSize(got)).toBeLessThanOrEqual(op.maxSize);
          break;
        }
      }

      // The invariants.
      const first = log.firstIndex();
      const last = log.lastIndex();
      expect(log.applied).toBeLessThanOrEqual(log.applying);
      expect(log.applying).toBeLessThanOrEqual(log.committed);
      expect(log.committed).toBeLessThanOrEqual(last);
      expect(first).toBeLessThanOrEqual(log.applied + 1);
      expect(last).toBe(model.length - 1);
      expect(log.unstable.offset).toBeLessThanOrEqual(log.unstable.offsetInProgress);
      expect(log.unstable.offsetInProgress).toBeLessThanOrEqual(log.unstable.offset + log.unstable.length);
      // Storage holds everything before the unstable offset.
      expect(storage.lastIndex()).toBeGreaterThanOrEqual(log.unstable.offset - 1);
      // entries() is the contiguous run [firstIndex, lastIndex], and matches the model.
      const all = log.allEntries();
      expect(all.length).toBe(last - first + 1);
      all.forEach((e, k) => {
        expect(e.index).toBe(first + k);
        expect(e.term).toBe(model[e.index]);
      });
      expect(log.term(first - 1)).toBe(model[first - 1]);
      expect(log.lastTerm()).toBe(model[last]);
    }
    drain();
  }

  it('keeps firstIndex <= applied + 1, applied <= committed <= lastIndex, and contiguous entries', () => {
    fc.assert(
      fc.property(
        fc.array(opArb, { minLength: 1, maxLength: 80 }),
        fc.oneof(fc.constant(noLimit), fc.integer({ min: 10, max: 120 })),
        (ops, maxApplying) => run(ops, maxApplying),
      ),
      { seed: 20240611, numRuns: 400 },
    );
  });
});
