/**
 * etcd 3.4's command-line flags (etcd 3.4.23's `etcdmain/config.go`): every flag etcd defines,
 * with its value type and default as etcd has them, and what pontoon-kv does with it:
 *
 * - `supported`: the flag means in pontoon-kv what it means in etcd.
 * - `ignored`: the flag tunes etcd's own internals (its WAL, bbolt backend, gRPC keepalives,
 *   logging plumbing, ...) or a feature that has no effect on what clients see from pontoon-kv;
 *   it is parsed and checked as etcd would, then ignored with a warning that names it.
 * - `unsupported`: an etcd feature pontoon-kv does not have (discovery, proxy, the v2 API, CRLs,
 *   ...), where going on without it would do something else than the user asked. Setting it to
 *   anything but etcd's default is an error.
 * - `legacy`: flags etcd itself accepts and ignores with a warning (flags of etcd 0.4/2.x).
 *
 * Descriptions are ours; the names, types and defaults are etcd's, so an etcd unit file or
 * environment file works unchanged.
 */

/** How a flag's value is read (Go's flag package types and etcd's own flag.Value types). */
export type EtcdFlagKind =
  | 'string'
  | 'bool'
  | 'uint'
  | 'uint32'
  | 'uint64'
  | 'int'
  | 'int64'
  | 'duration'
  /** etcd's UniqueURLs: a comma-separated URL list; `allowed` values are taken as they are. */
  | 'urls'
  /** etcd's SelectiveStringValue: one of `choices`. */
  | 'choice'
  /** etcd's UniqueStringsValue / StringsValue: a comma-separated list of strings. */
  | 'strings'
  /** etcd's IgnoredFlag: takes no value (or any with `=`), warns, does nothing. */
  | 'legacy';

/** What pontoon-kv does with a flag (see the module comment). */
export type EtcdFlagRole = 'supported' | 'ignored' | 'unsupported' | 'legacy';

/** One etcd flag. */
export interface EtcdFlagSpec {
  readonly name: string;
  readonly kind: EtcdFlagKind;
  /** etcd's default, as text the flag would accept (`''` for none). */
  readonly defaultValue: string;
  readonly role: EtcdFlagRole;
  /** What the flag means (supported flags) or why it is ignored / unsupported. */
  readonly help: string;
  readonly choices?: readonly string[];
  /** For `urls`: values taken verbatim instead of as URLs (`''`, `*`). */
  readonly allowed?: readonly string[];
}

const S = 'supported' as const;
const I = 'ignored' as const;
const U = 'unsupported' as const;

function flag(
  name: string,
  kind: EtcdFlagKind,
  defaultValue: string,
  role: EtcdFlagRole,
  help: string,
  extra: { choices?: readonly string[]; allowed?: readonly string[] } = {},
): EtcdFlagSpec {
  return { name, kind, defaultValue, role, help, ...extra };
}

/** Every flag of etcd 3.4.23, in etcd's order. */
export const ETCD_FLAGS: readonly EtcdFlagSpec[] = [
  flag('config-file', 'string', '', U, 'etcd YAML configuration file (not read by pontoon-kv: use flags or ETCD_* variables)'),

  // Member.
  flag('data-dir', 'string', '', S, 'Directory of this member\'s data (default: ${name}.etcd).'),
  flag('wal-dir', 'string', '', I, 'etcd\'s separate WAL directory; pontoon-kv keeps its log in --data-dir'),
  flag('listen-peer-urls', 'urls', 'http://localhost:2380', S, 'URLs to listen on for traffic from other members.', { allowed: [''] }),
  flag('listen-client-urls', 'urls', 'http://localhost:2379', S, 'URLs to listen on for client (gRPC) traffic.', { allowed: [''] }),
  flag('listen-metrics-urls', 'urls', '', S, 'Extra URLs to serve /metrics and /health on.', { allowed: [''] }),
  flag('max-snapshots', 'uint', '5', I, 'etcd\'s count of snapshot files kept'),
  flag('max-wals', 'uint', '5', I, 'etcd\'s count of WAL files kept'),
  flag('name', 'string', 'default', S, 'Human-readable name of this member.'),
  flag('snapshot-count', 'uint64', '100000', S, 'Applied entries between two snapshots (and log compactions).'),
  flag('heartbeat-interval', 'uint', '100', S, 'Milliseconds between heartbeats (one raft tick).'),
  flag('election-timeout', 'uint', '1000', S, 'Milliseconds without a leader before an election; at least 5 heartbeats.'),
  flag('initial-election-tick-advance', 'bool', 'true', I, 'etcd\'s fast-forward of election ticks at boot'),
  flag('quota-backend-bytes', 'int64', '0', S, 'Raise a NOSPACE alarm when the data exceeds this size (0: 2 GiB).'),
  flag('backend-batch-interval', 'duration', '0s', S, 'Longest time before applied changes are committed to the store file (0: 100ms).'),
  flag('backend-batch-limit', 'int', '0', S, 'Most applied changes committed to the store file at once (0: 10000).'),
  flag('max-txn-ops', 'uint', '128', S, 'Most operations allowed in one transaction.'),
  flag('max-request-bytes', 'uint', '1572864', S, 'Largest client request accepted, in bytes.'),
  flag('grpc-keepalive-min-time', 'duration', '5s', I, 'etcd\'s gRPC keepalive tuning'),
  flag('grpc-keepalive-interval', 'duration', '2h0m0s', I, 'etcd\'s gRPC keepalive tuning'),
  flag('grpc-keepalive-timeout', 'duration', '20s', I, 'etcd\'s gRPC keepalive tuning'),
  flag('max-concurrent-streams', 'uint32', '4294967295', I, 'etcd\'s gRPC stream limit per connection'),

  // Clustering.
  flag('initial-advertise-peer-urls', 'urls', 'http://localhost:2380', S, 'This member\'s peer URLs, as the other members reach them.', { allowed: [''] }),
  flag('advertise-client-urls', 'urls', 'http://localhost:2379', S, 'This member\'s client URLs, as clients reach them (required with --listen-client-urls).', { allowed: [''] }),
  flag('discovery', 'string', '', U, 'etcd\'s discovery service bootstrap (use --initial-cluster)'),
  flag('discovery-fallback', 'choice', 'proxy', U, 'etcd\'s discovery fallback', { choices: ['proxy', 'exit'] }),
  flag('discovery-proxy', 'string', '', U, 'etcd\'s discovery proxy'),
  flag('discovery-srv', 'string', '', U, 'DNS SRV bootstrap (use --initial-cluster)'),
  flag('discovery-srv-name', 'string', '', U, 'DNS SRV bootstrap service name'),
  flag('initial-cluster', 'string', 'default=http://localhost:2380', S, 'The members of a new cluster: name=peer-url,... (read at the first start only).'),
  flag('initial-cluster-token', 'string', 'etcd-cluster', S, 'A token that makes the ids of a new cluster unique (read at the first start only).'),
  flag('initial-cluster-state', 'choice', 'new', S, '"new" to bootstrap a cluster, "existing" to join one (after member add).', { choices: ['new', 'existing'] }),
  flag('strict-reconfig-check', 'bool', 'true', S, 'Refuse a membership change that would leave too few started or connected members, as etcd does (on by default; =false turns it off).'),
  flag('enable-v2', 'bool', 'false', U, 'the etcd v2 API'),
  flag('pre-vote', 'bool', 'false', I, 'raft PreVote: pontoon-kv always runs it'),

  // Proxy (etcd v2 proxy mode).
  flag('proxy', 'choice', 'off', U, 'etcd\'s v2 proxy mode', { choices: ['off', 'readonly', 'on'] }),
  flag('proxy-failure-wait', 'uint', '5000', I, 'etcd v2 proxy tuning'),
  flag('proxy-refresh-interval', 'uint', '30000', I, 'etcd v2 proxy tuning'),
  flag('proxy-dial-timeout', 'uint', '1000', I, 'etcd v2 proxy tuning'),
  flag('proxy-write-timeout', 'uint', '5000', I, 'etcd v2 proxy tuning'),
  flag('proxy-read-timeout', 'uint', '0', I, 'etcd v2 proxy tuning'),

  // Security.
  flag('cert-file', 'string', '', S, 'TLS certificate for the client port.'),
  flag('key-file', 'string', '', S, 'TLS key for the client port.'),
  flag('client-cert-auth', 'bool', 'false', S, 'Require client certificates signed by --trusted-ca-file.'),
  flag('client-crl-file', 'string', '', U, 'client certificate revocation lists'),
  flag('client-cert-allowed-hostname', 'string', '', U, 'client certificate hostname pinning'),
  flag('trusted-ca-file', 'string', '', S, 'CA that signs client certificates.'),
  flag('auto-tls', 'bool', 'false', S, 'Client TLS with a self-signed certificate made at start.'),
  flag('peer-cert-file', 'string', '', S, 'TLS certificate for traffic between members.'),
  flag('peer-key-file', 'string', '', S, 'TLS key for traffic between members.'),
  flag('peer-client-cert-auth', 'bool', 'false', S, 'Require peer certificates signed by --peer-trusted-ca-file.'),
  flag('peer-trusted-ca-file', 'string', '', S, 'CA that signs peer certificates.'),
  flag('peer-auto-tls', 'bool', 'false', S, 'Peer TLS with a self-signed certificate made at start.'),
  flag('peer-crl-file', 'string', '', U, 'peer certificate revocation lists'),
  flag('peer-cert-allowed-cn', 'string', '', U, 'peer certificate CN pinning'),
  flag('peer-cert-allowed-hostname', 'string', '', U, 'peer certificate hostname pinning'),
  flag('cipher-suites', 'strings', '', U, 'a TLS cipher suite list (Node.js picks its own)'),
  flag('experimental-peer-skip-client-san-verification', 'bool', 'false', U, 'skipping peer certificate SAN checks'),
  flag('cors', 'urls', '*', I, 'CORS for etcd\'s HTTP gateway, which pontoon-kv does not serve', { allowed: ['*'] }),
  flag('host-whitelist', 'strings', '*', I, 'Host checks for etcd\'s HTTP gateway, which pontoon-kv does not serve'),

  // Logging.
  flag('logger', 'string', 'capnslog', S, 'Log format: "zap" (JSON lines) or "capnslog" (etcd 3.4\'s text lines).'),
  flag('log-output', 'strings', 'default', I, 'etcd\'s deprecated log output (pontoon-kv logs to stderr)'),
  flag('log-outputs', 'strings', 'default', I, 'etcd\'s log outputs (pontoon-kv logs to stderr)'),
  flag('debug', 'bool', 'false', I, 'etcd\'s deprecated debug switch (use --log-level=debug)'),
  flag('log-level', 'string', 'info', S, 'Least severe level logged: debug, info, warn, error, panic or fatal.'),
  flag('log-package-levels', 'string', '', I, 'etcd\'s per-package log levels'),

  flag('version', 'bool', 'false', S, 'Print the version and exit.'),
  flag('auto-compaction-retention', 'string', '0', I, 'etcd\'s automatic compaction (compact through the API)'),
  flag('auto-compaction-mode', 'string', 'periodic', I, 'etcd\'s automatic compaction mode'),
  flag('enable-pprof', 'bool', 'false', I, 'Go\'s profiler'),
  flag('metrics', 'string', 'basic', I, 'etcd\'s extra histogram metrics'),
  flag('auth-token', 'string', 'simple', I, 'etcd\'s auth tokens (auth is not served yet)'),
  flag('bcrypt-cost', 'uint', '10', I, 'etcd\'s password hashing cost (auth is not served yet)'),
  flag('auth-token-ttl', 'uint', '300', I, 'etcd\'s auth token lifetime (auth is not served yet)'),
  flag('enable-grpc-gateway', 'bool', 'true', S, 'Serve etcd\'s JSON API (/v3/...) on the client URLs.'),
  flag('experimental-initial-corrupt-check', 'bool', 'false', I, 'etcd\'s bbolt corruption check (pontoon-kv checksums every entry)'),
  flag('experimental-corrupt-check-time', 'duration', '0s', I, 'etcd\'s periodic corruption check'),
  flag('experimental-enable-v2v3', 'string', '', U, 'the etcd v2 API emulated on v3'),
  flag('experimental-backend-bbolt-freelist-type', 'string', 'array', I, 'etcd\'s bbolt freelist'),
  flag('experimental-enable-lease-checkpoint', 'bool', 'false', I, 'etcd\'s lease checkpoints'),
  flag('experimental-enable-lease-checkpoint-persist', 'bool', 'false', I, 'etcd\'s lease checkpoint persistence'),
  flag('experimental-compaction-batch-limit', 'int', '1000', I, 'etcd\'s compaction batch size'),
  flag('experimental-watch-progress-notify-interval', 'duration', '10m0s', I, 'etcd\'s periodic watch progress notifications'),
  flag('experimental-warning-apply-duration', 'duration', '100ms', I, 'etcd\'s slow-apply warning'),
  flag('unsafe-no-fsync', 'bool', 'false', I, 'turning fsync off: pontoon-kv always syncs before it answers'),
  flag('force-new-cluster', 'bool', 'false', S, 'Restart this member as the only member of a new cluster, keeping its data.'),

  // Flags of etcd 0.4 / 2.x that etcd 3.4 itself accepts and ignores.
  ...[
    'cluster-active-size',
    'cluster-remove-delay',
    'cluster-sync-interval',
    'config',
    'force',
    'max-result-buffer',
    'max-retry-attempts',
    'peer-heartbeat-interval',
    'peer-election-timeout',
    'retry-interval',
    'snapshot',
    'v',
    'vv',
  ].map((name) => flag(name, 'legacy', '', 'legacy', 'a flag of etcd 0.4 / 2.x; etcd 3.4 ignores it too')),
];

const byName = new Map(ETCD_FLAGS.map((f) => [f.name, f]));

/** The spec of an etcd flag by name (without dashes), or undefined for a flag etcd lacks. */
export function etcdFlag(name: string): EtcdFlagSpec | undefined {
  return byName.get(name);
}

/** The environment variable etcd reads for a flag: `ETCD_` + upper case, `-` as `_`. */
export function etcdEnvName(flagName: string): string {
  return `ETCD_${flagName.replace(/-/g, '_').toUpperCase()}`;
}
