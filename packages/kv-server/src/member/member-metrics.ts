/**
 * A member's Prometheus registry, under etcd's metric names where pontoon-kv has the same
 * measure: Raft's (through RaftNode's metrics hook and `@pontoon/raft/prometheus`), the disk
 * latencies, the store's size and revision, the gRPC server's counters, and prom-client's
 * process metrics.
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import type { KvMember } from '@pontoon/kv';
import type { ProposalOutcome, RaftMetrics } from '@pontoon/raft';
import { PrometheusRaftMetrics } from '@pontoon/raft/prometheus';
import { Gauge, Histogram, Registry, collectDefaultMetrics, exponentialBuckets } from 'prom-client';
import { GrpcServerMetrics } from '../server/grpc-metrics.js';
import { ETCD_VERSION } from '../server/maintenance-service.js';

/** etcd's buckets for disk latencies (backend commit): 1 ms to about 8 s. */
const DISK_SECONDS = exponentialBuckets(0.001, 2, 14);

/** The registry and the hooks that feed it; the store's gauges once the member is open. */
export class MemberMetrics {
  readonly registry = new Registry();
  /** For RaftNode (`raft.metrics` of openKvMember). */
  readonly raft: RaftMetrics;
  /** For the gRPC server. */
  readonly grpc: GrpcServerMetrics;

  constructor() {
    collectDefaultMetrics({ register: this.registry });
    this.raft = new StoreCommitMetrics(new PrometheusRaftMetrics({ registry: this.registry }), this.registry);
    this.grpc = new GrpcServerMetrics(this.registry);
    new Gauge({ name: 'etcd_server_version', help: 'Which version is running. 1 for \'server_version\' label with current version.', labelNames: ['server_version'], registers: [this.registry] })
      .set({ server_version: ETCD_VERSION }, 1);
    new Gauge({ name: 'etcd_cluster_version', help: 'Which version is running. 1 for \'cluster_version\' label with current cluster version', labelNames: ['cluster_version'], registers: [this.registry] })
      .set({ cluster_version: '3.4' }, 1);
  }

  /** Adds the gauges read from the open member and its store directory. */
  observe(member: KvMember, storeDir: string): void {
    const gauge = (name: string, help: string, read: () => number): void => {
      new Gauge({ name, help, registers: [this.registry], collect() { this.set(read()); } });
    };
    gauge('etcd_mvcc_db_total_size_in_bytes', 'Total size of the underlying database physically allocated in bytes.', () => fileBytes(storeDir));
    gauge('etcd_debugging_mvcc_current_revision', 'The current revision of store.', () => member.revision);
  }
}

/**
 * etcd's `etcd_disk_backend_commit_duration_seconds` beside RaftNode's metrics. pontoon-kv applies
 * each batch of committed entries in one SQLite transaction, which ends in the store's commit
 * (etcd's backend commits its batched writes the same way, on its own schedule): the batch's
 * apply time is that transaction from its first write to its commit.
 */
class StoreCommitMetrics implements RaftMetrics {
  private readonly commit: Histogram;

  constructor(
    private readonly inner: RaftMetrics,
    registry: Registry,
  ) {
    this.commit = new Histogram({
      name: 'etcd_disk_backend_commit_duration_seconds',
      help: 'The latency distributions of commit called by backend.',
      buckets: DISK_SECONDS,
      registers: [registry],
    });
  }

  proposalSettled(seconds: number, outcome: ProposalOutcome): void {
    this.inner.proposalSettled(seconds, outcome);
  }

  proposalsPending(count: number): void {
    this.inner.proposalsPending(count);
  }

  entriesApplied(entries: number, seconds: number): void {
    this.inner.entriesApplied(entries, seconds);
    if (entries > 0) this.commit.observe(seconds);
  }

  indexes(committed: number, applied: number): void {
    this.inner.indexes(committed, applied);
  }

  logSynced(seconds: number): void {
    this.inner.logSynced(seconds);
  }

  leaderChanged(leaderId: number | undefined, isLeader: boolean): void {
    this.inner.leaderChanged(leaderId, isLeader);
  }

  snapshotTaken(bytes: number, seconds: number): void {
    this.inner.snapshotTaken(bytes, seconds);
  }

  snapshotInstalled(bytes: number, seconds: number): void {
    this.inner.snapshotInstalled(bytes, seconds);
  }
}

/** The store's size on disk: the database and its write-ahead file. */
function fileBytes(storeDir: string): number {
  let total = 0;
  for (const f of ['kv.db', 'kv.db-wal']) {
    try {
      total += statSync(join(storeDir, f)).size;
    } catch {
      // absent: counts as 0
    }
  }
  return total;
}

