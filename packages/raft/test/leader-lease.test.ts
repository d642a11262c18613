/**
 * The leader's lease for lease-based reads (src/leader-lease.ts): it runs from the send tick of
 * the newest heartbeat round a quorum acknowledged, for the election timeout less one tick.
 */
import { describe, expect, it } from 'vitest';
import { LEASE_TOKEN_BYTES, LeaderLease } from '../src/leader-lease.js';
import { JointConfig } from '../src/quorum/joint.js';
import { MajorityConfig } from '../src/quorum/majority.js';

const ET = 10;
const voters = (...ids: number[]): JointConfig => new JointConfig(new MajorityConfig(ids));

describe('LeaderLease', () => {
  it('holds from a quorum acknowledging a round until the election timeout less one tick after its send tick', () => {
    const lease = new LeaderLease(1, ET);
    const cfg = voters(1, 2, 3, 4, 5);
    const t = lease.nextToken(100);
    expect(t.length).toBe(LEASE_TOKEN_BYTES);
    expect(lease.valid(cfg, 100)).toBe(false); // nobody has acknowledged anything yet
    expect(lease.ack(2, t)).toBe(true);
    expect(lease.valid(cfg, 100)).toBe(false); // leader + 1 of 5 is no quorum
    lease.ack(3, t);
    for (let now = 100; now <= 108; now++) expect(lease.valid(cfg, now), `tick ${now}`).toBe(true);
    expect(lease.valid(cfg, 109)).toBe(false);
    // A newer round acknowledged by a quorum moves the lease on; one voter alone does not.
    const t2 = lease.nextToken(105);
    lease.ack(4, t2);
    expect(lease.valid(cfg, 109)).toBe(false);
    lease.ack(2, t2);
    expect(lease.valid(cfg, 113)).toBe(true);
    expect(lease.valid(cfg, 114)).toBe(false);
  });

  it('takes the quorum-th newest round: a late answer to an old round does not move the lease back or forth', () => {
    const lease = new LeaderLease(1, ET);
    const cfg = voters(1, 2, 3);
    const old = lease.nextToken(0);
    const recent = lease.nextToken(20);
    lease.ack(2, recent);
    expect(lease.valid(cfg, 28)).toBe(true);
    lease.ack(2, old); // a duplicate of an earlier answer arriving late
    expect(lease.valid(cfg, 28)).toBe(true);
    expect(lease.valid(cfg, 29)).toBe(false);
  });

  it('ignores contexts that are not tokens of its own rounds', () => {
    const lease = new LeaderLease(1, ET);
    const cfg = voters(1, 2, 3);
    expect(lease.ack(2, undefined)).toBe(false);
    expect(lease.ack(2, new Uint8Array([1, 2, 3]))).toBe(false); // a ReadIndex context
    const other = new LeaderLease(1, ET);
    other.nextToken(0);
    const future = other.nextToken(0); // round 2, which this lease never sent
    expect(lease.ack(2, future)).toBe(false);
    expect(lease.valid(cfg, 0)).toBe(false);
  });

  it('holds no lease during a leadership transfer, and counts only rounds sent after it ended', () => {
    const lease = new LeaderLease(1, ET);
    const cfg = voters(1, 2, 3);
    const before = lease.nextToken(0);
    lease.ack(2, before);
    expect(lease.valid(cfg, 1)).toBe(true);
    lease.transferStarted();
    expect(lease.valid(cfg, 1)).toBe(false);
    const during = lease.nextToken(2);
    lease.ack(2, during);
    expect(lease.valid(cfg, 2)).toBe(false);
    lease.transferEnded();
    // The transferee may have been given votes in spite of the pledge: those rounds stay void.
    expect(lease.valid(cfg, 2)).toBe(false);
    const after = lease.nextToken(3);
    lease.ack(2, after);
    expect(lease.valid(cfg, 3)).toBe(true);
  });

  it('needs a quorum of both halves in joint consensus, and is its own quorum alone', () => {
    const lease = new LeaderLease(1, ET);
    const joint = new JointConfig(new MajorityConfig([1, 2, 3]), new MajorityConfig([1, 4, 5]));
    const t = lease.nextToken(0);
    lease.ack(2, t);
    expect(lease.valid(joint, 0)).toBe(false);
    lease.ack(4, t);
    expect(lease.valid(joint, 0)).toBe(true);
    expect(new LeaderLease(1, ET).valid(voters(1), 50)).toBe(true);
  });

  it('rests on no expired round: the driver expires rounds its clock says are too old, never unsent ones', () => {
    const lease = new LeaderLease(1, ET);
    const cfg = voters(1, 2, 3);
    const r1 = lease.nextToken(0);
    const r2 = lease.nextToken(1);
    lease.ack(2, r2);
    lease.ack(3, r1);
    expect(lease.roundsSent).toBe(2);
    expect(lease.basis(cfg, 1)).toEqual({ round: 2, sentAtTick: 1 });
    // Round 2 left too long ago by the driver's clock, though only a tick ago by the core's.
    lease.expireThrough(2);
    expect(lease.expiredThrough).toBe(2);
    expect(lease.valid(cfg, 1)).toBe(false);
    expect(lease.basis(cfg, 1)).toBeUndefined();
    lease.expireThrough(1); // the floor never goes back
    expect(lease.expiredThrough).toBe(2);
    const r3 = lease.nextToken(2);
    lease.ack(3, r3);
    expect(lease.basis(cfg, 2)).toEqual({ round: 3, sentAtTick: 2 });
    expect(() => lease.expireThrough(4)).toThrow(/expiring lease rounds through 4, but 3 were sent/);
  });

  it('reports the quorum-th newest round as the basis, and a leader alone rests on none of its rounds', () => {
    const lease = new LeaderLease(1, ET);
    const cfg = voters(1, 2, 3, 4, 5);
    const tokens = [0, 1, 2, 3].map((tick) => lease.nextToken(tick));
    lease.ack(2, tokens[3]);
    lease.ack(3, tokens[1]);
    lease.ack(4, tokens[0]);
    // The leader (round "now"), n2 (round 4) and n3 (round 2) make a quorum of 5 at round 2.
    expect(lease.basis(cfg, 5)).toEqual({ round: 2, sentAtTick: 1 });
    const alone = new LeaderLease(1, ET);
    alone.nextToken(0);
    expect(alone.basis(voters(1), 7)).toEqual({ round: 2, sentAtTick: 7 });
  });
});
