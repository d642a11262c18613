import type { Clock, ClockTimer } from '@pontoon/raft';
import { describe, expect, it } from 'vitest';
import { LeaseNotFoundError } from '../src/errors.js';
import { Lessor, NotPrimaryError } from '../src/lessor.js';

/** A clock the test moves by hand. */
class ManualClock implements Clock {
  private nowMs = 0;
  private readonly timers = new Map<number, { at: number; fn: () => void }>();
  private next = 0;
  now(): number {
    return this.nowMs;
  }
  setTimeout(fn: () => void, ms: number): ClockTimer {
    this.timers.set(++this.next, { at: this.nowMs + ms, fn });
    return this.next;
  }
  clearTimeout(timer: ClockTimer): void {
    this.timers.delete(timer as number);
  }
  advance(ms: number): void {
    const until = this.nowMs + ms;
    for (;;) {
      const due = [...this.timers.entries()].filter(([, t]) => t.at <= until).sort((a, b) => a[1].at - b[1].at)[0];
      if (due === undefined) break;
      this.timers.delete(due[0]);
      this.nowMs = due[1].at;
      due[1].fn();
    }
    this.nowMs = until;
  }
}

function lessor(): { clock: ManualClock; lessor: Lessor; expired: bigint[] } {
  const clock = new ManualClock();
  const expired: bigint[] = [];
  return { clock, expired, lessor: new Lessor({ clock, onExpired: (ids) => expired.push(...ids) }) };
}

describe('Lessor (etcd 3.4 lease/lessor.go)', () => {
  it('never expires a lease while not primary, however long it waits', () => {
    const { clock, lessor: l, expired } = lessor();
    l.granted(1n, 5);
    clock.advance(3_600_000);
    l.checkExpired();
    expect(expired).toEqual([]);
    expect(() => l.remainingMs(1n)).toThrow(NotPrimaryError);
    return expect(l.renew(1n)).rejects.toBeInstanceOf(NotPrimaryError);
  });

  it('on promotion gives every lease TTL plus the extension from now, then reports it once expired', () => {
    const { clock, lessor: l, expired } = lessor();
    l.granted(1n, 5);
    clock.advance(60_000);
    l.promote(1000);
    expect(l.remainingMs(1n)).toBe(6000);
    clock.advance(5_999);
    expect(expired).toEqual([]);
    clock.advance(501);
    expect(expired).toEqual([1n]);
    // Reported once; again only if the revoke did not apply within the retry interval.
    clock.advance(2000);
    expect(expired).toEqual([1n]);
    clock.advance(1500);
    expect(expired).toEqual([1n, 1n]);
  });

  it('renews to TTL from now; a renewal of an expired lease waits for its revoke', async () => {
    const { clock, lessor: l } = lessor();
    l.promote(0);
    l.granted(2n, 3);
    clock.advance(2000);
    expect(await l.renew(2n)).toBe(3);
    expect(l.remainingMs(2n)).toBe(3000);
    clock.advance(3000);
    const renewal = l.renew(2n);
    l.revoked(2n);
    await expect(renewal).rejects.toBeInstanceOf(LeaseNotFoundError);
    await expect(l.renew(2n)).rejects.toBeInstanceOf(LeaseNotFoundError);
  });

  it('stops deciding on demotion: leases are kept, waiting renewals told to ask the new leader', async () => {
    const { clock, lessor: l, expired } = lessor();
    l.promote(0);
    l.granted(3n, 1);
    clock.advance(1000);
    const renewal = l.renew(3n);
    expect(expired).toEqual([3n]);
    l.demote();
    await expect(renewal).rejects.toBeInstanceOf(NotPrimaryError);
    clock.advance(60_000);
    // Reported once while primary (its revoke may not have committed); never again after.
    expect(expired).toEqual([3n]);
    expect(l.isPrimary).toBe(false);
  });
});
