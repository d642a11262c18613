/**
 * The cluster the example talks to: the one `--endpoints` names (pontoon-kv or etcd, as with
 * etcdctl), or else a fresh 3-member pontoon-kv cluster, started as three processes in a
 * temporary directory and removed afterwards.
 */
import { parseArgs } from 'node:util';
import { startPontoonKvCluster } from 'pontoon-kv/testing';

/** A cluster to use, and how to let go of it. */
export interface ExampleCluster {
  readonly endpoints: readonly string[];
  /** Stops the cluster if this program started it. */
  release(): Promise<void>;
}

/**
 * Reads `--endpoints=http://127.0.0.1:2379,...` from `argv`; without it, starts a local
 * pontoon-kv cluster of 3 members on free ports of 127.0.0.1.
 */
export async function connectOrStartCluster(argv: readonly string[], print: (line: string) => void): Promise<ExampleCluster> {
  const { values } = parseArgs({ args: [...argv], options: { endpoints: { type: 'string' } } });
  if (values.endpoints !== undefined) {
    const endpoints = values.endpoints.split(',').map((e) => e.trim()).filter(Boolean);
    print(`Using the cluster at ${endpoints.join(', ')}.`);
    return { endpoints, release: async () => undefined };
  }
  print('Starting a 3-member pontoon-kv cluster (three processes; --endpoints=... uses yours instead)...');
  const cluster = await startPontoonKvCluster({ size: 3 });
  print(`pontoon-kv is serving at ${cluster.endpoints.join(', ')}.`);
  return { endpoints: cluster.endpoints, release: () => cluster.stop() };
}
