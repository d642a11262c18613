/** The inflight window (etcd's tracker/inflights_test.go). */

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AssertionError } from '../src/errors.js';
import { Inflights } from '../src/tracker/inflights.js';

/** The window's state without the buffer's capacity (an allocation detail). */
function state(inf: Inflights): { start: number; count: number; bytes: number; window: [number, number][] } {
  const { start, count, bytes, window } = inf.debugState();
  return { start, count, bytes, window };
}

/** `[i, 100 + i]` for i in [from, to). */
function flights(from: number, to: number): [number, number][] {
  return Array.from({ length: to - from }, (_, k) => [from + k, 100 + from + k]);
}

describe('Inflights', () => {
  it('adds without rotating', () => {
    const inf = new Inflights(10, 0);
    for (let i = 0; i < 5; i++) inf.add(i, 100 + i);
    expect(state(inf)).toEqual({ start: 0, count: 5, bytes: 510, window: flights(0, 5) });
    for (let i = 5; i < 10; i++) inf.add(i, 100 + i);
    expect(state(inf)).toEqual({ start: 0, count: 10, bytes: 1045, window: flights(0, 10) });
    expect(inf.full()).toBe(true);
  });

  it('adds rotating around the end of the buffer', () => {
    // A window starting at slot 5 (etcd's test constructs it there; an emptied window restarts
    // at slot 0, so leave one message in it).
    const inf = new Inflights(10, 0);
    for (let i = 0; i < 6; i++) inf.add(i, 100 + i);
    inf.freeLE(4);
    expect(state(inf)).toEqual({ start: 5, count: 1, bytes: 105, window: flights(5, 6) });
    for (let i = 6; i < 11; i++) inf.add(i, 100 + i); // slots 6-9, then 0
    expect(state(inf)).toEqual({ start: 5, count: 6, bytes: 645, window: flights(5, 11) });
    for (let i = 11; i < 15; i++) inf.add(i, 100 + i); // slots 1-4
    expect(state(inf)).toEqual({ start: 5, count: 10, bytes: 1095, window: flights(5, 15) });
    expect(inf.debugState().capacity).toBe(10);
    expect(inf.full()).toBe(true);
  });

  it('frees up to an index', () => {
    const inf = new Inflights(10, 0);
    for (let i = 0; i < 10; i++) inf.add(i, 100 + i);

    inf.freeLE(0);
    expect(state(inf)).toEqual({ start: 1, count: 9, bytes: 945, window: flights(1, 10) });
    inf.freeLE(4);
    expect(state(inf)).toEqual({ start: 5, count: 5, bytes: 535, window: flights(5, 10) });
    inf.freeLE(8);
    expect(state(inf)).toEqual({ start: 9, count: 1, bytes: 109, window: flights(9, 10) });

    // Rotating.
    for (let i = 10; i < 15; i++) inf.add(i, 100 + i);
    inf.freeLE(12);
    expect(state(inf)).toEqual({ start: 3, count: 2, bytes: 227, window: flights(13, 15) });
    inf.freeLE(14);
    expect(state(inf)).toEqual({ start: 0, count: 0, bytes: 0, window: [] });
  });

  it('ignores frees left of the window', () => {
    const inf = new Inflights(4, 0);
    inf.add(10, 1);
    inf.freeLE(9);
    expect(inf.count()).toBe(1);
  });

  const fullCases = [
    { name: 'always-full', size: 0, maxBytes: 0, fullAt: 0, freeLE: 0, againAt: 0 },
    { name: 'single-entry', size: 1, maxBytes: 0, fullAt: 1, freeLE: 1, againAt: 2 },
    { name: 'single-entry-overflow', size: 1, maxBytes: 10, fullAt: 1, freeLE: 1, againAt: 2 },
    { name: 'multi-entry', size: 15, maxBytes: 0, fullAt: 15, freeLE: 6, againAt: 22 },
    { name: 'slight-overflow', size: 8, maxBytes: 400, fullAt: 4, freeLE: 2, againAt: 7 },
    { name: 'exact-max-bytes', size: 8, maxBytes: 406, fullAt: 4, freeLE: 3, againAt: 8 },
    { name: 'larger-overflow', size: 15, maxBytes: 408, fullAt: 5, freeLE: 1, againAt: 6 },
  ];
  for (const tc of fullCases) {
    it(`is full by count and bytes: ${tc.name}`, () => {
      const inf = new Inflights(tc.size, tc.maxBytes);
      const addUntilFull = (begin: number, end: number): void => {
        for (let i = begin; i < end; i++) {
          expect(inf.full(), `full at ${i}, want ${end}`).toBe(false);
          inf.add(i, 100 + i);
        }
        expect(inf.full(), `not full at ${end}`).toBe(true);
      };
      addUntilFull(0, tc.fullAt);
      inf.freeLE(tc.freeLE);
      addUntilFull(tc.fullAt, tc.againAt);
      expect(() => inf.add(100, 1024)).toThrow(AssertionError);
    });
  }

  it('reset empties the window; clone shares nothing', () => {
    const inf = new Inflights(4, 0);
    inf.add(1, 10);
    inf.add(2, 10);
    const c = inf.clone();
    inf.reset();
    expect(state(inf)).toEqual({ start: 0, count: 0, bytes: 0, window: [] });
    expect(state(c)).toEqual({ start: 0, count: 2, bytes: 20, window: [[1, 10], [2, 10]] });
    c.add(3, 5);
    expect(inf.count()).toBe(0);
  });

  it('behaves as a bounded queue (model check)', () => {
    // Random adds (of increasing indexes, while not full) and frees against a plain array.
    const op = fc.oneof(
      fc.record({ add: fc.integer({ min: 1, max: 3 }), bytes: fc.integer({ min: 0, max: 50 }) }),
      fc.record({ free: fc.integer({ min: -2, max: 10 }) }),
      fc.constant({ reset: true as const }),
    );
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 9 }), fc.integer({ min: 0, max: 200 }), fc.array(op, { maxLength: 60 }), (size, maxBytes, ops) => {
        const inf = new Inflights(size, maxBytes);
        let model: [number, number][] = [];
        let last = 0;
        for (const o of ops) {
          if ('add' in o) {
            if (inf.full()) continue;
            last += o.add;
            inf.add(last, o.bytes);
            model.push([last, o.bytes]);
          } else if ('free' in o) {
            const to = last + o.free - 5;
            inf.freeLE(to);
            model = model.filter(([i]) => i > to);
          } else {
            inf.reset();
            model = [];
          }
          const bytes = model.reduce((s, [, b]) => s + b, 0);
          expect(state(inf).window).toEqual(model);
          expect(inf.bytes()).toBe(bytes);
          expect(inf.full()).toBe(model.length === size || (maxBytes !== 0 && bytes >= maxBytes));
          expect(inf.debugState().capacity).toBeLessThanOrEqual(size);
        }
      }),
      { seed: 31337, numRuns: 2000 },
    );
  });
});
