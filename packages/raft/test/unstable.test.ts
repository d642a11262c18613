// Ported from etcd's raft log_unstable_test.go.
import { describe, expect, it } from 'vitest';

import { AssertionError } from '../src/errors.js';
import { Unstable } from '../src/log/unstable.js';
import { type Entry, EntryType, EMPTY_BYTES, type Snapshot, emptyConfState, entrySize } from '../src/types.js';

/** Entries at consecutive indices from `index`, with the given terms. */
function ents(index: number, ...terms: number[]): Entry[] {
  return terms.map((term, k) => ({ term, index: index + k, type: EntryType.EntryNormal, data: EMPTY_BYTES }));
}

function snap(index: number, term: number): Snapshot {
  return { data: EMPTY_BYTES, metadata: { index, term, confState: emptyConfState() } };
}

const cases = <T>(list: T[]): (readonly [number, T])[] => list.map((c, i) => [i, c] as const);

describe('Unstable', () => {
  describe('maybeFirstIndex', () => {
    const tests: { entries: Entry[]; offset: number; snap?: Snapshot; windex: number | undefined }[] = [
      // no snapshot
      { entries: ents(5, 1), offset: 5, windex: undefined },
      { entries: [], offset: 0, windex: undefined },
      // has snapshot
      { entries: ents(5, 1), offset: 5, snap: snap(4, 1), windex: 5 },
      { entries: [], offset: 5, snap: snap(4, 1), windex: 5 },
    ];
    it.each(cases(tests))('#%i', (_i, tt) => {
      const u = new Unstable({ entries: tt.entries, offset: tt.offset, snapshot: tt.snap });
      expect(u.maybeFirstIndex()).toBe(tt.windex);
    });
  });

  describe('maybeLastIndex', () => {
    const tests: { entries: Entry[]; offset: number; snap?: Snapshot; windex: number | undefined }[] = [
      // last in entries
      { entries: ents(5, 1), offset: 5, windex: 5 },
      { entries: ents(5, 1), offset: 5, snap: snap(4, 1), windex: 5 },
      // last in snapshot
      { entries: [], offset: 5, snap: snap(4, 1), windex: 4 },
      // empty unstable
      { entries: [], offset: 0, windex: undefined },
    ];
    it.each(cases(tests))('#%i', (_i, tt) => {
      const u = new Unstable({ entries: tt.entries, offset: tt.offset, snapshot: tt.snap });
      expect(u.maybeLastIndex()).toBe(tt.windex);
    });
  });

  describe('maybeTerm', () => {
    const tests: { entries: Entry[]; offset: number; snap?: Snapshot; index: number; wterm: number | undefined }[] = [
      // term from entries
      { entries: ents(5, 1), offset: 5, index: 5, wterm: 1 },
      { entries: ents(5, 1), offset: 5, index: 6, wterm: undefined },
      { entries: ents(5, 1), offset: 5, index: 4, wterm: undefined },
      { entries: ents(5, 1), offset: 5, snap: snap(4, 1), index: 5, wterm: 1 },
      { entries: ents(5, 1), offset: 5, snap: snap(4, 1), index: 6, wterm: undefined },
      // term from snapshot
      { entries: ents(5, 1), offset: 5, snap: snap(4, 1), index: 4, wterm: 1 },
      { entries: ents(5, 1), offset: 5, snap: snap(4, 1), index: 3, wterm: undefined },
      { entries: [], offset: 5, snap: snap(4, 1), index: 5, wterm: undefined },
      { entries: [], offset: 5, snap: snap(4, 1), index: 4, wterm: 1 },
      { entries: [], offset: 0, index: 5, wterm: undefined },
    ];
    it.each(cases(tests))('#%i', (_i, tt) => {
      const u = new Unstable({ entries: tt.entries, offset: tt.offset, snapshot: tt.snap });
      expect(u.maybeTerm(tt.index)).toBe(tt.wterm);
    });
  });

  it('restore', () => {
    const u = new Unstable({
      entries: ents(5, 1),
      offset: 5,
      offsetInProgress: 6,
      snapshot: snap(4, 1),
      snapshotInProgress: true,
    });
    const s = snap(6, 2);
    u.restore(s);
    expect(u.offset).toBe(s.metadata.index + 1);
    expect(u.offsetInProgress).toBe(s.metadata.index + 1);
    expect(u.length).toBe(0);
    expect(u.entries).toEqual([]);
    expect(u.snapshot).toEqual(s);
    expect(u.snapshotInProgress).toBe(false);
  });

  describe('nextEntries', () => {
    const tests: { entries: Entry[]; offset: number; offsetInProgress: number; wentries: Entry[] }[] = [
      // nothing in progress
      { entries: ents(5, 1, 1), offset: 5, offsetInProgress: 5, wentries: ents(5, 1, 1) },
      // partially in progress
      { entries: ents(5, 1, 1), offset: 5, offsetInProgress: 6, wentries: ents(6, 1) },
      // everything in progress
      { entries: ents(5, 1, 1), offset: 5, offsetInProgress: 7, wentries: [] },
    ];
    it.each(cases(tests))('#%i', (_i, tt) => {
      const u = new Unstable({ entries: tt.entries, offset: tt.offset, offsetInProgress: tt.offsetInProgress });
      expect(u.nextEntries()).toEqual(tt.wentries);
      expect(u.hasNextEntries()).toBe(tt.wentries.length > 0);
    });
  });

  describe('nextSnapshot', () => {
    const s = snap(4, 1);
    const tests: { snapshot?: Snapshot; snapshotInProgress: boolean; wsnapshot: Snapshot | undefined }[] = [
      // snapshot not unstable
      { snapshotInProgress: false, wsnapshot: undefined },
      // snapshot not in progress
      { snapshot: s, snapshotInProgress: false, wsnapshot: s },
      // snapshot in progress
      { snapshot: s, snapshotInProgress: true, wsnapshot: undefined },
    ];
    it.each(cases(tests))('#%i', (_i, tt) => {
      const u = new Unstable({ offset: 0, snapshot: tt.snapshot, snapshotInProgress: tt.snapshotInProgress });
      expect(u.nextSnapshot()).toEqual(tt.wsnapshot);
    });
  });

  describe('acceptInProgress', () => {
    const s = snap(4, 1);
    const tests: {
      entries: Entry[];
      snapshot?: Snapshot;
      offsetInProgress: number;
      snapshotInProgress: boolean;
      woffsetInProgress: number;
      wsnapshotInProgress: boolean;
    }[] = [
      // no entries, snapshot not already in progress
      { entries: [], offsetInProgress: 5, snapshotInProgress: false, woffsetInProgress: 5, wsnapshotInProgress: false },
      // entries not in progress
      { entries: ents(5, 1), offsetInProgress: 5, snapshotInProgress: false, woffsetInProgress: 6, wsnapshotInProgress: false },
      { entries: ents(5, 1, 1), offsetInProgress: 5, snapshotInProgress: false, woffsetInProgress: 7, wsnapshotInProgress: false },
      // in-progress to the first entry
      { entries: ents(5, 1, 1), offsetInProgress: 6, snapshotInProgress: false, woffsetInProgress: 7, wsnapshotInProgress: false },
      // in-progress to the second entry
      { entries: ents(5, 1, 1), offsetInProgress: 7, snapshotInProgress: false, woffsetInProgress: 7, wsnapshotInProgress: false },
      // with snapshot
      { entries: [], snapshot: s, offsetInProgress: 5, snapshotInProgress: false, woffsetInProgress: 5, wsnapshotInProgress: true },
      { entries: ents(5, 1), snapshot: s, offsetInProgress: 5, snapshotInProgress: false, woffsetInProgress: 6, wsnapshotInProgress: true },
      { entries: ents(5, 1, 1), snapshot: s, offsetInProgress: 5, snapshotInProgress: false, woffsetInProgress: 7, wsnapshotInProgress: true },
      { entries: ents(5, 1, 1), snapshot: s, offsetInProgress: 6, snapshotInProgress: false, woffsetInProgress: 7, wsnapshotInProgress: true },
      { entries: ents(5, 1, 1), snapshot: s, offsetInProgress: 7, snapshotInProgress: false, woffsetInProgress: 7, wsnapshotInProgress: true },
      // snapshot already in progress
      { entries: [], snapshot: s, offsetInProgress: 5, snapshotInProgress: true, woffsetInProgress: 5, wsnapshotInProgress: true },
      { entries: ents(5, 1), snapshot: s, offsetInProgress: 5, snapshotInProgress: true, woffsetInProgress: 6, wsnapshotInProgress: true },
      { entries: ents(5, 1, 1), snapshot: s, offsetInProgress: 5, snapshotInProgress: true, woffsetInProgress: 7, wsnapshotInProgress: true },
      { entries: ents(5, 1, 1), snapshot: s, offsetInProgress: 6, snapshotInProgress: true, woffsetInProgress: 7, wsnapshotInProgress: true },
      { entries: ents(5, 1, 1), snapshot: s, offsetInProgress: 7, snapshotInProgress: true, woffsetInProgress: 7, wsnapshotInProgress: true },
    ];
    it.each(cases(tests))('#%i', (_i, tt) => {
      // As in etcd's test, offset is left at zero: the in-progress mark follows the last entry's
      // own index, not offset + length.
      const u = new Unstable({
        offset: 0,
        entries: tt.entries,
        snapshot: tt.snapshot,
        offsetInProgress: tt.offsetInProgress,
        snapshotInProgress: tt.snapshotInProgress,
      });
      u.acceptInProgress();
      expect(u.offsetInProgress).toBe(tt.woffsetInProgress);
      expect(u.snapshotInProgress).toBe(tt.wsnapshotInProgress);
    });
  });

  describe('stableTo', () => {
    const tests: {
      entries: Entry[];
      offset: number;
      offsetInProgress: number;
      snap?: Snapshot;
      index: number;
      term: number;
      woffset: number;
      woffsetInProgress: number;
      wlen: number;
    }[] = [
      { entries: [], offset: 0, offsetInProgress: 0, index: 5, term: 1, woffset: 0, woffsetInProgress: 0, wlen: 0 },
      // stable to the first entry
      { entries: ents(5, 1), offset: 5, offsetInProgress: 6, index: 5, term: 1, woffset: 6, woffsetInProgress: 6, wlen: 0 },
      // stable to the first entry
      { entries: ents(5, 1, 1), offset: 5, offsetInProgress: 6, index: 5, term: 1, woffset: 6, woffsetInProgress: 6, wlen: 1 },
      // stable to the first entry and in-progress ahead
      { entries: ents(5, 1, 1), offset: 5, offsetInProgress: 7, index: 5, term: 1, woffset: 6, woffsetInProgress: 7, wlen: 1 },
      // stable to the first entry and term mismatch
      { entries: ents(6, 2), offset: 6, offsetInProgress: 7, index: 6, term: 1, woffset: 6, woffsetInProgress: 7, wlen: 1 },
      // stable to old entry
      { entries: ents(5, 1), offset: 5, offsetInProgress: 6, index: 4, term: 1, woffset: 5, woffsetInProgress: 6, wlen: 1 },
      // stable to old entry
      { entries: ents(5, 1), offset: 5, offsetInProgress: 6, index: 4, term: 2, woffset: 5, woffsetInProgress: 6, wlen: 1 },
      // with snapshot: stable to the first entry
      { entries: ents(5, 1), offset: 5, offsetInProgress: 6, snap: snap(4, 1), index: 5, term: 1, woffset: 6, woffsetInProgress: 6, wlen: 0 },
      // stable to the first entry
      { entries: ents(5, 1, 1), offset: 5, offsetInProgress: 6, snap: snap(4, 1), index: 5, term: 1, woffset: 6, woffsetInProgress: 6, wlen: 1 },
      // stable to the first entry and in-progress ahead
      { entries: ents(5, 1, 1), offset: 5, offsetInProgress: 7, snap: snap(4, 1), index: 5, term: 1, woffset: 6, woffsetInProgress: 7, wlen: 1 },
      // stable to the first entry and term mismatch
      { entries: ents(6, 2), offset: 6, offsetInProgress: 7, snap: snap(5, 1), index: 6, term: 1, woffset: 6, woffsetInProgress: 7, wlen: 1 },
      // stable to snapshot
      { entries: ents(5, 1), offset: 5, offsetInProgress: 6, snap: snap(4, 1), index: 4, term: 1, woffset: 5, woffsetInProgress: 6, wlen: 1 },
      // stable to old entry
      { entries: ents(5, 2), offset: 5, offsetInProgress: 6, snap: snap(4, 2), index: 4, term: 1, woffset: 5, woffsetInProgress: 6, wlen: 1 },
    ];
    it.each(cases(tests))('#%i', (_i, tt) => {
      const u = new Unstable({
        entries: tt.entries,
        offset: tt.offset,
        offsetInProgress: tt.offsetInProgress,
        snapshot: tt.snap,
      });
      u.stableTo(tt.index, tt.term);
      expect(u.offset).toBe(tt.woffset);
      expect(u.offsetInProgress).toBe(tt.woffsetInProgress);
      expect(u.length).toBe(tt.wlen);
      expect(u.entries.length).toBe(tt.wlen);
    });
  });

  describe('truncateAndAppend', () => {
    const tests: {
      entries: Entry[];
      offset: number;
      offsetInProgress: number;
      snap?: Snapshot;
      toappend: Entry[];
      woffset: number;
      woffsetInProgress: number;
      wentries: Entry[];
    }[] = [
      // append to the end
      { entries: ents(5, 1), offset: 5, offsetInProgress: 5, toappend: ents(6, 1, 1), woffset: 5, woffsetInProgress: 5, wentries: ents(5, 1, 1, 1) },
      { entries: ents(5, 1), offset: 5, offsetInProgress: 6, toappend: ents(6, 1, 1), woffset: 5, woffsetInProgress: 6, wentries: ents(5, 1, 1, 1) },
      // replace the unstable entries
      { entries: ents(5, 1), offset: 5, offsetInProgress: 5, toappend: ents(5, 2, 2), woffset: 5, woffsetInProgress: 5, wentries: ents(5, 2, 2) },
      { entries: ents(5, 1), offset: 5, offsetInProgress: 5, toappend: ents(4, 2, 2, 2), woffset: 4, woffsetInProgress: 4, wentries: ents(4, 2, 2, 2) },
      { entries: ents(5, 1), offset: 5, offsetInProgress: 6, toappend: ents(5, 2, 2), woffset: 5, woffsetInProgress: 5, wentries: ents(5, 2, 2) },
      // truncate the existing entries and append
      { entries: ents(5, 1, 1, 1), offset: 5, offsetInProgress: 5, toappend: ents(6, 2), woffset: 5, woffsetInProgress: 5, wentries: ents(5, 1, 2) },
      { entries: ents(5, 1, 1, 1), offset: 5, offsetInProgress: 5, toappend: ents(7, 2, 2), woffset: 5, woffsetInProgress: 5, wentries: ents(5, 1, 1, 2, 2) },
      { entries: ents(5, 1, 1, 1), offset: 5, offsetInProgress: 6, toappend: ents(6, 2), woffset: 5, woffsetInProgress: 6, wentries: ents(5, 1, 2) },
      { entries: ents(5, 1, 1, 1), offset: 5, offsetInProgress: 7, toappend: ents(6, 2), woffset: 5, woffsetInProgress: 6, wentries: ents(5, 1, 2) },
    ];
    it.each(cases(tests))('#%i', (_i, tt) => {
      const u = new Unstable({
        entries: tt.entries,
        offset: tt.offset,
        offsetInProgress: tt.offsetInProgress,
        snapshot: tt.snap,
      });
      u.truncateAndAppend(tt.toappend);
      expect(u.offset).toBe(tt.woffset);
      expect(u.offsetInProgress).toBe(tt.woffsetInProgress);
      expect(u.entries).toEqual(tt.wentries);
    });

    it('panics on a gap after the last entry', () => {
      const u = new Unstable({ entries: ents(5, 1), offset: 5 });
      expect(() => u.truncateAndAppend(ents(7, 1))).toThrow(AssertionError);
    });

    it('appends from a start position without keeping the caller array', () => {
      const u = new Unstable({ entries: ents(5, 1), offset: 5 });
      const given = ents(5, 1, 2, 2);
      u.truncateAndAppend(given, 1);
      expect(u.entries).toEqual(ents(5, 1, 2, 2));
      u.truncateAndAppend(ents(8, 3));
      expect(given).toEqual(ents(5, 1, 2, 2));
    });
  });

  describe('slice', () => {
    const u = new Unstable({ entries: ents(5, 1, 1, 2, 3), offset: 5 });

    it('returns copies of ranges inside the unstable log', () => {
      expect(u.slice(5, 5)).toEqual([]);
      expect(u.slice(5, 9)).toEqual(ents(5, 1, 1, 2, 3));
      expect(u.slice(6, 8)).toEqual(ents(6, 1, 2));
      const got = u.slice(6, 7);
      got.push(...ents(7, 9));
      expect(u.slice(7, 8)).toEqual(ents(7, 2));
    });

    it('honours the byte budget, at least one entry', () => {
      const one = entrySize(ents(5, 1)[0]);
      expect(u.slice(5, 9, 0)).toEqual(ents(5, 1));
      expect(u.slice(5, 9, one * 2)).toEqual(ents(5, 1, 1));
      expect(u.slice(5, 9, one * 2 - 1)).toEqual(ents(5, 1));
    });

    it.each([
      [6, 5], // lo > hi
      [4, 6], // below offset
      [5, 10], // beyond the last entry
    ])('panics on [%i, %i)', (lo, hi) => {
      expect(() => u.slice(lo, hi)).toThrow(AssertionError);
    });
  });

  it('keeps the live entries intact while stableTo advances in small steps', () => {
    const n = 1000;
    const log = ents(1, ...Array.from({ length: n }, () => 1));
    const u = new Unstable({ entries: log, offset: 1 });
    for (let i = 1; i <= n; i++) {
      u.stableTo(i, 1);
      expect(u.offset).toBe(i + 1);
      expect(u.length).toBe(n - i);
      if (i < n) {
        expect(u.maybeTerm(i + 1)).toBe(1);
        expect(u.slice(i + 1, Math.min(i + 3, n + 1))).toEqual(log.slice(i, Math.min(i + 2, n)));
      }
      // Appending after a partial stabilisation lands at the right index.
      if (i === n / 2) {
        u.truncateAndAppend(ents(n - 1, 1, 1));
        expect(u.maybeLastIndex()).toBe(n);
      }
    }
    expect(u.entries).toEqual([]);
  });
});
