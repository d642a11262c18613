/**
 * A service instance that registers itself for discovery as etcd users do: its address under
 * `/services/<service>/<address>`, attached to a lease it keeps alive. When it crashes, its
 * keepalives stop and the key goes when the lease expires, TTL seconds later (a clean shutdown
 * would revoke the lease, and the key would go at once).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Etcd3, type Lease } from 'etcd3';

export class ServiceInstance {
  /** When the last keepalive was answered (performance.now()). */
  lastKeepAliveAt = performance.now();

  private constructor(
    readonly address: string,
    private readonly server: http.Server,
    private readonly client: Etcd3,
    private readonly lease: Lease,
  ) {
    lease.on('keepaliveSucceeded', () => (this.lastKeepAliveAt = performance.now()));
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
    return new ServiceInstance(address, server, client, lease);
  }

  /** Dies without a goodbye: no revoke, the keepalives just stop. */
  crash(): void {
    this.lease.release();
    this.client.close();
    this.server.close();
  }
}
