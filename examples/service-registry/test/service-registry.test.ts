import { Etcd3 } from 'etcd3';
import { type PontoonKvCluster, startPontoonKvCluster } from 'pontoon-kv/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { register } from '../registration.js';
import { runServiceRegistryDemo } from '../registry-demo.js';
import { type DiscoveryUpdate, ServiceDiscovery } from '../service-discovery.js';
import { checkDemoReport } from './demo-report-check.js';

/** The service-registry example against a 3-member pontoon-kv cluster of processes. */

/**
 * Longer than the demo's 3 s: the test checks that a crashed instance's key outlives the crash,
 * which a loaded machine could make a close call with a lease renewed at most TTL/3 ago.
 */
const TTL_SECONDS = 5;

let cluster: PontoonKvCluster;

beforeAll(async () => {
  cluster = await startPontoonKvCluster({ size: 3 });
}, 180_000);

afterAll(async () => {
  await cluster?.stop();
});

describe('service registry on pontoon-kv', () => {
  it('the demo: a round-robin client keeps up while instances start, stop and crash', { timeout: 300_000 }, async () => {
    const lines: string[] = [];
    const report = await runServiceRegistryDemo({ endpoints: cluster.endpoints, print: (l) => lines.push(l), stepTimeoutMs: 90_000, ttlSeconds: TTL_SECONDS });
    checkDemoReport(report, lines);
  });

  it('discovery skips a value that is not an endpoint, and follows its member restarting over a compaction', { timeout: 300_000 }, async () => {
    // Discovery reads through member 0 only, so that stopping it breaks its watch.
    const viaMember0 = new Etcd3({ hosts: cluster.endpoints[0]! });
    const viaMember1 = new Etcd3({ hosts: cluster.endpoints[1]! });
    const updates: DiscoveryUpdate[] = [];
    try {
      await viaMember1.put('/services/restart/127.0.0.1:1001').value(JSON.stringify({ Addr: '127.0.0.1:1001' }));
      await viaMember1.put('/services/restart/garbage').value('not an endpoint');
      const discovery = await ServiceDiscovery.start(viaMember0, '/services/restart/', { onUpdate: (u) => updates.push(u) });
      try {
        expect([...discovery.current().instances.values()]).toEqual(['127.0.0.1:1001']);

        await cluster.stopMember(0);
        await viaMember1.delete().key('/services/restart/127.0.0.1:1001');
        await viaMember1.put('/services/restart/127.0.0.1:1002').value(JSON.stringify({ Addr: '127.0.0.1:1002' }));
        // Compacting past the revision discovery is at: a watch from there can be refused.
        const last = await viaMember1.put('/services/other').value('x');
        await viaMember1.kv.compact({ revision: last.header.revision, physical: true });
        await cluster.restartMember(0);

        // Member 0 may serve the resumed watch before it applied the compaction (then the watch
        // catches up) or after (then discovery reads again): either way, no change is missed.
        await waitFor(() => discovery.current().instances.has('/services/restart/127.0.0.1:1002'), 120_000);
        expect([...discovery.current().instances.values()]).toEqual(['127.0.0.1:1002']);
        expect(updates.at(-1)!.instances).toEqual(discovery.current().instances);
      } finally {
        await discovery.close();
      }
    } finally {
      viaMember0.close();
      viaMember1.close();
    }
  });
});

describe('registration on pontoon-kv', () => {
  it('an instance whose lease is revoked behind its back registers again under a new lease', { timeout: 120_000 }, async () => {
    const instanceClient = new Etcd3({ hosts: [...cluster.endpoints] });
    const operator = new Etcd3({ hosts: [...cluster.endpoints] });
    const reregistered: string[] = [];
    try {
      const registration = await register(instanceClient, 'revoked', '127.0.0.1:2001', 3, { reregistered: (lease) => reregistered.push(lease) });
      const firstLease = await registration.leaseId();
      await operator.leaseClient.leaseRevoke({ ID: firstLease });
      expect(await operator.get(registration.key).string()).toBeNull();
      // The next keepalive is answered with TTL 0: the lease is gone, and the instance, still
      // alive, puts its key again under a new one.
      await waitFor(() => reregistered.length > 0, 60_000);
      const secondLease = await registration.leaseId();
      expect(secondLease).not.toBe(firstLease);
      expect(reregistered).toEqual([secondLease]);
      const key = await operator.get(registration.key).exec();
      expect(key.kvs.map((kv) => [kv.value.toString(), kv.lease])).toEqual([[JSON.stringify({ Addr: '127.0.0.1:2001' }), secondLease]]);
      await registration.deregister();
      expect(await operator.get(registration.key).string()).toBeNull();
    } finally {
      instanceClient.close();
      operator.close();
    }
  });
});

async function waitFor(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
