/**
 * Membership: the configuration as of the applied index and the members' addresses (which ride
 * in the conf change entries and in snapshots), membership changes proposed through the core
 * (joint consensus left automatically), and the `membershipChanged` and `removed` events.
 */
import { decodeConfChangeEntry } from '../raft.js';
import { ConfChangeError, ProposalDroppedError, NodeStoppedError, TimeoutError } from '../errors.js';
import { isLocalMsgTarget } from '../local-threads.js';
import { confChangeAsV2 } from '../conf-change.js';
import { ConfChangeTransition, ConfChangeType, cloneConfState } from '../types.js';
import type { ConfChangeSingle, ConfState, Entry } from '../types.js';
import type { CallOptions } from './call-options.js';
import { decodeAddresses, encodeAddresses } from './codec.js';
import type { Membership } from './events.js';
import { membershipOf } from './events.js';
import type { NodeContext } from './node-context.js';
import type { AnyStateMachine } from './state-machine.js';
import { Waiter } from './waiter.js';

/** One change of a changeMembership() call. */
export type MembershipChange =
  | { type: 'addVoter'; id: number; address?: string }
  | { type: 'addLearner'; id: number; address: string }
  | { type: 'remove'; id: number };

function membersOf(cs: ConfState): Set<number> {
  return new Set([...cs.voters, ...cs.learners, ...cs.votersOutgoing, ...cs.learnersNext]);
}

export class MembershipHandler<SM extends AnyStateMachine> {
  /** The configuration as of the applied index. */
  confState: ConfState;
  /** Known addresses of members (and seeded peers), by id. */
  readonly addresses = new Map<number, string>();
  /** Calls waiting for the joint configuration to be left. */
  private readonly waiters = new Map<(cs: ConfState) => void, Waiter<void>>();
  /** Whether `removed` was emitted. */
  private removedNoticed = false;

  constructor(
    private readonly ctx: NodeContext<SM>,
    confState: ConfState,
  ) {
    this.confState = cloneConfState(confState);
  }

  /** The membership as of the last applied entry. */
  membership(): Membership {
    return membershipOf(this.confState, this.addresses);
  }

  /** Proposes membership changes on the leader; see RaftNode.changeMembership(). */
  change(changes: readonly MembershipChange[], options: CallOptions): Promise<Membership> {
    const ctx = this.ctx;
    if (ctx.stopped) return Promise.reject(ctx.shutdown.stoppedError());
    if (options.signal?.aborted === true) return Promise.reject(options.signal.reason);
    if (!ctx.rawNode.isLeader) return Promise.reject(ctx.roles.notLeaderError());
    if (changes.length === 0) return Promise.reject(new ConfChangeError('no membership change given'));
    if (ctx.rawNode.hasPendingConfChange() || this.confState.votersOutgoing.length > 0) {
      return Promise.reject(new ProposalDroppedError('raft proposal dropped: another membership change is in progress'));
    }
    const singles: ConfChangeSingle[] = [];
    const addresses: Array<[number, string]> = [];
    for (const c of changes) {
      if (!Number.isSafeInteger(c.id) || c.id <= 0 || isLocalMsgTarget(c.id)) {
        return Promise.reject(new ConfChangeError(`invalid node id ${String(c.id)}`));
      }
      if (c.type === 'remove') {
        singles.push({ type: ConfChangeType.ConfChangeRemoveNode, nodeId: c.id });
        continue;
      }
      if (c.type === 'addVoter') singles.push({ type: ConfChangeType.ConfChangeAddNode, nodeId: c.id });
      else singles.push({ type: ConfChangeType.ConfChangeAddLearnerNode, nodeId: c.id });
      if (c.address !== undefined) addresses.push([c.id, c.address]);
      else if (!this.addresses.has(c.id)) return Promise.reject(new ConfChangeError(`node ${c.id} needs an address`));
    }
    const proposal = ctx.proposals.newProposal('confChange', new Uint8Array(0), options);
    let index: number;
    try {
      index = ctx.rawNode.proposeConfChange({
        transition: ConfChangeTransition.ConfChangeTransitionAuto,
        changes: singles,
        context: encodeAddresses(addresses),
      });
    } catch (err) {
      proposal.waiter.reject(err);
      return proposal.waiter.promise as Promise<Membership>;
    }
    ctx.proposals.track(proposal, index, ctx.rawNode.term);
    ctx.scheduleReady();
    return proposal.waiter.promise.then(async (cs) => {
      const applied = cs as ConfState;
      // Joint consensus is left by an entry the leader proposes by itself once the joint
      // configuration is applied; the change is complete when that one is applied too.
      if (applied.votersOutgoing.length > 0) await this.waitForSimpleConfig(options);
      return this.membership();
    });
  }

  private waitForSimpleConfig(options: CallOptions): Promise<void> {
    if (this.confState.votersOutgoing.length === 0) return Promise.resolve();
    const timeoutMs = options.timeoutMs ?? this.ctx.opts.proposalTimeoutMs;
    const waiter = new Waiter<void>(this.ctx.clock, timeoutMs, options.signal, (w, why) => {
      this.waiters.delete(onChange);
      w.reject(why.kind === 'timeout' ? new TimeoutError('leaving the joint configuration', why.timeoutMs) : why.reason);
    });
    const onChange = (cs: ConfState): void => {
      if (cs.votersOutgoing.length > 0) return;
      this.waiters.delete(onChange);
      waiter.resolve();
    };
    this.waiters.set(onChange, waiter);
    return waiter.promise;
  }

  /**
   * Applies a committed conf change entry to the core's configuration and records the
   * addresses it carries. Returns the new configuration, or the ConfChangeError every node
   * refuses it with (the configuration then stays as it was).
   */
  applyEntry(e: Entry): ConfState | ConfChangeError {
    const ctx = this.ctx;
    const cc = decodeConfChangeEntry(e);
    let cs: ConfState;
    try {
      cs = ctx.rawNode.applyConfChange(cc);
    } catch (err) {
      if (!(err instanceof ConfChangeError)) throw err;
      ctx.logger.warn(`raft node ${ctx.id}: refused the membership change at index ${e.index}: ${err.message}`);
      return err;
    }
    const v2 = confChangeAsV2(cc);
    let addresses = new Map<number, string>();
    if (v2.context !== undefined && v2.context.length > 0) {
      try {
        addresses = decodeAddresses(v2.context);
      } catch (err) {
        ctx.logger.warn(`raft node ${ctx.id}: conf change at index ${e.index} carries no addresses: ${String(err)}`);
      }
    }
    for (const c of v2.changes) {
      const address = addresses.get(c.nodeId);
      if (c.type !== ConfChangeType.ConfChangeRemoveNode && address !== undefined) this.setAddress(c.nodeId, address);
    }
    this.confState = cloneConfState(cs);
    this.forgetNonMembers();
    return cs;
  }

  /** Tells listeners and waiting calls that the change applied at `index` took effect. */
  announce(index: number): void {
    this.ctx.notify('membershipChanged', { index, membership: this.membership() });
    this.noticeRemoval(index);
    for (const onChange of [...this.waiters.keys()]) onChange(this.confState);
  }

  /** Takes the configuration and addresses of a snapshot. */
  restore(cs: ConfState, addresses: ReadonlyMap<number, string>): void {
    this.confState = cloneConfState(cs);
    for (const [id, address] of addresses) this.setAddress(id, address);
    this.forgetNonMembers();
  }

  /** Emits `removed` the first time the applied configuration leaves this node out. */
  noticeRemoval(index: number): void {
    if (this.removedNoticed || membersOf(this.confState).has(this.ctx.id)) return;
    this.removedNoticed = true;
    this.ctx.notify('removed', { index });
  }

  setAddress(id: number, address: string): void {
    this.addresses.set(id, address);
    if (id !== this.ctx.id) this.ctx.transport.addPeer(id, address);
  }

  /** Drops the addresses of nodes in neither half of the configuration. */
  private forgetNonMembers(): void {
    const members = membersOf(this.confState);
    for (const id of [...this.addresses.keys()]) {
      if (members.has(id)) continue;
      this.addresses.delete(id);
      if (id !== this.ctx.id) this.ctx.transport.removePeer(id);
    }
  }

  /** The node stopped: nobody waits for a configuration any more. */
  rejectAll(stoppedError: () => NodeStoppedError): void {
    for (const w of this.waiters.values()) w.reject(stoppedError());
    this.waiters.clear();
  }
}
