/** A Clock in virtual time for tests: nothing happens until advance() is called. */
import type { Clock, ClockTimer } from '../../src/index.js';

interface Timer {
  at: number;
  seq: number;
  fn: () => void;
}

export class VirtualClock implements Clock {
  private time = 0;
  private seq = 0;
  private readonly timers = new Set<Timer>();

  now(): number {
    return this.time;
  }
  setTimeout(fn: () => void, ms: number): ClockTimer {
    const t: Timer = { at: this.time + Math.max(0, ms), seq: this.seq++, fn };
    this.timers.add(t);
    return t;
  }
  clearTimeout(timer: ClockTimer): void {
    this.timers.delete(timer as Timer);
  }
  /** Timers not yet fired. */
  pending(): number {
    return this.timers.size;
  }
  /** Runs every timer due within `ms`, in time order, letting promises settle between them. */
  async advance(ms: number): Promise<void> {
    const until = this.time + ms;
    for (;;) {
      await new Promise((r) => setImmediate(r));
      let next: Timer | undefined;
      for (const t of this.timers) {
        if (t.at <= until && (next === undefined || t.at < next.at || (t.at === next.at && t.seq < next.seq))) next = t;
      }
      if (next === undefined) break;
      this.timers.delete(next);
      this.time = next.at;
      next.fn();
    }
    this.time = until;
  }
}
