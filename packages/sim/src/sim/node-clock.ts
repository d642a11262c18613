/**
 * The clock of one incarnation of one simulated node: a view of the shared virtual time that
 * can run fast or slow (clock skew), be paused (a stop-the-world GC, a suspended VM) and be
 * killed (a crash: every timer the process had is gone).
 *
 * Everything the node's process does goes through here, not only its timers: message
 * deliveries and fsync completions are gated too, so a paused node runs nothing at all until it
 * resumes, and then everything that came due runs at once, in order.
 */
import type { Clock, ClockTimer } from '@pontoon/raft';
import type { Scheduler, SimEvent } from './scheduler.js';

/** The handle a NodeClock timer returns. */
interface NodeTimer {
  event: SimEvent | undefined;
  cleared: boolean;
}

export class NodeClock implements Clock {
  private rate = 1;
  /** Local time at `baseGlobal`; local time runs at `rate` from there. */
  private baseLocal = 0;
  private baseGlobal = 0;
  private paused = false;
  private dead = false;
  /** What came due while paused, with where it came from (a peer's or a client's connection). */
  private held: Array<{ fn: () => void; source: string | undefined }> = [];
  private readonly timers = new Set<NodeTimer>();

  /** `startLocal`: the local clock's reading now (nodes' clocks need not agree). */
  constructor(
    private readonly scheduler: Scheduler,
    startLocal = 0,
  ) {
    this.baseLocal = startLocal;
    this.baseGlobal = scheduler.now();
  }

  now(): number {
    return this.baseLocal + (this.scheduler.now() - this.baseGlobal) * this.rate;
  }

  setTimeout(callback: () => void, ms: number): ClockTimer {
    const timer: NodeTimer = { event: undefined, cleared: false };
    if (this.dead) return timer;
    // A skewed clock measures `ms` on its own scale: at rate 1.25 it fires after 0.8 ms of real time.
    const globalMs = ms <= 0 ? 0 : Math.max(1, Math.round(ms / this.rate));
    this.timers.add(timer);
    timer.event = this.scheduler.schedule(globalMs, () => {
      this.timers.delete(timer);
      if (!timer.cleared) this.gate(callback);
    });
    return timer;
  }

  clearTimeout(timer: ClockTimer): void {
    const t = timer as NodeTimer | undefined;
    if (t === undefined || t === null || t.cleared) return;
    t.cleared = true;
    if (t.event !== undefined) this.scheduler.cancel(t.event);
    this.timers.delete(t);
  }

  /**
   * Runs `fn` in this node's process: now, or at resume() if paused; never once killed.
   * `source` names the connection it came in on (what resume() drains in one piece).
   */
  gate(fn: () => void, source?: string): void {
    if (this.dead) return;
    if (this.paused) this.held.push({ fn, source });
    else fn();
  }

  /** Sets how fast this clock runs relative to virtual time (1: exact). */
  setRate(rate: number): void {
    this.baseLocal = this.now();
    this.baseGlobal = this.scheduler.now();
    this.rate = rate;
  }

  get isPaused(): boolean {
    return this.paused;
  }

  get isDead(): boolean {
    return this.dead;
  }

  pause(): void {
    if (!this.dead) this.paused = true;
  }

  /**
   * Ends a pause: what came due meanwhile runs now, in the order it came due. Given `drainDelay`,
   * what came in on each connection (and the process's own timers and disk, together) runs in
   * its order after a delay drawn per connection (ms): a resumed process drains its sockets over
   * several turns of its event loop, in an order it does not choose, and may act on one (a
   * client's read) before it has read another (a newer leader's message).
   */
  resume(drainDelay?: () => number): void {
    if (!this.paused) return;
    this.paused = false;
    const held = this.held;
    this.held = [];
    if (held.length === 0) return;
    if (drainDelay === undefined) {
      this.scheduler.schedule(0, () => held.forEach((h) => this.gate(h.fn, h.source)));
      return;
    }
    const bySource = new Map<string | undefined, Array<() => void>>();
    for (const h of held) {
      const list = bySource.get(h.source);
      if (list === undefined) bySource.set(h.source, [h.fn]);
      else list.push(h.fn);
    }
    for (const [source, fns] of bySource) this.scheduler.schedule(drainDelay(), () => fns.forEach((fn) => this.gate(fn, source)));
  }

  /** A crash: the process and all its timers are gone; nothing of it runs again. */
  kill(): void {
    this.dead = true;
    this.paused = false;
    this.held = [];
    for (const t of this.timers) {
      t.cleared = true;
      if (t.event !== undefined) this.scheduler.cancel(t.event);
    }
    this.timers.clear();
  }
}
