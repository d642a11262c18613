/**
 * The `pontoon-kv` command as a supervisor runs it: one process (the pid spawned is the
 * member's), SIGTERM stops it cleanly, SIGKILL kills it, a restart reopens its data, another
 * member's data directory is refused, /health and /metrics answer on the metrics and client
 * URLs, and --help lists etcd's flags.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PONTOON_KV_BIN, freePort, startPontoonKv } from '../src/testing/index.js';

const READY_MS = 120_000;

function run(args: string[], cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(PONTOON_KV_BIN, args, { cwd, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : -1, stdout, stderr });
    });
  });
}

function exited(child: import('node:child_process').ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
}

/** The command line of a pid, from /proc (Linux). */
function commandLineOf(pid: number): string {
  return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
}

/** Every member process a test started: killed after the file even when an assertion failed. */
const started: import('node:child_process').ChildProcess[] = [];

async function start(flags: string[], cwd: string): Promise<{ process: import('node:child_process').ChildProcess; log: () => string }> {
  const member = await startPontoonKv(flags, { cwd, readyTimeoutMs: READY_MS });
  started.push(member.process);
  return member;
}

describe('pontoon-kv command', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pontoon-kv-command-'));
  });
  afterAll(async () => {
    for (const child of started) {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await exited(child);
      }
    }
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('--help lists etcd flags and exits 0', async () => {
    const r = await run(['--help'], dir);
    expect(r.code).toBe(0);
    const text = r.stdout + r.stderr;
    for (const flag of ['--name', '--data-dir', '--listen-client-urls', '--initial-cluster-state', '--listen-metrics-urls', '--auto-tls', '--log-level']) {
      expect(text).toContain(flag);
    }
  }, 120_000);

  it('runs as the pid spawned, serves /health and /metrics, stops on SIGTERM, dies on SIGKILL, restarts on its data, refuses another member on it', async () => {
    const client = `http://127.0.0.1:${await freePort()}`;
    const peer = `http://127.0.0.1:${await freePort()}`;
    const metrics = `http://127.0.0.1:${await freePort()}`;
    const dataDir = path.join(dir, 'one.etcd');
    const flags = [
      '--name=one',
      `--data-dir=${dataDir}`,
      `--listen-client-urls=${client}`,
      `--advertise-client-urls=${client}`,
      `--listen-peer-urls=${peer}`,
      `--initial-advertise-peer-urls=${peer}`,
      `--initial-cluster=one=${peer}`,
      `--listen-metrics-urls=${metrics}`,
    ];
    const first = await start(flags, dir);
    const pid = first.process.pid!;
    // One process: the pid the supervisor holds is Node running the member, not a wrapper.
    expect(commandLineOf(pid)).toMatch(/^node .*src\/main\.ts/);
    expect(first.log()).toMatch(/etcdserver: published \{Name:one ClientURLs:\[http:\/\/127\.0\.0\.1:\d+\]\} to cluster [0-9a-f]+/);
    // Logged just after "ready to serve client requests", which is what the harness waits for.
    const deadline = Date.now() + 30_000;
    while (!first.log().includes('etcdserver/api: enabled capabilities for version 3.4') && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(first.log()).toContain('etcdserver/api: enabled capabilities for version 3.4');

    for (const base of [metrics, client]) {
      const health = await fetch(`${base}/health`);
      expect(health.status).toBe(200);
      expect(await health.json()).toEqual({ health: 'true' });
      const text = await (await fetch(`${base}/metrics`)).text();
      expect(text).toMatch(/^etcd_server_has_leader 1$/m);
      expect(text).toMatch(/^etcd_server_leader_changes_seen_total [1-9]\d*$/m);
      expect(text).toMatch(/^etcd_mvcc_db_total_size_in_bytes [1-9]\d*$/m);
    }

    first.process.kill('SIGTERM');
    expect(await exited(first.process)).toEqual({ code: 0, signal: null });
    expect(first.log()).toContain('received terminated signal, shutting down');

    // A restart reopens the data: same member, and SIGKILL ends that very pid.
    const second = await start(flags, dir);
    expect(second.log()).toContain('restarting local member');
    second.process.kill('SIGKILL');
    expect(await exited(second.process)).toEqual({ code: null, signal: 'SIGKILL' });
    expect(() => process.kill(second.process.pid!, 0)).toThrow();

    // The same data directory under another name is another member's: refused, with why.
    const other = await run(flags.map((f) => (f === '--name=one' ? '--name=two' : f.replace('one=', 'two='))), dir);
    expect(other.code).not.toBe(0);
    expect(other.stderr).toContain(`data dir ${dataDir} belongs to member "one"`);
  }, 600_000);

  it('with no flags starts a one-member cluster on 127.0.0.1:2379 with its data in ./default.etcd', async () => {
    // etcd's defaults need ports 2379 and 2380: skip nothing, but fail clearly if they are taken.
    const cwd = fs.mkdtempSync(path.join(dir, 'defaults-'));
    const started = await start([], cwd);
    try {
      expect(started.log()).toContain('published {Name:default ClientURLs:[http://localhost:2379]} to cluster cdf818194e3a8c32');
      const health = await fetch('http://127.0.0.1:2379/health');
      expect(await health.json()).toEqual({ health: 'true' });
      expect(fs.existsSync(path.join(cwd, 'default.etcd', 'member'))).toBe(true);
    } finally {
      started.process.kill('SIGTERM');
      await exited(started.process);
    }
  }, 300_000);
});
