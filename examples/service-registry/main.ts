/**
 * Service registration and discovery, end to end:
 *
 *     npx -y pnpm@10 --filter @pontoon/example-service-registry start [-- --endpoints=URL,...]
 *
 * Exits 0 once every step held, 1 (with the step that did not) otherwise.
 */
import { connectOrStartCluster } from './cluster.js';
import { runServiceRegistryDemo } from './registry-demo.js';

const started = Date.now();
const print = (line: string): void => console.log(`[${((Date.now() - started) / 1000).toFixed(1).padStart(5)} s] ${line}`);
const cluster = await connectOrStartCluster(process.argv.slice(2), print);
let exitCode = 0;
try {
  await runServiceRegistryDemo({ endpoints: cluster.endpoints, print });
  print('Done: every call was answered by a live instance.');
} catch (err) {
  console.error(err instanceof Error ? err.message : err);
  exitCode = 1;
} finally {
  await cluster.release();
}
process.exitCode = exitCode;
