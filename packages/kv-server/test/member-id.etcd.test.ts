import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { computeAddedMemberId, initialClusterIds } from '../src/member-id.js';
import { type EtcdCluster, freePort, parseEtcdctlJson, runEtcdctl, startEtcdCluster } from '../src/testing/index.js';

interface MemberListJson {
  header: { cluster_id: string; member_id: string };
  members: { ID: string; name: string; peerURLs: string[]; isLearner?: boolean }[];
}

async function memberList(cluster: EtcdCluster): Promise<MemberListJson> {
  const r = await runEtcdctl(cluster.endpoints, ['member', 'list', '-w', 'json']);
  expect(r.exitCode, r.stderr).toBe(0);
  return parseEtcdctlJson(r.stdout) as MemberListJson;
}

describe('member and cluster ids against etcd 3.4', () => {
  let cluster: EtcdCluster;
  beforeAll(async () => {
    cluster = await startEtcdCluster({
      size: 3,
      clusterToken: 'pontoon-ids-token',
      names: ['infra0', 'infra1', 'infra2'],
      // etcd refuses adds in the first 5 s after start ("etcdserver: unhealthy cluster").
      extraFlags: ['--strict-reconfig-check=false'],
    });
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it('a 3-member cluster: the same member ids and cluster id as etcd', async () => {
    const listed = await memberList(cluster);
    const ours = initialClusterIds(cluster.initialCluster, 'pontoon-ids-token');
    expect(listed.members.map((m) => [m.name, BigInt(m.ID)]).sort()).toEqual(ours.members.map((m) => [m.name, m.id]).sort());
    expect(BigInt(listed.header.cluster_id)).toBe(ours.clusterId);
  });

  it('a member added at runtime: the peer URL and the second of the add (no token)', async () => {
    const peerUrl = `http://127.0.0.1:${await freePort()}`;
    const before = Math.floor(Date.now() / 1000);
    const r = await runEtcdctl(cluster.endpoints, ['member', 'add', 'late', `--peer-urls=${peerUrl}`, '--learner', '-w', 'json']);
    const after = Math.ceil(Date.now() / 1000);
    expect(r.exitCode, r.stderr).toBe(0);
    const added = BigInt((parseEtcdctlJson(r.stdout) as { member: { ID: string } }).member.ID);
    const candidates: bigint[] = [];
    for (let t = before - 1; t <= after + 1; t++) candidates.push(computeAddedMemberId([peerUrl], t));
    expect(candidates).toContain(added);
    const rm = await runEtcdctl(cluster.endpoints, ['member', 'remove', added.toString(16)]);
    expect(rm.exitCode, rm.stderr).toBe(0);
  });
});

describe('a one-member cluster with etcd\'s default token', () => {
  it('has the ids we derive', async () => {
    const cluster = await startEtcdCluster({ size: 1, names: ['default'] });
    try {
      const listed = await memberList(cluster);
      const ours = initialClusterIds(cluster.initialCluster, 'etcd-cluster');
      expect(listed.members.map((m) => BigInt(m.ID))).toEqual([ours.members[0]!.id]);
      expect(BigInt(listed.header.member_id)).toBe(ours.members[0]!.id);
      expect(BigInt(listed.header.cluster_id)).toBe(ours.clusterId);
    } finally {
      await cluster.stop();
    }
  });
});
