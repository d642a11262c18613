/** The register and kv models, step by step. */
import { describe, expect, it } from 'vitest';
import { registerModel } from '../../src/linearizability/models/register.js';
import { kvModel } from '../../src/linearizability/models/kv.js';
import type { Operation } from '../../src/linearizability/history.js';
import type { KvInput, KvOutput } from '../../src/linearizability/models/kv.js';

describe('registerModel', () => {
  const m = registerModel;
  it('starts nil and reads what was written', () => {
    expect(m.step(m.init(), { op: 'read' }, { op: 'read', value: null })).toBe(null);
    expect(m.step(m.init(), { op: 'read' }, { op: 'read', value: 0 })).toBeUndefined();
    expect(m.step(3, { op: 'read' }, { op: 'read', value: 3 })).toBe(3);
    expect(m.step(3, { op: 'write', value: 4 }, { op: 'write' })).toBe(4);
  });

  it('swaps only on a match, and reports whether it did', () => {
    expect(m.step(1, { op: 'cas', expected: 1, next: 2 }, { op: 'cas', ok: true })).toBe(2);
    expect(m.step(1, { op: 'cas', expected: 1, next: 2 }, { op: 'cas', ok: false })).toBeUndefined();
    expect(m.step(1, { op: 'cas', expected: 3, next: 2 }, { op: 'cas', ok: false })).toBe(1);
    expect(m.step(null, { op: 'cas', expected: 3, next: 2 }, { op: 'cas', ok: true })).toBeUndefined();
  });

  it('applies an operation of unknown outcome whatever it would have returned', () => {
    expect(m.step(1, { op: 'cas', expected: 1, next: 2 }, undefined)).toBe(2);
    expect(m.step(5, { op: 'cas', expected: 1, next: 2 }, undefined)).toBe(5);
    expect(m.step(5, { op: 'read' }, undefined)).toBe(5);
  });

  it('refuses an output of another operation', () => {
    expect(m.step(1, { op: 'read' }, { op: 'write' })).toBeUndefined();
  });

  it('keys states apart, numbers from strings and nil', () => {
    const keys = [null, 1, '1', 'nil', 'n1'].map((s) => m.key(s));
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('describes operations', () => {
    expect(m.describe!({ op: 'cas', expected: 1, next: 4 }, { op: 'cas', ok: false })).toBe('cas(1, 4) -> fail');
    expect(m.describe!({ op: 'read' }, undefined)).toBe('read() -> ?');
  });
});

describe('kvModel', () => {
  const m = kvModel;
  it('gets "" for a missing key, puts and appends', () => {
    let s = m.init();
    expect(m.step(s, { op: 'get', key: 'a' }, { op: 'get', value: '' })).toBe(s);
    s = m.step(s, { op: 'put', key: 'a', value: 'x' }, { op: 'put' })!;
    s = m.step(s, { op: 'append', key: 'a', value: 'y' }, { op: 'append' })!;
    expect(m.step(s, { op: 'get', key: 'a' }, { op: 'get', value: 'xy' })).toBe(s);
    expect(m.step(s, { op: 'get', key: 'a' }, { op: 'get', value: 'x' })).toBeUndefined();
  });

  it('never changes the state it is given', () => {
    const s = m.init();
    m.step(s, { op: 'put', key: 'a', value: 'x' }, { op: 'put' });
    expect(s.size).toBe(0);
  });

  it('keys states apart even when keys and values could run together', () => {
    const a = m.step(m.init(), { op: 'put', key: 'ab', value: 'c' }, undefined)!;
    const b = m.step(m.init(), { op: 'put', key: 'a', value: 'bc' }, undefined)!;
    expect(m.key(a)).not.toBe(m.key(b));
    const two = m.step(a, { op: 'put', key: 'z', value: '' }, undefined)!;
    expect(m.key(two)).not.toBe(m.key(a));
  });

  it('partitions by key, in key order, keeping each part in history order', () => {
    const op = (key: string, call: number): Operation<KvInput, KvOutput> => ({
      clientId: 0, input: { op: 'get', key }, call, return: call + 1, outcome: 'ok', output: { op: 'get', value: '' },
    });
    const parts = m.partition!([op('b', 0), op('a', 2), op('b', 4)]);
    expect(parts.map((p) => p.map((o) => `${o.input.key}${o.call}`))).toEqual([['a2'], ['b0', 'b4']]);
  });
});
