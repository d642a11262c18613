/**
 * The application's replicated state machine, as RaftNode drives it.
 */
import type { Entry } from '../types.js';

/**
 * A deterministic state machine. Every node applies the same commands in the same order, so
 * apply() must depend on nothing but the state and the entry (no clocks, no randomness, no I/O
 * whose result can differ between nodes).
 *
 * Calls never overlap: the next call starts once the previous one (or its promise) finished.
 * A method that throws (or rejects) stops the node with an `error` event: a state machine that
 * failed half-way cannot be trusted to match the others. Report a command's failure as a result
 * value instead.
 *
 * @typeParam R - what apply() returns; a proposal settles with it.
 */
export interface StateMachine<R = unknown> {
  /**
   * Applies one committed command (`entry.data`, never empty; `entry.index` is its log index,
   * useful for deduplication). The result goes to the proposer when it is the local node.
   */
  apply(entry: Readonly<Entry>): R | Promise<R>;
  /** Serializes the whole state, as of the last applied entry. */
  snapshot(): Uint8Array | Promise<Uint8Array>;
  /** Replaces the whole state with one that snapshot() produced (on this node or another). */
  restore(data: Uint8Array): void | Promise<void>;
}

/** The result type of a state machine's apply(). */
export type ApplyResult<SM extends StateMachine> = Awaited<ReturnType<SM['apply']>>;
