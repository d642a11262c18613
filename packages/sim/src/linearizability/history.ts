/**
 * Client histories: what a set of clients asked a system to do, when, and what came back.
 * The linearizability checker reads these; the simulator's clients and the history-file
 * parsers write them.
 */

/**
 * One operation by one client. `call` and `return` are times on one clock shared by all clients
 * (virtual or real; only their order matters). An operation whose outcome the client never
 * learned (it timed out, the connection dropped, the node crashed) has `outcome: 'unknown'`:
 * it may have taken effect at any point after its call, or never, and its `return` is Infinity.
 */
export type Operation<I, O> =
  | { clientId: number; input: I; call: number; return: number; outcome: 'ok'; output: O }
  | { clientId: number; input: I; call: number; return: number; outcome: 'unknown' };

/** A whole history: operations in any order (the checker sorts them by time). */
export type History<I, O> = readonly Operation<I, O>[];
