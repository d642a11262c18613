/**
 * An in-process cluster of KvMembers for tests: MemoryNetwork for Raft, LocalPeerNetwork for
 * the leader link, a temporary directory per member, real timers with short ticks.
 */
import { MemoryLogStore, MemoryNetwork } from '@pontoon/raft';
import type { Member } from '@pontoon/raft';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type KvMember, openKvMember } from '../../src/kv-member.js';
import { LocalPeerNetwork } from '../../src/peer-link.js';

export const TICK_MS = 10;
export const ELECTION_TICKS = 10;

export interface TestCluster {
  members: Map<number, KvMember>;
  network: MemoryNetwork;
  peers: LocalPeerNetwork;
  member(id: number): KvMember;
  leader(): Promise<KvMember>;
  followers(): KvMember[];
  /** Cuts `id` off from the others, on both the Raft network and the peer link. */
  isolate(id: number): void;
  heal(): void;
  close(): Promise<void>;
}

export async function startCluster(size = 3): Promise<TestCluster> {
  const dir = await mkdtemp(join(tmpdir(), 'kv-member-'));
  const network = new MemoryNetwork();
  const peers = new LocalPeerNetwork();
  const initialMembers: Member[] = [];
  for (let id = 1; id <= size; id++) initialMembers.push({ id, address: `m${id}` });
  const members = new Map<number, KvMember>();
  for (const { id } of initialMembers) {
    members.set(
      id,
      await openKvMember({
        id,
        dataDir: join(dir, `m${id}`),
        transport: network.transport(id),
        peers: peers.link(id),
        logStore: new MemoryLogStore(),
        initialMembers,
        raft: { tickMs: TICK_MS, electionTicks: ELECTION_TICKS },
        store: { synchronous: 'normal' },
        requestTimeoutMs: 5_000,
      }),
    );
  }
  const cluster: TestCluster = {
    members,
    network,
    peers,
    member: (id) => members.get(id)!,
    async leader() {
      for (let i = 0; i < 500; i++) {
        const live = [...members.values()].filter((m) => !m.raft.isStopped);
        const l = live.find((m) => m.isLeader);
        if (l !== undefined && live.every((m) => m.raft.leaderId === l.id)) return l;
        await new Promise((r) => setTimeout(r, 10));
      }
      throw new Error('no leader within 5 s');
    },
    followers: () => [...members.values()].filter((m) => !m.isLeader && !m.raft.isStopped),
    isolate(id) {
      network.isolate(id);
      const others = [...members.keys()].filter((k) => k !== id);
      peers.partition([id], others);
    },
    heal() {
      network.heal();
      peers.heal();
    },
    async close() {
      await Promise.allSettled([...members.values()].map((m) => m.close()));
      await rm(dir, { recursive: true, force: true });
    },
  };
  return cluster;
}
