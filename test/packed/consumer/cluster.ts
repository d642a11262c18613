/**
 * What a TypeScript user writes after `npm install` of the packed tarballs: every entry point
 * imported, and a 3-node cluster on SQLite and TCP that commits, reads and stops. Compiled with
 * the strictest settings a user may have (tsconfig.json beside this file) and then run.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Entry, NotLeaderError, PontoonError, RaftNode, type RaftNodeOptions, type StateMachine } from '@pontoon/raft';
import { MemoryStorage, RawNode } from '@pontoon/raft/core';
import { logStoreConformance } from '@pontoon/raft/testing';
import { checkLinearizabilitySync, kvModel } from '@pontoon/sim';
import { SimNetwork } from '@pontoon/sim/rawnode';
import { SqliteLogStore, type SqliteLogStoreOptions } from '@pontoon/storage-sqlite';
import { TcpTransport } from '@pontoon/transport-tcp';

class Counter implements StateMachine<number> {
  value = 0;
  apply(entry: Entry): number {
    return (this.value += entry.data[0] ?? 0);
  }
  snapshot(): Uint8Array {
    return new TextEncoder().encode(String(this.value));
  }
  restore(data: Uint8Array): void {
    this.value = Number(new TextDecoder().decode(data));
  }
}

// Options a user computes may be undefined; with exactOptionalPropertyTypes they must still fit.
const tickMs: number | undefined = process.env['TICK_MS'] === undefined ? undefined : Number(process.env['TICK_MS']);
const storeOptions: SqliteLogStoreOptions = { synchronous: process.env['SYNC'] === 'off' ? 'off' : undefined };

// Every entry point is there and usable.
if (typeof RawNode !== 'function' || typeof SimNetwork !== 'function' || typeof checkLinearizabilitySync !== 'function') {
  throw new Error('an export is missing');
}
if (logStoreConformance.length === 0 || kvModel.name === '') throw new Error('the testing exports are empty');
if (!(new NotLeaderError(undefined, undefined) instanceof PontoonError)) throw new Error('errors do not share one PontoonError');
void new MemoryStorage();

const dir = mkdtempSync(join(tmpdir(), 'pontoon-consumer-'));
const ids = [1, 2, 3];
const transports = ids.map((id) => new TcpTransport({ id, clusterId: 'consumer', listen: { host: '127.0.0.1', port: 0 } }));
const addresses = await Promise.all(transports.map(async (t) => {
  const { host, port } = await t.listen();
  return `${host}:${port}`;
}));
const members = ids.map((id, k) => ({ id, address: addresses[k]! }));
const nodes: RaftNode<Counter>[] = [];
// Listen from each node's construction on: with awaits between constructions, two nodes may
// elect a leader before the third exists.
let elected!: (leader: RaftNode<Counter>) => void;
const firstLeader = new Promise<RaftNode<Counter>>((resolve) => (elected = resolve));
for (const [k, id] of ids.entries()) {
  const options: RaftNodeOptions<Counter> = {
    id,
    initialMembers: members,
    logStore: await SqliteLogStore.open(join(dir, String(id)), storeOptions),
    transport: transports[k]!,
    stateMachine: new Counter(),
    tickMs,
  };
  const node = new RaftNode(options);
  node.on('roleChanged', ({ role }) => role === 'leader' && elected(node));
  nodes.push(node);
}
try {
  const leader = await firstLeader;
  let total = 0;
  for (let i = 1; i <= 10; i++) total = await leader.propose(Uint8Array.of(i));
  const reads = await Promise.all(nodes.map((n) => n.read((c) => c.value)));
  if (total !== 55 || reads.some((v) => v !== 55)) throw new Error(`expected 55 everywhere, got ${total} and ${reads.join(', ')}`);
  console.log(`typescript: 3 nodes on SQLite and TCP agree on ${total}`);
} finally {
  await Promise.all(nodes.map((n) => n.stop()));
  rmSync(dir, { recursive: true, force: true });
}
