import { CommandLineError } from '../errors.js';
import { parseEtcdUrlsMap } from '../etcd-urls.js';
import { type InitialClusterIds, initialClusterIds } from '../member-id.js';

/** What a first start (or a snapshot restore) bootstraps from. */
export interface BootstrapFlags {
  readonly name: string;
  readonly initialCluster: string;
  readonly initialClusterToken: string;
  readonly initialAdvertisePeerUrls: readonly string[];
  readonly initialClusterState: 'new' | 'existing';
}

/**
 * etcd's checks of `--initial-cluster` before a member bootstraps (etcd's VerifyBootstrap for a
 * new cluster and a snapshot restore, VerifyJoinExisting for `existing`), then the member and
 * cluster ids it makes. For a new cluster, this member's `--initial-advertise-peer-urls` must be
 * exactly its URLs in `--initial-cluster`.
 *
 * etcd also accepts URLs that differ in text but resolve to the same addresses
 * (`localhost` vs `127.0.0.1`) by resolving host names; this check compares the text only, so
 * such a pair is refused here with a message that says so.
 */
export function verifyBootstrap(flags: BootstrapFlags): InitialClusterIds {
  let map: Map<string, string[]>;
  try {
    map = parseEtcdUrlsMap(flags.initialCluster);
  } catch (e) {
    throw new CommandLineError(`--initial-cluster: ${(e as Error).message}`, '--initial-cluster');
  }
  const own = map.get(flags.name);
  if (own === undefined) {
    throw new CommandLineError(
      `couldn't find local name "${flags.name}" in the initial cluster configuration`,
      '--initial-cluster',
    );
  }
  if (flags.initialClusterState === 'new') {
    if (map.size === 0) throw new CommandLineError('initial cluster unset and no discovery URL found', '--initial-cluster');
    const advertised = [...flags.initialAdvertisePeerUrls].sort();
    const missingFromAdvertised = own.filter((u) => !advertised.includes(u));
    if (missingFromAdvertised.length > 0) {
      throw new CommandLineError(
        `--initial-cluster has ${missingFromAdvertised.map((u) => `${flags.name}=${u}`).join(',')} but missing from ` +
          `--initial-advertise-peer-urls=${advertised.join(',')} (URLs are compared as text, without resolving host names)`,
        '--initial-advertise-peer-urls',
      );
    }
    const missingFromCluster = advertised.filter((u) => !own.includes(u));
    if (missingFromCluster.length > 0) {
      throw new CommandLineError(
        `--initial-advertise-peer-urls has ${missingFromCluster.join(',')} but missing from ` +
          `--initial-cluster=${advertised.map((u) => `${flags.name}=${u}`).join(',')}`,
        '--initial-advertise-peer-urls',
      );
    }
  }
  const seen = new Set<string>();
  for (const urls of map.values()) {
    for (const u of urls) {
      if (seen.has(u)) {
        throw new CommandLineError(`initial cluster ${urlsMapString(map)} has duplicate url`, '--initial-cluster');
      }
      seen.add(u);
    }
  }
  return initialClusterIds(flags.initialCluster, flags.initialClusterToken);
}

/** etcd's URLsMap.String(): `name=url` pairs, sorted. */
function urlsMapString(map: Map<string, string[]>): string {
  return [...map]
    .flatMap(([name, urls]) => urls.map((u) => `${name}=${u}`))
    .sort()
    .join(',');
}
