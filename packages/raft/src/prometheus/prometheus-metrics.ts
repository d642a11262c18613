/**
 * RaftMetrics for prom-client, under etcd's metric names where etcd has the metric (so that
 * dashboards and alerts written for etcd work on Pontoon's /metrics), and `pontoon_raft_*`
 * names for the rest.
 */
import { Counter, Gauge, Histogram, exponentialBuckets, register as globalRegistry } from 'prom-client';
import type { Registry } from 'prom-client';
import type { ProposalOutcome, RaftMetrics } from '../node/metrics.js';

/** Options of PrometheusRaftMetrics. */
export interface PrometheusRaftMetricsOptions {
  /**
   * Where the metrics are registered. Default: prom-client's global registry. One instance per
   * registry: a second one on the same registry throws, as prom-client refuses a name twice.
   */
  registry?: Registry;
}

/** etcd's buckets for disk latencies: 1 ms to about 8 s. */
const DISK_SECONDS = exponentialBuckets(0.001, 2, 14);
/** Proposal and apply latencies: 0.1 ms to about 13 s. */
const LATENCY_SECONDS = exponentialBuckets(0.0001, 2, 18);
/** Snapshot sizes: 1 KiB to 4 GiB. */
const SNAPSHOT_BYTES = exponentialBuckets(1024, 4, 12);

/**
 * Pass an instance as RaftNodeOptions.metrics. Metrics (etcd's name where etcd has one):
 *
 * - `etcd_server_has_leader`, `etcd_server_is_leader` (gauges, 0 or 1)
 * - `etcd_server_leader_changes_seen_total` (counter: a new leader became known)
 * - `etcd_server_proposals_committed_total`, `etcd_server_proposals_applied_total` (gauges:
 *   the commit index and the applied index, as etcd reports them)
 * - `etcd_server_proposals_pending` (gauge: proposals waiting for their outcome here)
 * - `etcd_server_proposals_failed_total` (counter: proposals that failed or whose outcome is
 *   unknown, as etcd counts its timeouts)
 * - `etcd_disk_wal_fsync_duration_seconds` (histogram: durable writes to the log store, issue
 *   to durable)
 * - `etcd_debugging_snap_save_total_duration_seconds` (histogram: taking a snapshot, capture to
 *   saved and compacted)
 * - `pontoon_raft_proposal_duration_seconds{outcome}` (histogram: propose() to settled, by
 *   outcome `applied`, `failed`, `unknown`)
 * - `pontoon_raft_apply_duration_seconds` (histogram: applying one batch of committed entries)
 * - `pontoon_raft_snapshot_size_bytes{kind}` (histogram: snapshots `taken` and `installed`)
 * - `pontoon_raft_snapshot_install_duration_seconds` (histogram: restoring a received snapshot)
 */
export class PrometheusRaftMetrics implements RaftMetrics {
  private readonly hasLeader: Gauge;
  private readonly isLeader: Gauge;
  private readonly leaderChanges: Counter;
  private readonly committed: Gauge;
  private readonly applied: Gauge;
  private readonly pending: Gauge;
  private readonly failed: Counter;
  private readonly fsync: Histogram;
  private readonly snapshotSave: Histogram;
  private readonly proposalDuration: Histogram<'outcome'>;
  private readonly applyDuration: Histogram;
  private readonly snapshotSize: Histogram<'kind'>;
  private readonly snapshotInstall: Histogram;
  private leaderId: number | undefined;

  constructor(options: PrometheusRaftMetricsOptions = {}) {
    const registers = [options.registry ?? globalRegistry];
    this.hasLeader = new Gauge({ name: 'etcd_server_has_leader', help: 'Whether or not a leader exists. 1 is existence, 0 is not.', registers });
    this.isLeader = new Gauge({ name: 'etcd_server_is_leader', help: 'Whether or not this member is a leader. 1 if is, 0 otherwise.', registers });
    this.leaderChanges = new Counter({ name: 'etcd_server_leader_changes_seen_total', help: 'The number of leader changes seen.', registers });
    this.committed = new Gauge({ name: 'etcd_server_proposals_committed_total', help: 'The total number of consensus proposals committed.', registers });
    this.applied = new Gauge({ name: 'etcd_server_proposals_applied_total', help: 'The total number of consensus proposals applied.', registers });
    this.pending = new Gauge({ name: 'etcd_server_proposals_pending', help: 'The current number of pending proposals to commit.', registers });
    this.failed = new Counter({ name: 'etcd_server_proposals_failed_total', help: 'The total number of failed proposals seen.', registers });
    this.fsync = new Histogram({
      name: 'etcd_disk_wal_fsync_duration_seconds',
      help: 'The latency distributions of fsync called by WAL.',
      buckets: DISK_SECONDS,
      registers,
    });
    this.snapshotSave = new Histogram({
      name: 'etcd_debugging_snap_save_total_duration_seconds',
      help: 'The total latency distributions of save called by snapshot.',
      buckets: DISK_SECONDS,
      registers,
    });
    this.proposalDuration = new Histogram({
      name: 'pontoon_raft_proposal_duration_seconds',
      help: 'Latency from propose() to the outcome, by outcome (applied, failed, unknown).',
      labelNames: ['outcome'],
      buckets: LATENCY_SECONDS,
      registers,
    });
    this.applyDuration = new Histogram({
      name: 'pontoon_raft_apply_duration_seconds',
      help: 'Latency of applying one batch of committed entries to the state machine.',
      buckets: LATENCY_SECONDS,
      registers,
    });
    this.snapshotSize = new Histogram({
      name: 'pontoon_raft_snapshot_size_bytes',
      help: 'Sizes of the snapshots taken here and installed from the leader, by kind.',
      labelNames: ['kind'],
      buckets: SNAPSHOT_BYTES,
      registers,
    });
    this.snapshotInstall = new Histogram({
      name: 'pontoon_raft_snapshot_install_duration_seconds',
      help: 'Latency of restoring the state machine from a snapshot sent by the leader.',
      buckets: DISK_SECONDS,
      registers,
    });
    this.hasLeader.set(0);
    this.isLeader.set(0);
  }

  proposalSettled(seconds: number, outcome: ProposalOutcome): void {
    this.proposalDuration.observe({ outcome }, seconds);
    if (outcome !== 'applied') this.failed.inc();
  }

  proposalsPending(count: number): void {
    this.pending.set(count);
  }

  entriesApplied(_entries: number, seconds: number): void {
    this.applyDuration.observe(seconds);
  }

  indexes(committed: number, applied: number): void {
    this.committed.set(committed);
    this.applied.set(applied);
  }

  logSynced(seconds: number): void {
    this.fsync.observe(seconds);
  }

  leaderChanged(leaderId: number | undefined, isLeader: boolean): void {
    // As etcd: a change is counted when a leader becomes known that differs from the last one.
    if (leaderId !== undefined && leaderId !== this.leaderId) this.leaderChanges.inc();
    if (leaderId !== undefined) this.leaderId = leaderId;
    this.hasLeader.set(leaderId === undefined ? 0 : 1);
    this.isLeader.set(isLeader ? 1 : 0);
  }

  snapshotTaken(bytes: number, seconds: number): void {
    this.snapshotSize.observe({ kind: 'taken' }, bytes);
    this.snapshotSave.observe(seconds);
  }

  snapshotInstalled(bytes: number, seconds: number): void {
    this.snapshotSize.observe({ kind: 'installed' }, bytes);
    this.snapshotInstall.observe(seconds);
  }
}
