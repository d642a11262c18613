/**
 * Histories built from a sequential run of a model are linearizable however their intervals
 * overlap; the same history with one read answering a value nobody ever wrote is not, and the
 * counterexample names that read as the shortest non-linearizable prefix.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkLinearizabilitySync } from '../../src/linearizability/check.js';
import type { Operation } from '../../src/linearizability/history.js';
import type { Model } from '../../src/linearizability/model.js';
import { registerModel, type RegisterInput, type RegisterOutput } from '../../src/linearizability/models/register.js';
import { kvModel, type KvInput, type KvOutput } from '../../src/linearizability/models/kv.js';
import { truncate } from './history-builders.js';

const SEED = 20_261_124;
const RUNS = 150;

/** Where each operation's interval reaches, in whole steps of the sequential run. */
interface Shape {
  readonly before: number;
  readonly after: number;
  /** The client never learns the outcome. */
  readonly lost: boolean;
}

const shapeArb = fc.record({ before: fc.nat(4), after: fc.nat(4), lost: fc.integer({ min: 0, max: 9 }).map((x) => x === 0) });

/**
 * Runs `inputs` one after the other on the model (operation i takes effect at time 1000 i + 500)
 * and gives each an interval around that instant. Every time is distinct: calls end in .499-ish,
 * returns in .501-ish, and the i/1000 offsets keep operations apart.
 */
function sequentialHistory<S, I, O>(model: Model<S, I, O>, inputs: readonly I[], shapes: readonly Shape[], outputOf: (state: S, input: I) => O): Operation<I, O>[] {
  let state = model.init();
  return inputs.map((input, i) => {
    const output = outputOf(state, input);
    const next = model.step(state, input, output);
    if (next === undefined) throw new Error(`generator bug: the model refuses its own output at step ${i}`);
    state = next;
    const shape = shapes[i]!;
    const call = 1000 * (i - shape.before) + 499 - i / 1000;
    if (shape.lost) return { clientId: i, input, call, return: Infinity, outcome: 'unknown' as const };
    return { clientId: i, input, call, return: 1000 * (i + shape.after) + 501 + i / 1000, outcome: 'ok' as const, output };
  });
}

const registerInputArb: fc.Arbitrary<RegisterInput> = fc.oneof(
  fc.constant<RegisterInput>({ op: 'read' }),
  fc.integer({ min: 0, max: 3 }).map((value): RegisterInput => ({ op: 'write', value })),
  fc.tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 3 })).map(([expected, next]): RegisterInput => ({ op: 'cas', expected, next })),
);

function registerOutput(state: RegisterValueOrNull, input: RegisterInput): RegisterOutput {
  switch (input.op) {
    case 'read':
      return { op: 'read', value: state };
    case 'write':
      return { op: 'write' };
    case 'cas':
      return { op: 'cas', ok: state === input.expected };
  }
}
type RegisterValueOrNull = number | string | null;

const kvInputArb: fc.Arbitrary<KvInput> = fc.oneof(
  fc.constantFrom('a', 'b').map((key): KvInput => ({ op: 'get', key })),
  fc.tuple(fc.constantFrom('a', 'b'), fc.integer({ min: 0, max: 9 })).map(([key, v]): KvInput => ({ op: 'put', key, value: `x${v}y` })),
  fc.tuple(fc.constantFrom('a', 'b'), fc.integer({ min: 0, max: 9 })).map(([key, v]): KvInput => ({ op: 'append', key, value: `x${v}y` })),
);

function kvOutput(state: ReadonlyMap<string, string>, input: KvInput): KvOutput {
  return input.op === 'get' ? { op: 'get', value: state.get(input.key) ?? '' } : { op: input.op };
}

const historyArb = <I>(inputArb: fc.Arbitrary<I>) =>
  fc.integer({ min: 1, max: 24 }).chain((n) => fc.tuple(fc.array(inputArb, { minLength: n, maxLength: n }), fc.array(shapeArb, { minLength: n, maxLength: n })));

/** Checks that the counterexample names `culprit` and that it is the shortest bad prefix. */
function expectShortestPrefixAt<S, I, O>(model: Model<S, I, O>, history: Operation<I, O>[], culprit: Operation<I, O>): void {
  const result = checkLinearizabilitySync(model, history, { timeoutMs: 10_000 });
  expect(result.verdict).toBe('illegal');
  const ce = result.counterexample!;
  expect(ce.culprit.operation).toBe(culprit);
  // Up to the culprit's return the history is not linearizable, just before it it is.
  expect(checkLinearizabilitySync(model, truncate(history, culprit.return + 0.1)).verdict).toBe('illegal');
  expect(checkLinearizabilitySync(model, truncate(history, culprit.return - 0.1)).verdict).toBe('ok');
}

describe('property: sequential runs with overlapping intervals', () => {
  it('register histories are linearizable', () => {
    fc.assert(
      fc.property(historyArb(registerInputArb), ([inputs, shapes]) => {
        const h = sequentialHistory(registerModel, inputs, shapes, registerOutput);
        expect(checkLinearizabilitySync(registerModel, h, { timeoutMs: 10_000 }).verdict).toBe('ok');
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });

  it('kv histories are linearizable', () => {
    fc.assert(
      fc.property(historyArb(kvInputArb), ([inputs, shapes]) => {
        const h = sequentialHistory(kvModel, inputs, shapes, kvOutput);
        expect(checkLinearizabilitySync(kvModel, h, { timeoutMs: 10_000 }).verdict).toBe('ok');
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });

  it('a register read of a value never written is illegal, and is the culprit', () => {
    fc.assert(
      fc.property(historyArb(registerInputArb), fc.nat(), ([inputs, shapes], pick) => {
        const h = sequentialHistory(registerModel, inputs, shapes, registerOutput);
        const reads = h.filter((op) => op.outcome === 'ok' && op.input.op === 'read');
        fc.pre(reads.length > 0);
        const victim = reads[pick % reads.length]!;
        // Values written are 0..3: no order of anything in the history produces 99.
        const mutated = { ...victim, output: { op: 'read', value: 99 } } as Operation<RegisterInput, RegisterOutput>;
        expectShortestPrefixAt(registerModel, h.map((op) => (op === victim ? mutated : op)), mutated);
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });

  it('a kv get of a value no sequence of writes forms is illegal, and is the culprit', () => {
    fc.assert(
      fc.property(historyArb(kvInputArb), fc.nat(), ([inputs, shapes], pick) => {
        const h = sequentialHistory(kvModel, inputs, shapes, kvOutput);
        const gets = h.filter((op) => op.outcome === 'ok' && op.input.op === 'get');
        fc.pre(gets.length > 0);
        const victim = gets[pick % gets.length]!;
        // Every value is a concatenation of "x<digit>y" pieces or empty: "!" is none of them.
        const mutated = { ...victim, output: { op: 'get', value: '!' } } as Operation<KvInput, KvOutput>;
        expectShortestPrefixAt(kvModel, h.map((op) => (op === victim ? mutated : op)), mutated);
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });
});
