/**
 * Lease expiry, as etcd 3.4's lessor (`lease/lessor.go`) does it. The granted leases and their
 * TTLs are replicated state (in the store); when a lease expires is not: only the leader (the
 * "primary" lessor) keeps expiry times, from its own clock, and carries an expiry out by
 * proposing a revoke, so every member applies the same revoke at the same log index. A member
 * that is not primary keeps every lease forever and never expires one.
 *
 * - Grant (applied): expires TTL from now on the primary, never elsewhere.
 * - Promote (the new leader applied its first entry of the term, so every earlier grant and
 *   revoke too): every lease gets TTL + `extendMs` from now, so a leader change never expires a
 *   lease early, whatever the old leader had counted.
 * - Demote (leadership lost): every lease forever again.
 * - Renew (keepalive, on the primary only): TTL from now. Not replicated: a keepalive changes no
 *   replicated state in etcd 3.4, which is why it must reach the leader.
 * - Expired leases are reported to `onExpired` by a check every `checkIntervalMs` (etcd: 500 ms);
 *   one reported but not revoked after `revokeRetryMs` (etcd: 3 s) is reported again.
 */
import type { Clock, ClockTimer } from '@pontoon/raft';
import { PontoonError } from '@pontoon/raft';
import { LeaseNotFoundError } from './errors.js';

/** This lessor is not the primary (its member is not the leader, or not yet promoted). */
export class NotPrimaryError extends PontoonError {
  constructor() {
    super('ERR_NOT_PRIMARY', 'not a primary lessor');
  }
}

export interface LessorOptions {
  clock: Clock;
  /** Called with leases the primary found expired; the member proposes their revokes. */
  onExpired: (ids: bigint[]) => void;
  /** Between expiry checks. Default 500 (etcd's). */
  checkIntervalMs?: number;
  /** A reported lease not revoked after this long is reported again. Default 3000 (etcd's). */
  revokeRetryMs?: number;
}

interface LeaseExpiry {
  /** The granted TTL, in seconds. */
  ttl: number;
  /** When it expires on this member's clock; Infinity on a member that is not primary. */
  expiresAtMs: number;
  /** When the primary last reported it expired (its revoke proposed), if it did. */
  reportedAtMs: number | undefined;
  /** Renewals waiting for an expired lease's revoke (or for a demotion). */
  waiters: Array<(error: Error) => void>;
}

export class Lessor {
  private readonly leases = new Map<bigint, LeaseExpiry>();
  private primary = false;
  private timer: ClockTimer | undefined;
  private stopped = false;
  private readonly clock: Clock;
  private readonly onExpired: (ids: bigint[]) => void;
  private readonly checkIntervalMs: number;
  private readonly revokeRetryMs: number;

  constructor(options: LessorOptions) {
    this.clock = options.clock;
    this.onExpired = options.onExpired;
    this.checkIntervalMs = options.checkIntervalMs ?? 500;
    this.revokeRetryMs = options.revokeRetryMs ?? 3000;
  }

  /** Whether this lessor decides expiry (its member leads and has promoted it). */
  get isPrimary(): boolean {
    return this.primary;
  }

  /** Replaces every lease with the store's (on open, and after a snapshot was installed). */
  reset(leases: readonly { id: bigint; ttl: number }[]): void {
    // A renewal waiting on the old state asks again against the new one.
    for (const l of this.leases.values()) this.settle(l, new NotPrimaryError());
    this.leases.clear();
    const now = this.clock.now();
    for (const { id, ttl } of leases) {
      this.leases.set(id, { ttl, expiresAtMs: this.primary ? now + ttl * 1000 : Infinity, reportedAtMs: undefined, waiters: [] });
    }
  }

  /** A grant was applied. */
  granted(id: bigint, ttl: number): void {
    const expiresAtMs = this.primary ? this.clock.now() + ttl * 1000 : Infinity;
    this.leases.set(id, { ttl, expiresAtMs, reportedAtMs: undefined, waiters: [] });
  }

  /** A revoke was applied (by a client or by expiry). */
  revoked(id: bigint): void {
    const l = this.leases.get(id);
    if (l === undefined) return;
    this.leases.delete(id);
    this.settle(l, new LeaseNotFoundError(id));
  }

  /** Becomes primary: every lease expires TTL + `extendMs` from now (etcd's Promote). */
  promote(extendMs: number): void {
    this.primary = true;
    const now = this.clock.now();
    for (const l of this.leases.values()) {
      l.expiresAtMs = now + extendMs + l.ttl * 1000;
      l.reportedAtMs = undefined;
    }
    this.schedule();
  }

  /** Stops being primary: no lease expires here any more (etcd's Demote). */
  demote(): void {
    if (!this.primary) return;
    this.primary = false;
    for (const l of this.leases.values()) {
      l.expiresAtMs = Infinity;
      l.reportedAtMs = undefined;
      this.settle(l, new NotPrimaryError());
    }
    this.unschedule();
  }

  /**
   * Renews a lease (keepalive) and answers its granted TTL. On an expired lease whose revoke is
   * on its way, waits for it (then LeaseNotFoundError) or for a demotion (NotPrimaryError), as
   * etcd does: answering a keepalive for a lease that is being revoked would lie.
   */
  async renew(id: bigint): Promise<number> {
    if (!this.primary) throw new NotPrimaryError();
    const l = this.leases.get(id);
    if (l === undefined) throw new LeaseNotFoundError(id);
    if (l.expiresAtMs <= this.clock.now()) {
      throw await new Promise<Error>((resolve) => l.waiters.push(resolve));
    }
    l.expiresAtMs = this.clock.now() + l.ttl * 1000;
    l.reportedAtMs = undefined;
    return l.ttl;
  }

  /**
   * The lease's remaining time in ms on the primary, or undefined when it is not granted.
   * Throws NotPrimaryError elsewhere: only the leader knows it.
   */
  remainingMs(id: bigint): number | undefined {
    if (!this.primary) throw new NotPrimaryError();
    const l = this.leases.get(id);
    if (l === undefined) return undefined;
    return Math.max(0, l.expiresAtMs - this.clock.now());
  }

  /**
   * When the lease expires on this member's clock: Infinity on a member that is not primary (or
   * for a lease it does not know), as etcd's lessor keeps them there.
   */
  expiresAtMs(id: bigint): number {
    return this.leases.get(id)?.expiresAtMs ?? Infinity;
  }

  /** Reports the expired leases not yet reported (or reported too long ago); on the primary only. */
  checkExpired(): void {
    if (!this.primary || this.stopped) return;
    const now = this.clock.now();
    const expired: bigint[] = [];
    for (const [id, l] of this.leases) {
      if (l.expiresAtMs > now) continue;
      if (l.reportedAtMs !== undefined && now - l.reportedAtMs < this.revokeRetryMs) continue;
      l.reportedAtMs = now;
      expired.push(id);
    }
    if (expired.length > 0) this.onExpired(expired);
  }

  /** Stops the expiry checks for good. */
  stop(): void {
    this.stopped = true;
    this.primary = false;
    this.unschedule();
    for (const l of this.leases.values()) this.settle(l, new NotPrimaryError());
  }

  private schedule(): void {
    if (this.timer !== undefined || this.stopped) return;
    const run = (): void => {
      this.timer = undefined;
      if (!this.primary || this.stopped) return;
      this.checkExpired();
      this.schedule();
    };
    this.timer = this.clock.setTimeout(run, this.checkIntervalMs);
  }

  private unschedule(): void {
    if (this.timer === undefined) return;
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private settle(l: LeaseExpiry, error: Error): void {
    const waiters = l.waiters;
    l.waiters = [];
    for (const w of waiters) w(error);
  }
}
