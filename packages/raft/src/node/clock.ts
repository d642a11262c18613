/**
 * Time for the node driver. Everything RaftNode (and the in-memory transport and store) does
 * later goes through a Clock, so that a simulation can run nodes in virtual time and so that
 * stop() can clear every timer it set.
 */

/** A timer handle, opaque to the caller: whatever the clock's setTimeout returned. */
export type ClockTimer = unknown;

/** Where the driver gets time from. */
export interface Clock {
  /** Milliseconds since some fixed origin; only differences are used. */
  now(): number;
  /**
   * Calls `callback` once, `ms` milliseconds from now. `ms` 0 means "as soon as possible, after
   * the work already queued": the driver uses it to batch everything that arrives in one turn
   * of the event loop into one Ready.
   */
  setTimeout(callback: () => void, ms: number): ClockTimer;
  /** Cancels a timer that has not fired; a timer that fired or was cleared is ignored. */
  clearTimeout(timer: ClockTimer): void;
}

interface RealTimer {
  immediate: boolean;
  handle: ReturnType<typeof setTimeout> | ReturnType<typeof setImmediate>;
}

/**
 * The real clock: Node's timers. A 0 ms timeout uses setImmediate, which runs after the I/O
 * callbacks of the current loop iteration: every message and proposal that arrived in that
 * iteration is then handled by one Ready (setTimeout(0) would add a millisecond of latency).
 * Timers keep the process alive until stop() clears them, as a server's socket would.
 */
export const realClock: Clock = Object.freeze({
  now: (): number => performance.now(),
  setTimeout(callback: () => void, ms: number): ClockTimer {
    if (ms <= 0) return { immediate: true, handle: setImmediate(callback) } satisfies RealTimer;
    const handle = setTimeout(callback, ms);
    return { immediate: false, handle } satisfies RealTimer;
  },
  clearTimeout(timer: ClockTimer): void {
    const t = timer as RealTimer | undefined;
    if (t === undefined || t === null) return;
    if (t.immediate) clearImmediate(t.handle as ReturnType<typeof setImmediate>);
    else clearTimeout(t.handle as ReturnType<typeof setTimeout>);
  },
});
