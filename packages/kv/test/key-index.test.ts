/**
 * The key index, on etcd's documented example (mvcc/key_index.go): put(1) put(2) tombstone(3)
 * put(4) tombstone(5) on one key, then compactions at 2, 4, 5 and 6.
 */
import { describe, expect, it } from 'vitest';
import { KeyIndex, decodeGenerations, encodeGenerations } from '../src/key-index.js';

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

  it('round-trips through its row encoding', () => {
    const ki = example();
    ki.put(7, 2);
    const back = decodeGenerations(ki.key, encodeGenerations(ki));
    expect(back.generations).toEqual(ki.generations);
    expect(back.modified).toEqual({ main: 7, sub: 2 });
  });
});
