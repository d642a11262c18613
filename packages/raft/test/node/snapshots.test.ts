import { afterEach, describe, expect, it } from 'vitest';
import { TestCluster, set, waitFor } from './support.js';

let cluster: TestCluster | undefined;
afterEach(async () => {
  await cluster?.stopAll();
  cluster = undefined;
});

describe('RaftNode: snapshots', () => {
  it('takes snapshots by policy and compacts the log', async () => {
    cluster = new TestCluster([1, 2, 3], { snapshot: { everyEntries: 10, keepEntries: 2 } }).startAll();
    const leader = await cluster.leader();
    const taken: number[] = [];
    leader.on('snapshotTaken', (e) => taken.push(e.index));
    for (let i = 0; i < 25; i++) await leader.propose(set(`k${i}`, String(i)));
    await waitFor(() => taken.length >= 2, { what: 'two snapshots' });
    const store = cluster.stores.get(leader.id)!;
    const snap = store.snapshot();
    expect(snap.metadata.index).toBe(taken[taken.length - 1]);
    expect(snap.metadata.confState.voters.sort()).toEqual([1, 2, 3]);
    await waitFor(() => store.firstIndex() === snap.metadata.index - 2 + 1, { what: 'compaction' });
    expect(leader.status().snapshotIndex).toBe(snap.metadata.index);
  });

  it('takes a snapshot on request, even with snapshots off', async () => {
    cluster = new TestCluster([1, 2, 3], { snapshot: false }).startAll();
    const leader = await cluster.leader();
    for (let i = 0; i < 12; i++) await leader.propose(set(`k${i}`, String(i)));
    const taken = await leader.snapshot();
    const store = cluster.stores.get(leader.id)!;
    expect(taken.index).toBe(leader.status().appliedIndex);
    expect(store.snapshot().metadata).toMatchObject({ index: taken.index, term: taken.term });
    expect(leader.status().snapshotIndex).toBe(taken.index);
    // Nothing applied since: the same snapshot, not a new one.
    expect(await leader.snapshot()).toEqual(taken);
    await leader.stop();
    await expect(leader.snapshot()).rejects.toMatchObject({ code: 'ERR_NODE_STOPPED' });
  });

  it('restarts from the same MemoryLogStore: restores the snapshot, then replays the log', async () => {
    cluster = new TestCluster([1, 2, 3], { snapshot: { everyEntries: 10, keepEntries: 2 } }).startAll();
    const leader = await cluster.leader();
    for (let i = 0; i < 25; i++) await leader.propose(set(`k${i}`, String(i)));
    const victim = cluster.running().find((n) => n !== leader)!;
    const victimSm = cluster.sms.get(victim.id)!;
    await waitFor(() => victimSm.data.size === 25, { what: 'victim caught up' });
    await waitFor(() => cluster!.stores.get(victim.id)!.snapshot().metadata.index > 0, { what: 'victim snapshot' });
    await victim.stop();
    const store = cluster.stores.get(victim.id)!;
    const snapIndex = store.snapshot().metadata.index;
    expect(snapIndex).toBeGreaterThan(0);

    const restarted = cluster.start(victim.id);
    const sm = cluster.sms.get(victim.id)!;
    await waitFor(() => sm.data.size === 25, { what: 'restored state' });
    expect(sm.restoredSnapshots).toBe(1);
    // Only the entries after the snapshot were applied again.
    expect(sm.appliedIndexes.every((i) => i > snapIndex)).toBe(true);
    for (let i = 0; i < 25; i++) expect(sm.data.get(`k${i}`)).toBe(String(i));
    // And it keeps up with new writes.
    await leader.propose(set('new', 'write'));
    await waitFor(() => sm.data.get('new') === 'write', { what: 'new write on the restarted node' });
    expect(restarted.membership().addresses.get(leader.id)).toBe(`mem://${leader.id}`);
  });

  it('restarts a whole cluster without snapshots by replaying the log', async () => {
    cluster = new TestCluster([1, 2, 3], { snapshot: false }).startAll();
    const leader = await cluster.leader();
    for (let i = 0; i < 5; i++) await leader.propose(set(`k${i}`, String(i)));
    await cluster.stopAll();
    for (const id of [1, 2, 3]) cluster.start(id);
    const again = await cluster.leader();
    expect(await again.propose(set('k0', 'x'))).toBe('0');
  });

  it('catches up a lagging follower with a snapshot after compaction', async () => {
    cluster = new TestCluster([1, 2, 3], { snapshot: { everyEntries: 5, keepEntries: 0 } }).startAll();
    const leader = await cluster.leader();
    await leader.propose(set('before', 'partition'));
    const lagging = cluster.running().find((n) => n !== leader)!;
    const installed: number[] = [];
    lagging.on('snapshotInstalled', (e) => installed.push(e.index));
    cluster.network.isolate(lagging.id);
    for (let i = 0; i < 30; i++) await leader.propose(set(`k${i}`, String(i)));
    const leaderStore = cluster.stores.get(leader.id)!;
    await waitFor(() => leaderStore.firstIndex() > cluster!.stores.get(lagging.id)!.lastIndex() + 1, { what: 'compaction past the follower' });
    cluster.network.heal();
    const sm = cluster.sms.get(lagging.id)!;
    await waitFor(() => sm.data.size === 31, { what: 'snapshot catch-up' });
    expect(installed.length).toBeGreaterThanOrEqual(1);
    expect(sm.restoredSnapshots).toBeGreaterThanOrEqual(1);
    expect(cluster.stores.get(lagging.id)!.snapshot().metadata.index).toBeGreaterThan(0);
    // The follower answers reads and the leader sees it in replicate state again.
    expect(await lagging.read((s) => s.data.get('k29'))).toBe('29');
    await waitFor(() => leader.status().progress[lagging.id]?.state === 'replicate', { what: 'replicate state' });
  });
});
