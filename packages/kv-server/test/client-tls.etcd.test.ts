/**
 * TLS on pontoon-kv's ports: with --auto-tls and --peer-auto-tls (certificates made at start),
 * three members talk TLS to one another, etcdctl talks gRPC over TLS (ALPN h2) to every client
 * URL, and /health and the JSON gateway answer HTTP/1.1 over TLS on the client URL.
 */
import https from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { etcdBinary, runEtcdctl, startPontoonKvCluster, type PontoonKvCluster } from '../src/testing/index.js';

const LONG = 300_000;

function requestInsecure(url: string, body?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    https
      .request(url, { rejectUnauthorized: false, method: body === undefined ? 'GET' : 'POST' }, (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (d: string) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      })
      .on('error', reject)
      .end(body);
  });
}

describe('TLS between members and to clients (auto TLS)', () => {
  let cluster: PontoonKvCluster;
  beforeAll(async () => {
    etcdBinary('etcdctl');
    cluster = await startPontoonKvCluster({ size: 3, scheme: 'https', extraFlags: ['--auto-tls', '--peer-auto-tls'] });
  }, LONG);
  afterAll(async () => {
    await cluster?.stop();
  }, LONG);

  it('serves etcdctl over TLS on every member, writes replicate over TLS peers, /health and the gateway over HTTPS', async () => {
    // etcdctl 3.4 fails https:// endpoints with --insecure-skip-tls-verify against etcd itself
    // too; host:port with --insecure-transport=false is how it reaches a self-signed server.
    const bare = cluster.endpoints.map((e) => e.replace(/^https:\/\//, ''));
    const tls = ['--insecure-transport=false', '--insecure-skip-tls-verify'];
    const put = await runEtcdctl([bare[0]!], [...tls, 'put', 'tls/key', 'secret'], { timeoutMs: 60_000 });
    expect(put.stdout, put.stderr).toBe('OK\n');
    for (const e of bare) {
      const got = await runEtcdctl([e], [...tls, 'get', 'tls/key', '--print-value-only'], { timeoutMs: 60_000 });
      expect(got.stdout, got.stderr).toBe('secret\n');
    }
    const plain = await runEtcdctl([bare[1]!], ['get', 'tls/key', '--dial-timeout=2s', '--command-timeout=3s'], { timeoutMs: 60_000 });
    expect(plain.exitCode).not.toBe(0);
    const health = await requestInsecure(`${cluster.endpoints[2]}/health`);
    expect(health).toEqual({ status: 200, body: '{"health":"true"}' });
    const range = await requestInsecure(`${cluster.endpoints[1]}/v3/kv/range`, JSON.stringify({ key: Buffer.from('tls/key').toString('base64') }));
    expect(range.status).toBe(200);
    expect((JSON.parse(range.body) as { kvs: { value: string }[] }).kvs[0]!.value).toBe(Buffer.from('secret').toString('base64'));
  }, LONG);
});
