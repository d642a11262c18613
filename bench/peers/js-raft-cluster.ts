/** Three node processes of a JavaScript Raft library on 127.0.0.1, and which of them leads. */
import type { ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { JsRaftNodeConfig } from './js-raft.js';
import type { FromNode } from './js-raft-process.js';
import { freePorts } from './processes.js';
import type { ProcessGroup } from './processes.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const ELECTION_WAIT_MS = 30_000;

export interface JsRaftCluster {
  /** The client port of the node that is leader now. */
  leaderClientPort(): number | undefined;
  /** Why a node process failed or exited, if one did. */
  failure(): string | undefined;
  /** What went wrong inside the nodes without ending them, per node and error, with counts. */
  faults(): string[];
  /** How many times a node became leader since the cluster started. */
  elections(): number;
  stop(): Promise<void>;
}

export async function startJsRaftCluster(
  group: ProcessGroup,
  system: 'liferaft' | 'skiff',
  prefix: string,
): Promise<JsRaftCluster> {
  const dir = group.tempDir(system);
  const ports = await freePorts(6);
  const raftPorts = ports.slice(0, 3);
  const clientPorts = ports.slice(3);
  const leaders = new Set<number>();
  let elections = 0;
  let failure: string | undefined;
  const faults = new Map<string, number>();
  const procs: ChildProcess[] = [0, 1, 2].map((index) => {
    const config: JsRaftNodeConfig = { index, raftPorts, dataDir: path.join(dir, `n${index}`), prefix };
    const child = group.fork(path.join(here, 'js-raft-process.ts'), [system, String(clientPorts[index]), JSON.stringify(config)], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    child.on('message', (m: FromNode) => {
      if (m.type === 'failed') failure = `${system} node ${index}: ${m.error}`;
      else if (m.type === 'fault') faults.set(`node ${index}: ${m.error}`, m.count);
      else if (m.leader) {
        leaders.add(index);
        elections++;
      } else leaders.delete(index);
    });
    child.once('exit', (code, signal) => {
      leaders.delete(index);
      failure ??= `${system} node ${index} exited (code ${code}, signal ${signal})`;
    });
    return child;
  });
  const stop = async (): Promise<void> => {
    await Promise.all(procs.map((p) => group.stop(p)));
  };
  try {
    const deadline = Date.now() + ELECTION_WAIT_MS;
    while (leaders.size !== 1) {
      if (failure !== undefined) throw new Error(failure);
      if (Date.now() > deadline) throw new Error(`${system}: no single leader after ${ELECTION_WAIT_MS} ms`);
      await new Promise((r) => setTimeout(r, 50));
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    failure: () => failure,
    faults: () => [...faults].map(([error, count]) => `${error}: ${count} time(s)`),
    leaderClientPort: () => (leaders.size === 1 ? clientPorts[[...leaders][0]!] : undefined),
    elections: () => elections,
    stop,
  };
}
