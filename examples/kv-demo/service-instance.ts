/**
 * A service instance that registers itself for discovery as etcd users do: its address under
 * `/services/<service>/<address>`, attached to a lease it keeps alive. A clean shutdown revokes
 * the lease (the key goes at once); a crash stops the keepalives, and the key goes when the
 * lease expires, TTL seconds later.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Etcd3, type Lease } from 'etcd3';

export class ServiceInstance {
  /** When the last keepalive was answered (performance.now()). */
  lastKeepAliveAt = performance.now();
  /** Set when the lease is gone (expired, revoked), with etcd3's reason. */
  lostReason: string | undefined;

  private constructor(
    readonly address: string,
    readonly key: string,
    private readonly server: http.Server,
    private readonly client: Etcd3,
    private readonly lease: Lease,
  ) {
    lease.on('keepaliveSucceeded', () => (this.lastKeepAliveAt = performance.now()));
    lease.on('lost', (err) => (this.lostReason = err.message));
  }

  /** Starts the instance's server (it answers its address) and registers it with a `ttlSeconds` lease. */
  static async register(hosts: readonly string[], service: string, ttlSeconds: number): Promise<ServiceInstance> {
    const server = http.createServer((_req, res) => res.end(`${address}\n`));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = `127.0.0.1:${(server.address() as AddressInfo).port}`;
    const client = new Etcd3({ hosts: [...hosts] });
    const lease = client.lease(ttlSeconds);
    const key = `/services/${service}/${address}`;
    try {
      await lease.put(key).value(JSON.stringify({ address }));
    } catch (err) {
      client.close();
      server.close();
      throw err;
    }
    return new ServiceInstance(address, key, server, client, lease);
  }

  /** The lease's id, in hex as etcdctl prints it. */
  async leaseId(): Promise<string> {
    return BigInt(await this.lease.grant()).toString(16);
  }

  /** Dies without a goodbye: no revoke, the keepalives just stop. */
  crash(): void {
    this.lease.release();
    this.client.close();
    this.server.close();
  }

  /** Deregisters (revokes the lease, which deletes the key) and stops. */
  async stop(): Promise<void> {
    try {
      await this.lease.revoke();
    } finally {
      this.client.close();
      this.server.close();
    }
  }
}
