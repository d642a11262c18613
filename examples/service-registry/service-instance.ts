/**
 * One instance of the Echo service: a grpc-js server on a free port of 127.0.0.1 that registers
 * itself once it listens and deregisters before it stops listening, so that no client is sent
 * to an address where nobody answers, except after a crash, which the lease's TTL covers.
 * `instance-main.ts` runs one as a process.
 */
import { Server, ServerCredentials } from '@grpc/grpc-js';
import { Etcd3 } from 'etcd3';
import { echoImplementation, echoService } from './echo-service.js';
import { type Registration, type RegistrationEvents, register } from './registration.js';

/** Options of startServiceInstance. */
export interface ServiceInstanceOptions {
  /** The etcd client URLs (`http://127.0.0.1:2379`, ...) of the registry. */
  readonly endpoints: readonly string[];
  /** The service name: the instance registers under `/services/<service>/`. */
  readonly service: string;
  /** The lease's TTL: how long a crashed instance stays discoverable. */
  readonly ttlSeconds: number;
  readonly events?: RegistrationEvents;
}

/** A running, registered instance. */
export interface ServiceInstance {
  /** `host:port` it serves on (and is registered as). */
  readonly address: string;
  readonly registration: Registration;
  /** Deregisters, then stops serving once the calls in flight are answered. */
  stop(): Promise<void>;
}

/**
 * Starts an instance and registers it with its own etcd client. Resolves once it is
 * discoverable.
 */
export async function startServiceInstance(options: ServiceInstanceOptions): Promise<ServiceInstance> {
  const server = new Server();
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, bound) => (err ? reject(err) : resolve(bound))),
  );
  const address = `127.0.0.1:${port}`;
  server.addService(echoService, echoImplementation(address));
  const etcd = new Etcd3({ hosts: [...options.endpoints] });
  let registration: Registration;
  try {
    registration = await register(etcd, options.service, address, options.ttlSeconds, options.events);
  } catch (err) {
    server.forceShutdown();
    etcd.close();
    throw err;
  }
  return {
    address,
    registration,
    async stop() {
      // Deregister first: clients stop picking this address while it still answers the calls
      // they already sent, and tryShutdown waits for those.
      try {
        await registration.deregister();
      } finally {
        await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
        etcd.close();
      }
    },
  };
}
