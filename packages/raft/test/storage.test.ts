// Ported from etcd's raft storage_test.go.
import { describe, expect, it } from 'vitest';

import {
  AssertionError,
  CompactedError,
  SnapOutOfDateError,
  UnavailableError,
} from '../src/errors.js';
import { MemoryStorage } from '../src/storage.js';
import { type ConfState, type Entry, EntryType, EMPTY_BYTES, type Snapshot, emptyConfState, entrySize } from '../src/types.js';

/** Entries at consecutive indices from `index`, with the given terms. */
function ents(index: number, ...terms: number[]): Entry[] {
  return terms.map((term, k) => ({ term, index: index + k, type: EntryType.EntryNormal, data: EMPTY_BYTES }));
}

function snapshot(index: number, term: number, cs: ConfState = emptyConfState(), data: Uint8Array = EMPTY_BYTES): Snapshot {
  return { data, metadata: { index, term, confState: cs } };
}

/**
 * A storage holding `log` the way etcd's tests build `MemoryStorage{ents: log}`: `log[0]` is the
 * dummy entry standing for the snapshot.
 */
function storageWith(log: Entry[]): MemoryStorage {
  const s = new MemoryStorage();
  s.applySnapshot(snapshot(log[0].index, log[0].term));
  s.append(log.slice(1));
  return s;
}

/** What etcd's tests read from `ms.ents`: the dummy entry's (index, term), then every entry. */
function contents(s: MemoryStorage): Entry[] {
  const first = s.firstIndex();
  const last = s.lastIndex();
  const dummy = ents(first - 1, s.term(first - 1));
  return last < first ? dummy : dummy.concat(s.entries(first, last + 1, Infinity));
}

describe('MemoryStorage', () => {
  it('term', () => {
    const log = ents(3, 3, 4, 5);
    const s = storageWith(log);
    expect(() => s.term(2)).toThrow(CompactedError);
    expect(s.term(3)).toBe(3);
    expect(s.term(4)).toBe(4);
    expect(s.term(5)).toBe(5);
    expect(() => s.term(6)).toThrow(UnavailableError);
  });

  describe('entries', () => {
    const log = ents(3, 3, 4, 5, 6);
    const size = (k: number): number => entrySize(log[k]);
    const cases: { lo: number; hi: number; maxSize: number; err?: typeof CompactedError; want?: Entry[] }[] = [
      { lo: 2, hi: 6, maxSize: Infinity, err: CompactedError },
      { lo: 3, hi: 4, maxSize: Infinity, err: CompactedError },
      { lo: 4, hi: 5, maxSize: Infinity, want: ents(4, 4) },
      { lo: 4, hi: 6, maxSize: Infinity, want: ents(4, 4, 5) },
      { lo: 4, hi: 7, maxSize: Infinity, want: ents(4, 4, 5, 6) },
      // even if maxsize is zero, the first entry should be returned
      { lo: 4, hi: 7, maxSize: 0, want: ents(4, 4) },
      // limit to 2
      { lo: 4, hi: 7, maxSize: size(1) + size(2), want: ents(4, 4, 5) },
      // limit to 2
      { lo: 4, hi: 7, maxSize: size(1) + size(2) + size(3) / 2, want: ents(4, 4, 5) },
      { lo: 4, hi: 7, maxSize: size(1) + size(2) + size(3) - 1, want: ents(4, 4, 5) },
      // all
      { lo: 4, hi: 7, maxSize: size(1) + size(2) + size(3), want: ents(4, 4, 5, 6) },
    ];
    it.each(cases.map((c, i) => [i, c] as const))('#%i', (_i, tt) => {
      const s = storageWith(log);
      if (tt.err !== undefined) {
        expect(() => s.entries(tt.lo, tt.hi, tt.maxSize)).toThrow(tt.err);
      } else {
        expect(s.entries(tt.lo, tt.hi, tt.maxSize)).toEqual(tt.want);
      }
    });

    it('panics when hi is beyond lastIndex + 1', () => {
      const s = storageWith(log);
      expect(() => s.entries(4, 8, Infinity)).toThrow(AssertionError);
    });

    it('throws UnavailableError when only the dummy entry is left', () => {
      const s = new MemoryStorage();
      expect(() => s.entries(1, 1, Infinity)).toThrow(UnavailableError);
    });

    it('returns an array the caller may append to without corrupting the storage', () => {
      const s = storageWith(log);
      const got = s.entries(4, 5, Infinity);
      got.push(...ents(5, 99));
      expect(s.term(5)).toBe(5);
      expect(s.entries(4, 7, Infinity)).toEqual(ents(4, 4, 5, 6));
    });
  });

  it('lastIndex', () => {
    const s = storageWith(ents(3, 3, 4, 5));
    expect(s.lastIndex()).toBe(5);
    s.append(ents(6, 5));
    expect(s.lastIndex()).toBe(6);
  });

  it('firstIndex', () => {
    const s = storageWith(ents(3, 3, 4, 5));
    expect(s.firstIndex()).toBe(4);
    s.compact(4);
    expect(s.firstIndex()).toBe(5);
  });

  describe('compact', () => {
    const cases: { i: number; err?: typeof CompactedError; windex: number; wterm: number; wlen: number }[] = [
      { i: 2, err: CompactedError, windex: 3, wterm: 3, wlen: 3 },
      { i: 3, err: CompactedError, windex: 3, wterm: 3, wlen: 3 },
      { i: 4, windex: 4, wterm: 4, wlen: 2 },
      { i: 5, windex: 5, wterm: 5, wlen: 1 },
    ];
    it.each(cases.map((c, i) => [i, c] as const))('#%i', (_i, tt) => {
      const s = storageWith(ents(3, 3, 4, 5));
      if (tt.err !== undefined) expect(() => s.compact(tt.i)).toThrow(tt.err);
      else s.compact(tt.i);
      const got = contents(s);
      expect(got[0].index).toBe(tt.windex);
      expect(got[0].term).toBe(tt.wterm);
      expect(got.length).toBe(tt.wlen);
    });

    it('panics beyond lastIndex', () => {
      const s = storageWith(ents(3, 3, 4, 5));
      expect(() => s.compact(6)).toThrow(AssertionError);
    });
  });

  describe('createSnapshot', () => {
    const cs: ConfState = { ...emptyConfState(), voters: [1, 2, 3] };
    const data = new TextEncoder().encode('data');
    const cases = [
      { i: 4, wsnap: snapshot(4, 4, { ...emptyConfState(), voters: [1, 2, 3] }, data) },
      { i: 5, wsnap: snapshot(5, 5, { ...emptyConfState(), voters: [1, 2, 3] }, data) },
    ];
    it.each(cases.map((c, i) => [i, c] as const))('#%i', (_i, tt) => {
      const s = storageWith(ents(3, 3, 4, 5));
      expect(s.createSnapshot(tt.i, cs, data)).toEqual(tt.wsnap);
      expect(s.snapshot()).toEqual(tt.wsnap);
    });

    it('refuses a snapshot not newer than the one held', () => {
      const s = storageWith(ents(3, 3, 4, 5));
      expect(() => s.createSnapshot(3, cs, data)).toThrow(SnapOutOfDateError);
      s.createSnapshot(4, cs, data);
      expect(() => s.createSnapshot(4, cs, data)).toThrow(SnapOutOfDateError);
    });

    it('panics beyond lastIndex', () => {
      const s = storageWith(ents(3, 3, 4, 5));
      expect(() => s.createSnapshot(6, cs, data)).toThrow(AssertionError);
    });

    it('keeps the previous ConfState when none is given', () => {
      const s = storageWith(ents(3, 3, 4, 5));
      s.createSnapshot(4, cs, data);
      expect(s.createSnapshot(5, undefined, data).metadata.confState.voters).toEqual([1, 2, 3]);
      expect(s.initialState().confState.voters).toEqual([1, 2, 3]);
    });
  });

  describe('append', () => {
    const cases: { entries: Entry[]; wentries: Entry[] }[] = [
      { entries: ents(1, 1, 2), wentries: ents(3, 3, 4, 5) },
      { entries: ents(3, 3, 4, 5), wentries: ents(3, 3, 4, 5) },
      { entries: ents(3, 3, 6, 6), wentries: ents(3, 3, 6, 6) },
      { entries: ents(3, 3, 4, 5, 5), wentries: ents(3, 3, 4, 5, 5) },
      // Truncate incoming entries, truncate the existing entries and append.
      { entries: ents(2, 3, 3, 5), wentries: ents(3, 3, 5) },
      // Truncate the existing entries and append.
      { entries: ents(4, 5), wentries: ents(3, 3, 5) },
      // Direct append.
      { entries: ents(6, 5), wentries: ents(3, 3, 4, 5, 5) },
    ];
    it.each(cases.map((c, i) => [i, c] as const))('#%i', (_i, tt) => {
      const s = storageWith(ents(3, 3, 4, 5));
      s.append(tt.entries);
      expect(contents(s)).toEqual(tt.wentries);
    });

    it('panics on a gap after lastIndex', () => {
      const s = storageWith(ents(3, 3, 4, 5));
      expect(() => s.append(ents(7, 5))).toThrow(AssertionError);
    });

    it('does not change arrays handed out before', () => {
      const s = storageWith(ents(3, 3, 4, 5));
      const before = s.entries(4, 6, Infinity);
      s.append(ents(4, 6, 6));
      expect(before).toEqual(ents(4, 4, 5));
      expect(s.entries(4, 6, Infinity)).toEqual(ents(4, 6, 6));
    });
  });

  describe('applySnapshot', () => {
    const cs: ConfState = { ...emptyConfState(), voters: [1, 2, 3] };
    const data = new TextEncoder().encode('data');
    const cases: { name: string; snapshots: Snapshot[]; err?: typeof SnapOutOfDateError }[] = [
      { name: 'normal case', snapshots: [snapshot(4, 4, cs, data)] },
      {
        name: 'snapshot out of date',
        snapshots: [snapshot(4, 4, cs, data), snapshot(3, 3, cs, data)],
        err: SnapOutOfDateError,
      },
      { name: 'bootstrap with confState', snapshots: [snapshot(0, 0, cs, data)] },
    ];
    it.each(cases)('$name', (tt) => {
      const s = new MemoryStorage();
      let err: unknown;
      for (const sn of tt.snapshots) {
        try {
          s.applySnapshot(sn);
        } catch (e) {
          err = e;
        }
      }
      if (tt.err !== undefined) expect(err).toBeInstanceOf(tt.err);
      else expect(err).toBeUndefined();
    });

    it('restarts the log right after the snapshot', () => {
      const s = storageWith(ents(3, 3, 4, 5));
      s.applySnapshot(snapshot(10, 7, cs, data));
      expect(s.firstIndex()).toBe(11);
      expect(s.lastIndex()).toBe(10);
      expect(s.term(10)).toBe(7);
      expect(s.initialState().confState).toEqual(cs);
      expect(s.snapshot()).toEqual(snapshot(10, 7, cs, data));
    });

    it('refuses a snapshot of the same index', () => {
      const s = new MemoryStorage();
      s.applySnapshot(snapshot(4, 4, cs, data));
      expect(() => s.applySnapshot(snapshot(4, 4, cs, data))).toThrow(SnapOutOfDateError);
    });
  });

  it('keeps the HardState and hands out copies of what it holds', () => {
    const s = new MemoryStorage();
    expect(s.initialState().hardState).toEqual({ term: 0, vote: 0, commit: 0 });
    s.setHardState({ term: 3, vote: 2, commit: 1 });
    const st = s.initialState();
    expect(st.hardState).toEqual({ term: 3, vote: 2, commit: 1 });
    st.hardState.term = 99;
    st.confState.voters.push(9);
    expect(s.initialState().hardState.term).toBe(3);
    expect(s.initialState().confState.voters).toEqual([]);
    expect(s.callStats.initialState).toBe(4);
  });
});
