/**
 * Reconnect delays: exponential growth with "equal jitter" (half the delay fixed, half random),
 * so that nodes that lost a peer at the same moment do not all redial it at the same moment,
 * and no delay is ever near zero.
 */
export interface BackoffOptions {
  /** First delay, in ms. */
  initialMs: number;
  /** Ceiling of the delay, in ms. */
  maxMs: number;
  /** Returns a number in [0, 1). Injectable for tests. */
  random: () => number;
}

export class Backoff {
  private attempt = 0;
  constructor(private readonly options: BackoffOptions) {}

  /** The delay before the next attempt; each call doubles the base until the ceiling. */
  next(): number {
    const { initialMs, maxMs, random } = this.options;
    const base = Math.min(maxMs, initialMs * 2 ** Math.min(this.attempt, 30));
    this.attempt++;
    return Math.round(base / 2 + random() * (base / 2));
  }

  /** Called once a connection succeeds: the next failure starts from the first delay again. */
  reset(): void {
    this.attempt = 0;
  }

  /** Failed attempts since the last reset. */
  get attempts(): number {
    return this.attempt;
  }
}
