import { type EtcdCluster, startEtcdCluster } from 'pontoon-kv/testing';
import { afterAll, beforeAll, describe } from 'vitest';
import { etcd3Cases, LONG } from './etcd3-cases.js';

/** The lock and the election over the etcd3 npm client against three real etcd 3.4 processes: the etcd3 parts run unchanged on etcd. */

let cluster: EtcdCluster;

beforeAll(async () => {
  cluster = await startEtcdCluster({ size: 3, extraFlags: ['--heartbeat-interval=50', '--election-timeout=500'] });
}, LONG);

afterAll(async () => {
  await cluster?.stop();
}, LONG);

describe('etcd3 Lock and Election against real etcd 3.4', () => {
  etcd3Cases(() => cluster.endpoints);
});
