import { afterEach, describe, expect, it } from 'vitest';
import {
  CommandTooLargeError,
  ConfigError,
  InvalidCommandError,
  MemoryLogStore,
  MemoryNetwork,
  MessageType,
  NodeStoppedError,
  ProposalDroppedError,
  ProposalOutcomeUnknownError,
  RaftNode,
  TimeoutError,
} from '../../src/index.js';
import type { RaftNodeOptions } from '../../src/index.js';
import { KvStateMachine, TestCluster, set, sleep, waitFor } from './support.js';

let cluster: TestCluster | undefined;
afterEach(async () => {
  await cluster?.stopAll();
  cluster = undefined;
});

function baseOptions(): RaftNodeOptions<KvStateMachine> {
  const network = new MemoryNetwork();
  return {
    id: 1,
    logStore: new MemoryLogStore(),
    transport: network.transport(1),
    stateMachine: new KvStateMachine(),
    initialMembers: [{ id: 1, address: 'a' }],
  };
}

describe('RaftNode: options', () => {
  it.each<[string, Partial<RaftNodeOptions<KvStateMachine>>, string]>([
    ['id 0', { id: 0 }, 'id'],
    ['a fractional id', { id: 1.5 }, 'id'],
    ['election ticks not above heartbeat ticks', { electionTicks: 2, heartbeatTicks: 2 }, 'electionTicks'],
    ['a zero tick', { tickMs: 0 }, 'tickMs'],
    ['lease reads without CheckQuorum', { leaseBasedReads: true, checkQuorum: false }, 'leaseBasedReads'],
    ['a negative maxCommandBytes', { maxCommandBytes: -1 }, 'maxCommandBytes'],
    ['a bad snapshot policy', { snapshot: { everyEntries: 0 } }, 'snapshot.everyEntries'],
    ['duplicate members', { initialMembers: [{ id: 1, address: 'a' }, { id: 1, address: 'b' }] }, 'initialMembers'],
    ['an empty store and no members', { initialMembers: [] }, 'initialMembers'],
    ['members without this node', { initialMembers: [{ id: 2, address: 'b' }] }, 'initialMembers'],
    ['no state machine', { stateMachine: undefined as unknown as KvStateMachine }, 'stateMachine'],
    ['no transport', { transport: {} as never }, 'transport'],
  ])('refuses %s with a ConfigError at once', (_name, patch, field) => {
    const build = (): unknown => new RaftNode({ ...baseOptions(), ...patch });
    expect(build).toThrow(ConfigError);
    try {
      build();
    } catch (err) {
      expect((err as ConfigError).field).toBe(field);
      expect((err as ConfigError).code).toBe('ERR_CONFIG');
    }
  });
});

describe('RaftNode: proposals', () => {
  it('refuses oversize and empty commands at once', async () => {
    cluster = new TestCluster([1], { maxCommandBytes: 32 }).startAll();
    const leader = await cluster.leader();
    const err = await leader.propose(new Uint8Array(33)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CommandTooLargeError);
    expect((err as CommandTooLargeError).size).toBe(33);
    expect((err as CommandTooLargeError).limit).toBe(32);
    await expect(leader.propose(new Uint8Array(0))).rejects.toBeInstanceOf(InvalidCommandError);
    expect(await leader.propose(set('a', 'b'))).toBeNull();
  });

  it('rejects with the signal reason when aborted before, and as outcome unknown when aborted after appending', async () => {
    cluster = new TestCluster([1, 2, 3]).startAll();
    const leader = await cluster.leader();
    const reason = new Error('caller gave up');
    await expect(leader.propose(set('a', '1'), { signal: AbortSignal.abort(reason) })).rejects.toBe(reason);

    // Aborted in the same turn, before the Ready loop appended it: not proposed at all.
    const early = new AbortController();
    const p1 = leader.propose(set('a', '2'), { signal: early.signal });
    early.abort(reason);
    await expect(p1).rejects.toBe(reason);

    // Appended but not committed (followers cut off): the outcome is unknown.
    cluster.network.isolate(leader.id);
    const late = new AbortController();
    const p2 = leader.propose(set('a', '3'), { signal: late.signal });
    await sleep(20);
    late.abort(reason);
    const err = await p2.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProposalOutcomeUnknownError);
    expect((err as ProposalOutcomeUnknownError).reason).toBe('aborted');
    expect((err as ProposalOutcomeUnknownError).cause).toBe(reason);
    expect((err as ProposalOutcomeUnknownError).index).toBeGreaterThan(0);
  });

  it('times out with ProposalOutcomeUnknownError when the leader is partitioned mid-flight', async () => {
    cluster = new TestCluster([1, 2, 3]).startAll();
    const leader = await cluster.leader();
    await leader.propose(set('a', '1'));
    cluster.network.isolate(leader.id);
    const err = await leader.propose(set('a', '2'), { timeoutMs: 30 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProposalOutcomeUnknownError);
    expect((err as ProposalOutcomeUnknownError).reason).toBe('timeout');
    expect((err as ProposalOutcomeUnknownError).cause).toBeInstanceOf(TimeoutError);
  });

  it('keeps waiting after losing leadership, then reports the entry overwritten as dropped', async () => {
    cluster = new TestCluster([1, 2, 3]).startAll();
    const old = await cluster.leader();
    await old.propose(set('a', '1'));
    cluster.network.isolate(old.id);
    const pending = old.propose(set('a', 'lost'), { timeoutMs: 5000 });
    const others = cluster.running().filter((n) => n !== old);
    const fresh = await cluster.leader(others);
    expect(await fresh.propose(set('a', 'won'))).toBe('1');
    cluster.network.heal();
    const err = await pending.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProposalDroppedError);
    await waitFor(() => cluster!.sms.get(old.id)!.data.get('a') === 'won', { what: 'old leader catches up' });
  });

  it('keeps waiting after losing leadership, then resolves when the entry commits under the next leader', async () => {
    cluster = new TestCluster([1, 2, 3]).startAll();
    const old = await cluster.leader();
    await old.propose(set('a', '1'));
    const others = cluster.running().filter((n) => n !== old);
    // Followers receive the entry but the leader never hears that they have it.
    cluster.network.setFilter((m) => !(m.to === old.id && m.type === MessageType.MsgAppResp));
    const target = cluster.stores.get(old.id)!.lastIndex() + 1;
    const pending = old.propose(set('a', 'kept'), { timeoutMs: 5000 });
    await waitFor(() => others.every((n) => cluster!.stores.get(n.id)!.lastIndex() >= target), { what: 'followers have the entry' });
    cluster.network.setFilter(undefined);
    cluster.network.isolate(old.id);
    const fresh = await cluster.leader(others);
    expect(fresh.id).not.toBe(old.id);
    // The new leader commits the entry (with one of its own term).
    await waitFor(() => cluster!.sms.get(fresh.id)!.data.get('a') === 'kept', { what: 'entry committed by the new leader' });
    cluster.network.heal();
    expect(await pending).toBe('1');
  });

  it('times out with TimeoutError for reads that cannot be served', async () => {
    cluster = new TestCluster([1, 2, 3]).startAll();
    const leader = await cluster.leader();
    cluster.network.isolate(leader.id);
    await expect(leader.read((sm) => sm.data.size, { timeoutMs: 30 })).rejects.toBeInstanceOf(TimeoutError);
  });

  it('settles waiting calls when stopped and refuses new ones', async () => {
    cluster = new TestCluster([1, 2, 3]).startAll();
    const leader = await cluster.leader();
    cluster.network.isolate(leader.id);
    const proposal = leader.propose(set('a', '1')).catch((e: unknown) => e);
    const read = leader.read((sm) => sm.data.size).catch((e: unknown) => e);
    await sleep(10);
    await leader.stop();
    expect(await proposal).toBeInstanceOf(ProposalOutcomeUnknownError);
    expect(((await proposal) as ProposalOutcomeUnknownError).reason).toBe('stopped');
    expect(await read).toBeInstanceOf(NodeStoppedError);
    await expect(leader.propose(set('b', '1'))).rejects.toBeInstanceOf(NodeStoppedError);
    expect(cluster.transports.get(leader.id)!.closed).toBe(true);
  });
});
