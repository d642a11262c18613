import { describe, expect, it } from 'vitest';
import {
  ETCD_FLAGS,
  etcdEnvName,
  helpText,
  parseCommandLine,
  type EtcdServerConfig,
  type PontoonKvCommand,
} from '../src/cli/index.js';
import { CommandLineError } from '../src/errors.js';

function serve(argv: readonly string[], env: Record<string, string> = {}): { config: EtcdServerConfig; warnings: readonly string[] } {
  const parsed = parseCommandLine(argv, env);
  if (parsed.command !== 'serve') throw new Error(`expected serve, got ${parsed.command}`);
  return parsed;
}

function refusal(argv: readonly string[], env: Record<string, string> = {}): CommandLineError {
  try {
    parseCommandLine(argv, env);
  } catch (e) {
    if (e instanceof CommandLineError) return e;
    throw e;
  }
  throw new Error(`accepted ${JSON.stringify(argv)}`);
}

describe('etcd server flags', () => {
  it('with no flags: etcd\'s defaults, a one-member cluster named default in ./default.etcd', () => {
    const { config, warnings } = serve([]);
    expect(config).toMatchObject({
      name: 'default',
      dataDir: 'default.etcd',
      listenClientUrls: ['http://localhost:2379'],
      advertiseClientUrls: ['http://localhost:2379'],
      listenPeerUrls: ['http://localhost:2380'],
      initialAdvertisePeerUrls: ['http://localhost:2380'],
      listenMetricsUrls: [],
      initialCluster: 'default=http://localhost:2380',
      initialClusterState: 'new',
      initialClusterToken: 'etcd-cluster',
      heartbeatIntervalMs: 100,
      electionTimeoutMs: 1000,
      snapshotCount: 100_000,
      quotaBackendBytes: 0,
      maxTxnOps: 128,
      maxRequestBytes: 1_572_864,
      backendBatchIntervalMs: 0,
      backendBatchLimit: 0,
      forceNewCluster: false,
      logger: 'capnslog',
      logLevel: 'info',
      ignoredFlags: [],
    });
    expect(config.clientTls).toEqual({ certFile: '', keyFile: '', trustedCaFile: '', clientCertAuth: false, autoTls: false });
    expect(warnings).toEqual([]);
  });

  it('reads --flag value, --flag=value, -flag and bare bool flags alike', () => {
    const a = serve(['--name', 'infra1', '--heartbeat-interval=50', '-election-timeout', '500', '--auto-tls', '--client-cert-auth=false']);
    expect(a.config).toMatchObject({ name: 'infra1', heartbeatIntervalMs: 50, electionTimeoutMs: 500 });
    expect(a.config.clientTls.autoTls).toBe(true);
    expect(a.config.clientTls.clientCertAuth).toBe(false);
    // `--` ends the flags; as in etcd, an argument after it is still refused.
    expect(serve(['--name', 'x', '--']).config.name).toBe('x');
    expect(refusal(['--name', 'x', '--', 'more']).message).toBe("'more' is not a valid flag");
  });

  it('a three-member member\'s flags as in etcd\'s clustering guide', () => {
    const { config } = serve([
      '--name', 'infra0',
      '--initial-advertise-peer-urls', 'http://10.0.1.10:2380',
      '--listen-peer-urls', 'http://10.0.1.10:2380',
      '--listen-client-urls', 'http://10.0.1.10:2379,http://127.0.0.1:2379',
      '--advertise-client-urls', 'http://10.0.1.10:2379',
      '--initial-cluster-token', 'etcd-cluster-1',
      '--initial-cluster', 'infra0=http://10.0.1.10:2380,infra1=http://10.0.1.11:2380,infra2=http://10.0.1.12:2380',
      '--initial-cluster-state', 'new',
    ]);
    expect(config).toMatchObject({
      name: 'infra0',
      dataDir: 'infra0.etcd',
      listenClientUrls: ['http://10.0.1.10:2379', 'http://127.0.0.1:2379'],
      initialClusterToken: 'etcd-cluster-1',
      initialCluster: 'infra0=http://10.0.1.10:2380,infra1=http://10.0.1.11:2380,infra2=http://10.0.1.12:2380',
    });
  });

  it('an empty URL flag keeps etcd\'s default URLs, a repeated URL counts once', () => {
    const { config } = serve([
      '--listen-peer-urls=',
      '--listen-client-urls', 'http://127.0.0.1:1,http://127.0.0.1:1',
      '--advertise-client-urls', 'http://127.0.0.1:1',
      '--listen-metrics-urls=',
    ]);
    expect(config.listenPeerUrls).toEqual(['http://localhost:2380']);
    expect(config.listenClientUrls).toEqual(['http://127.0.0.1:1']);
    expect(config.listenMetricsUrls).toEqual([]);
  });

  it('an initial cluster left at its default follows --name and the advertised peer URLs', () => {
    expect(serve(['--name', 'abc']).config.initialCluster).toBe('abc=http://localhost:2380');
    expect(
      serve(['--name', 'abc', '--initial-advertise-peer-urls', 'http://127.0.0.1:3380,http://127.0.0.1:3381']).config.initialCluster,
    ).toBe('abc=http://127.0.0.1:3380,abc=http://127.0.0.1:3381');
    expect(serve(['--name', 'abc', '--initial-cluster', 'abc=http://h:1']).config.initialCluster).toBe('abc=http://h:1');
  });

  it('reads ETCD_* variables for flags not on the command line', () => {
    const { config, warnings } = serve(['--name', 'n1'], {
      ETCD_DATA_DIR: '/var/lib/etcd',
      ETCD_INITIAL_CLUSTER_STATE: 'existing',
      ETCD_AUTO_TLS: 'true',
      ETCD_LISTEN_METRICS_URLS: 'http://127.0.0.1:2381',
      ETCD_INITIAL_CLUSTER_TOKEN: '',
      ETCDCTL_API: '3',
      HOME: '/root',
    });
    expect(config).toMatchObject({
      name: 'n1',
      dataDir: '/var/lib/etcd',
      initialClusterState: 'existing',
      initialClusterToken: 'etcd-cluster',
      listenMetricsUrls: ['http://127.0.0.1:2381'],
    });
    expect(config.clientTls.autoTls).toBe(true);
    expect(warnings).toEqual([]);
  });

  it('refuses a variable set for a flag given on the command line, as etcd does', () => {
    const e = refusal(['--data-dir', 'x'], { ETCD_DATA_DIR: 'y' });
    expect(e.message).toBe(
      'conflicting environment variable "ETCD_DATA_DIR" is shadowed by corresponding command-line flag ' +
        '(either unset environment variable or disable flag)',
    );
    expect(e.flag).toBe('--data-dir');
  });

  it('accepts flags that tune etcd\'s internals, ignores them and names them in a warning', () => {
    const { config, warnings } = serve(['--max-wals=3', '--pre-vote', '--auto-compaction-retention', '1h'], {
      ETCD_QUOTA_BACKEND_BYTES: '8589934592',
      ETCD_GRPC_KEEPALIVE_TIMEOUT: '5s',
    });
    expect([...config.ignoredFlags].sort()).toEqual(['auto-compaction-retention', 'grpc-keepalive-timeout', 'max-wals', 'pre-vote']);
    expect(config.quotaBackendBytes).toBe(8_589_934_592);
    expect(warnings).toHaveLength(4);
    for (const name of config.ignoredFlags) expect(warnings.some((w) => w.includes(`--${name}=`))).toBe(true);
  });

  it('reads the backend batch flags, from the command line or ETCD_* variables', () => {
    const { config, warnings } = serve(['--backend-batch-interval=250ms'], { ETCD_BACKEND_BATCH_LIMIT: '500' });
    expect(config).toMatchObject({ backendBatchIntervalMs: 250, backendBatchLimit: 500 });
    expect(config.ignoredFlags).toEqual([]);
    expect(warnings).toEqual([]);
    expect(refusal(['--backend-batch-interval=100']).message).toBe('invalid value "100" for flag -backend-batch-interval: parse error');
  });

  it('still checks an ignored flag\'s value as etcd would', () => {
    expect(refusal(['--max-wals=many']).message).toBe('invalid value "many" for flag -max-wals: parse error');
    expect(refusal(['--grpc-keepalive-timeout=5']).message).toBe('invalid value "5" for flag -grpc-keepalive-timeout: parse error');
    expect(serve(['--grpc-keepalive-timeout=1h2m3.5s']).config.ignoredFlags).toEqual(['grpc-keepalive-timeout']);
  });

  it('refuses etcd features it does not have unless left at etcd\'s default', () => {
    expect(refusal(['--discovery', 'https://discovery.etcd.io/x']).message).toMatch(/^--discovery is not supported by pontoon-kv/);
    expect(refusal(['--enable-v2']).flag).toBe('--enable-v2');
    expect(refusal(['--proxy=on']).flag).toBe('--proxy');
    expect(refusal([], { ETCD_PEER_CRL_FILE: '/x.crl' }).flag).toBe('--peer-crl-file');
    expect(serve(['--enable-v2=false', '--proxy=off']).config.name).toBe('default');
  });

  it('refuses unknown flags and stray arguments with etcd\'s words and exit status', () => {
    expect([refusal(['--nope']).message, refusal(['--nope']).exitCode]).toEqual(['flag provided but not defined: -nope', 2]);
    expect([refusal(['--name', 'a', 'b']).message, refusal(['--name', 'a', 'b']).exitCode]).toEqual(["'b' is not a valid flag", 1]);
  });

  it('keeps 64-bit unsigned values etcd accepts and caps counts at 2^53', () => {
    expect(serve(['--snapshot-count=18446744073709551615']).config.snapshotCount).toBe(Number.MAX_SAFE_INTEGER);
    expect(refusal(['--snapshot-count=18446744073709551616']).message).toBe(
      'invalid value "18446744073709551616" for flag -snapshot-count: value out of range',
    );
    expect(serve(['--heartbeat-interval=0x32', '--election-timeout=0o764']).config).toMatchObject({
      heartbeatIntervalMs: 50,
      electionTimeoutMs: 500,
    });
  });

  it('--help and -h print the help, --version asks for the version before any check', () => {
    for (const h of [['--help'], ['-h'], ['--name', 'x', '-help', '--nope']]) {
      const parsed: PontoonKvCommand = parseCommandLine(h, {});
      expect(parsed.command).toBe('help');
    }
    expect(parseCommandLine(['--version', '--heartbeat-interval=0'], {}).command).toBe('version');
  });
});

describe('help text', () => {
  it('lists every supported flag with its default and variable, and names the others', () => {
    const text = helpText();
    for (const f of ETCD_FLAGS) {
      expect(text).toContain(`--${f.name}`);
      if (f.role === 'supported') expect(text).toContain(etcdEnvName(f.name));
    }
    expect(text).toContain("--initial-cluster 'default=http://localhost:2380'");
    expect(text).toContain("--data-dir ''");
  });
});

describe('snapshot subcommands', () => {
  it('restore: etcdctl\'s flags and defaults, the file anywhere among them', () => {
    const parsed = parseCommandLine(
      [
        'snapshot', 'restore', '--name', 'm1', 'backup.db',
        '--initial-cluster=m1=http://127.0.0.1:12380,m2=http://127.0.0.1:22380',
        '--initial-cluster-token', 'tok',
        '--initial-advertise-peer-urls', 'http://127.0.0.1:12380',
        '--skip-hash-check',
      ],
      {},
    );
    expect(parsed).toMatchObject({
      command: 'snapshot-restore',
      file: 'backup.db',
      name: 'm1',
      dataDir: 'm1.etcd',
      initialClusterToken: 'tok',
      initialAdvertisePeerUrls: ['http://127.0.0.1:12380'],
      skipHashCheck: true,
      warnings: [],
    });
    if (parsed.command !== 'snapshot-restore') throw new Error('unreachable');
    expect(parsed.ids.members.map((m) => m.name).sort()).toEqual(['m1', 'm2']);
    const defaults = parseCommandLine(['snapshot', 'restore', 'x.db'], {});
    expect(defaults).toMatchObject({ name: 'default', dataDir: 'default.etcd', initialCluster: 'default=http://localhost:2380', initialClusterToken: 'etcd-cluster', skipHashCheck: false });
  });

  it('restore: refuses what etcdctl refuses before writing', () => {
    expect(refusal(['snapshot', 'restore']).message).toBe('snapshot restore requires exactly one argument');
    expect(refusal(['snapshot', 'restore', 'a', 'b']).exitCode).toBe(128);
    expect(refusal(['snapshot', 'restore', 'a', '--bogus']).message).toBe('unknown flag: --bogus');
    expect(refusal(['snapshot', 'restore', 'a', '--name', 'x']).message).toBe(
      'couldn\'t find local name "x" in the initial cluster configuration',
    );
    expect(
      refusal(['snapshot', 'restore', 'a', '--initial-advertise-peer-urls', 'http://127.0.0.1:9']).message,
    ).toMatch(/^--initial-cluster has default=http:\/\/localhost:2380 but missing from --initial-advertise-peer-urls=http:\/\/127.0.0.1:9/);
    expect(
      refusal(['snapshot', 'restore', 'a', '--initial-cluster', 'default=http://localhost:2380,b=http://localhost:2380']).message,
    ).toBe('initial cluster b=http://localhost:2380,default=http://localhost:2380 has duplicate url');
  });

  it('status: one file and an output format', () => {
    expect(parseCommandLine(['snapshot', 'status', 'x.db', '-w', 'json'], {})).toEqual({ command: 'snapshot-status', file: 'x.db', writeOut: 'json' });
    expect(parseCommandLine(['snapshot', 'status', '--write-out=table', 'x.db'], {})).toMatchObject({ writeOut: 'table' });
    expect(parseCommandLine(['snapshot', 'status', 'x.db'], {})).toMatchObject({ writeOut: 'simple' });
    expect(refusal(['snapshot', 'status']).message).toBe('snapshot status requires exactly one argument');
    expect(refusal(['snapshot', 'status', 'x', '-w', 'yaml']).message).toBe('unsupported output format');
    expect(refusal(['snapshot', 'save', 'x']).message).toMatch(/unknown snapshot subcommand "save"/);
  });
});
