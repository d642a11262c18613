/**
 * The key index, on etcd's documented example (mvcc/key_index.go): put(1) put(2) tombstone(3)
 * put(4) tombstone(5) on one key, then compactions at 2, 4, 5 and 6.
 */
import { describe, expect, it } from 'vitest';
import { type IndexedRevision, KeyIndex } from '../src/key-index.js';

function example(): KeyIndex {
  const ki = new KeyIndex(Uint8Array.of(0x66));
  ki.put(1, 0);
  ki.put(2, 0);
  ki.tombstone(3, 0);
  ki.put(4, 0);
  ki.tombstone(5, 0);
  return ki;
}

const shape = (ki: KeyIndex): number[][] => ki.generations.map((g) => g.revs.map((r) => r.main));

describe('KeyIndex', () => {
  it('keeps generations ended by tombstones', () => {
    const ki = example();
    expect(shape(ki)).toEqual([[1, 2, 3], [4, 5], []]);
    expect(ki.get(1)).toEqual({ modified: { main: 1, sub: 0 }, created: { main: 1, sub: 0 }, version: 1 });
    expect(ki.get(2)!.version).toBe(2);
    expect(ki.get(3)).toBeUndefined();
    expect(ki.get(4)).toEqual({ modified: { main: 4, sub: 0 }, created: { main: 4, sub: 0 }, version: 1 });
    expect(ki.get(5)).toBeUndefined();
    expect(ki.get(9)).toBeUndefined();
    expect(ki.get(0)).toBeUndefined();
  });

  it('compacts as etcd documents it', () => {
    const ki = example();
    const available = new Set<string>();
    ki.compact(2, available);
    expect(shape(ki)).toEqual([[2, 3], [4, 5], []]);
    expect([...available]).toEqual(['2_0']);
    ki.compact(4, new Set());
    expect(shape(ki)).toEqual([[4, 5], []]);
    const at5 = new Set<string>();
    ki.compact(5, at5);
    expect(shape(ki)).toEqual([[5], []]);
    expect([...at5]).toEqual(['5_0']);
    ki.compact(6, new Set());
    expect(ki.isEmpty()).toBe(true);
  });

  it('leaves a kept tombstone out of keep() (HashKV), unlike compact()', () => {
    const keep = new Set<string>();
    example().keep(5, keep);
    expect([...keep]).toEqual([]);
    const keep4 = new Set<string>();
    example().keep(4, keep4);
    expect([...keep4]).toEqual(['4_0']);
  });

  it('refuses a put below its last revision and a tombstone on a deleted key', () => {
    const ki = example();
    expect(() => ki.put(5, 0)).toThrow(/not above the last modification 5.0/);
    expect(() => ki.tombstone(6, 0)).toThrow(/does not exist/);
  });

  it('restores its generations from its changes as the index on disk lists them', () => {
    const ki = example();
    ki.put(7, 2);
    ki.put(8, 0);
    // The example's changes with the create revision and version each row stores.
    const changes: IndexedRevision[] = [
      { main: 1, sub: 0, tombstone: false, createRevision: 1, version: 1 },
      { main: 2, sub: 0, tombstone: false, createRevision: 1, version: 2 },
      { main: 3, sub: 0, tombstone: true, createRevision: 0, version: 0 },
      { main: 4, sub: 0, tombstone: false, createRevision: 4, version: 1 },
      { main: 5, sub: 0, tombstone: true, createRevision: 0, version: 0 },
      { main: 7, sub: 2, tombstone: false, createRevision: 7, version: 1 },
      { main: 8, sub: 0, tombstone: false, createRevision: 7, version: 2 },
    ];
    const back = KeyIndex.restore(ki.key, changes);
    expect(back.generations).toEqual(ki.generations);
    expect(back.modified).toEqual({ main: 8, sub: 0 });
    // After a compaction at 7 the rows left are 7.2 and 8: the same generations and answers.
    const compacted = example();
    compacted.put(7, 2);
    compacted.put(8, 0);
    compacted.compact(7, new Set());
    const restored = KeyIndex.restore(ki.key, changes.slice(5));
    expect(restored.generations).toEqual(compacted.generations);
    expect(restored.get(8)).toEqual(compacted.get(8));
    // A generation whose creation was compacted away keeps its create revision and version.
    const late = KeyIndex.restore(ki.key, changes.slice(6));
    expect(late.get(8)).toEqual({ modified: { main: 8, sub: 0 }, created: { main: 7, sub: 0 }, version: 2 });
    expect(() => KeyIndex.restore(ki.key, [changes[1]!, changes[0]!])).toThrow(/listed after/);
  });
});
