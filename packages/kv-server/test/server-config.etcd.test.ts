import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseCommandLine } from '../src/cli/index.js';
import { parseGoDuration } from '../src/cli/go-values.js';
import { etcdBinary, freePort } from '../src/testing/index.js';

/**
 * The configuration our parser resolves, against the one a real etcd 3.4 resolves from the same
 * flags and variables: etcd's zap logger prints it in its "starting an etcd server" line, which
 * comes before etcd needs its peers, so etcd is stopped right after it.
 */

const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'pontoon-etcd-config-'));
afterAll(() => fs.rmSync(cwd, { recursive: true, force: true }));

type StartLine = Record<string, unknown>;

function etcdStartLine(args: readonly string[], env: Record<string, string>): Promise<StartLine> {
  return new Promise((resolve, reject) => {
    const child = spawn(etcdBinary('etcd'), [...args, '--logger=zap', '--log-outputs=stderr'], {
      cwd,
      env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let buffered = '';
    let found: StartLine | undefined;
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      buffered += chunk;
      for (const line of buffered.split('\n').slice(0, -1)) {
        if (found === undefined && line.includes('"msg":"starting an etcd server"')) {
          found = JSON.parse(line) as StartLine;
          child.kill('SIGKILL');
        }
      }
      buffered = buffered.slice(buffered.lastIndexOf('\n') + 1);
    });
    child.on('exit', () => {
      clearTimeout(timer);
      if (found !== undefined) resolve(found);
      else reject(new Error(`etcd ${args.join(' ')} printed no start line:\n${buffered}`));
    });
  });
}

/** The fields of etcd's start line that our config has, from our config. */
function ourStartFields(args: readonly string[], env: Record<string, string>): StartLine {
  const parsed = parseCommandLine(args, env);
  if (parsed.command !== 'serve') throw new Error(`expected serve, got ${parsed.command}`);
  const c = parsed.config;
  return {
    name: c.name,
    'data-dir': c.dataDir,
    'force-new-cluster': c.forceNewCluster,
    'heartbeat-interval': c.heartbeatIntervalMs,
    'election-timeout': c.electionTimeoutMs,
    'snapshot-count': c.snapshotCount,
    'initial-advertise-peer-urls': c.initialAdvertisePeerUrls,
    'listen-peer-urls': c.listenPeerUrls,
    'advertise-client-urls': c.advertiseClientUrls,
    'listen-client-urls': c.listenClientUrls,
    'listen-metrics-urls': c.listenMetricsUrls,
    'initial-cluster': c.initialCluster,
    'initial-cluster-state': c.initialClusterState,
    'initial-cluster-token': c.initialClusterToken,
    // etcd logs the quota in force: 0 means its 2 GiB default.
    'quota-backend-bytes': c.quotaBackendBytes === 0 ? 2 * 1024 ** 3 : c.quotaBackendBytes,
    'max-request-bytes': c.maxRequestBytes,
  };
}

function etcdFields(line: StartLine, ours: StartLine): StartLine {
  const picked: StartLine = {};
  for (const key of Object.keys(ours)) {
    const v = line[key];
    picked[key] = key === 'heartbeat-interval' || key === 'election-timeout' ? parseGoDuration(String(v)) : v;
  }
  return picked;
}

async function ports(n: number): Promise<number[]> {
  const out: number[] = [];
  while (out.length < n) {
    const p = await freePort();
    if (!out.includes(p)) out.push(p);
  }
  return out;
}

describe('resolved configuration, ours against etcd 3.4', () => {
  it('--name and URLs only: etcd derives the data dir and initial cluster from the name', async () => {
    const [c, p] = await ports(2);
    const args = [
      '--name', 'solo',
      '--listen-client-urls', `http://127.0.0.1:${c}`,
      `--advertise-client-urls=http://127.0.0.1:${c}`,
      '--listen-peer-urls', `http://127.0.0.1:${p}`,
      `--initial-advertise-peer-urls=http://127.0.0.1:${p}`,
      '--heartbeat-interval=0x32',
    ];
    const ours = ourStartFields(args, {});
    expect(etcdFields(await etcdStartLine(args, {}), ours)).toEqual(ours);
  });

  it('everything from ETCD_* variables, as an environment file gives it', async () => {
    const [c1, c2, p, m] = await ports(4);
    const env = {
      ETCD_NAME: 'infra1',
      ETCD_DATA_DIR: 'data/infra1',
      ETCD_LISTEN_CLIENT_URLS: `http://127.0.0.1:${c2},http://127.0.0.1:${c1}`,
      ETCD_ADVERTISE_CLIENT_URLS: `http://127.0.0.1:${c1}`,
      ETCD_LISTEN_PEER_URLS: `http://127.0.0.1:${p}`,
      ETCD_INITIAL_ADVERTISE_PEER_URLS: `http://127.0.0.1:${p}`,
      ETCD_LISTEN_METRICS_URLS: `http://127.0.0.1:${m}`,
      ETCD_INITIAL_CLUSTER: `infra0=http://127.0.0.1:1,infra1=http://127.0.0.1:${p},infra2=http://127.0.0.1:2`,
      ETCD_INITIAL_CLUSTER_TOKEN: 'tok-1',
      ETCD_INITIAL_CLUSTER_STATE: 'existing',
      ETCD_HEARTBEAT_INTERVAL: '50',
      ETCD_ELECTION_TIMEOUT: '500',
      ETCD_SNAPSHOT_COUNT: '5000',
      ETCD_QUOTA_BACKEND_BYTES: '4294967296',
      ETCD_MAX_REQUEST_BYTES: '2097152',
    };
    const ours = ourStartFields([], env);
    expect(etcdFields(await etcdStartLine([], env), ours)).toEqual(ours);
  });

  it('flags and variables mixed, force-new-cluster, several peer URLs', async () => {
    const [c, p1, p2] = await ports(3);
    const args = [
      '-name=m',
      '--force-new-cluster',
      '--listen-peer-urls', `http://127.0.0.1:${p2},http://127.0.0.1:${p1}`,
      '--initial-advertise-peer-urls', `http://127.0.0.1:${p1},http://127.0.0.1:${p2}`,
    ];
    const env = {
      ETCD_LISTEN_CLIENT_URLS: `http://127.0.0.1:${c}`,
      ETCD_ADVERTISE_CLIENT_URLS: `http://127.0.0.1:${c}`,
      ETCD_SNAPSHOT_COUNT: '0x10',
    };
    const ours = ourStartFields(args, env);
    const peerUrls = [`http://127.0.0.1:${p1}`, `http://127.0.0.1:${p2}`].sort();
    expect(ours['initial-cluster']).toBe(peerUrls.map((u) => `m=${u}`).join(','));
    expect(etcdFields(await etcdStartLine(args, env), ours)).toEqual(ours);
  });
});
