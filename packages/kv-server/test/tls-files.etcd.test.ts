/**
 * TLS from certificate files, as etcd's operators set it up: one CA signs the members' and the
 * client's certificates (made here with `selfsigned`). Three pontoon-kv members run with
 * `--cert-file --key-file --trusted-ca-file --client-cert-auth` on https:// client URLs and
 * `--peer-cert-file --peer-key-file --peer-trusted-ca-file --peer-client-cert-auth` on https://
 * peer URLs: the cluster forms over TLS, etcdctl with a CA-signed client certificate works on
 * every member, and a client without a certificate, or with one from another CA, is refused on
 * both ports. A real etcd 3.4 with the same client and peer flags and files answers the same on
 * both of its ports.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { generate } from 'selfsigned';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { etcdBinary, freePort, runEtcdctl, startPontoonKvCluster, type PontoonKvCluster } from '../src/testing/index.js';

const LONG = 300_000;

interface Pem {
  readonly cert: string;
  readonly key: string;
}

async function makeCa(name: string): Promise<Pem> {
  const ca = await generate([{ name: 'commonName', value: name }], {
    keySize: 2048,
    algorithm: 'sha256',
    extensions: [
      { name: 'basicConstraints', cA: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true },
    ],
  });
  return { cert: ca.cert, key: ca.private };
}

async function signed(ca: Pem, name: string): Promise<Pem> {
  const made = await generate([{ name: 'commonName', value: name }], {
    keySize: 2048,
    algorithm: 'sha256',
    ca: { cert: ca.cert, key: ca.key },
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true, clientAuth: true },
      { name: 'subjectAltName', altNames: [{ type: 2, value: 'localhost' }, { type: 7, ip: '127.0.0.1' }] },
    ],
  });
  return { cert: made.cert, key: made.private };
}

/** Whether a TLS connection to `url` with `options` is accepted and stays open. */
function handshake(url: string, options: tls.ConnectionOptions): Promise<'ok' | string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = tls.connect({ host: hostname, port: Number(port), ALPNProtocols: ['h2'], ...options });
    // Nothing is sent: both ports wait for the first bytes, so an open connection stays open.
    const timer = setTimeout(() => finish('ok'), 2000);
    const finish = (result: 'ok' | string): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(result);
    };
    // A server that wants a certificate it did not get ends the connection (TLS 1.3 sends the
    // alert after the client's handshake is done): wait for that rather than for 'secureConnect'.
    socket.on('error', (err) => finish(err.message));
    socket.on('close', () => finish('closed'));
  });
}

describe('TLS from files: client certificate auth and peer TLS', () => {
  let dir: string;
  let cluster: PontoonKvCluster;
  let files: Record<'ca' | 'cert' | 'key' | 'clientCert' | 'clientKey' | 'strangerCert' | 'strangerKey', string>;
  let etcd: ChildProcess | undefined;
  let etcdUrl: string;
  let etcdPeer: string;

  beforeAll(async () => {
    etcdBinary('etcdctl');
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pontoon-kv-tls-'));
    const ca = await makeCa('pontoon test CA');
    const member = await signed(ca, 'member');
    const client = await signed(ca, 'client');
    const stranger = await signed(await makeCa('another CA'), 'stranger');
    const write = (name: string, text: string): string => {
      const file = path.join(dir, name);
      fs.writeFileSync(file, text);
      return file;
    };
    files = {
      ca: write('ca.crt', ca.cert),
      cert: write('member.crt', member.cert),
      key: write('member.key', member.key),
      clientCert: write('client.crt', client.cert),
      clientKey: write('client.key', client.key),
      strangerCert: write('stranger.crt', stranger.cert),
      strangerKey: write('stranger.key', stranger.key),
    };
    const clientFlags = [`--cert-file=${files.cert}`, `--key-file=${files.key}`, `--trusted-ca-file=${files.ca}`, '--client-cert-auth'];
    etcdUrl = `https://127.0.0.1:${await freePort()}`;
    etcdPeer = `https://127.0.0.1:${await freePort()}`;
    const peerFlags = [`--peer-cert-file=${files.cert}`, `--peer-key-file=${files.key}`, `--peer-trusted-ca-file=${files.ca}`, '--peer-client-cert-auth'];
    etcd = spawn(etcdBinary('etcd'), [
      '--name=reference', `--data-dir=${path.join(dir, 'reference.etcd')}`, `--listen-client-urls=${etcdUrl}`, `--advertise-client-urls=${etcdUrl}`,
      `--listen-peer-urls=${etcdPeer}`, `--initial-advertise-peer-urls=${etcdPeer}`, `--initial-cluster=reference=${etcdPeer}`,
      '--logger=zap', ...clientFlags, ...peerFlags,
    ], { stdio: 'ignore' });
    cluster = await startPontoonKvCluster({ size: 3, scheme: 'https', dir, extraFlags: [...clientFlags, ...peerFlags] });
    const auth = [`--cacert=${files.ca}`, `--cert=${files.clientCert}`, `--key=${files.clientKey}`];
    for (let deadline = Date.now() + 60_000; ; ) {
      if ((await runEtcdctl([etcdUrl], [...auth, 'endpoint', 'health'], { timeoutMs: 20_000 })).exitCode === 0) break;
      if (Date.now() > deadline) throw new Error('the reference etcd did not become healthy');
      await new Promise((r) => setTimeout(r, 500));
    }
  }, LONG);
  afterAll(async () => {
    if (etcd !== undefined && etcd.exitCode === null) {
      const exited = new Promise((r) => etcd!.once('exit', r));
      etcd.kill('SIGTERM');
      await exited;
    }
    await cluster?.stop();
    if (dir !== undefined) fs.rmSync(dir, { recursive: true, force: true });
  }, LONG);

  it('forms over TLS peers and serves etcdctl with a CA-signed client certificate on every member', async () => {
    const auth = [`--cacert=${files.ca}`, `--cert=${files.clientCert}`, `--key=${files.clientKey}`];
    for (const e of [cluster.endpoints[0]!, etcdUrl]) {
      const put = await runEtcdctl([e], [...auth, 'put', 'tls/key', 'secret'], { timeoutMs: 60_000 });
      expect(put.stdout, put.stderr).toBe('OK\n');
    }
    for (const e of [...cluster.endpoints, etcdUrl]) {
      const got = await runEtcdctl([e], [...auth, 'get', 'tls/key', '--print-value-only'], { timeoutMs: 60_000 });
      expect(got.stdout, got.stderr).toBe('secret\n');
    }
    // The per-endpoint commands dial https:// endpoints as written, over TLS.
    const status = await runEtcdctl(cluster.endpoints, [...auth, 'endpoint', 'status'], { timeoutMs: 60_000 });
    expect(status.exitCode, status.stderr).toBe(0);
    expect(status.stdout.trim().split('\n')).toHaveLength(3);
    const list = await runEtcdctl([cluster.endpoints[1]!], [...auth, 'member', 'list'], { timeoutMs: 60_000 });
    for (const m of cluster.members) expect(list.stdout).toContain(`, started, ${m.name}, ${m.peerUrl}, ${m.clientUrl}, false`);
  }, LONG);

  it('refuses clients without a certificate or with one from another CA, on client and peer ports', async () => {
    for (const e of [cluster.endpoints[0]!, etcdUrl]) {
      const noCert = await runEtcdctl([e], [`--cacert=${files.ca}`, '--dial-timeout=3s', '--command-timeout=5s', 'get', 'tls/key'], { timeoutMs: 60_000 });
      expect(noCert.exitCode, e).not.toBe(0);
      expect(noCert.stdout).toBe('');
    }
    const ca = fs.readFileSync(files.ca);
    const good = { ca, cert: fs.readFileSync(files.clientCert), key: fs.readFileSync(files.clientKey), checkServerIdentity: () => undefined };
    const stranger = { ca, cert: fs.readFileSync(files.strangerCert), key: fs.readFileSync(files.strangerKey), checkServerIdentity: () => undefined };
    for (const url of [cluster.members[0]!.clientUrl, cluster.members[1]!.peerUrl, etcdUrl, etcdPeer]) {
      expect(await handshake(url, good)).toBe('ok');
      expect(await handshake(url, { ca, checkServerIdentity: () => undefined })).not.toBe('ok');
      expect(await handshake(url, stranger)).not.toBe('ok');
    }
  }, LONG);
});
