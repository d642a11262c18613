/**
 * Virtual time. Every timer of every simulated node, every message in flight and every fsync is
 * an event on one queue ordered by (time, insertion order); run() pops them one time step at a
 * time. Nothing waits on real time, so a run is single-threaded and a function of its seed.
 *
 * RaftNode and LogStore continue through promises, so between steps the microtask queue has to
 * run dry before virtual time moves on, or a continuation of an event at t would observe time t'.
 * The one way to know the microtask queue is empty is to let a macrotask run: one setImmediate
 * per step (about 1.5 µs). Events due at the same instant share that drain, and 0 ms timers
 * (a node's "next turn of the event loop") run as a separate phase after it, as setImmediate
 * callbacks run after microtasks in Node.
 *
 * Real I/O (a state machine's files) completes on libuv's thread pool, after any number of those
 * drains: if time moved on meanwhile, how far would depend on the machine's load, and a seed
 * would not replay. hold() registers such work; run() lets no time pass until it has settled.
 */

/** A scheduled callback; `cancelled` is set by cancel() (the heap drops it lazily). */
export interface SimEvent {
  readonly time: number;
  readonly seq: number;
  readonly fn: () => void;
  cancelled: boolean;
}

/** Resolves once every microtask queued so far, and those they queue, have run. */
function drainMicrotasks(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** A binary min-heap of events by (time, seq). */
class EventHeap {
  private readonly items: SimEvent[] = [];

  get size(): number {
    return this.items.length;
  }

  peek(): SimEvent | undefined {
    return this.items[0];
  }

  push(e: SimEvent): void {
    const a = this.items;
    a.push(e);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!before(e, a[p]!)) break;
      a[i] = a[p]!;
      i = p;
    }
    a[i] = e;
  }

  pop(): SimEvent | undefined {
    const a = this.items;
    const top = a[0];
    const last = a.pop();
    if (top === undefined || last === undefined || a.length === 0) return top;
    let i = 0;
    const n = a.length;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && before(a[r]!, a[l]!) ? r : l;
      if (!before(a[c]!, last)) break;
      a[i] = a[c]!;
      i = c;
    }
    a[i] = last;
    return top;
  }
}

function before(x: SimEvent, y: SimEvent): boolean {
  return x.time < y.time || (x.time === y.time && x.seq < y.seq);
}

/** Counters of a scheduler, for reports and benchmarks. */
export interface SchedulerStats {
  /** Events run (timers, deliveries, fsyncs, immediates). */
  events: number;
  /** Microtask drains (one per time step and immediate phase). */
  steps: number;
}

/** The virtual clock and event queue of one simulation run. */
export class Scheduler {
  private nowMs = 0;
  private seq = 0;
  private readonly heap = new EventHeap();
  private immediates: SimEvent[] = [];
  private stopped = false;
  readonly stats: SchedulerStats = { events: 0, steps: 0 };
  /** Called with every error an event throws; the run stops after the step. */
  private failure: unknown = undefined;
  /** Real work registered with hold() and not settled yet. */
  private readonly held = new Set<Promise<unknown>>();

  /** Virtual milliseconds since the start of the run. */
  now(): number {
    return this.nowMs;
  }

  /** Runs `fn` at `now() + ms` (ms <= 0: after the current step's microtasks, at the same time). */
  schedule(ms: number, fn: () => void): SimEvent {
    const e: SimEvent = { time: ms > 0 ? this.nowMs + ms : this.nowMs, seq: this.seq++, fn, cancelled: false };
    if (ms > 0) this.heap.push(e);
    else this.immediates.push(e);
    return e;
  }

  /** Runs `fn` at the absolute virtual time `time` (not before now). */
  scheduleAt(time: number, fn: () => void): SimEvent {
    return this.schedule(time - this.nowMs, fn);
  }

  /**
   * Stops virtual time until `work` (real I/O, e.g. a file write) settles: run() goes on with
   * events due now but takes no step to a later time before. Returns `work`.
   */
  hold<T>(work: Promise<T>): Promise<T> {
    const tracked: Promise<unknown> = work.then(
      () => this.held.delete(tracked),
      () => this.held.delete(tracked),
    );
    this.held.add(tracked);
    return work;
  }

  cancel(e: SimEvent): void {
    e.cancelled = true;
  }

  /** Makes run() return after the current step. */
  stop(): void {
    this.stopped = true;
  }

  /** Whether any event is pending (cancelled ones may count until popped). */
  get idle(): boolean {
    return this.heap.size === 0 && this.immediates.length === 0;
  }

  /**
   * Runs events until virtual time would pass `until`, `stop()` is called, `done()` returns true
   * (checked after every step) or no event is left. Rethrows the first error an event threw.
   * Returns the virtual time reached.
   */
  async run(until: number, done?: () => boolean): Promise<number> {
    this.stopped = false;
    await drainMicrotasks();
    while (!this.stopped && this.failure === undefined) {
      if (this.immediates.length > 0) {
        const batch = this.immediates;
        this.immediates = [];
        for (const e of batch) this.fire(e);
      } else if (this.held.size > 0) {
        // Nothing else is due now: wait for the real work before time moves on.
        await Promise.race(this.held);
      } else {
        const next = this.heap.peek();
        if (next === undefined || next.time > until) break;
        this.nowMs = next.time;
        while (this.heap.size > 0 && this.heap.peek()!.time === this.nowMs) this.fire(this.heap.pop()!);
      }
      this.stats.steps++;
      await drainMicrotasks();
      if (done?.() === true) break;
    }
    if (this.failure !== undefined) {
      const err = this.failure;
      this.failure = undefined;
      throw err;
    }
    if (!this.stopped && this.immediates.length === 0 && until !== Infinity && this.nowMs < until) {
      const next = this.heap.peek();
      if (next === undefined || next.time > until) this.nowMs = until;
    }
    return this.nowMs;
  }

  private fire(e: SimEvent): void {
    if (e.cancelled) return;
    this.stats.events++;
    try {
      e.fn();
    } catch (err) {
      this.failure ??= err;
    }
  }
}
