/**
 * The kv suite's client process: `etcd3` clients for one cluster (pontoon-kv or etcd), kept out
 * of the servers' processes and of the parent, so that the client's CPU is the same for both
 * systems and counts against neither (its CPU is measured apart, process-cpu.ts). It finds the leader, says `ready`, then runs what the
 * parent asks (the workload's levels, or loading the key set) and exits when the parent
 * disconnects.
 *
 *   client-main.ts <endpoint,endpoint,...>
 */
import { Etcd3 } from 'etcd3';
import { procUnavailableReason } from './process-cpu.js';
import { findLeader } from '../lib/etcd-leader.js';
import type { FromClient, ToClient } from './protocol.js';
import { loadKeys, runLevel, warmServers } from './workloads.js';
import type { Clients } from './workloads.js';

const endpointList = process.argv[2];
if (endpointList === undefined) throw new Error('usage: client-main.ts <endpoint,endpoint,...>');
const endpoints = endpointList.split(',');

function send(m: FromClient): void {
  process.send?.(m);
}

async function setup(): Promise<Clients> {
  const leaderHost = await findLeader(Etcd3, endpoints, 30_000);
  const members = endpoints.map((hosts) => new Etcd3({ hosts }));
  return { leader: members[endpoints.indexOf(leaderHost)]!, members, compactedAt: '0', cpu: undefined, cpuUnavailable: procUnavailableReason() };
}

async function serve(clients: Clients, m: ToClient): Promise<void> {
  if (m.type === 'load') {
    send({ type: 'loaded', result: await loadKeys(clients, m.keys) });
    return;
  }
  if (clients.cpuUnavailable === undefined) {
    clients.cpu = { client: process.pid, members: m.memberPids, leader: clients.members.indexOf(clients.leader) };
  }
  await warmServers(clients, m.serverWarmupOps);
  for (const level of m.levels) send({ type: 'level', run: await runLevel(clients, level, m.durationMs, m.warmupMs) });
  send({ type: 'done' });
}

const fail = (err: unknown): void => send({ type: 'failed', error: err instanceof Error ? (err.stack ?? err.message) : String(err) });

setup().then((clients) => {
  process.on('message', (m: ToClient) => void serve(clients, m).catch(fail));
  process.on('disconnect', () => {
    for (const c of clients.members) c.close();
    process.exit(0);
  });
  send({ type: 'ready', leader: endpoints[clients.members.indexOf(clients.leader)]! });
}, fail);
