/**
 * A tiny custom model, as a user would write one: a write-once register. It shows the whole
 * Model contract:
 *
 * - `init()` returns the state before any operation; states are immutable values.
 * - `step(state, input, output)` returns the next state when the operation, applied to
 *   `state`, could have returned `output`; undefined when it could not. `output` is undefined
 *   for an operation of unknown outcome: return a state whenever the input can be applied.
 * - `key(state)` is equal for equal states and different for different ones.
 * - `describe` (optional) renders an operation in counterexamples.
 * - `partition` (optional) splits a history into independent parts (see kvModel).
 */
import type { Model } from '../../src/linearizability/model.js';

export type WriteOnceInput = { op: 'write'; value: number } | { op: 'read' };
/** 'written' for a write; the value (or null when unset) for a read. */
export type WriteOnceOutput = 'written' | number | null;

export const writeOnceModel: Model<number | null, WriteOnceInput, WriteOnceOutput> = {
  name: 'write-once',
  init: () => null,
  step(state, input, output) {
    if (input.op === 'write') {
      // The store refuses a second write, so a write that took effect found it unset.
      return state === null && (output === undefined || output === 'written') ? input.value : undefined;
    }
    return output === undefined || output === state ? state : undefined;
  },
  key: (state) => String(state),
  describe: (input, output) => (input.op === 'write' ? `write(${input.value})` : `read() -> ${output === undefined ? '?' : String(output)}`),
};
