import { isIP } from 'node:net';
import { CommandLineError } from '../errors.js';
import { parseEtcdUrlList } from '../etcd-urls.js';
import { etcdFlag, ETCD_FLAGS } from './etcd-flags.js';
import type { EtcdArgs } from './parse-etcd-args.js';
import { parseGoBool, parseGoDuration, parseGoInt, parseGoInt64, parseGoUint } from './go-values.js';

/** TLS settings of one side (clients or peers), as etcd's flags give them. */
export interface TlsFlags {
  readonly certFile: string;
  readonly keyFile: string;
  readonly trustedCaFile: string;
  /** Require and verify the other side's certificate against trustedCaFile. */
  readonly clientCertAuth: boolean;
  /** Make a self-signed certificate at start when no certFile/keyFile is given. */
  readonly autoTls: boolean;
}

/** The log levels etcd 3.4 accepts. */
export type EtcdLogLevel = 'debug' | 'info' | 'warn' | 'error' | 'panic' | 'fatal';

/**
 * A member's configuration from etcd's flags, with etcd's defaults applied and etcd's checks
 * passed. URL lists are sorted and in etcd's printed form.
 */
export interface EtcdServerConfig {
  readonly name: string;
  /** `--data-dir`, or `${name}.etcd` as etcd defaults it. */
  readonly dataDir: string;
  readonly listenPeerUrls: readonly string[];
  readonly listenClientUrls: readonly string[];
  readonly listenMetricsUrls: readonly string[];
  readonly initialAdvertisePeerUrls: readonly string[];
  readonly advertiseClientUrls: readonly string[];
  /**
   * `--initial-cluster` as given; when only `--name` was changed, `name=<advertised peer
   * URLs>` as etcd derives it. Parse it with initialClusterIds / verifyBootstrap.
   */
  readonly initialCluster: string;
  readonly initialClusterState: 'new' | 'existing';
  readonly initialClusterToken: string;
  readonly heartbeatIntervalMs: number;
  readonly electionTimeoutMs: number;
  /** Applied entries between snapshots; values past 2^53 (etcd takes a uint64) are capped there. */
  readonly snapshotCount: number;
  /** etcd's meaning: 0 is the default quota (2 GiB), negative disables the quota. */
  readonly quotaBackendBytes: number;
  readonly maxTxnOps: number;
  readonly maxRequestBytes: number;
  /** etcd's meaning: 0 (or less) is the default, 100 ms. */
  readonly backendBatchIntervalMs: number;
  /** etcd's meaning: 0 (or less) is the default, 10,000. */
  readonly backendBatchLimit: number;
  readonly forceNewCluster: boolean;
  /** etcd's --strict-reconfig-check: refuse membership changes that risk the quorum. */
  readonly strictReconfigCheck: boolean;
  /** etcd's --enable-grpc-gateway: the JSON API under /v3/ on the client URLs. */
  readonly enableGrpcGateway: boolean;
  readonly clientTls: TlsFlags;
  readonly peerTls: TlsFlags;
  readonly logger: 'zap' | 'capnslog';
  readonly logLevel: EtcdLogLevel;
  /** Print the version and exit. */
  readonly version: boolean;
  /** The names of ignored and legacy flags that were set, for the operator's log. */
  readonly ignoredFlags: readonly string[];
}

/** etcd's upper bound on --election-timeout (embed.maxElectionMs). */
const MAX_ELECTION_MS = 50_000n;
const LOG_LEVELS: readonly EtcdLogLevel[] = ['debug', 'info', 'warn', 'error', 'panic', 'fatal'];

/**
 * Turns parsed flags into a member's configuration as etcd 3.4 does (embed.Config.Validate,
 * etcdmain's defaults), with etcd's messages:
 * `--election-timeout[400ms] should be at least as 5 times as --heartbeat-interval[100ms]`,
 * `--advertise-client-urls is required when --listen-client-urls is set explicitly`,
 * `expected IP in URL for binding (http://example.com:1)`, ... An unsupported flag set to
 * anything but etcd's default is an error too (pontoon-kv cannot do what it asks).
 */
export function resolveServerConfig(args: EtcdArgs): EtcdServerConfig {
  const raw = (name: string): string => {
    const given = args.values.get(name);
    if (given !== undefined) return given;
    const spec = etcdFlag(name);
    if (spec === undefined) throw new Error(`no etcd flag --${name} (a bug in the flag table)`);
    return spec.defaultValue;
  };
  const isSet = (name: string): boolean => args.values.has(name);
  const urls = (name: string): string[] => {
    const spec = etcdFlag(name)!;
    // etcd's UniqueURLs takes an allowed value ('' or '*') without touching its URL list, so
    // `--listen-client-urls=` keeps the default URL (and still counts as set).
    const v = spec.allowed?.includes(raw(name)) === true ? spec.defaultValue : raw(name);
    return spec.allowed?.includes(v) === true ? [] : [...new Set(parseEtcdUrlList(v))];
  };
  const bool = (name: string): boolean => parseGoBool(raw(name));

  const logger = raw('logger');
  if (logger !== 'zap' && logger !== 'capnslog') throw new CommandLineError(`unknown logger option "${logger}"`, '--logger');
  const logLevel = raw('log-level') as EtcdLogLevel;
  if (!LOG_LEVELS.includes(logLevel)) throw new CommandLineError(`unknown level "${logLevel}"`, '--log-level');

  const listenPeerUrls = urls('listen-peer-urls');
  const listenClientUrls = urls('listen-client-urls');
  const listenMetricsUrls = urls('listen-metrics-urls');
  for (const [flagName, list] of [
    ['--listen-peer-urls', listenPeerUrls],
    ['--listen-client-urls', listenClientUrls],
    ['--listen-metrics-urls', listenMetricsUrls],
  ] as const) {
    checkBindUrls(flagName, list);
  }
  const initialAdvertisePeerUrls = urls('initial-advertise-peer-urls');
  checkHostUrls('--initial-advertise-peer-urls', initialAdvertisePeerUrls);
  // etcd drops the default advertise URL when only the listen URLs are given, then refuses.
  const advertiseClientUrls =
    isSet('listen-client-urls') && !isSet('advertise-client-urls') ? [] : urls('advertise-client-urls');
  checkHostUrls('--advertise-client-urls', advertiseClientUrls);

  const tick = parseGoUint(raw('heartbeat-interval'));
  const election = parseGoUint(raw('election-timeout'));
  if (tick <= 0n) throw new CommandLineError(`--heartbeat-interval must be >0 (set to ${tick}ms)`, '--heartbeat-interval');
  if (election <= 0n) throw new CommandLineError(`--election-timeout must be >0 (set to ${election}ms)`, '--election-timeout');
  if (5n * tick > election) {
    throw new CommandLineError(
      `--election-timeout[${election}ms] should be at least as 5 times as --heartbeat-interval[${tick}ms]`,
      '--election-timeout',
    );
  }
  if (election > MAX_ELECTION_MS) {
    throw new CommandLineError(
      `--election-timeout[${election}ms] is too long, and should be set less than ${MAX_ELECTION_MS}ms`,
      '--election-timeout',
    );
  }
  if (listenClientUrls.length > 0 && advertiseClientUrls.length === 0) {
    throw new CommandLineError(
      '--advertise-client-urls is required when --listen-client-urls is set explicitly',
      '--advertise-client-urls',
    );
  }
  const compactionMode = raw('auto-compaction-mode');
  if (compactionMode !== '' && compactionMode !== 'periodic' && compactionMode !== 'revision') {
    throw new CommandLineError(`unknown auto-compaction-mode "${compactionMode}"`, '--auto-compaction-mode');
  }
  if (bool('experimental-enable-lease-checkpoint-persist') && !bool('experimental-enable-lease-checkpoint')) {
    throw new CommandLineError(
      'setting experimental-enable-lease-checkpoint-persist requires experimental-enable-lease-checkpoint',
      '--experimental-enable-lease-checkpoint-persist',
    );
  }
  for (const spec of ETCD_FLAGS) {
    if (spec.role !== 'unsupported' || !isSet(spec.name)) continue;
    if (sameAsDefault(spec.kind, raw(spec.name), spec.defaultValue)) continue;
    throw new CommandLineError(`--${spec.name} is not supported by pontoon-kv: ${spec.help}`, `--${spec.name}`);
  }

  const name = raw('name');
  // etcd: an initial cluster left at its default follows --name (`etcd --name abc` just works).
  const defaultInitialCluster = etcdFlag('initial-cluster')!.defaultValue;
  let initialCluster = raw('initial-cluster');
  if (name !== 'default' && initialCluster === defaultInitialCluster) {
    initialCluster = initialAdvertisePeerUrls.map((u) => `${name === '' ? 'default' : name}=${u}`).join(',');
  }
  return {
    name,
    dataDir: raw('data-dir') === '' ? `${name}.etcd` : raw('data-dir'),
    listenPeerUrls,
    listenClientUrls,
    listenMetricsUrls,
    initialAdvertisePeerUrls,
    advertiseClientUrls,
    initialCluster,
    initialClusterState: raw('initial-cluster-state') as 'new' | 'existing',
    initialClusterToken: raw('initial-cluster-token'),
    heartbeatIntervalMs: Number(tick),
    electionTimeoutMs: Number(election),
    snapshotCount: Number(minBig(parseGoUint(raw('snapshot-count')), BigInt(Number.MAX_SAFE_INTEGER))),
    quotaBackendBytes: Number(parseGoInt64(raw('quota-backend-bytes'))),
    maxTxnOps: Number(minBig(parseGoUint(raw('max-txn-ops')), BigInt(Number.MAX_SAFE_INTEGER))),
    maxRequestBytes: Number(minBig(parseGoUint(raw('max-request-bytes')), BigInt(Number.MAX_SAFE_INTEGER))),
    backendBatchIntervalMs: parseGoDuration(raw('backend-batch-interval')),
    backendBatchLimit: Number(parseGoInt(raw('backend-batch-limit'))),
    forceNewCluster: bool('force-new-cluster'),
    strictReconfigCheck: bool('strict-reconfig-check'),
    enableGrpcGateway: bool('enable-grpc-gateway'),
    clientTls: {
      certFile: raw('cert-file'),
      keyFile: raw('key-file'),
      trustedCaFile: raw('trusted-ca-file'),
      clientCertAuth: bool('client-cert-auth'),
      autoTls: bool('auto-tls'),
    },
    peerTls: {
      certFile: raw('peer-cert-file'),
      keyFile: raw('peer-key-file'),
      trustedCaFile: raw('peer-trusted-ca-file'),
      clientCertAuth: bool('peer-client-cert-auth'),
      autoTls: bool('peer-auto-tls'),
    },
    logger,
    logLevel,
    version: bool('version'),
    ignoredFlags: ETCD_FLAGS.filter((f) => (f.role === 'ignored' || f.role === 'legacy') && isSet(f.name)).map((f) => f.name),
  };
}

/** etcd's checkBindURLs: a listen URL names an IP address or `localhost`, not a host name. */
function checkBindUrls(flagName: string, urls: readonly string[]): void {
  for (const u of urls) {
    if (u.startsWith('unix://') || u.startsWith('unixs://')) continue;
    const host = hostOf(u);
    if (host === 'localhost') continue;
    if (isIP(host) === 0) throw new CommandLineError(`expected IP in URL for binding (${u})`, flagName);
  }
}

/** etcd's checkHostURLs: an advertised URL has a host. */
function checkHostUrls(flagName: string, urls: readonly string[]): void {
  for (const u of urls) {
    if (hostOf(u) === '') {
      throw new CommandLineError(
        `${flagName} "${urls.join(',')}" must be "host:port" (unexpected empty host (${u}))`,
        flagName,
      );
    }
  }
}

/** The host of a URL in etcd's printed form, without brackets (Go's SplitHostPort). */
function hostOf(url: string): string {
  const authority = url.slice(url.indexOf('://') + 3).replace(/[?#].*$/, '');
  const hostPort = authority.slice(authority.lastIndexOf('@') + 1);
  if (hostPort.startsWith('[')) return hostPort.slice(1, hostPort.indexOf(']'));
  return hostPort.slice(0, hostPort.lastIndexOf(':'));
}

function sameAsDefault(kind: string, value: string, defaultValue: string): boolean {
  if (kind === 'bool') return parseGoBool(value) === parseGoBool(defaultValue);
  return value === defaultValue;
}

function minBig(a: bigint, b: bigint): bigint {
  return a < b ? a : b;
}
