/**
 * On small random histories (random outputs, so many are not linearizable), the search agrees
 * with the definition checked by brute force: some subset of the unknown operations together
 * with every known one, in some order that respects real time, is a legal run of the model.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkLinearizabilitySync } from '../../src/linearizability/check.js';
import type { Operation } from '../../src/linearizability/history.js';
import type { Model } from '../../src/linearizability/model.js';
import { registerModel, type RegisterInput, type RegisterOutput } from '../../src/linearizability/models/register.js';
import { writeOnceModel, type WriteOnceInput, type WriteOnceOutput } from './write-once-model.js';

const SEED = 7_331;

function bruteForce<S, I, O>(model: Model<S, I, O>, history: readonly Operation<I, O>[]): boolean {
  const known = history.filter((op) => op.outcome === 'ok');
  const lost = history.filter((op) => op.outcome === 'unknown');
  // a must precede b when a returned before b was called (equal times are concurrent).
  const before = (a: Operation<I, O>, b: Operation<I, O>): boolean => a.outcome === 'ok' && a.return < b.call;
  const search = (remaining: Operation<I, O>[], state: S): boolean => {
    if (remaining.length === 0) return true;
    return remaining.some((op, i) => {
      if (remaining.some((other) => other !== op && before(other, op))) return false;
      const next = model.step(state, op.input, op.outcome === 'ok' ? op.output : undefined);
      return next !== undefined && search(remaining.filter((_, j) => j !== i), next);
    });
  };
  for (let mask = 0; mask < 1 << lost.length; mask++) {
    const chosen = lost.filter((_, i) => (mask & (1 << i)) !== 0);
    if (search([...known, ...chosen], model.init())) return true;
  }
  return false;
}

const value = fc.integer({ min: 0, max: 2 });
const opArb: fc.Arbitrary<Operation<RegisterInput, RegisterOutput>> = fc
  .record({
    kind: fc.constantFrom('read', 'write', 'cas'),
    a: value,
    b: value,
    readNil: fc.boolean(),
    ok: fc.boolean(),
    call: fc.integer({ min: 0, max: 12 }),
    length: fc.integer({ min: 0, max: 6 }),
    lost: fc.integer({ min: 0, max: 5 }).map((x) => x === 0),
    clientId: fc.nat(3),
  })
  .map((r) => {
    const input: RegisterInput =
      r.kind === 'read' ? { op: 'read' } : r.kind === 'write' ? { op: 'write', value: r.a } : { op: 'cas', expected: r.a, next: r.b };
    if (r.lost) return { clientId: r.clientId, input, call: r.call, return: Infinity, outcome: 'unknown' as const };
    const output: RegisterOutput =
      r.kind === 'read' ? { op: 'read', value: r.readNil ? null : r.b } : r.kind === 'write' ? { op: 'write' } : { op: 'cas', ok: r.ok };
    return { clientId: r.clientId, input, call: r.call, return: r.call + r.length, outcome: 'ok' as const, output };
  });

describe('property: agreement with brute force', () => {
  it('gives the verdict the definition gives, on random register histories', () => {
    let illegal = 0;
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 0, maxLength: 7 }), (history) => {
        const expected = bruteForce(registerModel, history) ? 'ok' : 'illegal';
        if (expected === 'illegal') illegal++;
        expect(checkLinearizabilitySync(registerModel, history).verdict).toBe(expected);
      }),
      { seed: SEED, numRuns: 400 },
    );
    // The generator must exercise both verdicts for the agreement to mean anything.
    expect(illegal).toBeGreaterThan(50);
  });

  it('gives the verdict the definition gives with a model that refuses operations outright', () => {
    // The write-once register refuses a second write even when its outcome is unknown, so
    // "never happened" is sometimes the only explanation of an unknown write.
    const writeOnceOp: fc.Arbitrary<Operation<WriteOnceInput, WriteOnceOutput>> = fc
      .record({ write: fc.boolean(), v: fc.integer({ min: 1, max: 2 }), readNil: fc.boolean(), call: fc.integer({ min: 0, max: 10 }), length: fc.integer({ min: 0, max: 5 }), lost: fc.integer({ min: 0, max: 3 }).map((x) => x === 0) })
      .map((r) => {
        const input: WriteOnceInput = r.write ? { op: 'write', value: r.v } : { op: 'read' };
        if (r.lost) return { clientId: 0, input, call: r.call, return: Infinity, outcome: 'unknown' as const };
        const output: WriteOnceOutput = r.write ? 'written' : r.readNil ? null : r.v;
        return { clientId: 0, input, call: r.call, return: r.call + r.length, outcome: 'ok' as const, output };
      });
    fc.assert(
      fc.property(fc.array(writeOnceOp, { maxLength: 7 }), (history) => {
        const expected = bruteForce(writeOnceModel, history) ? 'ok' : 'illegal';
        expect(checkLinearizabilitySync(writeOnceModel, history).verdict).toBe(expected);
      }),
      { seed: SEED, numRuns: 400 },
    );
  });
});
