/**
 * The story main.ts tells, against any etcd v3 cluster: instances of an Echo service start,
 * stop and crash while a client whose channel follows the registry keeps calling. Each step
 * waits (bounded) until the client has caught up, says what it saw, and throws if what it saw is
 * not what a registry promises; the report it returns lets a test check the same.
 */
import { Etcd3 } from 'etcd3';
import { type CallLoop, startCallLoop } from './call-loop.js';
import { createEchoClient } from './discovering-client.js';
import { registerEtcdResolver } from './etcd-resolver.js';
import { servicePrefix } from './registry-keys.js';
import { type InstanceProcess, spawnInstance } from './instance-process.js';

/** Options of runServiceRegistryDemo. */
export interface ServiceRegistryDemoOptions {
  /** The cluster's client URLs. */
  readonly endpoints: readonly string[];
  /** Where the story goes, a line at a time (console.log in main.ts). */
  readonly print: (line: string) => void;
  /** The instances' lease TTL (default 3 s): how long a crashed instance stays registered. */
  readonly ttlSeconds?: number;
  /** How long any one step may take to be seen by the client before the demo gives up (default 30 s). */
  readonly stepTimeoutMs?: number;
}

/** What the client saw in one step: the instances alive, and who answered the calls started after the step. */
export interface DemoPhase {
  readonly name: string;
  readonly live: readonly string[];
  readonly answered: ReadonlyMap<string, number>;
}

/** What the demo saw. */
export interface ServiceRegistryDemoReport {
  readonly phases: readonly DemoPhase[];
  readonly calls: number;
  /** Calls that did not succeed (the demo throws before returning if there is one). */
  readonly failed: readonly string[];
  /** Calls answered on a second or later attempt: the channel's retry policy at work. */
  readonly retried: number;
  /** The stopped instance: the revision its key left the client's view at, and of a write made just after stop() returned. */
  readonly stopped: { readonly address: string; readonly leftAt: number; readonly writtenAfterStop: number };
  /** The crashed instance: the revision its key left the client's view at, of a write made just after the crash, and its lease's TTL then (-1: expired). */
  readonly crashed: { readonly address: string; readonly leftAt: number; readonly writtenAfterCrash: number; readonly leaseTtlAfter: number };
}

const SERVICE = 'echo';

/** Runs the story; resolves with what it saw, rejects at the first step that does not hold. */
export async function runServiceRegistryDemo(options: ServiceRegistryDemoOptions): Promise<ServiceRegistryDemoReport> {
  const { print } = options;
  const ttlSeconds = options.ttlSeconds ?? 3;
  const stepTimeoutMs = options.stepTimeoutMs ?? 30_000;
  const etcd = new Etcd3({ hosts: [...options.endpoints] });

  // The channel's view of the registry, as the resolver hands it to grpc-js.
  let view: { revision: number; addresses: Set<string> } = { revision: 0, addresses: new Set() };
  const leftAt = new Map<string, number>();
  registerEtcdResolver(etcd, {
    onResolved(_prefix, update) {
      const addresses = new Set(update.instances.values());
      for (const gone of view.addresses) if (!addresses.has(gone)) leftAt.set(gone, update.revision);
      view = { revision: update.revision, addresses };
      print(`  channel resolved at revision ${update.revision}: [${[...addresses].sort().join(', ')}]`);
    },
    onError: (_prefix, err) => print(`  registry: ${err instanceof Error ? err.message : String(err)}`),
  });

  const instances = new Map<string, InstanceProcess>();
  const client = createEchoClient(`etcd:///${servicePrefix(SERVICE).replace(/^\/|\/$/g, '')}`);
  let loop: CallLoop | undefined;
  const phases: DemoPhase[] = [];

  const waitFor = async (what: string, condition: () => boolean): Promise<void> => {
    const deadline = Date.now() + stepTimeoutMs;
    while (!condition()) {
      if (Date.now() > deadline) throw new Error(`service-registry demo: ${what} did not happen within ${stepTimeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };
  const live = (): string[] => [...instances.keys()].sort();
  const viewIs = (addresses: readonly string[]): boolean =>
    view.addresses.size === addresses.length && addresses.every((a) => view.addresses.has(a));

  /** Waits until every live instance answered a call started from now on, and records who did. */
  const phase = async (name: string): Promise<void> => {
    const running = loop!;
    const expected = live();
    await waitFor(`the channel resolving [${expected.join(', ')}]`, () => viewIs(expected));
    const from = running.mark();
    await waitFor(`calls reaching each of [${expected.join(', ')}]`, () => {
      const answered = running.answeredSince(from);
      return expected.every((a) => (answered.get(a) ?? 0) >= 3);
    });
    const answered = running.answeredSince(from);
    const strays = [...answered.keys()].filter((a) => !expected.includes(a));
    if (strays.length > 0) throw new Error(`service-registry demo: calls answered by ${strays.join(', ')}, which should be gone`);
    phases.push({ name, live: expected, answered });
    print(`  calls since: ${[...answered].map(([a, n]) => `${a} x${n}`).join(', ')}`);
  };

  const startInstance = async (): Promise<InstanceProcess> => {
    const instance = await spawnInstance(options.endpoints, SERVICE, ttlSeconds, (line) => print(`  (instance) ${line}`));
    instances.set(instance.address, instance);
    print(`+ ${instance.address} registered as ${instance.key} (lease ${instance.lease}, TTL ${ttlSeconds} s)`);
    return instance;
  };
  const markerWrite = async (): Promise<number> => Number((await etcd.put('/demo/marker').value(String(Date.now()))).header.revision);

  try {
    print(`Two instances of "${SERVICE}" register; a client calls etcd:///services/${SERVICE}, round-robin.`);
    const [, second] = await Promise.all([startInstance(), startInstance()]);
    loop = startCallLoop(client);
    await phase('two instances');

    print('A third instance starts: the client picks it up.');
    const third = await startInstance();
    await phase('a third starts');

    print(`${second.address} stops (SIGTERM): it deregisters (revokes its lease), then drains.`);
    await second.stop();
    instances.delete(second.address);
    const writtenAfterStop = await markerWrite();
    await phase('one stopped');
    const stoppedLeftAt = leftAt.get(second.address)!;
    if (!(stoppedLeftAt <= writtenAfterStop)) {
      throw new Error(`service-registry demo: ${second.address} left at revision ${stoppedLeftAt}, after stop() returned (${writtenAfterStop})`);
    }
    print(`  ${second.address} left at revision ${stoppedLeftAt}, before stop() returned: no TTL to wait for.`);

    const [crashed] = [...instances.values()].filter((i) => i !== third);
    print(`${crashed!.address} crashes (SIGKILL): connections drop, keepalives stop, its key stays until the lease expires.`);
    await crashed!.crash();
    instances.delete(crashed!.address);
    const writtenAfterCrash = await markerWrite();
    await phase('one crashed');
    const crashedLeftAt = leftAt.get(crashed!.address)!;
    const leaseTtlAfter = Number((await etcd.leaseClient.leaseTimeToLive({ ID: crashed!.lease })).TTL);
    if (!(crashedLeftAt > writtenAfterCrash) || leaseTtlAfter !== -1) {
      throw new Error(
        `service-registry demo: ${crashed!.address} left at revision ${crashedLeftAt} (crash at ${writtenAfterCrash}), lease TTL ${leaseTtlAfter}`,
      );
    }
    print(`  ${crashed!.address} left at revision ${crashedLeftAt}, when its lease expired (TTL now ${leaseTtlAfter}).`);

    print('A new instance starts: the client picks it up.');
    await startInstance();
    await phase('a new one starts');

    await loop.stop();
    const failed = loop.calls.filter((c) => c.error !== undefined).map((c) => c.error!);
    const retried = loop.calls.filter((c) => c.attempt > 1).length;
    print(`${loop.calls.length} calls, ${failed.length} failed, ${retried} answered on a retry.`);
    if (failed.length > 0) throw new Error(`service-registry demo: ${failed.length} calls failed, the first: ${failed[0]}`);
    return {
      phases,
      calls: loop.calls.length,
      failed,
      retried,
      stopped: { address: second.address, leftAt: stoppedLeftAt, writtenAfterStop },
      crashed: { address: crashed!.address, leftAt: crashedLeftAt, writtenAfterCrash, leaseTtlAfter },
    };
  } finally {
    await loop?.stop();
    client.close();
    await Promise.allSettled([...instances.values()].map((i) => i.stop()));
    etcd.close();
  }
}
