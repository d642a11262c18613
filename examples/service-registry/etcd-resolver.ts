/**
 * A grpc-js name resolver for `etcd:///<prefix>` targets: a channel to `etcd:///services/echo`
 * dials whatever instances are registered under `/services/echo/`, and follows them as they
 * come and go. grpc-js's load balancer then spreads calls over the addresses (round_robin, from
 * the channel's service config), as etcd's resolver does for Go clients
 * (`go.etcd.io/etcd/client/v3/naming/resolver`).
 */
import { type ChannelOptions, experimental, status as Status } from '@grpc/grpc-js';
import type { Etcd3 } from 'etcd3';
import { type DiscoveryUpdate, ServiceDiscovery } from './service-discovery.js';

/** Options of registerEtcdResolver. */
export interface EtcdResolverOptions {
  /** The URI scheme the resolver answers for (default `etcd`). */
  readonly scheme?: string;
  /** Called with every new view of the registry a channel's resolver hands to grpc-js (for showing what it sees). */
  readonly onResolved?: (prefix: string, update: DiscoveryUpdate) => void;
  /** A registry read or watch failed (it is retried). For logging. */
  readonly onError?: (prefix: string, err: unknown) => void;
}

/**
 * Makes `<scheme>:///<path>` targets resolve through the registry that `etcd` reads: the path is
 * the key prefix (`etcd:///services/echo` follows `/services/echo/`). grpc-js keeps one resolver
 * registry per process, so this is called once, before the channels are created; the client
 * then needs a load-balancing policy in its service config (`round_robin`), since grpc-js's
 * default (`pick_first`) would send every call to one instance.
 */
export function registerEtcdResolver(etcd: Etcd3, options: EtcdResolverOptions = {}): void {
  class EtcdResolver implements experimental.Resolver {
    readonly #prefix: string;
    readonly #listener: experimental.ResolverListener;
    /** The discovery of the current run (undefined before the first resolution and after destroy). */
    #discovery: Promise<ServiceDiscovery> | undefined;
    #latest: DiscoveryUpdate | undefined;

    constructor(target: experimental.GrpcUri, listener: experimental.ResolverListener, _options: ChannelOptions) {
      this.#prefix = prefixOf(target);
      this.#listener = listener;
    }

    static getDefaultAuthority(target: experimental.GrpcUri): string {
      // The :authority of calls: the service's name, the last segment of the prefix.
      return prefixOf(target).split('/').filter(Boolean).pop() ?? 'etcd';
    }

    updateResolution(): void {
      if (this.#discovery === undefined) {
        this.#start();
        return;
      }
      // The watch pushes every change, so there is nothing new to look up: grpc-js asks after a
      // connection fails, and gets the current view again (the failed address stays until its
      // key goes away).
      const discovery = this.#discovery;
      setImmediate(() => {
        if (this.#discovery === discovery && this.#latest !== undefined) this.#report(this.#latest);
      });
    }

    destroy(): void {
      const discovery = this.#discovery;
      this.#discovery = undefined;
      this.#latest = undefined;
      void discovery?.then((d) => d.close(), () => undefined);
    }

    #start(): void {
      const discovery = ServiceDiscovery.start(etcd, this.#prefix, {
        onUpdate: (update) => {
          // Updates of a discovery that was destroyed (or replaced) are for nobody.
          if (this.#discovery !== discovery) return;
          this.#latest = update;
          options.onResolved?.(this.#prefix, update);
          this.#report(update);
        },
        onError: (err) => options.onError?.(this.#prefix, err),
      });
      this.#discovery = discovery;
      discovery.catch((err: unknown) => {
        if (this.#discovery !== discovery) return;
        // grpc-js backs off and calls updateResolution again, which starts a new discovery.
        this.#discovery = undefined;
        options.onError?.(this.#prefix, err);
        const details = `registry read of ${this.#prefix} failed: ${err instanceof Error ? err.message : String(err)}`;
        this.#listener(experimental.statusOrFromError({ code: Status.UNAVAILABLE, details }), {}, null, details);
      });
    }

    #report(update: DiscoveryUpdate): void {
      const endpoints: experimental.Endpoint[] = [];
      for (const address of new Set(update.instances.values())) {
        const hostPort = experimental.splitHostPort(address);
        if (hostPort?.port !== undefined) endpoints.push({ addresses: [{ host: hostPort.host, port: hostPort.port }] });
      }
      // No service config from the registry (null): the channel's own applies.
      this.#listener(experimental.statusOrFromValue(endpoints), {}, null, `registry revision ${update.revision}`);
    }
  }
  experimental.registerResolver(options.scheme ?? 'etcd', EtcdResolver);
}

/** `etcd:///services/echo` -> `/services/echo/`. */
function prefixOf(target: experimental.GrpcUri): string {
  const path = target.path.replace(/^\/+|\/+$/g, '');
  return `/${path}/`;
}
