/**
 * Mutual TLS: nodes with certificates from the cluster's CA talk; a client without a
 * certificate, or with one from another CA, is refused; and a node is who its certificate says
 * (URI SAN pontoon://node/<id>), or is refused. Certificates are made here, with openssl, into
 * a temporary directory.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { TlsOptions } from '../src/index.js';
import { nodeIdOfCertificate, subjectAltNames } from '../src/node-identity.js';
import { heartbeat, node, waitFor } from './helpers.js';
import type { Node } from './helpers.js';

let dir: string;
const pem: Record<string, string> = {};

function openssl(...args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'pipe', timeout: 20_000 });
}

/** A self-signed CA named `name`. */
function makeCa(name: string): void {
  openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2',
    '-keyout', `${name}.key`, '-out', `${name}.crt`, '-subj', `/CN=${name}`,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
}

/** A node certificate for 127.0.0.1, signed by `ca`, naming node `nodeId` (if given). */
function makeCert(name: string, ca: string, nodeId?: number): void {
  openssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`);
  const san = nodeId === undefined ? 'IP:127.0.0.1' : `IP:127.0.0.1,URI:pontoon://node/${nodeId}`;
  writeFileSync(path.join(dir, `${name}.ext`), `subjectAltName=${san}\nextendedKeyUsage=serverAuth,clientAuth\n`);
  openssl('x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.crt`, '-CAkey', `${ca}.key`, '-CAcreateserial', '-days', '2', '-out', `${name}.crt`, '-extfile', `${name}.ext`);
}

const read = (f: string): string => readFileSync(path.join(dir, f), 'utf8');
const tlsFor = (name: string, ca = 'ca'): TlsOptions => ({ ca: pem[`${ca}.crt`]!, cert: pem[`${name}.crt`]!, key: pem[`${name}.key`]! });

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'pontoon-tls-'));
  makeCa('ca');
  makeCa('rogue-ca');
  for (const id of [1, 2, 3]) makeCert(`node${id}`, 'ca', id);
  makeCert('intruder', 'rogue-ca', 2);
  // Certificates of the right CA that name no node (by URI): CN=node-1, CN=node-2.
  makeCert('node-1', 'ca');
  makeCert('node-2', 'ca');
  for (const f of ['ca', 'rogue-ca', 'node1', 'node2', 'node3', 'intruder', 'node-1', 'node-2']) {
    pem[`${f}.crt`] = read(`${f}.crt`);
    pem[`${f}.key`] = read(`${f}.key`);
  }
}, 60_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let open: Node[] = [];
afterEach(async () => {
  await Promise.all(open.map((n) => n.t.close()));
  open = [];
});

/** A raw TLS client; resolves with how it ended once the server has closed it. */
function rawTlsClient(port: number, options: tls.ConnectionOptions): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host: '127.0.0.1', port, ca: pem['ca.crt'], ...options });
    let how = 'closed';
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error('TLS server did not close the connection'));
    }, 5000);
    s.on('error', (e) => (how = e.message));
    s.on('secureConnect', () => s.write(Buffer.from('hello?')));
    s.on('data', () => {});
    s.on('close', () => {
      clearTimeout(timer);
      resolve(how);
    });
  });
}

describe('mutual TLS', () => {
  it('carries messages between nodes with certificates from the cluster CA', async () => {
    const a = await node(1, { tls: tlsFor('node1') });
    const b = await node(2, { tls: tlsFor('node2') });
    open.push(a, b);
    a.t.addPeer(2, b.t.address!);
    b.t.addPeer(1, a.t.address!);
    a.t.send([heartbeat(1, 2, 5)]);
    await waitFor(() => a.t.isConnected(2), 'TLS connect');
    a.t.send([heartbeat(1, 2, 6)]);
    b.t.send([heartbeat(2, 1, 6)]);
    await waitFor(() => b.received.some((m) => m.term === 6) && a.received.length === 1, 'delivery over TLS');
    expect(a.logger.has(/listening on 127\.0\.0\.1:\d+ \(mutual TLS\)/)).toBe(true);
  });

  it('refuses a client without a certificate', async () => {
    const a = await node(1, { tls: tlsFor('node1') });
    open.push(a);
    const port = Number(a.t.address!.split(':')[1]);
    const how = await rawTlsClient(port, {});
    await waitFor(() => a.t.stats().connectionsRefused === 1, 'refusal counted');
    expect(how).not.toBe('');
    expect(a.logger.has(/refused TLS connection from 127\.0\.0\.1:\d+: .*certificate/i)).toBe(true);
    expect(a.t.stats().connectionsAccepted).toBe(0);
  });

  it('refuses a client whose certificate another CA signed', async () => {
    const a = await node(1, { tls: tlsFor('node1') });
    open.push(a);
    const port = Number(a.t.address!.split(':')[1]);
    await rawTlsClient(port, { cert: pem['intruder.crt'], key: pem['intruder.key'] });
    await waitFor(() => a.t.stats().connectionsRefused === 1, 'refusal counted');
    expect(a.t.stats().connectionsAccepted).toBe(0);
  });

  it('refuses plain TCP on a TLS port', async () => {
    const a = await node(1, { tls: tlsFor('node1') });
    open.push(a);
    const port = Number(a.t.address!.split(':')[1]);
    await new Promise<void>((resolve) => {
      const s = net.connect({ host: '127.0.0.1', port }, () => s.end(Buffer.from([0, 0, 0, 5, 1, 1, 2, 3, 4, 5])));
      s.on('error', () => {});
      s.on('close', () => resolve());
    });
    await waitFor(() => a.t.stats().connectionsRefused === 1, 'refusal counted');
  });

  it('an intruder node with a rogue CA never gets a message through, either way', async () => {
    const n1 = await node(1, { tls: tlsFor('node1') });
    // The intruder trusts the real CA (so it would accept node 1) but holds a rogue certificate.
    const intruder = await node(2, { tls: { ca: pem['ca.crt']!, cert: pem['intruder.crt']!, key: pem['intruder.key']! } });
    open.push(n1, intruder);
    n1.t.addPeer(2, intruder.t.address!);
    intruder.t.addPeer(1, n1.t.address!);
    intruder.t.send([heartbeat(2, 1)]);
    await waitFor(() => n1.t.stats().connectionsRefused >= 1 && intruder.t.stats().connectionsRefused >= 1, 'refusals both ways');
    intruder.t.send([heartbeat(2, 1)]);
    n1.t.send([heartbeat(1, 2)]);
    await new Promise((r) => setTimeout(r, 100));
    expect(n1.received).toEqual([]);
    expect(intruder.received).toEqual([]);
    expect(n1.t.isConnected(2)).toBe(false);
  });

  it('refuses a node whose certificate is another node\'s (logs it, counts it)', async () => {
    const n1 = await node(1, { tls: tlsFor('node1') });
    // Node 3's certificate, claiming to be node 2 (whom node 1 knows, somewhere else).
    const impostor = await node(2, { tls: tlsFor('node3') });
    open.push(n1, impostor);
    const refusals: string[] = [];
    n1.t.events.on('connectionRefused', (info) => refusals.push(info.reason));
    n1.t.addPeer(2, '127.0.0.1:1');
    impostor.t.addPeer(1, n1.t.address!);
    impostor.t.send([heartbeat(2, 1)]);
    await waitFor(() => n1.t.stats().identityMismatches >= 1 && impostor.t.stats().refusedByPeers >= 1, 'refusal');
    expect(n1.logger.has(/refused connection from 127\.0\.0\.1:\d+ \(identity\): hello claims node 2, but the client's certificate is node 3's/)).toBe(true);
    expect(impostor.logger.has(/peer 1 at .* refused our handshake \(identity\)/)).toBe(true);
    expect(refusals).toContain('identity');
    const s = n1.t.stats();
    expect(s.connectionsRefused).toBeGreaterThanOrEqual(s.identityMismatches);
    expect(s.connectionsAccepted).toBe(0);
    impostor.t.send([heartbeat(2, 1)]);
    await new Promise((r) => setTimeout(r, 100));
    expect(n1.received).toEqual([]);
  });

  it('refuses a node whose certificate names no node', async () => {
    const n1 = await node(1, { tls: tlsFor('node1') });
    const anonymous = await node(2, { tls: tlsFor('node-2') });
    open.push(n1, anonymous);
    n1.t.addPeer(2, '127.0.0.1:1');
    anonymous.t.addPeer(1, n1.t.address!);
    await waitFor(() => n1.t.stats().identityMismatches >= 1, 'refusal');
    expect(n1.logger.has(/\(identity\): hello claims node 2, but the client's certificate \(CN=node-2; SAN IP Address:127\.0\.0\.1\) names no node/)).toBe(true);
    expect(n1.t.stats().connectionsAccepted).toBe(0);
  });

  it('does not talk to a server whose certificate is not the node it dialled', async () => {
    const n1 = await node(1, { tls: tlsFor('node1') });
    const n3 = await node(3, { tls: tlsFor('node3') });
    open.push(n1, n3);
    n3.t.addPeer(1, '127.0.0.1:1');
    n1.t.addPeer(2, n3.t.address!); // node 2's address, where node 3 answers
    n1.t.send([heartbeat(1, 2)]);
    await waitFor(() => n1.t.stats().identityMismatches >= 1, 'mismatch');
    expect(n1.logger.has(/not talking to peer 2 at 127\.0\.0\.1:\d+: the server's certificate is node 3's/)).toBe(true);
    expect(n1.t.isConnected(2)).toBe(false);
    expect(n3.t.stats().connectionsAccepted).toBe(0); // no hello was ever sent to it
  });

  it('names nodes otherwise with nodeIdOf (here: by CN)', async () => {
    const nodeIdOf = (cert: tls.PeerCertificate): number | undefined => {
      const m = /^node-([1-9][0-9]*)$/.exec(String(cert.subject?.CN ?? ''));
      return m === null ? undefined : Number(m[1]);
    };
    const a = await node(1, { tls: { ...tlsFor('node-1'), nodeIdOf } });
    const b = await node(2, { tls: { ...tlsFor('node-2'), nodeIdOf } });
    open.push(a, b);
    a.t.addPeer(2, b.t.address!);
    b.t.addPeer(1, a.t.address!);
    a.t.send([heartbeat(1, 2)]);
    await waitFor(() => a.t.isConnected(2), 'TLS connect');
    a.t.send([heartbeat(1, 2, 6)]);
    await waitFor(() => b.received.some((m) => m.term === 6), 'delivery');
    expect(a.t.stats().identityMismatches + b.t.stats().identityMismatches).toBe(0);
  });
});

describe('nodeIdOfCertificate', () => {
  const cert = (subjectaltname: string | undefined): tls.PeerCertificate => ({ subjectaltname }) as tls.PeerCertificate;
  it('reads the one pontoon://node/<id> URI SAN', () => {
    expect(nodeIdOfCertificate(cert('IP Address:127.0.0.1, URI:pontoon://node/2'))).toBe(2);
    expect(nodeIdOfCertificate(cert('URI:spiffe://x/y, URI:pontoon://node/12345, DNS:a'))).toBe(12345);
  });
  it('names no node unless there is exactly one well-formed id', () => {
    for (const san of [
      undefined,
      'DNS:node-2',
      'URI:pontoon://node/2, URI:pontoon://node/3',
      'URI:pontoon://node/0',
      'URI:pontoon://node/02',
      'URI:pontoon://node/2x',
      'URI:pontoon://node/99999999999999999',
      'DNS:"URI:pontoon://node/2"', // a DNS name that quotes a URI is not one
    ]) {
      expect(nodeIdOfCertificate(cert(san)), String(san)).toBeUndefined();
    }
  });
  it('unquotes the values Node quotes', () => {
    expect(subjectAltNames('DNS:a, URI:"pontoon://node/7", DNS:"b,c"', 'URI')).toEqual(['pontoon://node/7']);
    expect(subjectAltNames('DNS:a, URI:"pontoon://node/7", DNS:"b,c"', 'DNS')).toEqual(['a', 'b,c']);
  });
});
