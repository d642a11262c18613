import { DataDirMismatchError } from './errors.js';
import { formatMemberId } from './member-id.js';

/** Who a data directory belongs to: written once when the member bootstraps, read on restart. */
export interface DataDirIdentity {
  readonly name: string;
  readonly memberId: bigint;
  readonly clusterId: bigint;
  /** The `--initial-cluster-token` the member bootstrapped (or restored, or joined) with. */
  readonly clusterToken: string;
}

/** The flags a restart is checked against. */
export interface RestartFlags {
  readonly dataDir: string;
  readonly name: string;
  readonly initialClusterToken: string;
}

/**
 * Whether a member may restart on a data directory that already holds `stored`. As in etcd,
 * a restart keeps the stored member and cluster ids and ignores `--initial-cluster` and
 * `--initial-cluster-state` (membership lives in the data, and changes after bootstrap). Unlike
 * etcd, which would run member a's data as member b, a different `--name` or
 * `--initial-cluster-token` than the data was made with is refused: that is another member's or
 * another cluster's data. Throws DataDirMismatchError with what to do instead.
 */
export function checkDataDirIdentity(stored: DataDirIdentity, flags: RestartFlags): void {
  const whose = `member "${stored.name}" (id ${formatMemberId(stored.memberId)}) of cluster ${formatMemberId(stored.clusterId)}`;
  if (stored.name !== flags.name) {
    throw new DataDirMismatchError(
      flags.dataDir,
      'member',
      `data dir ${flags.dataDir} belongs to ${whose}, not to --name "${flags.name}": ` +
        `start with --name "${stored.name}", or give this member its own --data-dir`,
    );
  }
  if (stored.clusterToken !== flags.initialClusterToken) {
    throw new DataDirMismatchError(
      flags.dataDir,
      'cluster',
      `data dir ${flags.dataDir} belongs to ${whose}, bootstrapped with --initial-cluster-token ` +
        `"${stored.clusterToken}", not "${flags.initialClusterToken}": start with the token the cluster ` +
        'was made with, or give this member an empty --data-dir to join another cluster',
    );
  }
}
