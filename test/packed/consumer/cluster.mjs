// What a JavaScript user writes after `npm install` of the packed tarballs: every entry point
// imported from plain ESM, and a 3-node cluster on SQLite and TCP that commits, reads and stops.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NotLeaderError, PontoonError, RaftNode } from '@pontoon/raft';
import { MemoryStorage, RawNode } from '@pontoon/raft/core';
import { logStoreConformance } from '@pontoon/raft/testing';
import { checkLinearizabilitySync, kvModel } from '@pontoon/sim';
import { SimNetwork } from '@pontoon/sim/rawnode';
import { SqliteLogStore } from '@pontoon/storage-sqlite';
import { TcpTransport } from '@pontoon/transport-tcp';

if (typeof RawNode !== 'function' || typeof SimNetwork !== 'function' || typeof checkLinearizabilitySync !== 'function') {
  throw new Error('an export is missing');
}
if (logStoreConformance.length === 0 || kvModel.name === '') throw new Error('the testing exports are empty');
if (!(new NotLeaderError(undefined, undefined) instanceof PontoonError)) throw new Error('errors do not share one PontoonError');
void new MemoryStorage();

const counter = () => ({
  value: 0,
  apply(entry) { return (this.value += entry.data[0] ?? 0); },
  snapshot() { return new TextEncoder().encode(String(this.value)); },
  restore(data) { this.value = Number(new TextDecoder().decode(data)); },
});

const dir = mkdtempSync(join(tmpdir(), 'pontoon-consumer-'));
const ids = [1, 2, 3];
const transports = ids.map((id) => new TcpTransport({ id, clusterId: 'consumer', listen: { host: '127.0.0.1', port: 0 } }));
const addresses = await Promise.all(transports.map(async (t) => {
  const { host, port } = await t.listen();
  return `${host}:${port}`;
}));
const members = ids.map((id, k) => ({ id, address: addresses[k] }));
const nodes = [];
// Listen from each node's construction on: with awaits between constructions, two nodes may
// elect a leader before the third exists.
let elected;
const firstLeader = new Promise((resolve) => (elected = resolve));
for (const [k, id] of ids.entries()) {
  const logStore = await SqliteLogStore.open(join(dir, String(id)));
  const node = new RaftNode({ id, initialMembers: members, logStore, transport: transports[k], stateMachine: counter() });
  node.on('roleChanged', ({ role }) => role === 'leader' && elected(node));
  nodes.push(node);
}
try {
  const leader = await firstLeader;
  let total = 0;
  for (let i = 1; i <= 10; i++) total = await leader.propose(Uint8Array.of(i));
  const reads = await Promise.all(nodes.map((n) => n.read((c) => c.value)));
  if (total !== 55 || reads.some((v) => v !== 55)) throw new Error(`expected 55 everywhere, got ${total} and ${reads.join(', ')}`);
  console.log(`plain ESM: 3 nodes on SQLite and TCP agree on ${total}`);
} finally {
  await Promise.all(nodes.map((n) => n.stop()));
  rmSync(dir, { recursive: true, force: true });
}
