/**
 * Three @pontoon/kv members in this process, each with its own data directory (SQLite store and
 * Raft log) and its own TCP port on 127.0.0.1, as @pontoon/kv's README starts them. In
 * production each member runs in its own process; in one process the example stays short.
 */
import { LocalPeerNetwork, openKvMember, type KvMember } from '@pontoon/kv';
import { TcpTransport } from '@pontoon/transport-tcp';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A running in-process cluster. */
export interface EmbeddedCluster {
  readonly members: readonly KvMember[];
  /** Closes every member and removes the data directories. */
  close(): Promise<void>;
}

/**
 * Short Raft ticks: a 500 ms election timeout makes etcd's minimum lease TTL 1 s (1.5 election
 * timeouts), so a dead lock holder or leader is noticed within seconds.
 */
const RAFT = { tickMs: 50, electionTicks: 10 } as const;

/** Starts `size` members (default 3) on free ports and resolves once one of them leads. */
export async function startEmbeddedCluster(size = 3): Promise<EmbeddedCluster> {
  const dir = await mkdtemp(join(tmpdir(), 'pontoon-lock-election-'));
  const transports = Array.from({ length: size }, (_, i) => new TcpTransport({ id: i + 1, clusterId: 'lock-election' }));
  const members: KvMember[] = [];
  const close = async (): Promise<void> => {
    await Promise.allSettled(members.map((m) => m.close()));
    // Transports whose member never opened are not closed by a member.
    await Promise.allSettled(transports.slice(members.length).map((t) => t.close()));
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await Promise.all(transports.map((t) => t.listen()));
    const initialMembers = transports.map((t, i) => ({ id: i + 1, address: t.address! }));
    const peers = new LocalPeerNetwork();
    for (const { id } of initialMembers) {
      members.push(
        await openKvMember({ id, dataDir: join(dir, `m${id}`), transport: transports[id - 1]!, peers: peers.link(id), initialMembers, raft: RAFT }),
      );
    }
    // A linearizable read answers only once a leader has committed an entry of its term.
    await members[0]!.get('warm-up');
  } catch (err) {
    await close();
    throw err;
  }
  return { members, close };
}
