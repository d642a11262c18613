/**
 * Misuse of a running cluster (three RaftNodes in this process, on SQLite and real TCP on
 * 127.0.0.1): membership calls on a follower, commands over the size limit, calls on a stopped node,
 * invalid options, a second opener of a data directory, impossible membership calls. Each is
 * refused at once with a typed error carrying what the caller needs, and the cluster loses
 * nothing: every write acknowledged before, between and after is on every node at the end.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../examples/counter/cluster.js';
import {
  CommandTooLargeError,
  ConfChangeError,
  ConfigError,
  InvalidCommandError,
  NodeStoppedError,
  NotLeaderError,
  PontoonError,
  RaftNode,
  type Entry,
  type Member,
  type RaftNodeOptions,
  type StateMachine,
} from '../packages/raft/src/index.js';
import { SqliteLogStore, StoreLockedError } from '../packages/storage-sqlite/src/index.js';
import { TcpTransport } from '../packages/transport-tcp/src/index.js';

/** Counts the commands applied and their bytes: any lost or doubled command shows. */
class Tally implements StateMachine<number> {
  count = 0;
  bytes = 0;
  apply(e: Entry): number {
    this.bytes += e.data.length;
    return ++this.count;
  }
  snapshot(): Uint8Array {
    return new TextEncoder().encode(JSON.stringify([this.count, this.bytes]));
  }
  restore(data: Uint8Array): void {
    [this.count, this.bytes] = JSON.parse(new TextDecoder().decode(data)) as [number, number];
  }
}

type Node = RaftNode<Tally>;
const MAX_COMMAND = 1 << 20; // RaftNode's default maxCommandBytes
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pontoon-bad-use-'));
const members: Member[] = [];
const nodes = new Map<number, Node>();
const tallies = new Map<number, Tally>();
const acked = { count: 0, bytes: 0 };

async function startNode(id: number, extra: Partial<RaftNodeOptions<Tally>> = {}): Promise<Node> {
  const logStore = await SqliteLogStore.open(path.join(dir, `node-${id}`));
  const [host, port] = members.find((m) => m.id === id)!.address.split(':');
  const transport = new TcpTransport({ id, clusterId: 'bad-use', listen: { host: host!, port: Number(port) } });
  await transport.listen();
  const stateMachine = new Tally();
  const node = new RaftNode({ id, logStore, transport, stateMachine, initialMembers: members, tickMs: 20, ...extra });
  nodes.set(id, node);
  tallies.set(id, stateMachine);
  return node;
}

async function until<T>(what: string, probe: () => T | undefined, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const running = (): Node[] => [...nodes.values()].filter((n) => !n.isStopped);
const leader = (): Promise<Node> => until('a leader', () => running().find((n) => n.isLeader));
/** A running node that follows the current leader. */
const follower = (): Promise<Node> =>
  until('a follower', () => {
    const l = running().find((n) => n.isLeader);
    return l === undefined ? undefined : running().find((n) => n !== l && n.leaderId === l.id);
  });

/** Proposes on the leader and counts the write as acknowledged once the promise resolved. */
async function write(bytes = 8): Promise<void> {
  const l = await leader();
  await l.propose(new Uint8Array(bytes).fill(7));
  acked.count++;
  acked.bytes += bytes;
}

beforeAll(async () => {
  for (const id of [1, 2, 3]) members.push({ id, address: `127.0.0.1:${await freePort()}` });
  await Promise.all(members.map((m) => startNode(m.id)));
  for (let i = 0; i < 20; i++) await write();
});

afterAll(async () => {
  await Promise.all([...nodes.values()].map((n) => n.stop()));
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('bad use of a running cluster', () => {
  it('a proposal to a follower goes to the leader; a membership call there: NotLeaderError naming the leader', async () => {
    const l = await leader();
    const f = await follower();
    // Forwarded to the leader, and settled once the follower applied it.
    await f.propose(new Uint8Array([1]));
    acked.count++;
    acked.bytes += 1;
    expect(tallies.get(f.id)!.count).toBe(acked.count);
    const err = await f.addLearner(9, '127.0.0.1:1').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NotLeaderError);
    expect(err).toMatchObject({ code: 'ERR_NOT_LEADER', leaderId: l.id, leaderAddress: members.find((m) => m.id === l.id)!.address });
    await expect(f.transferLeadership(f.id)).rejects.toBeInstanceOf(NotLeaderError);
    await write();
  });

  it('commands over maxCommandBytes: CommandTooLargeError; empty: InvalidCommandError; at the limit: replicated', async () => {
    const l = await leader();
    const err = await l.propose(new Uint8Array(MAX_COMMAND + 1)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CommandTooLargeError);
    expect(err).toMatchObject({ code: 'ERR_COMMAND_TOO_LARGE', size: MAX_COMMAND + 1, limit: MAX_COMMAND });
    await expect(l.propose(new Uint8Array(0))).rejects.toBeInstanceOf(InvalidCommandError);
    await expect(l.propose('inc' as unknown as Uint8Array)).rejects.toBeInstanceOf(InvalidCommandError);
    // Exactly at the limit it is a valid command, larger than a TCP frame: sent in chunks.
    await write(MAX_COMMAND);
    await write();
  });

  it('a stopped node: NodeStoppedError for every call; restarted over its store, it has every write', async () => {
    const f = await follower();
    await f.stop();
    for (const call of [
      () => f.propose(new Uint8Array([1])),
      () => f.read((t) => t.count),
      () => f.addVoter(9, '127.0.0.1:1'),
      () => f.transferLeadership(1),
    ]) {
      await expect(call()).rejects.toBeInstanceOf(NodeStoppedError);
    }
    expect(await f.stop()).toBeUndefined(); // idempotent
    for (let i = 0; i < 10; i++) await write();
    const back = await startNode(f.id);
    await until('the restarted node to catch up', () => (tallies.get(f.id)!.count === acked.count ? true : undefined));
    expect(await back.read((t) => t.count)).toBe(acked.count);
  });

  it('invalid options: ConfigError naming the field, and the store it was given is left as it was', async () => {
    const f = await follower();
    const id = f.id;
    await f.stop();
    const store = await SqliteLogStore.open(path.join(dir, `node-${id}`));
    const lastIndex = store.lastIndex();
    const transport = new TcpTransport({ id, clusterId: 'bad-use' });
    const base = { id, logStore: store, transport, stateMachine: new Tally(), initialMembers: members, closeLogStoreOnStop: false };
    const invalid: Array<[string, Partial<RaftNodeOptions<Tally>>]> = [
      ['id', { id: 0 }],
      ['tickMs', { tickMs: -1 }],
      ['electionTicks', { electionTicks: 2, heartbeatTicks: 2 }],
      ['leaseBasedReads', { leaseBasedReads: true, checkQuorum: false }],
      ['snapshot.everyEntries', { snapshot: { everyEntries: 0 } }],
      ['maxCommandBytes', { maxCommandBytes: -5 }],
      ['initialMembers', { initialMembers: [members[0]!, members[0]!] }],
      ['stateMachine', { stateMachine: {} as Tally }],
      ['logStore', { logStore: {} as SqliteLogStore }],
    ];
    for (const [field, override] of invalid) {
      let err: unknown;
      try {
        new RaftNode({ ...base, ...override });
      } catch (e) {
        err = e;
      }
      expect(err, field).toBeInstanceOf(ConfigError);
      expect(err, field).toMatchObject({ code: 'ERR_CONFIG', field });
    }
    expect(() => new TcpTransport({ id, clusterId: '' })).toThrow(ConfigError);
    expect(() => new TcpTransport({ id, clusterId: 'x', listen: { port: 70_000 } })).toThrow(ConfigError);
    // A second opener of the same directory (another process, or a mistake here) is refused.
    const second = await SqliteLogStore.open(path.join(dir, `node-${id}`)).catch((e: unknown) => e);
    expect(second).toBeInstanceOf(StoreLockedError);
    expect(second).toBeInstanceOf(PontoonError);

    expect(store.lastIndex()).toBe(lastIndex);
    await Promise.all([store.close(), transport.close()]);
    for (let i = 0; i < 10; i++) await write();
    await startNode(id);
    await until('the restarted node to catch up', () => (tallies.get(id)!.count === acked.count ? true : undefined));
  });

  it('impossible membership calls: ConfChangeError, and the membership is unchanged', async () => {
    const l = await leader();
    const f = await follower();
    const before = l.membership();
    await expect(l.promote(f.id)).rejects.toBeInstanceOf(ConfChangeError); // a voter, not a learner
    await expect(l.transferLeadership(42)).rejects.toBeInstanceOf(ConfChangeError); // not a member
    await expect(l.addVoter(0, '127.0.0.1:1')).rejects.toBeInstanceOf(ConfChangeError); // not an id
    await expect(l.changeMembership([{ type: 'addVoter', id: 42 }])).rejects.toBeInstanceOf(ConfChangeError); // no address known
    await expect(l.changeMembership([])).rejects.toBeInstanceOf(ConfChangeError);
    expect(l.membership()).toEqual(before);
    await write();
  });

  it('nothing is lost: every acknowledged write is on every node, applied once', async () => {
    for (const n of nodes.values()) {
      expect(n.isStopped).toBe(false);
      expect(await n.read((t) => [t.count, t.bytes])).toEqual([acked.count, acked.bytes]);
    }
  });
});
