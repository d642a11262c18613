/**
 * MvccStore.importHistory: a store's history imported into a new store must read the same at
 * every revision it keeps, hash the same (HashKV at each of them), and hold the same leases and
 * attachments, whatever writes, compactions and lease revokes made it; a history that does not
 * hold together is refused and writes nothing.
 */
import { assertProperty, freshSeed } from '@pontoon/sim';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type ImportedHistory, type ImportedRevision, InvalidRequestError, MvccStore } from '../src/index.js';

const bytes = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'latin1'));
const ALL = { key: new Uint8Array([0]), rangeEnd: new Uint8Array([0]) };

type Op =
  | { kind: 'put'; key: string; value: string; lease: bigint }
  | { kind: 'delete'; key: string; prefix: boolean }
  | { kind: 'txn'; keys: string[] }
  | { kind: 'compact'; back: number }
  | { kind: 'grant'; id: bigint }
  | { kind: 'revoke'; id: bigint };

const keyArb = fc.constantFrom('a', 'ab', 'b', 'c');
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('put' as const), key: keyArb, value: fc.constantFrom('', 'x', 'yy'), lease: fc.constantFrom(0n, 0n, 1n, 2n) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('delete' as const), key: keyArb, prefix: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('txn' as const), keys: fc.uniqueArray(keyArb, { minLength: 1, maxLength: 3 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('compact' as const), back: fc.nat({ max: 3 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('grant' as const), id: fc.constantFrom(1n, 2n) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('revoke' as const), id: fc.constantFrom(1n, 2n) }) },
);

/** Ops that did something, by kind: the property must have met each of them. */
const done = new Map<Op['kind'], number>();

/** Runs the op; errors (a lease not granted, a compaction of the past) are part of the sequence. */
function run(store: MvccStore, op: Op): void {
  try {
    store.transaction(() => {
      switch (op.kind) {
        case 'put':
          store.put({ key: bytes(op.key), value: bytes(op.value), lease: op.lease });
          return;
        case 'delete':
          store.deleteRange({ key: bytes(op.key), ...(op.prefix ? { rangeEnd: bytes(`${op.key}\xff`) } : {}) });
          return;
        case 'txn':
          store.txn({ compare: [], success: op.keys.map((k) => ({ put: { key: bytes(k), value: bytes('t') } })), failure: [] });
          return;
        case 'compact':
          store.compact({ revision: Math.max(1, store.revision - op.back) });
          return;
        case 'grant':
          store.leaseGrant({ id: op.id, ttl: 60 });
          return;
        case 'revoke':
          store.leaseRevoke({ id: op.id });
          return;
      }
    });
    done.set(op.kind, (done.get(op.kind) ?? 0) + 1);
  } catch {
    // Refused: nothing changed, which the comparison below still checks.
  }
}

/** The store's history as its tables hold it. */
function historyOf(store: MvccStore): ImportedHistory {
  const rows = store.database.prepare('SELECT main, sub, tombstone, key, value, create_revision, version, lease FROM kv ORDER BY main, sub').safeIntegers(true).all() as {
    main: bigint; sub: bigint; tombstone: bigint; key: Buffer; value: Buffer; create_revision: bigint; version: bigint; lease: bigint;
  }[];
  const revisions: ImportedRevision[] = rows.map((r) => ({
    main: Number(r.main),
    sub: Number(r.sub),
    tombstone: r.tombstone !== 0n,
    key: new Uint8Array(r.key),
    value: new Uint8Array(r.value),
    createRevision: Number(r.create_revision),
    version: Number(r.version),
    lease: r.lease,
  }));
  return { revisions, compactRevision: store.compactRevision, leases: store.leases() };
}

function view(store: MvccStore): unknown {
  const revisions: Record<number, unknown> = {};
  for (let rev = Math.max(1, store.compactRevision + 1); rev <= store.revision; rev++) {
    revisions[rev] = { kvs: store.range({ ...ALL, revision: rev }).kvs, hash: store.hashKV(rev).hash };
  }
  const leases = store.leases().map((l) => ({ ...l, keys: store.lease(l.id)?.keys }));
  return { revision: store.revision, compactRevision: store.compactRevision, revisions, leases };
}

describe('MvccStore.importHistory', () => {
  const seed = freshSeed();
  it(`a store's history, imported, reads and hashes the same at every kept revision (seeds 7, 20261207, fresh ${seed})`, () => {
    const property = fc.property(fc.array(opArb, { minLength: 1, maxLength: 40 }), (ops) => {
      const source = MvccStore.open(':memory:', { minLeaseTtl: 1 });
      const copy = MvccStore.open(':memory:', { minLeaseTtl: 1 });
      try {
        for (const op of ops) run(source, op);
        copy.importHistory(historyOf(source));
        expect(view(copy)).toEqual(view(source));
        // And it goes on as the source would.
        const next = { key: bytes('a'), value: bytes('next') };
        expect(copy.transaction(() => copy.put(next)).header.revision).toBe(source.transaction(() => source.put(next)).header.revision);
      } finally {
        source.close();
        copy.close();
      }
    });
    for (const s of [7, 20261207, seed]) assertProperty(property, { seed: s, numRuns: 150, timeLimitMs: 60_000 });
    for (const kind of ['put', 'delete', 'txn', 'compact', 'grant', 'revoke'] as const) expect(done.get(kind) ?? 0, kind).toBeGreaterThan(10);
  });

  const put = (main: number, key: string, version: number, createRevision: number, sub = 0): ImportedRevision => ({
    main, sub, tombstone: false, key: bytes(key), value: bytes('v'), createRevision, version, lease: 0n,
  });
  const del = (main: number, key: string): ImportedRevision => ({
    main, sub: 0, tombstone: true, key: bytes(key), value: new Uint8Array(0), createRevision: 0, version: 0, lease: 0n,
  });

  it.each<[string, ImportedHistory, string]>([
    ['revisions out of order', { revisions: [put(3, 'a', 1, 3), put(2, 'b', 1, 2)], compactRevision: -1, leases: [] }, 'revision 2.0 comes after 3.0'],
    ['a version that skips', { revisions: [put(2, 'a', 1, 2), put(3, 'a', 3, 2)], compactRevision: -1, leases: [] }, 'revision 3.0 (version 3, created 2) does not follow'],
    ['a new generation not at version 1', { revisions: [put(2, 'a', 1, 2), del(3, 'a'), put(4, 'a', 2, 2)], compactRevision: -1, leases: [] }, 'does not follow'],
    ['a delete of a deleted key', { revisions: [put(2, 'a', 1, 2), del(3, 'a'), del(4, 'a')], compactRevision: -1, leases: [] }, 'deletes a key already deleted at 3'],
    ['a key created after its change', { revisions: [put(2, 'a', 1, 5)], compactRevision: -1, leases: [] }, 'was created later'],
    ['an empty key', { revisions: [put(2, '', 1, 2)], compactRevision: -1, leases: [] }, 'has no key'],
    ['a lease twice', { revisions: [], compactRevision: -1, leases: [{ id: 5n, ttl: 10 }, { id: 5n, ttl: 10 }] }, 'lease 5 twice'],
    ['a compaction at 0', { revisions: [], compactRevision: 0, leases: [] }, 'compactRevision must be'],
  ])('refuses %s, writing nothing', (_what, history, message) => {
    const store = MvccStore.open(':memory:');
    try {
      expect(() => store.importHistory(history)).toThrow(InvalidRequestError);
      expect(() => store.importHistory(history)).toThrow(message);
      expect(store.revision).toBe(1);
      expect(store.range(ALL).kvs).toEqual([]);
      expect(store.leases()).toEqual([]);
      // Still new: a good history goes in afterwards.
      store.importHistory({ revisions: [put(2, 'a', 1, 2), put(3, 'a', 2, 2)], compactRevision: -1, leases: [] });
      expect(store.range({ key: bytes('a') }).kvs[0]).toMatchObject({ version: 2, modRevision: 3 });
    } finally {
      store.close();
    }
  });

  it('refuses a store that is not new', () => {
    const store = MvccStore.open(':memory:');
    try {
      store.transaction(() => store.put({ key: bytes('a'), value: bytes('1') }));
      expect(() => store.importHistory({ revisions: [], compactRevision: -1, leases: [] })).toThrow('the store is not new (revision 2)');
    } finally {
      store.close();
    }
  });
});
