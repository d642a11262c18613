/**
 * The lease on the driver's monotonic clock (src/node/lease-clock.ts): which heartbeat rounds it
 * expires in the core, and when. A fake core records the rounds it is told to expire.
 */
import { describe, expect, it } from 'vitest';
import type { Clock, ClockTimer } from '../../src/index.js';
import { LeaseClock } from '../../src/node/lease-clock.js';
import type { LeaseRounds } from '../../src/node/lease-clock.js';

class ManualClock implements Clock {
  time = 1000;
  now(): number {
    return this.time;
  }
  setTimeout(): ClockTimer {
    throw new Error('the lease clock sets no timers');
  }
  clearTimeout(): void {}
}

/** A leader's core as the lease clock sees it: rounds sent in a term, and the floor it was told. */
class FakeCore implements LeaseRounds {
  term = 5;
  sent = 0;
  leading = true;
  expiredThrough = 0;
  leaseRoundsSent(): number {
    return this.leading ? this.sent : 0;
  }
  expireLeaseRounds(round: number): void {
    if (round > this.sent) throw new Error(`expired round ${round} of ${this.sent} sent`);
    this.expiredThrough = Math.max(this.expiredThrough, round);
  }
}

// tickMs 10, electionTicks 10, margin 0.1: a round backs the lease for 9 * 10 * 0.9 = 81 ms.
const OPTIONS = { tickMs: 10, electionTicks: 10, driftMargin: 0.1 };

function setup(): { clock: ManualClock; core: FakeCore; lease: LeaseClock } {
  const clock = new ManualClock();
  const core = new FakeCore();
  return { clock, core, lease: new LeaseClock(core, clock, OPTIONS) };
}

/** Advances the clock tick by tick, the tick timer on time. */
function tickFor(clock: ManualClock, lease: LeaseClock, ms: number): void {
  for (let t = 0; t < ms; t += 10) {
    clock.time += 10;
    lease.ticked();
  }
}

describe('LeaseClock', () => {
  it('lets a round back the lease for (electionTicks - 1) ticks less the drift margin after it left', () => {
    const { clock, core, lease } = setup();
    expect(lease.leaseMs).toBeCloseTo(81);
    core.sent = 1;
    lease.sending();
    tickFor(clock, lease, 80); // round 1 left 80 ms ago
    lease.guard();
    expect(core.expiredThrough).toBe(0);
    core.sent = 2;
    lease.sending();
    clock.time += 1; // 81 ms after round 1
    lease.guard();
    expect(core.expiredThrough).toBe(1);
    tickFor(clock, lease, 70);
    clock.time += 9; // 80 ms after round 2
    lease.guard();
    expect(core.expiredThrough).toBe(1);
    clock.time += 1;
    lease.guard();
    expect(core.expiredThrough).toBe(2);
  });

  it('counts several rounds that leave in one Ready from that one send, and only rounds that left', () => {
    const { clock, core, lease } = setup();
    core.sent = 3;
    lease.sending();
    core.sent = 4; // created, not yet handed to the transport: not the clock's to expire
    tickFor(clock, lease, 90);
    lease.guard();
    expect(core.expiredThrough).toBe(3);
  });

  it('expires every round that left before a pause, however recent, once the tick timer is overdue', () => {
    const { clock, core, lease } = setup();
    core.sent = 1;
    lease.sending();
    tickFor(clock, lease, 30);
    core.sent = 2;
    lease.sending();
    // Stopped for 25 ms: round 2 left 25 ms ago, well within 81 ms, but the ticks stopped.
    clock.time += 25;
    lease.guard();
    expect(core.expiredThrough).toBe(2);
  });

  it('does not take a late tick of up to two tick periods for a pause', () => {
    const { clock, core, lease } = setup();
    core.sent = 1;
    lease.sending();
    clock.time += 20; // the tick timer is late by one period
    lease.guard();
    expect(core.expiredThrough).toBe(0);
    lease.ticked();
    clock.time += 20.5;
    lease.guard();
    expect(core.expiredThrough).toBe(1);
  });

  it('forgets the rounds of an earlier term, and expires nothing once the node no longer leads', () => {
    const { clock, core, lease } = setup();
    core.sent = 7;
    lease.sending();
    // Leader again in a later term, rounds numbered from 1: round 7 of term 5 is not this lease's.
    core.term = 8;
    core.sent = 1;
    tickFor(clock, lease, 100);
    lease.guard();
    expect(core.expiredThrough).toBe(0);
    lease.sending();
    core.leading = false;
    tickFor(clock, lease, 100);
    lease.guard();
    expect(core.expiredThrough).toBe(0);
  });
});
