/**
 * KvMembers for the kv-store suite, in this process: each with its own data directory (SQLite
 * store at `synchronous=NORMAL` and SQLite Raft log at `synchronous=FULL`, KvMember's defaults)
 * and its own TcpTransport on 127.0.0.1, as the package README's example runs them.
 */
import { LocalPeerNetwork, type KvMember, type KvRaftOptions, openKvMember } from '@pontoon/kv';
import { TcpTransport } from '@pontoon/transport-tcp';
import path from 'node:path';

/** A 500 ms election timeout (randomized to 500-1000 ms), as the cluster suite's BENCH_RAFT. */
export const BENCH_KV_RAFT = { tickMs: 50, electionTicks: 10, maxInflightMsgs: 256 } as const;

export interface MemberGroup {
  members: KvMember[];
  /** Waits until one member leads and has applied its term's first entry. */
  leader(): Promise<KvMember>;
  close(): Promise<void>;
}

/**
 * Opens `size` members in `dir` (m1, m2, ...): a new cluster, or the same one again. `raft`
 * overrides BENCH_KV_RAFT.
 */
export async function openMembers(dir: string, size: number, clusterId = 'kv-store-bench', raft: KvRaftOptions = {}): Promise<MemberGroup> {
  const transports = Array.from({ length: size }, (_, i) => new TcpTransport({ id: i + 1, clusterId }));
  await Promise.all(transports.map((t) => t.listen()));
  const initialMembers = transports.map((t, i) => ({ id: i + 1, address: t.address! }));
  const peers = new LocalPeerNetwork();
  const opened = await Promise.allSettled(
    initialMembers.map(({ id }) =>
      openKvMember({
        id,
        dataDir: path.join(dir, `m${id}`),
        transport: transports[id - 1]!,
        peers: peers.link(id),
        initialMembers,
        raft: { ...BENCH_KV_RAFT, ...raft },
        requestTimeoutMs: 60_000,
      }),
    ),
  );
  const members = opened.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const failed = opened.find((r) => r.status === 'rejected');
  if (failed !== undefined) {
    await Promise.all(members.map((m) => m.close()));
    throw (failed as PromiseRejectedResult).reason;
  }
  return {
    members,
    async leader() {
      const until = performance.now() + 30_000;
      while (performance.now() < until) {
        const l = members.find((m) => m.isLeader);
        // A put through the leader answers once its term's empty entry has applied.
        if (l !== undefined) {
          await l.get('bench/probe', { timeoutMs: 5_000 });
          return l;
        }
        await new Promise((r) => setTimeout(r, 20));
      }
      throw new Error(`no leader among ${members.length} members within 30 s`);
    },
    async close() {
      await Promise.all(members.map((m) => m.close()));
    },
  };
}
