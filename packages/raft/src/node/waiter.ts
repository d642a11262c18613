/**
 * A promise with the controls the driver needs: settle once, give up on a timeout or an
 * AbortSignal (the owner decides what the rejection says), and leave no timer or listener behind.
 */
import type { Clock, ClockTimer } from './clock.js';

/** Why a caller stopped waiting. */
export type GiveUp = { kind: 'timeout'; timeoutMs: number } | { kind: 'aborted'; reason: unknown };

export class Waiter<T> {
  readonly promise: Promise<T>;
  settled = false;
  private resolveFn!: (value: T) => void;
  private rejectFn!: (err: unknown) => void;
  private timer: ClockTimer | undefined;
  private signal: AbortSignal | undefined;
  private readonly abortListener: (() => void) | undefined;

  /**
   * `onGiveUp` runs (at most once) when the timeout expires or the signal aborts first; it must
   * settle the waiter (reject) after removing it from wherever it is tracked.
   */
  constructor(
    private readonly clock: Clock,
    timeoutMs: number,
    signal: AbortSignal | undefined,
    onGiveUp: (waiter: Waiter<T>, why: GiveUp) => void,
  ) {
    this.promise = new Promise<T>((resolve, reject) => {
      this.resolveFn = resolve;
      this.rejectFn = reject;
    });
    if (timeoutMs !== Infinity) {
      this.timer = clock.setTimeout(() => {
        this.timer = undefined;
        if (!this.settled) onGiveUp(this, { kind: 'timeout', timeoutMs });
      }, timeoutMs);
    }
    if (signal !== undefined) {
      this.signal = signal;
      this.abortListener = () => {
        if (!this.settled) onGiveUp(this, { kind: 'aborted', reason: signal.reason });
      };
      signal.addEventListener('abort', this.abortListener, { once: true });
    }
  }

  resolve(value: T): void {
    if (this.settled) return;
    this.cleanup();
    this.resolveFn(value);
  }

  reject(err: unknown): void {
    if (this.settled) return;
    this.cleanup();
    this.rejectFn(err);
  }

  private cleanup(): void {
    this.settled = true;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    if (this.signal !== undefined && this.abortListener !== undefined) {
      this.signal.removeEventListener('abort', this.abortListener);
    }
    this.signal = undefined;
  }
}
