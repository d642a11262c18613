/**
 * A sequential specification that a history is checked against.
 */
import type { Operation } from './history.js';

/**
 * A model: the state machine the system claims to behave like, one operation at a time.
 * States are immutable values: step() returns a new state and never changes its argument.
 *
 * Writing one for your own state machine: `init` is the state before any operation; `step`
 * applies an input and says whether the observed output was possible (return the next state)
 * or not (return undefined), and must accept an undefined output (the client never learned it)
 * whenever the input can be applied at all; `key` must tell states apart exactly, since the
 * search memoizes on it; `partition` is worth adding when operations on different parts of the
 * state (keys) never interact, because each part is then searched alone.
 *
 * @example
 * // A counter with `add` (returns nothing) and `get` (returns the value).
 * type CounterInput = { op: 'add'; by: number } | { op: 'get' };
 * const counterModel: Model<number, CounterInput, number | undefined> = {
 *   name: 'counter',
 *   init: () => 0,
 *   step: (state, input, output) =>
 *     input.op === 'add' ? state + input.by : output === undefined || output === state ? state : undefined,
 *   key: (state) => String(state),
 *   describe: (input, output) => (input.op === 'add' ? `add(${input.by})` : `get() -> ${output ?? '?'}`),
 * };
 *
 * @typeParam S - the model's state
 * @typeParam I - an operation's input (what the client asked)
 * @typeParam O - an operation's output (what came back)
 */
export interface Model<S, I, O> {
  /** A name for messages and the CLI (`register`, `kv`). */
  readonly name: string;
  /** The state before any operation. */
  init(): S;
  /**
   * Applies `input` to `state`. Returns the next state when the operation could have returned
   * `output` from `state`, or undefined when it could not (the output contradicts the state).
   * `output` is undefined for an operation of unknown outcome: it is legal whenever the input
   * can be applied at all.
   */
  step(state: S, input: I, output: O | undefined): S | undefined;
  /**
   * A string that is equal for equal states and different for different ones: the search
   * memoizes (set of linearized operations, state) pairs by it.
   */
  key(state: S): string;
  /**
   * Optional P-compositionality: splits a history into independent sub-histories (for a
   * key-value store, one per key) that are each checked alone against the same model.
   */
  partition?(history: readonly Operation<I, O>[]): Operation<I, O>[][];
  /** A short rendering of one operation, for traces and counterexamples. */
  describe?(input: I, output: O | undefined): string;
}
