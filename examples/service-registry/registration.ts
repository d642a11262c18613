/**
 * An instance's entry in the registry: its key, attached to a lease the instance keeps alive.
 * While the process lives, the etcd3 client sends keepalives every TTL/3; when it dies, nobody
 * does, and the cluster deletes the key once the TTL runs out. That is what makes a crashed
 * instance leave discovery without anyone noticing the crash.
 */
import type { Etcd3, Lease } from 'etcd3';
import { encodeEndpoint, instanceKey } from './registry-keys.js';

/** What a registration reports to its owner (a logger, or nothing). */
export interface RegistrationEvents {
  /** The lease was lost (expired while the cluster was unreachable) and the key was put again under a new one. */
  readonly reregistered?: (leaseId: string) => void;
  /** Re-registering failed; it is tried again after a pause. */
  readonly failed?: (err: unknown) => void;
}

/** An instance's key in the registry. */
export interface Registration {
  readonly key: string;
  /** The lease the key is attached to now (a new one after a re-registration), as etcd3 prints ids. */
  leaseId(): Promise<string>;
  /**
   * Graceful deregistration: revokes the lease, which deletes the key at once. Resolves once the
   * cluster applied it, so a client reading after this no longer finds the instance.
   */
  deregister(): Promise<void>;
}

const RETRY_MS = 500;

/**
 * Registers the instance of `service` at `address` (`host:port`) under a lease of `ttlSeconds`,
 * kept alive until `deregister()`. If the lease is lost anyway (the instance was cut
 * off from the cluster for longer than the TTL), the key is put again under a new lease: the
 * instance is still alive, so it must be discoverable again once it can reach the cluster.
 */
export async function register(
  etcd: Etcd3,
  service: string,
  address: string,
  ttlSeconds: number,
  events: RegistrationEvents = {},
): Promise<Registration> {
  const key = instanceKey(service, address);
  let lease: Lease;
  let established = false;
  let closed = false;
  let reregistering = false;

  const putUnderNewLease = async (): Promise<void> => {
    const next = etcd.lease(ttlSeconds);
    lease = next;
    next.on('lost', () => {
      if (established && !closed && lease === next) void reregister();
    });
    try {
      await next.put(key).value(encodeEndpoint(address));
    } catch (err) {
      // Let a lease that was granted but holds no key expire instead of keeping it alive.
      next.release();
      throw err;
    }
  };

  const reregister = async (): Promise<void> => {
    if (reregistering) return;
    reregistering = true;
    try {
      while (!closed) {
        try {
          await putUnderNewLease();
          events.reregistered?.(await lease.grant());
          return;
        } catch (err) {
          events.failed?.(err);
          await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
        }
      }
    } finally {
      reregistering = false;
    }
  };

  await putUnderNewLease();
  established = true;
  return {
    key,
    leaseId: () => lease.grant(),
    async deregister() {
      closed = true;
      await lease.revoke();
    },
  };
}
