import fs from 'node:fs';
import path from 'node:path';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { MessageType, ProposalOutcomeUnknownError } from '../../src/index.js';
import type { RaftMetrics } from '../../src/index.js';
import { PrometheusRaftMetrics } from '../../src/prometheus/index.js';
import { TestCluster, set, waitFor } from './support.js';

let cluster: TestCluster | undefined;
afterEach(async () => {
  await cluster?.stopAll();
  cluster = undefined;
});

/** The value of a metric (with these labels), or of a histogram's count/sum. */
async function value(registry: Registry, name: string, labels: Record<string, string> = {}, suffix = ''): Promise<number> {
  const metrics = await registry.getMetricsAsJSON();
  const m = metrics.find((x) => x.name === name);
  if (m === undefined) throw new Error(`no metric ${name}`);
  const v = m.values.find(
    (x) => (suffix === '' || (x as { metricName?: string }).metricName === `${name}${suffix}`) && Object.entries(labels).every(([k, l]) => x.labels[k] === l),
  );
  return v?.value ?? 0;
}

describe('RaftNode metrics', () => {
  it('reports through the prom-client adapter under etcd names', async () => {
    const registries = new Map<number, Registry>();
    cluster = new TestCluster([1, 2, 3], { snapshot: { everyEntries: 5, keepEntries: 0 } });
    for (const id of [1, 2]) {
      const registry = new Registry();
      registries.set(id, registry);
      cluster.start(id, { metrics: new PrometheusRaftMetrics({ registry }) });
    }
    const leader = await cluster.leader();
    const follower = cluster.running().find((n) => n !== leader)!;
    const lr = registries.get(leader.id)!;
    const fr = registries.get(follower.id)!;
    for (let i = 0; i < 12; i++) await leader.propose(set('k', String(i)));
    await waitFor(() => follower.status().appliedIndex === leader.status().appliedIndex, { what: 'follower caught up' });

    expect(await value(lr, 'etcd_server_has_leader')).toBe(1);
    expect(await value(lr, 'etcd_server_is_leader')).toBe(1);
    expect(await value(fr, 'etcd_server_is_leader')).toBe(0);
    expect(await value(lr, 'etcd_server_leader_changes_seen_total')).toBe(1);
    const st = leader.status();
    expect(await value(lr, 'etcd_server_proposals_applied_total')).toBe(st.appliedIndex);
    expect(await value(lr, 'etcd_server_proposals_committed_total')).toBe(st.commitIndex);
    expect(await value(lr, 'etcd_server_proposals_pending')).toBe(0);
    expect(await value(lr, 'pontoon_raft_proposal_duration_seconds', { outcome: 'applied' }, '_count')).toBe(12);
    expect(await value(lr, 'pontoon_raft_apply_duration_seconds', {}, '_count')).toBeGreaterThan(0);
    // Entries are durable writes: at least one per proposal batch, and the votes before.
    expect(await value(lr, 'etcd_disk_wal_fsync_duration_seconds', {}, '_count')).toBeGreaterThan(0);
    expect(await value(lr, 'etcd_debugging_snap_save_total_duration_seconds', {}, '_count')).toBeGreaterThan(0);
    expect(await value(lr, 'pontoon_raft_snapshot_size_bytes', { kind: 'taken' }, '_sum')).toBeGreaterThan(0);

    // Node 3 starts after the log was compacted: it catches up by a snapshot.
    const registry3 = new Registry();
    const late = cluster.start(3, { metrics: new PrometheusRaftMetrics({ registry: registry3 }) });
    await waitFor(() => late.status().appliedIndex >= st.appliedIndex, { what: 'node 3 caught up' });
    expect(await value(registry3, 'pontoon_raft_snapshot_size_bytes', { kind: 'installed' }, '_count')).toBe(1);
    expect(await value(registry3, 'pontoon_raft_snapshot_install_duration_seconds', {}, '_count')).toBe(1);
    expect(await value(registry3, 'etcd_server_has_leader')).toBe(1);

    // A forward that never reaches the leader: counted as failed, outcome unknown.
    cluster.network.setFilter((m) => m.type !== MessageType.MsgProp);
    const err = await follower.propose(set('lost', '1'), { timeoutMs: 50 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProposalOutcomeUnknownError);
    expect(await value(fr, 'etcd_server_proposals_failed_total')).toBe(1);
    expect(await value(fr, 'pontoon_raft_proposal_duration_seconds', { outcome: 'unknown' }, '_count')).toBe(1);
    expect(await value(fr, 'etcd_server_proposals_pending')).toBe(0);
    expect(await lr.metrics()).toContain('etcd_server_leader_changes_seen_total 1');
  });

  it('a metrics hook that throws is logged and the node goes on', async () => {
    const warnings: string[] = [];
    const throwing: RaftMetrics = {
      proposalSettled: () => {
        throw new Error('broken hook');
      },
      proposalsPending: () => {},
      entriesApplied: () => {
        throw new Error('broken hook');
      },
      indexes: () => {},
      logSynced: () => {},
      leaderChanged: () => {},
      snapshotTaken: () => {},
      snapshotInstalled: () => {},
    };
    cluster = new TestCluster([1]);
    const node = cluster.start(1, {
      metrics: throwing,
      logger: { debug: () => {}, info: () => {}, error: () => {}, warn: (msg: string) => warnings.push(msg) },
    });
    await cluster.leader();
    expect(await node.propose(set('a', '1'))).toBeNull();
    expect(await node.propose(set('a', '2'))).toBe('1');
    await waitFor(() => warnings.some((w) => w.includes('proposalSettled threw')), { what: 'the warning' });
    expect(warnings.some((w) => w.includes('entriesApplied threw'))).toBe(true);
    expect(node.isStopped).toBe(false);
  });

  it('nothing outside src/prometheus imports prom-client', () => {
    const src = path.resolve(import.meta.dirname, '../../src');
    const offenders: string[] = [];
    const walk = (dir: string): void => {
      for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
        const p = path.join(dir, e.name);
        if (e.isDirectory()) {
          if (p !== path.join(src, 'prometheus')) walk(p);
        } else if (/from 'prom-client'|import\('prom-client'\)|require\('prom-client'\)/.test(fs.readFileSync(p, 'utf8'))) {
          offenders.push(path.relative(src, p));
        }
      }
    };
    walk(src);
    expect(offenders).toEqual([]);
  });
});
