/**
 * Noticing that this node hears from no peer at all. A member whose transport never listens
 * (or whose peers' addresses are wrong) is deaf: it stays a pre-candidate forever and nothing
 * else says why. After several election timeouts without a single message from any member it
 * emits `isolated` and warns on the logger; the first message after that emits `reconnected`.
 */
import type { NodeContext } from './node-context.js';
import type { StateMachine } from './state-machine.js';

/** Election timeouts of silence before the node reports itself isolated. */
export const ISOLATION_ELECTION_TIMEOUTS = 3;

export class PeerContact<SM extends StateMachine> {
  private lastHeardTick = 0;
  private isolated = false;

  constructor(private readonly ctx: NodeContext<SM>) {}

  /** A message from peer `from` arrived. */
  heard(from: number): void {
    this.lastHeardTick = this.ctx.loop.ticks;
    if (!this.isolated) return;
    this.isolated = false;
    this.ctx.logger.info(`raft node ${this.ctx.id}: heard from node ${from} again`);
    this.ctx.notify('reconnected', { peerId: from });
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
