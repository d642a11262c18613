import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { EtcdNotInstalledError } from '../src/errors.js';
import { type EtcdCluster, runEtcdctl, startEtcdCluster } from '../src/testing/index.js';

describe('the reference etcd harness', () => {
  let cluster: EtcdCluster | undefined;
  afterEach(async () => {
    await cluster?.stop();
    cluster = undefined;
  });

  it('starts 3 healthy members on distinct 127.0.0.1 ports, survives one stop, and cleans up', async () => {
    cluster = await startEtcdCluster({ size: 3 });
    const c = cluster;
    const ports = c.members.flatMap((m) => [m.clientUrl, m.peerUrl]);
    expect(new Set(ports).size).toBe(6);
    for (const u of ports) expect(u).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const health = await runEtcdctl(c.endpoints, ['endpoint', 'health']);
    expect(health.exitCode, health.stderr).toBe(0);
    expect(`${health.stdout}${health.stderr}`.match(/is healthy/g)).toHaveLength(3);

    await c.stopMember(0);
    expect(c.members.map((m) => m.running)).toEqual([false, true, true]);
    const put = await runEtcdctl(c.endpoints.slice(1), ['put', 'k', 'v']);
    expect(put.exitCode, put.stderr).toBe(0);
    const get = await runEtcdctl(c.endpoints.slice(1), ['get', 'k', '--print-value-only']);
    expect(get.stdout.trim()).toBe('v');

    const root = path.dirname(c.members[0]!.dataDir);
    expect(fs.existsSync(root)).toBe(true);
    await c.stop();
    expect(c.members.every((m) => !m.running)).toBe(true);
    expect(fs.existsSync(root)).toBe(false);
  });

  it('fails with how to install etcd when the binary is missing, never skips', async () => {
    const saved = process.env['PONTOON_ETCD_BIN'];
    process.env['PONTOON_ETCD_BIN'] = '/nonexistent/etcd';
    try {
      const started = startEtcdCluster({ size: 1 });
      await expect(started).rejects.toBeInstanceOf(EtcdNotInstalledError);
      await expect(started).rejects.toThrow(/install-etcd\.sh.*apt-get install -y etcd-server etcd-client/);
    } finally {
      if (saved === undefined) delete process.env['PONTOON_ETCD_BIN'];
      else process.env['PONTOON_ETCD_BIN'] = saved;
    }
  });
});
