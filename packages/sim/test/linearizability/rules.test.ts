/** The rules of linearizability, one small history each. */
import { describe, expect, it } from 'vitest';
import { checkLinearizability, checkLinearizabilitySync } from '../../src/linearizability/check.js';
import { formatCounterexample } from '../../src/linearizability/counterexample.js';
import type { Operation } from '../../src/linearizability/history.js';
import { InvalidHistoryError } from '../../src/linearizability/invalid-history-error.js';
import { registerModel } from '../../src/linearizability/models/register.js';
import { kvModel, type KvInput, type KvOutput } from '../../src/linearizability/models/kv.js';
import { cas, read, unknown, unknownWrite, write, type RegOp } from './history-builders.js';
import { writeOnceModel, type WriteOnceInput, type WriteOnceOutput } from './write-once-model.js';

const verdict = <S, I, O>(model: Parameters<typeof checkLinearizabilitySync<S, I, O>>[0], h: Operation<I, O>[]) =>
  checkLinearizabilitySync(model, h).verdict;

describe('real-time order', () => {
  it('lets overlapping operations take effect in either order', () => {
    expect(verdict(registerModel, [write(0, 1, 0, 10), read(1, 1, 2, 5)])).toBe('ok');
    expect(verdict(registerModel, [write(0, 1, 0, 10), read(1, null, 2, 5)])).toBe('ok');
  });

  it('keeps an operation that returned before another was called first', () => {
    const result = checkLinearizabilitySync(registerModel, [write(0, 1, 0, 1), read(1, null, 2, 3)]);
    expect(result.verdict).toBe('illegal');
    expect(result.counterexample!.culprit.description).toBe('read() -> nil');
    expect(result.counterexample!.prefix.map((p) => p.description)).toEqual(['write(1)', 'read() -> nil']);
    expect(result.counterexample!.longestLinearization.map((p) => p.description)).toEqual(['write(1)']);
    expect(formatCounterexample(result.counterexample!)).toBe(
      [
        'partition 0 (2 operations): the shortest non-linearizable prefix has 2 operations, in call order:',
        '  client 0  [0, 1]  write(1)',
        '  client 1  [2, 3]  read() -> nil  <- cannot be linearized',
        'longest linearization found (1 operations):',
        '  write(1)',
      ].join('\n'),
    );
  });

  it('rejects a stale read after a newer write completed', () => {
    expect(verdict(registerModel, [write(0, 1, 0, 1), write(0, 2, 2, 3), read(1, 1, 4, 5)])).toBe('illegal');
  });

  it('treats operations that touch at an instant as concurrent', () => {
    expect(verdict(registerModel, [write(0, 1, 0, 5), read(1, null, 5, 6)])).toBe('ok');
  });

  it('rejects two reads that see the writes in opposite orders', () => {
    const h = [write(0, 1, 0, 10), write(1, 2, 0, 10), read(2, 1, 1, 3), read(2, 2, 4, 5), read(3, 2, 1, 2), read(3, 1, 6, 7)];
    expect(verdict(registerModel, h)).toBe('illegal');
  });

  it('accepts an empty history', () => {
    const result = checkLinearizabilitySync(registerModel, []);
    expect(result).toMatchObject({ verdict: 'ok', partitions: 1, operations: 0 });
  });

  it('refuses an operation that returns before its call', () => {
    expect(() => checkLinearizabilitySync(registerModel, [write(0, 1, 5, 4)])).toThrow(InvalidHistoryError);
    expect(() => checkLinearizabilitySync(registerModel, [write(0, 1, 0, Infinity)])).toThrow(/outcome 'ok' needs a finite return/);
    expect(() => checkLinearizabilitySync(registerModel, [write(0, 1, NaN, 1)])).toThrow(/call time must be a finite number/);
  });
});

describe('compare-and-set', () => {
  it('swaps when the value matches', () => {
    expect(verdict(registerModel, [write(0, 1, 0, 1), cas(0, 1, 2, true, 2, 3), read(1, 2, 4, 5)])).toBe('ok');
  });

  it('cannot fail when the value matches, nor succeed when it does not', () => {
    expect(verdict(registerModel, [write(0, 1, 0, 1), cas(0, 1, 2, false, 2, 3)])).toBe('illegal');
    expect(verdict(registerModel, [write(0, 1, 0, 1), cas(0, 3, 2, true, 2, 3)])).toBe('illegal');
  });

  it('leaves the value alone when it fails', () => {
    expect(verdict(registerModel, [write(0, 1, 0, 1), cas(0, 3, 4, false, 2, 3), read(1, 1, 4, 5)])).toBe('ok');
  });

  it('lets only one of two concurrent identical swaps win', () => {
    const race = [write(0, 0, 0, 1), cas(1, 0, 1, true, 2, 5), cas(2, 0, 1, true, 2, 5)];
    expect(verdict(registerModel, race)).toBe('illegal');
    expect(verdict(registerModel, [race[0]!, race[1]!, cas(2, 0, 1, false, 2, 5)])).toBe('ok');
  });
});

describe('operations of unknown outcome', () => {
  it('may have taken effect', () => {
    expect(verdict(registerModel, [unknownWrite(0, 1, 0), read(1, 1, 5, 6)])).toBe('ok');
  });

  it('may take effect long after the client gave up', () => {
    const h = [unknownWrite(0, 1, 0), read(1, null, 5, 6), read(1, null, 7, 8), read(2, 1, 9, 10)];
    expect(verdict(registerModel, h)).toBe('ok');
  });

  it('takes effect once, at one instant', () => {
    const h = [unknownWrite(0, 1, 0), read(1, 1, 5, 6), read(1, null, 7, 8)];
    expect(verdict(registerModel, h)).toBe('illegal');
  });

  it('ignores the return time a history gives an unknown operation', () => {
    const h: RegOp[] = [
      { clientId: 0, input: { op: 'write', value: 1 }, call: 0, return: 1, outcome: 'unknown' },
      read(1, null, 5, 6),
      read(1, 1, 7, 8),
    ];
    expect(verdict(registerModel, h)).toBe('ok');
  });

  it('may never have happened, even when the model could apply it nowhere', () => {
    // A write-once register rejects a second write in any state, so the unknown write(1) fits
    // neither before write(2) (then write(2) is refused) nor after it: the only explanation is
    // that it never took effect.
    const h: Operation<WriteOnceInput, WriteOnceOutput>[] = [
      unknown(0, { op: 'write', value: 1 }, 0),
      { clientId: 1, input: { op: 'write', value: 2 }, call: 1, return: 2, outcome: 'ok', output: 'written' },
      { clientId: 1, input: { op: 'read' }, call: 3, return: 4, outcome: 'ok', output: 2 },
    ];
    expect(verdict(writeOnceModel, h)).toBe('ok');
    // ... whereas one write of known outcome too many is a violation.
    const twice: Operation<WriteOnceInput, WriteOnceOutput>[] = [
      { ...h[1]!, clientId: 0, call: 0, return: 1, input: { op: 'write', value: 1 } },
      ...h.slice(1),
    ];
    expect(verdict(writeOnceModel, twice)).toBe('illegal');
  });
});

describe('partitioning', () => {
  const put = (clientId: number, key: string, value: string, call: number, ret: number): Operation<KvInput, KvOutput> => ({
    clientId, input: { op: 'put', key, value }, call, return: ret, outcome: 'ok', output: { op: 'put' },
  });
  const get = (clientId: number, key: string, value: string, call: number, ret: number): Operation<KvInput, KvOutput> => ({
    clientId, input: { op: 'get', key }, call, return: ret, outcome: 'ok', output: { op: 'get', value },
  });

  it('checks each key alone and reports the failing one', () => {
    const h = [put(0, 'a', '1', 0, 1), put(0, 'b', '1', 2, 3), get(1, 'a', '1', 4, 5), get(1, 'b', '', 6, 7), put(2, 'a', '2', 8, 9), get(2, 'a', '2', 10, 11)];
    const result = checkLinearizabilitySync(kvModel, h);
    expect(result.verdict).toBe('illegal');
    expect(result.partitions).toBe(2);
    // Keys sort as a, b: the failing part is b's, whatever order the parts were searched in.
    expect(result.counterexample!.partition).toBe(1);
    expect(result.counterexample!.culprit.description).toBe('get("b") -> ""');
    expect(formatCounterexample(result.counterexample!)).toContain('<- cannot be linearized');
  });

  it('is ok when every key is', () => {
    const h = [put(0, 'a', '1', 0, 1), put(1, 'b', '2', 0, 1), get(0, 'a', '1', 2, 3), get(1, 'b', '2', 2, 3), get(2, 'c', '', 0, 9)];
    expect(checkLinearizabilitySync(kvModel, h)).toMatchObject({ verdict: 'ok', partitions: 3 });
  });

  it('reads a missing key as the empty string', () => {
    expect(verdict(kvModel, [get(0, 'k', '', 0, 1)])).toBe('ok');
    expect(verdict(kvModel, [get(0, 'k', 'x', 0, 1)])).toBe('illegal');
  });
});

describe('time bound', () => {
  // n concurrent appends of distinct values, then a read no order produces: every order of
  // the appends is a distinct state, so the search has n! states to visit before it can say no.
  function factorialHistory(n: number): Operation<KvInput, KvOutput>[] {
    const h: Operation<KvInput, KvOutput>[] = [];
    for (let i = 0; i < n; i++) {
      h.push({ clientId: i, input: { op: 'append', key: 'k', value: String.fromCharCode(97 + i) }, call: 0, return: 100, outcome: 'ok', output: { op: 'append' } });
    }
    h.push({ clientId: n, input: { op: 'get', key: 'k' }, call: 200, return: 201, outcome: 'ok', output: { op: 'get', value: '!' } });
    return h;
  }

  it('answers unknown when the step budget runs out, after exactly that many steps', () => {
    const history = factorialHistory(14);
    const a = checkLinearizabilitySync(kvModel, history, { maxSteps: 20_000, timeoutMs: Infinity });
    expect(a.verdict).toBe('unknown');
    expect(a.stoppedBy).toBe('steps');
    expect(a.steps).toBe(20_000);
    expect(a.counterexample).toBeUndefined();
    // The same budget on a history it suffices for: a verdict, not 'unknown'.
    const small = checkLinearizabilitySync(kvModel, factorialHistory(3), { maxSteps: 20_000 });
    expect(small.verdict).toBe('illegal');
    expect(small.steps).toBeLessThan(20_000);
  });

  it('the asynchronous check stops at the same step budget', async () => {
    const r = await checkLinearizability(kvModel, factorialHistory(14), { maxSteps: 20_000, timeoutMs: Infinity });
    expect(r.verdict).toBe('unknown');
    expect(r.stoppedBy).toBe('steps');
    expect(r.steps).toBe(20_000);
  });

  it('answers unknown when the time bound runs out', () => {
    const result = checkLinearizabilitySync(kvModel, factorialHistory(14), { timeoutMs: 50 });
    expect(result.verdict).toBe('unknown');
    expect(result.stoppedBy).toBe('timeout');
    expect(result.counterexample).toBeUndefined();
  });

  it('answers unknown when the signal aborts the async check', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 30);
    const result = await checkLinearizability(kvModel, factorialHistory(14), { timeoutMs: 60_000, signal: controller.signal });
    expect(result).toMatchObject({ verdict: 'unknown', stoppedBy: 'signal' });
  });

  it('does not start when the signal is already aborted', async () => {
    const result = await checkLinearizability(kvModel, factorialHistory(3), { signal: AbortSignal.abort() });
    expect(result).toMatchObject({ verdict: 'unknown', stoppedBy: 'signal' });
  });

  it('finishes a small instance of the same shape', async () => {
    expect((await checkLinearizability(kvModel, factorialHistory(5))).verdict).toBe('illegal');
  });
});
