/**
 * The options every waiting call of RaftNode takes.
 */

/** Per-call options of propose(), read() and the membership calls. */
export interface CallOptions {
  /** Stop waiting when this signal aborts. */
  signal?: AbortSignal | undefined;
  /** Stop waiting after this many ms. Default: the node's proposalTimeoutMs / readTimeoutMs. */
  timeoutMs?: number | undefined;
}
