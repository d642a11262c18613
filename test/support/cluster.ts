/**
 * The tests' handle on a counter cluster (examples/counter/cluster.ts): one per test, closed
 * after it (processes and folder), with the nodes' stderr attached to a failure.
 */
import { afterEach, onTestFailed } from 'vitest';
import { Cluster, type ClusterOptions } from '../../examples/counter/cluster.js';

export { Cluster } from '../../examples/counter/cluster.js';
export { WriteLoad, checkCounter } from '../../examples/counter/load.js';

const open = new Set<Cluster>();
afterEach(async () => {
  await Promise.all([...open].map((c) => c.close()));
  open.clear();
});

/** Starts a cluster that is closed after the current test, and reported on if it fails. */
export async function startCluster(options: ClusterOptions = {}): Promise<Cluster> {
  const cluster = await Cluster.start(options);
  open.add(cluster);
  onTestFailed(() => {
    for (const n of cluster.nodes.values()) {
      if (n.stderr !== '') console.error(`--- n${n.id} stderr ---\n${n.stderr}`);
    }
    const tail = cluster.events.slice(-30).map((e) => JSON.stringify(e));
    console.error(`--- last events ---\n${tail.join('\n')}`);
  });
  return cluster;
}
