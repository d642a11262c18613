import { type EtcdCluster, startEtcdCluster } from 'pontoon-kv/testing';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { runServiceRegistryDemo } from '../registry-demo.js';
import { checkDemoReport } from './demo-report-check.js';

/** The same demo against a real etcd 3.4 cluster: the example needs nothing of pontoon-kv's own. */

/**
 * Longer than the demo's 3 s: the test checks that a crashed instance's key outlives the crash,
 * which a loaded machine could make a close call with a lease renewed at most TTL/3 ago.
 */
const TTL_SECONDS = 5;

let cluster: EtcdCluster;

beforeAll(async () => {
  cluster = await startEtcdCluster({ size: 3 });
}, 120_000);

afterAll(async () => {
  await cluster?.stop();
});

describe('service registry on etcd 3.4', () => {
  it('the demo: a round-robin client keeps up while instances start, stop and crash', { timeout: 300_000 }, async () => {
    const lines: string[] = [];
    const report = await runServiceRegistryDemo({ endpoints: cluster.endpoints, print: (l) => lines.push(l), stepTimeoutMs: 90_000, ttlSeconds: TTL_SECONDS });
    checkDemoReport(report, lines);
  });
});
