import { afterEach, describe, expect, it } from 'vitest';
import { ConfChangeError, ProposalDroppedError } from '../../src/index.js';
import type { Membership } from '../../src/index.js';
import { TestCluster, set, waitFor } from './support.js';

let cluster: TestCluster | undefined;
afterEach(async () => {
  await cluster?.stopAll();
  cluster = undefined;
});

describe('RaftNode: membership', () => {
  it('adds a learner, promotes it, then removes a voter', async () => {
    cluster = new TestCluster([1, 2, 3]).startAll();
    const leader = await cluster.leader();
    for (let i = 0; i < 5; i++) await leader.propose(set(`k${i}`, String(i)));

    const changes: Membership[] = [];
    leader.on('membershipChanged', (e) => changes.push(e.membership));
    const joiner = cluster.start(4, { join: true, initialMembers: [] });
    let m = await leader.addLearner(4, 'mem://4');
    expect(m.learners).toEqual([4]);
    expect(m.addresses.get(4)).toBe('mem://4');
    expect(cluster.transports.get(leader.id)!.peers.get(4)).toBe('mem://4');
    const sm4 = cluster.sms.get(4)!;
    await waitFor(() => sm4.data.size === 5, { what: 'learner catch-up' });
    expect(joiner.role).toBe('follower');
    // The learner learned every address from the log.
    await waitFor(() => [1, 2, 3].every((id) => cluster!.transports.get(4)!.peers.get(id) === `mem://${id}`), { what: 'learner address book' });

    m = await leader.promote(4);
    expect(m.voters.sort()).toEqual([1, 2, 3, 4]);
    expect(m.learners).toEqual([]);
    await expect(leader.promote(4)).rejects.toBeInstanceOf(ConfChangeError);

    const victim = [1, 2, 3].find((id) => id !== leader.id)!;
    m = await leader.remove(victim);
    expect(m.voters.sort()).toEqual([1, 2, 3, 4].filter((id) => id !== victim));
    expect(cluster.transports.get(leader.id)!.peers.has(victim)).toBe(false);
    expect(changes.length).toBeGreaterThanOrEqual(3);

    await cluster.node(victim).stop();
    // The remaining three keep working, the promoted node among them.
    expect(await leader.propose(set('k0', 'x'))).toBe('0');
    await waitFor(() => sm4.data.get('k0') === 'x', { what: 'new voter applies' });
    await waitFor(() => joiner.membership().voters.length === 3, { what: 'membership on node 4' });
  });

  it('tells a removed node, once, that it is no longer a member; the others hear nothing', async () => {
    cluster = new TestCluster([1, 2, 3]).startAll();
    const leader = await cluster.leader();
    const victim = [1, 2, 3].find((id) => id !== leader.id)!;
    const removed = new Map<number, number[]>();
    for (const id of [1, 2, 3]) {
      removed.set(id, []);
      cluster.node(id).on('removed', (e) => removed.get(id)!.push(e.index));
    }
    await leader.remove(victim);
    await waitFor(() => removed.get(victim)!.length === 1, { what: 'removed event on the victim' });
    // More changes and writes later: no second event, and none on the members.
    await leader.propose(set('k', 'v'));
    await leader.addLearner(9, 'mem://9');
    expect(removed.get(victim)).toHaveLength(1);
    expect(removed.get(victim)![0]).toBeGreaterThan(0);
    for (const id of [1, 2, 3].filter((i) => i !== victim)) expect(removed.get(id)).toEqual([]);
  });

  it('uses joint consensus for several changes at once and resolves once it is left', async () => {
    cluster = new TestCluster([1, 2, 3]).startAll();
    const leader = await cluster.leader();
    cluster.start(4, { join: true, initialMembers: [] });
    const victim = [1, 2, 3].find((id) => id !== leader.id)!;
    const seen: Membership[] = [];
    leader.on('membershipChanged', (e) => seen.push(e.membership));
    const m = await leader.changeMembership([
      { type: 'addVoter', id: 4, address: 'mem://4' },
      { type: 'remove', id: victim },
    ]);
    expect(m.votersOutgoing).toEqual([]);
    expect(m.voters.sort()).toEqual([1, 2, 3, 4].filter((id) => id !== victim));
    // The joint configuration was entered first.
    expect(seen.some((s) => s.votersOutgoing.length > 0)).toBe(true);
    expect(await leader.propose(set('a', 'b'))).toBeNull();
  });

  it('refuses a second change while one is in progress', async () => {
    cluster = new TestCluster([1, 2, 3]).startAll();
    const leader = await cluster.leader();
    const first = leader.addLearner(4, 'mem://4');
    await expect(leader.addLearner(5, 'mem://5')).rejects.toBeInstanceOf(ProposalDroppedError);
    await first;
  });
});
