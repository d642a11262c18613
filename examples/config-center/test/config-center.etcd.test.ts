import { type EtcdCluster, startEtcdCluster } from 'pontoon-kv/testing';
import { afterAll, beforeAll, describe } from 'vitest';
import { configCenterCases } from './config-center-cases.js';

/** The same cases against a real etcd 3.4 cluster: the example needs nothing of pontoon-kv's own. */

let cluster: EtcdCluster;

beforeAll(async () => {
  cluster = await startEtcdCluster({ size: 3 });
}, 120_000);

afterAll(async () => {
  await cluster?.stop();
});

describe('config center on etcd 3.4', () => {
  configCenterCases(() => cluster.endpoints);
});
