/** LeaderContact: a member's unbroken run of following some leader, across leader changes. */
import { EventEmitter } from 'node:events';
import type { KvMember } from '@pontoon/kv';
import { describe, expect, it } from 'vitest';
import { LeaderContact } from '../src/member/leader-contact.js';

/** A member whose leader the test sets, on a clock the test moves. */
function fakeMember(leaderId: number | undefined) {
  const raft = Object.assign(new EventEmitter(), { leaderId });
  const clock = { t: 1000 };
  const member = { raft } as unknown as KvMember;
  const setLeader = (id: number | undefined): void => {
    raft.leaderId = id;
    raft.emit('leaderChanged', { leaderId: id, previousLeaderId: undefined, term: 1 });
  };
  return { member, raft, clock, setLeader };
}

const GRACE = 1000;

describe('LeaderContact', () => {
  it('counts from the first leader, keeps counting through a change of leader shorter than the grace', () => {
    const f = fakeMember(undefined);
    const c = new LeaderContact(f.member, GRACE, () => f.clock.t);
    expect(c.ms()).toBeUndefined();
    f.setLeader(1);
    f.clock.t += 4000;
    expect(c.ms()).toBe(4000);
    // A transfer: no leader for 300 ms, then another one.
    f.setLeader(undefined);
    f.clock.t += 300;
    expect(c.ms()).toBe(4300);
    f.setLeader(2);
    f.clock.t += 2000;
    expect(c.ms()).toBe(6300);
    c.close();
    expect(f.raft.listenerCount('leaderChanged')).toBe(0);
  });

  it('starts over after a gap longer than the grace', () => {
    const f = fakeMember(3);
    const c = new LeaderContact(f.member, GRACE, () => f.clock.t);
    f.clock.t += 10_000;
    expect(c.ms()).toBe(10_000);
    f.setLeader(undefined);
    f.clock.t += GRACE + 1;
    expect(c.ms()).toBeUndefined();
    f.setLeader(3);
    f.clock.t += 500;
    expect(c.ms()).toBe(500);
    // The gap ended by a leader before anyone asked: still a new run.
    f.setLeader(undefined);
    f.clock.t += GRACE + 1;
    f.setLeader(1);
    expect(c.ms()).toBe(0);
  });
});
