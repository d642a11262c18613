import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseCommandLine } from '../src/cli/index.js';
import { CommandLineError } from '../src/errors.js';
import { etcdBinary } from '../src/testing/index.js';

/**
 * The same bad command lines given to a real etcd 3.4 and to our parser: etcd's output must
 * contain our message, and etcd must exit with our exit status. Every case is one etcd refuses
 * before it opens a data directory or a port.
 */

const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'pontoon-etcd-flags-'));
afterAll(() => fs.rmSync(cwd, { recursive: true, force: true }));

function runEtcd(args: readonly string[], env: Record<string, string>): Promise<{ code: number; output: string }> {
  return new Promise((resolve, reject) => {
    execFile(
      etcdBinary('etcd'),
      [...args],
      { cwd, env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', ...env }, timeout: 15_000, encoding: 'utf8' },
      (error, stdout, stderr) => {
        if (error !== null && typeof error.code !== 'number') {
          reject(new Error(`etcd ${args.join(' ')} did not exit by itself: ${error.message}\n${stderr}`));
          return;
        }
        resolve({ code: error === null ? 0 : (error.code as number), output: `${stdout}${stderr}` });
      },
    );
  });
}

function ours(args: readonly string[], env: Record<string, string>): CommandLineError {
  try {
    parseCommandLine(args, env);
  } catch (e) {
    if (e instanceof CommandLineError) return e;
    throw e;
  }
  throw new Error(`our parser accepted ${JSON.stringify(args)} ${JSON.stringify(env)}`);
}

const CASES: readonly [string, readonly string[], Record<string, string>][] = [
  ['election timeout under 5 heartbeats', ['--election-timeout', '400', '--heartbeat-interval', '100'], {}],
  ['zero heartbeat', ['--heartbeat-interval=0'], {}],
  ['zero heartbeat in hex (Go base-0 integers)', ['--heartbeat-interval=0x0'], {}],
  ['election timeout over 50 s', ['--election-timeout=60000'], {}],
  ['bad cluster state', ['--initial-cluster-state=bogus'], {}],
  ['unknown flag', ['--bogus-flag'], {}],
  ['flag without its value', ['--name'], {}],
  ['a positional argument', ['extra-arg'], {}],
  ['a bool flag does not take the next argument', ['--force-new-cluster', 'true'], {}],
  ['non-numeric value', ['--heartbeat-interval=abc'], {}],
  ['a bad bool', ['--auto-tls=maybe'], {}],
  ['a bad bool from a variable', [], { ETCD_AUTO_TLS: 'maybe' }],
  ['a legacy flag takes any attached value', ['--v=maybe', '--heartbeat-interval=0'], {}],
  ['negative unsigned value', ['--snapshot-count=-1'], {}],
  ['listen client URLs without advertise', ['--listen-client-urls=http://127.0.0.1:1'], {}],
  ['empty listen client URLs still count as set', ['--listen-client-urls='], {}],
  [
    'a host name to bind',
    ['--listen-client-urls=http://example.com:1', '--advertise-client-urls=http://example.com:1'],
    {},
  ],
  ['a URL with a path', ['--listen-peer-urls=http://127.0.0.1:1/x'], {}],
  ['an advertised URL without host', ['--initial-advertise-peer-urls=http://:1'], {}],
  ['single-dash flags', ['-name=x', '-heartbeat-interval=0'], {}],
  ['bad flag syntax', ['---x'], {}],
  ['unknown logger', ['--logger=bogus'], {}],
  ['unknown auto-compaction mode', ['--auto-compaction-mode=bogus'], {}],
  ['a variable and its flag both set', ['--name', 'y'], { ETCD_NAME: 'x' }],
  ['an empty variable and its flag both set', ['--name', 'y'], { ETCD_NAME: '' }],
  ['a bad value from a variable', [], { ETCD_HEARTBEAT_INTERVAL: 'abc' }],
  ['a variable that fails validation', [], { ETCD_HEARTBEAT_INTERVAL: '0' }],
  ['variables mixed with flags', ['--heartbeat-interval=10'], { ETCD_ELECTION_TIMEOUT: '40' }],
];

describe('etcd flag errors, ours against etcd 3.4', () => {
  it.each(CASES)('%s', async (_what, args, env) => {
    const expected = ours(args, env);
    const etcd = await runEtcd(args, env);
    expect(etcd.output).toContain(expected.message);
    expect(etcd.code).toBe(expected.exitCode);
  });

  it('warnings: an unrecognized ETCD_ variable and a legacy flag are named as etcd names them', async () => {
    const args = ['--v', '--heartbeat-interval=0'];
    const env = { ETCD_FOO: '1' };
    const etcd = await runEtcd(args, env);
    const warnings = (() => {
      const parsed = parseCommandLine(['--v'], env);
      if (parsed.command !== 'serve') throw new Error(`unexpected ${parsed.command}`);
      return parsed.warnings;
    })();
    expect(warnings).toEqual(['flag "-v" is no longer supported - ignoring.', 'unrecognized environment variable ETCD_FOO=1']);
    for (const w of warnings) expect(etcd.output).toContain(w);
    expect(etcd.output).toContain(ours(args, env).message);
  });
});

describe('etcd defaults, ours against etcd 3.4', () => {
  it('--name alone: the initial cluster and token etcd derives give the ids etcd reports', async () => {
    const { startEtcdCluster, runEtcdctl, parseEtcdctlJson } = await import('../src/testing/index.js');
    const { verifyBootstrap } = await import('../src/cli/index.js');
    const cluster = await startEtcdCluster({ size: 1, names: ['solo'], omitInitialCluster: true });
    try {
      const member = cluster.members[0]!;
      const flags = member.flags.filter((f) => !f.startsWith('--logger') && !f.startsWith('--log-outputs'));
      expect(flags.some((f) => f.startsWith('--initial-cluster'))).toBe(false);
      const parsed = parseCommandLine(flags, {});
      if (parsed.command !== 'serve') throw new Error(parsed.command);
      expect(parsed.config.initialCluster).toBe(`solo=${member.peerUrl}`);
      const ids = verifyBootstrap(parsed.config);
      const r = await runEtcdctl(cluster.endpoints, ['member', 'list', '-w', 'json']);
      expect(r.exitCode, r.stderr).toBe(0);
      const listed = parseEtcdctlJson(r.stdout) as { header: { cluster_id: string }; members: { ID: string }[] };
      expect(listed.members.map((m) => BigInt(m.ID))).toEqual([ids.members[0]!.id]);
      expect(BigInt(listed.header.cluster_id)).toBe(ids.clusterId);
    } finally {
      await cluster.stop();
    }
  });
});

describe('snapshot restore/status argument errors, ours against etcdctl 3.4', () => {
  const RESTORE_CASES: readonly [string, readonly string[]][] = [
    ['no file', ['snapshot', 'restore']],
    ['two files', ['snapshot', 'restore', 'a.db', 'b.db']],
    ['unknown flag', ['snapshot', 'restore', 'a.db', '--bogus']],
    ['flag without its value', ['snapshot', 'restore', 'a.db', '--name']],
    ['a bad bool', ['snapshot', 'restore', 'a.db', '--skip-hash-check=maybe']],
    ['a name not in the cluster', ['snapshot', 'restore', 'a.db', '--name', 'x']],
    ['a bad peer URL', ['snapshot', 'restore', 'a.db', '--initial-advertise-peer-urls', 'bad']],
    [
      'advertised URLs not those of the initial cluster',
      ['snapshot', 'restore', 'a.db', '--initial-advertise-peer-urls', 'http://127.0.0.1:9'],
    ],
    [
      'one URL for two members',
      ['snapshot', 'restore', 'a.db', '--initial-cluster', 'default=http://localhost:2380,b=http://localhost:2380'],
    ],
    ['status without a file', ['snapshot', 'status']],
    ['status in an unknown format', ['snapshot', 'status', 'a.db', '-w', 'yaml']],
  ];

  it.each(RESTORE_CASES)('%s', async (_what, argv) => {
    const expected = ours(argv, {});
    const { runEtcdctl } = await import('../src/testing/index.js');
    // etcdctl checks these before it reads the file or connects anywhere; it runs in a temp dir
    // so a restore that got further could not write into the checkout.
    const r = await runEtcdctl(['http://127.0.0.1:1'], argv, { cwd });
    // etcdctl's "--initial-cluster has ... (resolved urls: ...)" ends in its resolver's words.
    const message = expected.message.replace(/ \(URLs are compared as text, without resolving host names\)$/, '');
    expect(r.stderr).toContain(message);
    expect(r.exitCode).toBe(expected.exitCode);
  });
});
