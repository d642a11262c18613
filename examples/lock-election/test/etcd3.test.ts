import { type PontoonKvCluster, startPontoonKvCluster } from 'pontoon-kv/testing';
import { afterAll, beforeAll, describe } from 'vitest';
import { etcd3Cases, LONG } from './etcd3-cases.js';

/** The lock and the election over the etcd3 npm client against three pontoon-kv processes. */

let cluster: PontoonKvCluster;

beforeAll(async () => {
  cluster = await startPontoonKvCluster({ extraFlags: ['--heartbeat-interval=50', '--election-timeout=500'] });
}, LONG);

afterAll(async () => {
  await cluster?.stop();
}, LONG);

describe('etcd3 Lock and Election against pontoon-kv', () => {
  etcd3Cases(() => cluster.endpoints);
});
