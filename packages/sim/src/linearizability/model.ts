/**
 * A sequential specification that a history is checked against.
 */
import type { Operation } from './history.js';

/**
 * A model: the state machine the system claims to behave like, one operation at a time.
 * States are immutable values: step() returns a new state and never changes its argument.
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
