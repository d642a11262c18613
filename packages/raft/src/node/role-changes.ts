/**
 * Role and leader changes: the `roleChanged` and `leaderChanged` events from the core's soft
 * state, leadership transfers waiting to see the new leader, and where to send a caller that
 * asked the wrong node.
 */
import { ConfChangeError, NodeStoppedError, NotLeaderError, TimeoutError } from '../errors.js';
import { None } from '../types.js';
import type { SoftState } from '../types.js';
import type { CallOptions } from './call-options.js';
import type { Role } from './events.js';
import { roleOf } from './events.js';
import type { NodeContext } from './node-context.js';
import type { AnyStateMachine } from './state-machine.js';
import { Waiter } from './waiter.js';

export class RoleHandler<SM extends AnyStateMachine> {
  private currentRole: Role;
  private currentLeader: number | undefined = undefined;
  /** Calls waiting for a leader change (transfers). */
  private readonly waiters = new Map<(leaderId: number | undefined) => void, Waiter<void>>();

  constructor(private readonly ctx: NodeContext<SM>) {
    this.currentRole = roleOf(ctx.rawNode.state);
  }

  /** The leader this node knows of, if any. */
  leaderId(): number | undefined {
    const lead = this.ctx.rawNode.lead;
    return lead === None ? undefined : lead;
  }

  notLeaderError(): NotLeaderError {
    const leader = this.leaderId();
    return new NotLeaderError(leader, leader === undefined ? undefined : this.ctx.membership.addresses.get(leader));
  }

  onSoftState(ss: SoftState): void {
    const ctx = this.ctx;
    const term = ctx.rawNode.term;
    const role = roleOf(ss.raftState);
    const leader = ss.lead === None ? undefined : ss.lead;
    if (role !== this.currentRole) {
      const previousRole = this.currentRole;
      this.currentRole = role;
      ctx.notify('roleChanged', { role, previousRole, term });
    }
    if (leader !== this.currentLeader) {
      const previousLeaderId = this.currentLeader;
      this.currentLeader = leader;
      ctx.notify('leaderChanged', { leaderId: leader, previousLeaderId, term });
      ctx.metrics?.leaderChanged(leader, leader === ctx.id);
      for (const onLeader of [...this.waiters.keys()]) onLeader(leader);
      if (leader !== undefined) ctx.reads.reissueAll();
    }
  }

  /** Hands leadership to `id`; see RaftNode.transferLeadership(). */
  transferLeadership(id: number, options: CallOptions): Promise<void> {
    const ctx = this.ctx;
    if (ctx.stopped) return Promise.reject(ctx.shutdown.stoppedError());
    if (options.signal?.aborted === true) return Promise.reject(options.signal.reason);
    if (!ctx.rawNode.isLeader) return Promise.reject(this.notLeaderError());
    if (id === ctx.id) return Promise.resolve();
    if (!ctx.membership.confState.voters.includes(id)) return Promise.reject(new ConfChangeError(`node ${id} is not a voter`));
    const timeoutMs = options.timeoutMs ?? 2 * ctx.opts.electionTicks * ctx.opts.tickMs;
    const waiter = new Waiter<void>(ctx.clock, timeoutMs, options.signal, (w, why) => {
      this.waiters.delete(onLeader);
      w.reject(why.kind === 'timeout' ? new TimeoutError(`leadership transfer to ${id}`, why.timeoutMs) : why.reason);
    });
    const onLeader = (leader: number | undefined): void => {
      if (leader === id) {
        this.waiters.delete(onLeader);
        waiter.resolve();
      } else if (leader !== undefined && leader !== ctx.id) {
        this.waiters.delete(onLeader);
        waiter.reject(new NotLeaderError(leader, ctx.membership.addresses.get(leader)));
      }
    };
    this.waiters.set(onLeader, waiter);
    ctx.rawNode.transferLeadership(id);
    ctx.scheduleReady();
    return waiter.promise;
  }

  /** The node stopped: nobody waits for a leader any more. */
  rejectAll(stoppedError: () => NodeStoppedError): void {
    for (const w of this.waiters.values()) w.reject(stoppedError());
    this.waiters.clear();
  }
}
