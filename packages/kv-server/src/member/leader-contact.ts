/**
 * How long this member has been part of a working cluster: continuously following (or being) a
 * leader, any leader. etcd's members each keep a stream to every peer, so the age of a stream
 * says how long a peer has been up, whoever leads; a Pontoon follower hears only the leader, and
 * a new leader has heard from its followers only since its election. This is the member's own
 * half of etcd's "active since" that survives a leader change: a gap without a leader shorter
 * than an election timeout (an election, a leadership transfer) does not break it.
 */
import type { KvMember } from '@pontoon/kv';

export class LeaderContact {
  /** When the current run began (undefined: no leader, past the grace). */
  private since: number | undefined;
  /** When the member last lost its leader, while it has none. */
  private lostAt: number | undefined;
  private readonly onLeader = (e: { leaderId: number | undefined }): void => this.leaderIs(e.leaderId);

  constructor(
    private readonly member: KvMember,
    /** The longest gap without a leader that keeps the run: an election timeout. */
    private readonly graceMs: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    member.raft.on('leaderChanged', this.onLeader);
    this.leaderIs(member.raft.leaderId);
  }

  /** Milliseconds of the current run; undefined while the member has had no leader for longer than the grace. */
  ms(): number | undefined {
    const now = this.now();
    if (this.lostAt !== undefined && now - this.lostAt > this.graceMs) this.since = undefined;
    return this.since === undefined ? undefined : now - this.since;
  }

  close(): void {
    this.member.raft.off('leaderChanged', this.onLeader);
  }

  private leaderIs(leaderId: number | undefined): void {
    const now = this.now();
    if (leaderId === undefined) {
      this.lostAt ??= now;
      return;
    }
    if (this.since === undefined || (this.lostAt !== undefined && now - this.lostAt > this.graceMs)) this.since = now;
    this.lostAt = undefined;
  }
}
