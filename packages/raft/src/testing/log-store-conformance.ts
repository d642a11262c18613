/**
 * The LogStore conformance suite: what every store must do, as etcd's MemoryStorage does it.
 * Runner-agnostic: each case is an async function that throws (node:assert) on failure, so users
 * with their own store can run it under any test runner:
 *
 *     import { logStoreConformance } from '@pontoon/raft/testing';
 *     for (const c of logStoreConformance) it(c.name, () => c.run(harness));
 *
 * Cases that need a restart run only when the harness can reopen a store.
 */
import assert from 'node:assert/strict';
import { AssertionError, CompactedError, SnapOutOfDateError, UnavailableError } from '../errors.js';
import type { LogStore } from '../log-store.js';
import { type ConfState, type Entry, EntryType, type Snapshot, emptyConfState, entrySize } from '../types.js';

/** How the suite gets stores. */
export interface LogStoreHarness {
  /** A new, empty store. */
  open(): Promise<LogStore>;
  /**
   * Closes `store` and opens the same durable state again, as a restart would. Omit for a store
   * without durable state: the recovery cases are then skipped.
   */
  reopen?(store: LogStore): Promise<LogStore>;
}

export interface ConformanceCase {
  name: string;
  run(harness: LogStoreHarness): Promise<void>;
}

const enc = new TextEncoder();

/** Entries at consecutive indices from `index` with the given terms; payload names them. */
function ents(index: number, ...terms: number[]): Entry[] {
  return terms.map((term, k) => ({
    term,
    index: index + k,
    type: EntryType.EntryNormal,
    data: enc.encode(`e${index + k}t${term}`),
  }));
}

function snap(index: number, term: number, cs: ConfState = emptyConfState(), data: Uint8Array = enc.encode(`s${index}`)): Snapshot {
  return { data, metadata: { index, term, confState: cs } };
}

const voters123: ConfState = { ...emptyConfState(), voters: [1, 2, 3] };

/** etcd's test fixture: snapshot at 3 (term 3), then entries 4 (term 4) and 5 (term 5). */
async function base(store: LogStore): Promise<LogStore> {
  await store.append({ snapshot: snap(3, 3, voters123), entries: [] });
  await store.append({ entries: ents(4, 4, 5) });
  return store;
}

/** The dummy (firstIndex - 1, its term) followed by every entry: etcd's `ms.ents`. */
function contents(s: LogStore): { index: number; term: number }[] {
  const first = s.firstIndex();
  const last = s.lastIndex();
  const out = [{ index: first - 1, term: s.term(first - 1) }];
  if (last >= first) for (const e of s.entries(first, last + 1, Infinity)) out.push({ index: e.index, term: e.term });
  return out;
}

function it(e: Entry[]): { index: number; term: number }[] {
  return e.map((x) => ({ index: x.index, term: x.term }));
}

async function withStore(h: LogStoreHarness, fn: (s: LogStore) => Promise<LogStore | void>): Promise<void> {
  let s = await h.open();
  try {
    s = (await fn(s)) ?? s;
  } finally {
    await s.close();
  }
}

/** Everything a restart must bring back. */
function observable(s: LogStore): unknown {
  const first = s.firstIndex();
  const last = s.lastIndex();
  return {
    initialState: s.initialState(),
    first,
    last,
    dummyTerm: s.term(first - 1),
    entries: last >= first ? s.entries(first, last + 1, Infinity) : [],
    snapshot: s.snapshot(),
  };
}

export const logStoreConformance: readonly ConformanceCase[] = [
  {
    name: 'a new store is empty',
    run: (h) =>
      withStore(h, async (s) => {
        assert.deepEqual(s.initialState(), { hardState: { term: 0, vote: 0, commit: 0 }, confState: emptyConfState() });
        assert.equal(s.firstIndex(), 1);
        assert.equal(s.lastIndex(), 0);
        assert.equal(s.term(0), 0);
        assert.throws(() => s.term(1), UnavailableError);
        assert.throws(() => s.entries(1, 1, Infinity), UnavailableError);
        assert.equal(s.snapshot().metadata.index, 0);
      }),
  },
  {
    name: 'appends and reads back entries; term lookup in [firstIndex - 1, lastIndex]',
    run: (h) =>
      withStore(h, async (s) => {
        await s.append({ entries: ents(1, 1, 1, 2, 3, 3) });
        assert.equal(s.firstIndex(), 1);
        assert.equal(s.lastIndex(), 5);
        assert.deepEqual(s.entries(1, 6, Infinity), ents(1, 1, 1, 2, 3, 3));
        assert.deepEqual([0, 1, 2, 3, 4, 5].map((i) => s.term(i)), [0, 1, 1, 2, 3, 3]);
        assert.throws(() => s.term(6), UnavailableError);
      }),
  },
  ...(
    [
      { entries: ents(1, 1, 2), want: ents(3, 3, 4, 5) },
      { entries: ents(3, 3, 4, 5), want: ents(3, 3, 4, 5) },
      { entries: ents(3, 3, 6, 6), want: ents(3, 3, 6, 6) },
      { entries: ents(3, 3, 4, 5, 5), want: ents(3, 3, 4, 5, 5) },
      { entries: ents(2, 3, 3, 5), want: ents(3, 3, 5) },
      { entries: ents(4, 5), want: ents(3, 3, 5) },
      { entries: ents(6, 5), want: ents(3, 3, 4, 5, 5) },
    ] as const
  ).map(
    (tt, i): ConformanceCase => ({
      name: `append overlapping the log: skips compacted, replaces the conflicting suffix (#${i})`,
      run: (h) =>
        withStore(h, async (s) => {
          await base(s);
          await s.append({ entries: tt.entries });
          assert.deepEqual(contents(s), it(tt.want));
          // The payloads are the new ones, not the replaced ones.
          const last = s.lastIndex();
          if (last >= 4) assert.deepEqual(s.entries(4, last + 1, Infinity), tt.want.slice(1));
        }),
    }),
  ),
  {
    name: 'append refuses a gap after lastIndex and changes nothing',
    run: (h) =>
      withStore(h, async (s) => {
        await base(s);
        await assert.rejects(s.append({ entries: ents(7, 5), hardState: { term: 9, vote: 1, commit: 0 } }), AssertionError);
        assert.deepEqual(contents(s), it(ents(3, 3, 4, 5)));
        assert.equal(s.initialState().hardState.term, 0);
      }),
  },
  {
    name: 'entries under a byte budget: at least one, never over the budget otherwise',
    run: (h) =>
      withStore(h, async (s) => {
        await s.append({ snapshot: snap(3, 3), entries: [] });
        await s.append({ entries: ents(4, 4, 5, 6) });
        const log = ents(3, 3, 4, 5, 6);
        const size = (k: number): number => entrySize(log[k]!);
        const cases: [number, number, number, Entry[]][] = [
          [4, 5, Infinity, ents(4, 4)],
          [4, 6, Infinity, ents(4, 4, 5)],
          [4, 7, Infinity, ents(4, 4, 5, 6)],
          [4, 7, 0, ents(4, 4)],
          [4, 7, size(1) + size(2), ents(4, 4, 5)],
          [4, 7, size(1) + size(2) + size(3) / 2, ents(4, 4, 5)],
          [4, 7, size(1) + size(2) + size(3) - 1, ents(4, 4, 5)],
          [4, 7, size(1) + size(2) + size(3), ents(4, 4, 5, 6)],
        ];
        for (const [lo, hi, max, want] of cases) assert.deepEqual(s.entries(lo, hi, max), want, `entries(${lo}, ${hi}, ${max})`);
        assert.throws(() => s.entries(2, 6, Infinity), CompactedError);
        assert.throws(() => s.entries(3, 4, Infinity), CompactedError);
        assert.throws(() => s.term(2), CompactedError);
        assert.equal(s.term(3), 3);
      }),
  },
  {
    name: 'entries() returns an array the caller may change without changing the store',
    run: (h) =>
      withStore(h, async (s) => {
        await base(s);
        const got = s.entries(4, 5, Infinity);
        got.push(...ents(5, 99));
        assert.equal(s.term(5), 5);
        assert.deepEqual(s.entries(4, 6, Infinity), ents(4, 4, 5));
      }),
  },
  {
    name: 'createSnapshot records index, term, ConfState and data; refuses one not newer',
    run: (h) =>
      withStore(h, async (s) => {
        await base(s);
        const data = enc.encode('state machine');
        const cs: ConfState = { ...emptyConfState(), voters: [1, 2], learners: [4] };
        const made = await s.createSnapshot(4, cs, data);
        assert.deepEqual(made, snap(4, 4, cs, data));
        assert.deepEqual(s.snapshot(), snap(4, 4, cs, data));
        assert.deepEqual(s.initialState().confState, cs);
        // Entries are kept until compact().
        assert.equal(s.firstIndex(), 4);
        await assert.rejects(s.createSnapshot(4, cs, data), SnapOutOfDateError);
        await assert.rejects(s.createSnapshot(3, cs, data), SnapOutOfDateError);
        assert.deepEqual(s.snapshot(), snap(4, 4, cs, data));
      }),
  },
  {
    name: 'compact drops the prefix, keeps the term of the last dropped entry, refuses compacted indices',
    run: (h) =>
      withStore(h, async (s) => {
        await s.append({ entries: ents(1, 1, 1, 2, 2, 3, 3) });
        await s.createSnapshot(5, voters123, enc.encode('sm'));
        await s.compact(4);
        assert.equal(s.firstIndex(), 5);
        assert.equal(s.lastIndex(), 6);
        assert.equal(s.term(4), 2);
        assert.throws(() => s.term(3), CompactedError);
        assert.throws(() => s.entries(4, 6, Infinity), CompactedError);
        assert.deepEqual(s.entries(5, 7, Infinity), ents(5, 3, 3));
        await assert.rejects(s.compact(4), CompactedError);
        await assert.rejects(s.compact(2), CompactedError);
        await s.compact(5);
        assert.deepEqual(contents(s), [{ index: 5, term: 3 }, { index: 6, term: 3 }]);
        // Appending after compaction continues the log.
        await s.append({ entries: ents(7, 4) });
        assert.deepEqual(contents(s), [{ index: 5, term: 3 }, { index: 6, term: 3 }, { index: 7, term: 4 }]);
      }),
  },
  {
    name: 'a snapshot from the leader replaces the log; an older one is refused and changes nothing',
    run: (h) =>
      withStore(h, async (s) => {
        await base(s);
        const leaderSnap = snap(10, 7, voters123, enc.encode('leader state'));
        await s.append({ snapshot: leaderSnap, entries: ents(11, 7, 8), hardState: { term: 8, vote: 2, commit: 11 } });
        assert.equal(s.firstIndex(), 11);
        assert.equal(s.lastIndex(), 12);
        assert.equal(s.term(10), 7);
        assert.deepEqual(s.snapshot(), leaderSnap);
        assert.deepEqual(s.initialState(), { hardState: { term: 8, vote: 2, commit: 11 }, confState: voters123 });
        await assert.rejects(s.append({ snapshot: snap(9, 7), entries: [] }), SnapOutOfDateError);
        await assert.rejects(s.append({ snapshot: leaderSnap, entries: [] }), SnapOutOfDateError);
        assert.deepEqual(s.snapshot(), leaderSnap);
        assert.equal(s.lastIndex(), 12);
      }),
  },
  {
    name: 'a snapshot at index 0 with members bootstraps the ConfState',
    run: (h) =>
      withStore(h, async (s) => {
        await s.append({ snapshot: snap(0, 0, voters123, new Uint8Array(0)), entries: [] });
        assert.deepEqual(s.initialState().confState, voters123);
        assert.equal(s.firstIndex(), 1);
        assert.equal(s.lastIndex(), 0);
      }),
  },
  {
    name: 'the hard state is kept, and an empty one leaves it unchanged',
    run: (h) =>
      withStore(h, async (s) => {
        await s.append({ hardState: { term: 3, vote: 2, commit: 0 }, entries: [] });
        assert.deepEqual(s.initialState().hardState, { term: 3, vote: 2, commit: 0 });
        await s.append({ hardState: { term: 0, vote: 0, commit: 0 }, entries: ents(1, 3) });
        await s.append({ entries: ents(2, 3) });
        assert.deepEqual(s.initialState().hardState, { term: 3, vote: 2, commit: 0 });
        const st = s.initialState();
        st.hardState.term = 99;
        st.confState.voters.push(9);
        assert.equal(s.initialState().hardState.term, 3);
        assert.deepEqual(s.initialState().confState.voters, []);
      }),
  },
  {
    name: 'writes issued without waiting apply in call order',
    run: (h) =>
      withStore(h, async (s) => {
        const writes: Promise<void>[] = [];
        for (let i = 1; i <= 200; i++) {
          // Every 10th write rewrites the entry before it with a new term.
          if (i % 10 === 0) writes.push(s.append({ entries: ents(i - 1, i, i), hardState: { term: i, vote: 1, commit: i - 2 } }));
          else writes.push(s.append({ entries: ents(i, i >= 10 ? Math.floor(i / 10) * 10 : 1) }));
        }
        await Promise.all(writes);
        assert.equal(s.lastIndex(), 200);
        assert.deepEqual(s.initialState().hardState, { term: 200, vote: 1, commit: 198 });
        assert.equal(s.term(199), 200);
        assert.equal(s.term(200), 200);
        assert.equal(s.term(9), 10);
        assert.equal(s.term(8), 1);
      }),
  },
  {
    name: 'recovery: a reopened store holds exactly what was written',
    run: async (h) => {
      if (h.reopen === undefined) return;
      let s = await h.open();
      try {
        const fresh = observable(s);
        s = await h.reopen(s);
        assert.deepEqual(observable(s), fresh);
        await s.append({ entries: ents(1, 1, 1, 1, 2, 2, 2), hardState: { term: 2, vote: 1, commit: 5 } });
        await s.createSnapshot(4, voters123, enc.encode('sm at 4'));
        await s.compact(3);
        await s.append({ entries: ents(6, 3, 3) });
        const before = observable(s);
        s = await h.reopen(s);
        assert.deepEqual(observable(s), before);
        // And it goes on from there.
        await s.append({ snapshot: snap(20, 5, voters123, enc.encode('installed')), entries: ents(21, 5), hardState: { term: 5, vote: 0, commit: 21 } });
        const after = observable(s);
        s = await h.reopen(s);
        assert.deepEqual(observable(s), after);
      } finally {
        await s.close();
      }
    },
  },
];
