/**
 * A joint configuration: two majority configurations that must both agree, the C_old,new of
 * joint consensus (Raft thesis §4.3).
 *
 * Ported from etcd raft's `quorum/joint.go`.
 */

import { MajorityConfig } from './majority.js';
import { type AckedIndexer, type Index, VoteResult } from './quorum.js';

/**
 * Two possibly overlapping majority configurations. Decisions need the support of both. When
 * not in joint consensus the outgoing half is empty, and an empty half agrees to everything, so
 * the joint configuration then behaves exactly like the incoming one.
 */
export class JointConfig {
  /** The configuration being moved to (or the only one). Changes are always made here. */
  incoming: MajorityConfig;
  /** The configuration being left; empty unless in joint consensus. */
  outgoing: MajorityConfig;

  constructor(incoming: MajorityConfig = new MajorityConfig(), outgoing: MajorityConfig = new MajorityConfig()) {
    this.incoming = incoming;
    this.outgoing = outgoing;
  }

  /** A copy that shares no memory with this one. */
  clone(): JointConfig {
    return new JointConfig(this.incoming.clone(), this.outgoing.clone());
  }

  /** `(1 2 3)&&(1 2)` in joint consensus, otherwise just the incoming half `(1 2 3)`. */
  toString(): string {
    if (this.outgoing.size > 0) return `${this.incoming.toString()}&&${this.outgoing.toString()}`;
    return this.incoming.toString();
  }

  /** A new set of every voter of either half. */
  ids(): Set<number> {
    const m = new Set(this.incoming.ids);
    for (const id of this.outgoing.ids) m.add(id);
    return m;
  }

  /** The acknowledgement table of every voter of either half (see MajorityConfig.describe). */
  describe(l: AckedIndexer): string {
    return new MajorityConfig(this.ids()).describe(l);
  }

  /**
   * The largest index committed in the joint configuration: an index is committed only when
   * both halves have committed it.
   */
  committedIndex(l: AckedIndexer): Index {
    const idx0 = this.incoming.committedIndex(l);
    const idx1 = this.outgoing.committedIndex(l);
    return idx0 < idx1 ? idx0 : idx1;
  }

  /** The outcome of an election: won only when both halves are won, lost when either is lost. */
  voteResult(votes: ReadonlyMap<number, boolean>): VoteResult {
    const r1 = this.incoming.voteResult(votes);
    const r2 = this.outgoing.voteResult(votes);
    if (r1 === r2) return r1;
    // Once one half has lost, nothing the other half does can win the election.
    if (r1 === VoteResult.VoteLost || r2 === VoteResult.VoteLost) return VoteResult.VoteLost;
    // One half won, the other is still pending.
    return VoteResult.VotePending;
  }
}
