/**
 * The watch hub: start revisions (past, current, future), prev_kv, filters, cancel, compacted
 * starts, progress notifications, slow watchers, and etcd's six guarantees (ordered, unique,
 * reliable, atomic per revision, resumable, bookmarkable) checked against the store's history.
 */
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { MvccStore, WatchHub, type WatchEvent, type WatchResponse, type Watcher, prefixEnd, utf8 } from '../src/index.js';

const b = utf8;
const s = (bytes: Uint8Array): string => Buffer.from(bytes).toString('utf8');

let store: MvccStore;
let hub: WatchHub;
function open(options = {}): void {
  store = MvccStore.open(':memory:');
  hub = new WatchHub(store, options);
}
afterEach(() => {
  hub?.close();
  store?.close();
});

/** Reads responses until `done` says so; fails rather than hang. */
async function read(w: Watcher, done: (got: WatchResponse[]) => boolean, limitMs = 10_000): Promise<WatchResponse[]> {
  const got: WatchResponse[] = [];
  const it = w[Symbol.asyncIterator]();
  const deadline = Date.now() + limitMs;
  while (!done(got)) {
    if (Date.now() > deadline) throw new Error(`watch ${w.id}: gave up after ${got.length} responses`);
    const next = await Promise.race([it.next(), new Promise<'tick'>((r) => setTimeout(() => r('tick'), 50))]);
    if (next === 'tick') continue;
    if (next.done === true) break;
    got.push(next.value);
  }
  return got;
}

const events = (resps: WatchResponse[]): WatchEvent[] => resps.flatMap((r) => r.events);
const describeEvent = (e: WatchEvent): string => `${e.type} ${s(e.kv.key)}@${e.kv.modRevision}${e.type === 'put' ? `=${s(e.kv.value)}` : ''}`;

/** Every change the store committed, recorded independently of the hub. */
function recordHistory(): { revision: number; event: string; key: string }[] {
  const history: { revision: number; event: string; key: string }[] = [];
  store.onChanges((revision, changes) => {
    for (const c of changes) {
      history.push({ revision, key: s(c.kv.key), event: describeEvent({ type: c.tombstone ? 'delete' : 'put', kv: c.kv }) });
    }
  });
  return history;
}

describe('watch', () => {
  it('delivers from a past, the current and a future start revision', async () => {
    open();
    store.put({ key: b('k'), value: b('1') }); // 2
    store.put({ key: b('k'), value: b('2') }); // 3
    const past = hub.watch({ key: b('k'), startRevision: 2 });
    const now = hub.watch({ key: b('k') });
    const future = hub.watch({ key: b('k'), startRevision: 5 });
    store.put({ key: b('k'), value: b('3') }); // 4
    store.deleteRange({ key: b('k') }); // 5
    expect(events(await read(past, (g) => events(g).length >= 4)).map(describeEvent)).toEqual(['put k@2=1', 'put k@3=2', 'put k@4=3', 'delete k@5']);
    expect(events(await read(now, (g) => events(g).length >= 2)).map(describeEvent)).toEqual(['put k@4=3', 'delete k@5']);
    expect(events(await read(future, (g) => events(g).length >= 1)).map(describeEvent)).toEqual(['delete k@5']);
  });

  it('watches ranges and prefixes, with prev_kv and filters', async () => {
    open();
    store.put({ key: b('a/1'), value: b('x') });
    const all = hub.watch({ key: b('a/'), rangeEnd: prefixEnd(b('a/')), prevKv: true });
    const noPut = hub.watch({ key: b('a/'), rangeEnd: prefixEnd(b('a/')), filters: { noPut: true } });
    const noDelete = hub.watch({ key: b('a/'), rangeEnd: prefixEnd(b('a/')), filters: { noDelete: true } });
    store.put({ key: b('a/1'), value: b('y') });
    store.put({ key: b('b'), value: b('z') });
    store.deleteRange({ key: b('a/'), rangeEnd: prefixEnd(b('a/')) });
    const got = events(await read(all, (g) => events(g).length >= 2));
    expect(got.map(describeEvent)).toEqual(['put a/1@3=y', 'delete a/1@5']);
    expect(s(got[0]!.prevKv!.value)).toBe('x');
    expect(s(got[1]!.prevKv!.value)).toBe('y');
    expect(events(await read(noPut, (g) => events(g).length >= 1)).map(describeEvent)).toEqual(['delete a/1@5']);
    expect(events(await read(noDelete, (g) => events(g).length >= 1)).map(describeEvent)).toEqual(['put a/1@3=y']);
  });

  it('puts all events of one revision (a txn, a revoke) in one response', async () => {
    open();
    const w = hub.watch({ key: Uint8Array.of(0), rangeEnd: Uint8Array.of(0) });
    store.leaseGrant({ id: 1n, ttl: 10 });
    store.txn({ compare: [], success: ['a', 'b', 'c'].map((k) => ({ put: { key: b(k), value: b('v'), lease: 1n } })), failure: [] });
    store.leaseRevoke({ id: 1n });
    const got = await read(w, (g) => g.length >= 2);
    expect(got.map((r) => [r.revision, r.events.map(describeEvent)])).toEqual([
      [2, ['put a@2=v', 'put b@2=v', 'put c@2=v']],
      [3, ['delete a@3', 'delete b@3', 'delete c@3']],
    ]);
  });

  it('cancels a watch from a compacted revision with the compact revision', async () => {
    open();
    for (let i = 0; i < 5; i++) store.put({ key: b('k'), value: b(`${i}`) });
    store.compact({ revision: 4 });
    const w = hub.watch({ key: b('k'), startRevision: 2 });
    const got = await read(w, (g) => g.some((r) => r.canceled));
    expect(got).toEqual([{ watchId: w.id, revision: 6, events: [], compactRevision: 4, canceled: true }]);
    // A start at the compact revision is served, as etcd does.
    const at = hub.watch({ key: b('k'), startRevision: 4 });
    expect(events(await read(at, (g) => events(g).length >= 3)).map(describeEvent)).toEqual(['put k@4=2', 'put k@5=3', 'put k@6=4']);
  });

  it('stops a cancelled watch, and a consumer leaving its loop cancels it', async () => {
    open();
    const w = hub.watch({ key: b('k') });
    expect(hub.cancel(w.id)).toBe(true);
    store.put({ key: b('k'), value: b('1') });
    expect(await read(w, () => false)).toEqual([]);
    expect(hub.cancel(w.id)).toBe(false);
    const w2 = hub.watch({ key: b('k') });
    store.put({ key: b('k'), value: b('2') });
    for await (const resp of w2) {
      expect(resp.events).toHaveLength(1);
      break;
    }
    expect(hub.sizes).toEqual({ synced: 0, unsynced: 0, victims: 0 });
  });

  it('sends progress notifications on request and periodically', async () => {
    open({ progressIntervalMs: 20 });
    const w = hub.watch({ key: b('k'), progressNotify: true });
    store.put({ key: b('other'), value: b('1') });
    expect(hub.requestProgress(w.id)).toBe(true);
    const got = await read(w, (g) => g.length >= 2);
    expect(got[0]).toEqual({ watchId: w.id, revision: 2, events: [], compactRevision: 0, canceled: false });
    expect(got[1]!.events).toEqual([]);
    expect(got[1]!.revision).toBe(2);
  });

  it('lets a slow watcher fall behind without slowing others, then catches it up losing nothing', async () => {
    open({ bufferSize: 2, batchRevisions: 50 });
    const history = recordHistory();
    const slow = hub.watch({ key: b('k'), rangeEnd: b('l') });
    const fast = hub.watch({ key: b('k'), rangeEnd: b('l') });
    const fastRead = read(fast, (g) => events(g).length >= 400);
    for (let i = 0; i < 400; i++) {
      store.put({ key: b(`k${i % 7}`), value: b(`${i}`) });
      if (i % 50 === 0) await new Promise((r) => setImmediate(r));
    }
    const fastGot = await fastRead;
    expect(hub.sizes.victims).toBe(1);
    const expected = history.map((h) => h.event);
    expect(events(fastGot).map(describeEvent)).toEqual(expected);
    const slowGot = await read(slow, (g) => events(g).length >= 400);
    expect(events(slowGot).map(describeEvent)).toEqual(expected);
    // It caught up from history in batches of at most 50 revisions, then rejoined the synced set.
    expect(slowGot.length).toBeGreaterThan(400 / 50);
    expect(hub.sizes).toEqual({ synced: 2, unsynced: 0, victims: 0 });
    store.put({ key: b('k1'), value: b('after') });
    expect(events(await read(slow, (g) => g.length >= 1)).map(describeEvent)).toEqual(['put k1@402=after']);
  });
});

describe("etcd's six watch guarantees", () => {
  type Step =
    | { kind: 'put'; key: string }
    | { kind: 'delete'; key: string; end?: string }
    | { kind: 'txn'; keys: string[] }
    | { kind: 'compact' }
    | { kind: 'watch'; key: string; end?: string; back: number }
    | { kind: 'read'; watcher: number; responses: number }
    | { kind: 'resume'; watcher: number }
    | { kind: 'progress'; watcher: number };

  const keyArb = fc.constantFrom('a', 'b', 'c', 'd');
  const stepArb: fc.Arbitrary<Step> = fc.oneof(
    { weight: 5, arbitrary: keyArb.map((key) => ({ kind: 'put' as const, key })) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('delete' as const), key: keyArb, end: fc.option(fc.constant('e'), { nil: undefined }) }) },
    { weight: 2, arbitrary: fc.uniqueArray(keyArb, { minLength: 1, maxLength: 3 }).map((keys) => ({ kind: 'txn' as const, keys })) },
    { weight: 1, arbitrary: fc.constant({ kind: 'compact' as const }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('watch' as const), key: keyArb, end: fc.option(fc.constant('e'), { nil: undefined }), back: fc.integer({ min: -2, max: 8 }) }) },
    { weight: 4, arbitrary: fc.record({ kind: fc.constant('read' as const), watcher: fc.nat(5), responses: fc.integer({ min: 0, max: 4 }) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('resume' as const), watcher: fc.nat(5) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('progress' as const), watcher: fc.nat(5) }) },
  );

  const RUNS = 40;
  // PONTOON_KV_SEED=<n> replays one seed in place of the fresh one.
  const SEEDS = [7, 1234, Number(process.env['PONTOON_KV_SEED'] ?? Math.floor(Math.random() * 0x7fffffff))];

  for (const seed of SEEDS) {
    it(`hold for random writes, watchers, slow readers, resumes and compactions (seed ${seed}, ${RUNS} runs)`, async () => {
      let runs = 0;
      let checkedEvents = 0;
      let resumes = 0;
      let bookmarks = 0;
      let cancellations = 0;
      const property = fc.asyncProperty(fc.array(stepArb, { minLength: 5, maxLength: 60, size: 'max' }), async (steps) => {
        runs++;
        open({ bufferSize: 2, batchRevisions: 3 });
        try {
          const history = recordHistory();
          // A logical watch: a sequence of hub watchers (a resume starts a new one), what it got.
          interface Logical {
            key: string;
            end?: string;
            start: number;
            watcher: Watcher;
            iterator: AsyncIterator<WatchResponse>;
            got: WatchResponse[];
            lastRevision: number;
            canceledAt?: number;
          }
          const logical: Logical[] = [];
          const startWatch = (key: string, end: string | undefined, start: number, prior?: Logical): Logical => {
            const watcher = hub.watch({ key: b(key), ...(end === undefined ? {} : { rangeEnd: b(end) }), startRevision: start });
            // Start 0 means "from the next revision".
            if (start === 0) start = store.revision + 1;
            const l: Logical = prior ?? { key, ...(end === undefined ? {} : { end }), start, watcher, iterator: watcher[Symbol.asyncIterator](), got: [], lastRevision: start - 1 };
            l.watcher = watcher;
            l.iterator = watcher[Symbol.asyncIterator]();
            return l;
          };
          const pull = async (l: Logical, n: number): Promise<void> => {
            for (let i = 0; i < n && l.canceledAt === undefined; i++) {
              if (l.watcher.pending === 0) await new Promise((r) => setImmediate(r));
              if (l.watcher.pending === 0) return;
              const next = await l.iterator.next();
              if (next.done === true) return;
              l.got.push(next.value);
              if (next.value.canceled) l.canceledAt = next.value.compactRevision;
              else l.lastRevision = next.value.revision;
            }
          };
          for (const step of steps) {
            switch (step.kind) {
              case 'put':
                store.put({ key: b(step.key), value: b(`${store.revision}`) });
                break;
              case 'delete':
                store.deleteRange({ key: b(step.key), ...(step.end === undefined ? {} : { rangeEnd: b(step.end) }) });
                break;
              case 'txn':
                store.txn({ compare: [], success: step.keys.map((k) => ({ put: { key: b(k), value: b('t') } })), failure: [] });
                break;
              case 'compact':
                if (store.revision - 3 > store.compactRevision) store.compact({ revision: store.revision - 3 });
                break;
              case 'watch':
                logical.push(startWatch(step.key, step.end, Math.max(0, store.revision - step.back)));
                break;
              case 'read': {
                const l = logical[step.watcher % Math.max(1, logical.length)];
                if (l !== undefined) await pull(l, step.responses);
                break;
              }
              case 'resume': {
                // Disconnect and resume from the last revision seen (etcd's resumable guarantee).
                const l = logical[step.watcher % Math.max(1, logical.length)];
                if (l === undefined || l.canceledAt !== undefined) break;
                hub.cancel(l.watcher.id);
                await l.iterator.return?.();
                // A watch that started in the future resumes no earlier than its start.
                startWatch(l.key, l.end, Math.max(l.start, l.lastRevision + 1), l);
                resumes++;
                break;
              }
              case 'progress': {
                const l = logical[step.watcher % Math.max(1, logical.length)];
                if (l !== undefined && l.canceledAt === undefined) hub.requestProgress(l.watcher.id);
                break;
              }
            }
          }
          // Drain everything.
          for (const l of logical) {
            for (let guard = 0; guard < 10_000 && l.canceledAt === undefined; guard++) {
              await pull(l, 100);
              // Once synced, a progress notification tells it has seen up to the store's revision.
              if (l.canceledAt === undefined && hub.requestProgress(l.watcher.id)) {
                await pull(l, 100);
                if (l.lastRevision >= store.revision) break;
              }
              await new Promise((r) => setImmediate(r));
            }
            expect(l.canceledAt !== undefined || l.lastRevision >= store.revision).toBe(true);
          }
          for (const l of logical) {
            const inRange = (k: string): boolean => (l.end === undefined ? k === l.key : k >= l.key && k < l.end);
            const seen = l.got.flatMap((r) => r.events.map((e) => ({ revision: r.revision, event: describeEvent(e), rev: e.kv.modRevision })));
            // Ordered: event revisions never go down; response revisions strictly increase.
            for (let i = 1; i < seen.length; i++) expect(seen[i]!.rev).toBeGreaterThanOrEqual(seen[i - 1]!.rev);
            const eventResponses = l.got.filter((r) => r.events.length > 0);
            for (let i = 1; i < eventResponses.length; i++) expect(eventResponses[i]!.events[0]!.kv.modRevision).toBeGreaterThan(eventResponses[i - 1]!.revision);
            // Atomic: a revision's events are all in one response.
            const responseOf = new Map<number, number>();
            l.got.forEach((r, i) => r.events.forEach((e) => {
              const prior = responseOf.get(e.kv.modRevision);
              expect(prior === undefined || prior === i).toBe(true);
              responseOf.set(e.kv.modRevision, i);
            }));
            // Bookmarkable: a response's revision covers every event at or below it.
            for (const [i, r] of l.got.entries()) {
              if (r.canceled) continue;
              if (r.events.length === 0) bookmarks++;
              for (const later of l.got.slice(i + 1)) for (const e of later.events) expect(e.kv.modRevision).toBeGreaterThan(r.revision);
            }
            // Reliable and unique: exactly the history of its range from its start, resumes included
            // (up to the cancellation, for a watch whose next revision was compacted).
            const expected = history.filter((h) => h.revision >= Math.max(l.start, 1) && inRange(h.key)).map((h) => h.event);
            if (l.canceledAt !== undefined) {
              // It was owed a revision below the compact revision it was cancelled with.
              expect(l.canceledAt).toBeGreaterThan(l.lastRevision + 1);
              expect(seen.map((e) => e.event)).toEqual(expected.slice(0, seen.length));
              cancellations++;
              continue;
            }
            expect(seen.map((e) => e.event)).toEqual(expected);
            checkedEvents += expected.length;
          }
        } finally {
          hub.close();
          store.close();
        }
      });
      const details = await fc.check(property, { seed, numRuns: RUNS, verbose: fc.VerbosityLevel.None });
      if (details.failed) {
        throw new Error(`${fc.defaultReportMessage(details)}\n(seed ${seed}; replay with { seed: ${details.seed}, path: "${details.counterexamplePath}" })`, {
          cause: details.errorInstance,
        });
      }
      expect(runs).toBe(RUNS);
      expect(checkedEvents).toBeGreaterThan(RUNS * 5);
      expect(resumes).toBeGreaterThan(0);
      expect(bookmarks).toBeGreaterThan(0);
      if (process.env['PONTOON_KV_MODEL_STATS']) console.log({ seed, checkedEvents, resumes, bookmarks, cancellations });
    });
  }
});
