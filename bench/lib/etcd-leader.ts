/**
 * Finding the member that leads an etcd (or pontoon-kv) cluster from an `etcd3` client, for the
 * benchmark clients that send every call to the leader. The client class is passed in: one
 * client loads `etcd3` from the workspace, the other from a separate install.
 */

/** The part of etcd3's client this needs. */
export interface LeaderProbe {
  maintenance: { status(): Promise<{ header: { member_id: string }; leader: string }> };
  close(): void;
}

/**
 * The endpoint whose member says it is the leader; a fresh cluster may still be electing, so it
 * asks every endpoint in turn until `timeoutMs` has passed.
 */
export async function findLeader(
  Etcd3: new (options: { hosts: string }) => LeaderProbe,
  endpoints: readonly string[],
  timeoutMs: number,
): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    for (const host of endpoints) {
      const probe = new Etcd3({ hosts: host });
      try {
        const status = await probe.maintenance.status();
        if (status.leader !== '0' && status.header.member_id === status.leader) return host;
      } catch {
        // not serving yet
      } finally {
        probe.close();
      }
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`no member among ${endpoints.join(', ')} said it was the leader within ${timeoutMs / 1000} s`);
}
