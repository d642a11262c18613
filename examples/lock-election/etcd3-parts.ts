/**
 * The lock workers and election candidates of the runs on the etcd3 npm client: each worker
 * has its own client, each candidate is its own process (candidate-process.ts), so killing a
 * leader is SIGKILL. Nothing here is specific to pontoon-kv: give it a real etcd's endpoints and
 * it behaves the same.
 */
import { Etcd3 } from 'etcd3';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { Candidate, ElectionFailoverOptions } from './election-failover.js';
import { Etcd3FencedResource } from './etcd3-fenced-resource.js';
import { Etcd3ElectionObserver } from './etcd3-observer.js';
import { Etcd3Mutex } from './etcd3-mutex.js';
import type { LockWorker } from './lock-workers.js';

const here = fileURLToPath(new URL('.', import.meta.url));

/** Lock workers, each with its own client; `close()` closes the clients. */
export function etcd3LockWorkers(endpoints: readonly string[], names: readonly string[], lockName: string, resourceName: string, ttl: number): { workers: LockWorker[]; init(): Promise<void>; close(): void } {
  const clients = names.map(() => new Etcd3({ hosts: [...endpoints] }));
  const workers = names.map((name, i) => ({
    name,
    lock: new Etcd3Mutex(clients[i]!, lockName, ttl),
    resource: new Etcd3FencedResource(clients[i]!, resourceName),
  }));
  return {
    workers,
    init: () => workers[0]!.resource.init(),
    close: () => clients.forEach((c) => c.close()),
  };
}

/** Candidate processes and an observer (etcd3's Election.observe) for runElectionFailover. */
export function etcd3Election(
  endpoints: readonly string[],
  electionName: string,
  ttl: number,
  log?: (line: string) => void,
): Pick<ElectionFailoverOptions, 'startCandidate' | 'observe'> {
  return {
    async startCandidate(name, report): Promise<Candidate> {
      // tsx from this example's node_modules runs the TypeScript file directly.
      const child = spawn(process.execPath, ['--import', 'tsx', 'candidate-process.ts', endpoints.join(','), electionName, name, String(ttl)], {
        cwd: here,
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      // A spawn failure ('error' instead of 'exit') shows in the story; the run then times out.
      const exited = once(child, 'exit').catch((err: Error) => log?.(`${name}: could not start: ${err.message}`));
      let killed = false;
      createInterface({ input: child.stdout! }).on('line', (line) => {
        if (killed) return;
        if (line === 'elected') report.elected();
        else if (line.startsWith('lost ')) report.lost(line.slice('lost '.length));
        else log?.(`${name}: ${line}`);
      });
      return {
        async kill() {
          killed = true;
          if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
          await exited;
        },
      };
    },
    async observe(leader) {
      // Not etcd3's election.observe(): it names the wrong leader when candidates campaign at
      // once (etcd3-observer.ts).
      const client = new Etcd3({ hosts: [...endpoints] });
      const observer = new Etcd3ElectionObserver(client, electionName, leader, (err) => log?.(`observer: stopped: ${err.message}`));
      await observer.ready;
      return async () => {
        await observer.cancel();
        client.close();
      };
    },
  };
}
