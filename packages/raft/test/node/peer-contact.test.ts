import { describe, expect, it } from 'vitest';
import { TestCluster, fastTiming, waitFor } from './support.js';

describe('RaftNode.peerContact(): unbroken contact with each peer', () => {
  it('lists the followers on the leader while they answer, drops a stopped one, restarts its run when it is back', async () => {
    const cluster = new TestCluster([1, 2, 3]).startAll();
    try {
      const leader = await cluster.leader();
      const [a, b] = [1, 2, 3].filter((id) => id !== leader.id) as [number, number];
      // Both followers answer every heartbeat: both listed, their runs growing.
      const grown = 4 * fastTiming.electionTicks * fastTiming.tickMs;
      const before = await waitFor(() => {
        const c = leader.peerContact();
        return (c[a] ?? 0) >= grown && (c[b] ?? 0) >= grown ? c : undefined;
      }, { what: 'both followers in contact for a while' });
      expect(Object.keys(before).map(Number).sort()).toEqual([a, b].sort());
      expect(before[leader.id]).toBeUndefined();

      await cluster.node(b).stop();
      // Silent past an election timeout: no longer in contact; the other one still is.
      const after = await waitFor(() => {
        const c = leader.peerContact();
        return c[b] === undefined ? c : undefined;
      }, { what: 'the stopped follower out of contact' });
      expect(after[a]).toBeGreaterThanOrEqual(before[a]!);

      // Back on its store: a new run, shorter than the other follower's unbroken one.
      cluster.start(b);
      const back = await waitFor(() => {
        const c = leader.peerContact();
        return leader.isLeader && c[b] !== undefined ? c : undefined;
      }, { what: 'the restarted follower in contact again' });
      expect(back[b]!).toBeLessThan(back[a]!);
    } finally {
      await cluster.stopAll();
    }
  }, 30_000);
});
