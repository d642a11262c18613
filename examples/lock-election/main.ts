/**
 * The example, run end to end with its output: `npx -y pnpm@10 --filter @pontoon/example-lock-election start`.
 *
 * 1. On the embedded API (three @pontoon/kv members in this process): three workers take turns
 *    on a lock and write to a fenced resource; a holder that pauses past its lease is fenced
 *    off; three candidates campaign and the leader is killed twice.
 * 2. The same with the etcd3 npm client against three pontoon-kv processes, the candidates
 *    being processes killed with SIGKILL.
 */
import { startPontoonKvCluster } from 'pontoon-kv/testing';
import { embeddedElection, embeddedLockWorkers } from './embedded-parts.js';
import { startEmbeddedCluster } from './embedded-cluster.js';
import { runElectionFailover } from './election-failover.js';
import { etcd3Election, etcd3LockWorkers } from './etcd3-parts.js';
import type { LockRun } from './lock-workers.js';
import { runLockWorkers } from './lock-workers.js';
import { runStaleHolder } from './stale-holder.js';

const started = Date.now();
const log = (line: string): void => console.log(`${((Date.now() - started) / 1000).toFixed(1).padStart(5)}s  ${line}`);
const WORKERS = ['worker-a', 'worker-b', 'worker-c'];
const CANDIDATES = ['candidate-1', 'candidate-2', 'candidate-3'];
const RUN = { rounds: 2, writesPerHold: 2, pauseMs: 50, log } as const;

function summarize(run: LockRun): void {
  const tokens = run.holds.map((h) => h.token);
  const increasing = tokens.every((t, i) => i === 0 || t > tokens[i - 1]!);
  const refused = run.holds.flatMap((h) => h.accepted).filter((a) => !a).length;
  log(`${run.holds.length} holds, tokens ${tokens.join(' < ')} (${increasing ? 'increasing' : 'NOT increasing'}), ${run.overlaps.length} overlaps, ${refused} writes refused`);
}

log('--- embedded API: three @pontoon/kv members in this process');
const cluster = await startEmbeddedCluster();
try {
  const contention = await embeddedLockWorkers(cluster, WORKERS, 'locks/report', 'resources/report', 2);
  summarize(await runLockWorkers(contention.workers, RUN));
  await contention.close();

  const pair = await embeddedLockWorkers(cluster, ['paused-worker', 'fresh-worker'], 'locks/stale', 'resources/stale', 2);
  const stale = await runStaleHolder(pair.workers[0]!, () => pair.sessions[0]!.close(), pair.workers[1]!, log);
  log(`resource: token ${stale.final.token}, data "${stale.final.data}"`);
  await pair.close();

  const ledger = await runElectionFailover({ names: CANDIDATES, ...embeddedElection(cluster, 'elections/embedded', 2), takeoverTimeoutMs: 30_000, log });
  log(`leaders in turn: ${ledger.elected.join(' -> ')}; violations: ${ledger.violations.length}`);
} finally {
  await cluster.close();
}

log('--- etcd3 npm client against three pontoon-kv processes');
const servers = await startPontoonKvCluster({ extraFlags: ['--heartbeat-interval=50', '--election-timeout=500'] });
try {
  log(`pontoon-kv at ${servers.endpoints.join(', ')}`);
  const contention = etcd3LockWorkers(servers.endpoints, WORKERS, 'locks/report', 'resources/report', 5);
  try {
    await contention.init();
    summarize(await runLockWorkers(contention.workers, RUN));
  } finally {
    contention.close();
  }
  const ledger = await runElectionFailover({ names: CANDIDATES, ...etcd3Election(servers.endpoints, 'elections/etcd3', 3, log), takeoverTimeoutMs: 60_000, log });
  log(`leaders in turn: ${ledger.elected.join(' -> ')}; violations: ${ledger.violations.length}`);
} finally {
  await servers.stop();
}
