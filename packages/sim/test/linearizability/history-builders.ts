/** Small helpers to write histories by hand in tests. */
import type { Operation } from '../../src/linearizability/history.js';
import type { RegisterInput, RegisterOutput, RegisterValue } from '../../src/linearizability/models/register.js';

export type RegOp = Operation<RegisterInput, RegisterOutput>;

export const write = (clientId: number, value: RegisterValue, call: number, ret: number): RegOp => ({
  clientId,
  input: { op: 'write', value },
  call,
  return: ret,
  outcome: 'ok',
  output: { op: 'write' },
});

export const read = (clientId: number, value: RegisterValue | null, call: number, ret: number): RegOp => ({
  clientId,
  input: { op: 'read' },
  call,
  return: ret,
  outcome: 'ok',
  output: { op: 'read', value },
});

export const cas = (clientId: number, expected: RegisterValue, next: RegisterValue, ok: boolean, call: number, ret: number): RegOp => ({
  clientId,
  input: { op: 'cas', expected, next },
  call,
  return: ret,
  outcome: 'ok',
  output: { op: 'cas', ok },
});

/** An operation whose client never learned the outcome. */
export function unknown<I, O>(clientId: number, input: I, call: number): Operation<I, O> {
  return { clientId, input, call, return: Infinity, outcome: 'unknown' };
}

/** A register write whose client never learned the outcome. */
export const unknownWrite = (clientId: number, value: RegisterValue, call: number): RegOp => unknown(clientId, { op: 'write', value }, call);

/**
 * The history as it stood at time `t`: operations called before `t`, those that had not
 * returned by then turned into operations of unknown outcome (they may or may not have
 * taken effect yet).
 */
export function truncate<I, O>(history: readonly Operation<I, O>[], t: number): Operation<I, O>[] {
  return history
    .filter((op) => op.call < t)
    .map((op) => (op.outcome === 'ok' && op.return < t ? op : { clientId: op.clientId, input: op.input, call: op.call, return: Infinity, outcome: 'unknown' as const }));
}
