/**
 * What this node hears from its peers. Two uses:
 *
 * - Noticing that it hears from no peer at all. A member whose transport never listens (or
 *   whose peers' addresses are wrong) is deaf: it stays a pre-candidate forever and nothing else
 *   says why. After several election timeouts without a single message from any member it emits
 *   `isolated` and warns on the logger; the first message after that emits `reconnected`.
 * - How long it has heard from each peer without a break (RaftNode.peerContact()): what etcd
 *   calls a peer's "active since", which its reconfiguration checks ask before a membership
 *   change. A silence longer than an election timeout breaks the contact, the same window in
 *   which the leader counts a follower recently active.
 */
import type { NodeContext } from './node-context.js';
import type { AnyStateMachine } from './state-machine.js';

/** Election timeouts of silence before the node reports itself isolated. */
export const ISOLATION_ELECTION_TIMEOUTS = 3;

/** One peer's unbroken run of messages, in ticks. */
interface ContactRun {
  readonly sinceTick: number;
  lastTick: number;
}

export class PeerContact<SM extends AnyStateMachine> {
  private lastHeardTick = 0;
  private isolated = false;
  private readonly runs = new Map<number, ContactRun>();

  constructor(private readonly ctx: NodeContext<SM>) {}

  /** A message from peer `from` arrived. */
  heard(from: number): void {
    const now = this.ctx.loop.ticks;
    this.lastHeardTick = now;
    const run = this.runs.get(from);
    if (run === undefined || this.broken(run, now)) this.runs.set(from, { sinceTick: now, lastTick: now });
    else run.lastTick = now;
    if (!this.isolated) return;
    this.isolated = false;
    this.ctx.logger.info(`raft node ${this.ctx.id}: heard from node ${from} again`);
    this.ctx.notify('reconnected', { peerId: from });
  }

  /**
   * For each peer heard from within the last election timeout: for how many milliseconds this
   * node has heard from it without a silence longer than an election timeout (0: its first
   * message after a break arrived in the current tick). Peers not listed are not in contact.
   */
  contactMs(): Record<number, number> {
    const now = this.ctx.loop.ticks;
    const out: Record<number, number> = {};
    for (const [id, run] of this.runs) {
      if (this.broken(run, now)) this.runs.delete(id);
      else out[id] = (now - run.sinceTick) * this.ctx.opts.tickMs;
    }
    return out;
  }

  private broken(run: ContactRun, now: number): boolean {
    return now - run.lastTick > this.ctx.opts.electionTicks;
  }

  /** Checks the silence once per tick. */
  onTick(): void {
    const ctx = this.ctx;
    if (this.isolated) return;
    const silentTicks = ctx.loop.ticks - this.lastHeardTick;
    if (silentTicks < ISOLATION_ELECTION_TIMEOUTS * ctx.opts.electionTicks) return;
    const cs = ctx.membership.confState;
    const peers = [...new Set([...cs.voters, ...cs.learners, ...cs.votersOutgoing, ...cs.learnersNext])]
      .filter((id) => id !== ctx.id)
      .sort((a, b) => a - b);
    // Alone in the configuration (or not yet in one, waiting to be added): nobody to hear from.
    if (peers.length === 0) return;
    this.isolated = true;
    const silentMs = silentTicks * ctx.opts.tickMs;
    ctx.logger.warn(
      `raft node ${ctx.id}: no message from any peer (${peers.join(', ')}) for ${silentMs} ms; ` +
        'check that every member\'s transport listens and that the peers\' addresses are right',
    );
    ctx.notify('isolated', { silentMs, peers });
  }
}
