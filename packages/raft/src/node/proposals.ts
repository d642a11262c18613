/**
 * Proposals as promises: queued as they arrive, handed to the core in batches once per turn of
 * the event loop, tracked by the log index they got, and settled when that index is applied.
 *
 * The guarantee: a proposal is rejected as failed (ProposalDroppedError, TimeoutError, the
 * signal's reason) only when it certainly did not and will not take effect; once it is in the
 * log and its fate is not decided, giving up rejects with ProposalOutcomeUnknownError. On a
 * follower the commands go to the leader through forwarding.ts, with the same guarantee.
 */
import {
  ConfChangeError,
  PontoonError,
  ProposalDroppedError,
  CommandTooLargeError,
  InvalidCommandError,
  NodeStoppedError,
  ProposalOutcomeUnknownError,
  TimeoutError,
} from '../errors.js';
import { EntryType } from '../types.js';
import { None } from '../types.js';
import type { Entry } from '../types.js';
import type { ForwardTag } from './command-envelope.js';
import { encodePlainCommand } from './command-envelope.js';
import type { CallOptions } from './call-options.js';
import type { ProposalOutcome } from './metrics.js';
import type { NodeContext } from './node-context.js';
import type { AnyStateMachine } from './state-machine.js';
import type { GiveUp } from './waiter.js';
import { Waiter } from './waiter.js';

export type ProposalKind = 'command' | 'confChange';

/**
 * A proposal waiting for its outcome. `index` 0: not (known to be) in the log. `forwardSeq`:
 * its sequence number when this member forwarded it to the leader (forwarding.ts), else 0.
 */
export interface Proposal {
  kind: ProposalKind;
  waiter: Waiter<unknown>;
  data: Uint8Array;
  index: number;
  term: number;
  forwardSeq: number;
}

export class ProposalHandler<SM extends AnyStateMachine> {
  /** Proposals not yet handed to the core (they go in with the next Ready). */
  private queued: Proposal[] = [];
  /** Proposals in the log, by index, waiting for that index to be applied. */
  private readonly tracked = new Map<number, Proposal[]>();
  /** Proposals not settled yet, wherever they wait (for the metrics). */
  private unsettled = 0;

  constructor(private readonly ctx: NodeContext<SM>) {}

  /** Checks a command and queues it for the next Ready; see RaftNode.propose(). */
  propose(command: Uint8Array, options: CallOptions): Promise<unknown> {
    const ctx = this.ctx;
    if (ctx.stopped) return Promise.reject(ctx.shutdown.stoppedError());
    if (!(command instanceof Uint8Array)) return Promise.reject(new InvalidCommandError('a command must be a Uint8Array'));
    if (command.length === 0) {
      return Promise.reject(new InvalidCommandError('a command must not be empty (empty entries are Raft no-ops)'));
    }
    if (command.length > ctx.opts.maxCommandBytes) {
      return Promise.reject(new CommandTooLargeError(command.length, ctx.opts.maxCommandBytes));
    }
    if (options.signal?.aborted === true) return Promise.reject(options.signal.reason);
    if (!ctx.rawNode.isLeader && !this.canForward()) return Promise.reject(ctx.roles.notLeaderError());
    const proposal = this.newProposal('command', command, options);
    this.queued.push(proposal);
    ctx.scheduleReady();
    return proposal.waiter.promise;
  }

  newProposal(kind: ProposalKind, data: Uint8Array, options: CallOptions): Proposal {
    const timeoutMs = options.timeoutMs ?? this.ctx.opts.proposalTimeoutMs;
    const proposal: Proposal = {
      kind,
      data,
      index: 0,
      term: 0,
      forwardSeq: 0,
      waiter: new Waiter<unknown>(this.ctx.clock, timeoutMs, options.signal, (w, why) => this.giveUp(proposal, w, why)),
    };
    const metrics = this.ctx.metrics;
    if (metrics !== undefined) {
      const start = this.ctx.clock.now();
      metrics.proposalsPending(++this.unsettled);
      const settled = (outcome: ProposalOutcome): void => {
        metrics.proposalSettled(this.ctx.secondsSince(start), outcome);
        metrics.proposalsPending(--this.unsettled);
      };
      proposal.waiter.promise.then(
        () => settled('applied'),
        (err: unknown) => settled(err instanceof ProposalOutcomeUnknownError ? 'unknown' : 'failed'),
      );
    }
    return proposal;
  }

  private giveUp(p: Proposal, w: Waiter<unknown>, why: GiveUp): void {
    const cause = why.kind === 'timeout' ? new TimeoutError('proposal', why.timeoutMs) : why.reason;
    if (p.forwardSeq !== 0) {
      // Forwarded: it may be in the leader's log without this member knowing where.
      this.ctx.forwarding.forget(p);
      w.reject(new ProposalOutcomeUnknownError(0, p.term, why.kind === 'timeout' ? 'timeout' : 'aborted', cause));
      return;
    }
    if (p.index === 0) {
      // Never reached the log: it is simply not proposed.
      const i = this.queued.indexOf(p);
      if (i >= 0) this.queued.splice(i, 1);
      w.reject(cause);
      return;
    }
    this.untrack(p);
    w.reject(new ProposalOutcomeUnknownError(p.index, p.term, why.kind === 'timeout' ? 'timeout' : 'aborted', cause));
  }

  /** Waits for the entry at (`index`, `term`) to be applied. */
  track(p: Proposal, index: number, term: number): void {
    p.index = index;
    p.term = term;
    const list = this.tracked.get(index);
    if (list === undefined) this.tracked.set(index, [p]);
    else list.push(p);
  }

  private untrack(p: Proposal): void {
    const list = this.tracked.get(p.index);
    if (list === undefined) return;
    const i = list.indexOf(p);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) this.tracked.delete(p.index);
  }

  /** Whether a follower may hand proposals to the leader now. */
  private canForward(): boolean {
    return !this.ctx.opts.disableProposalForwarding && this.ctx.rawNode.lead !== None;
  }

  /** Hands the queued proposals to the core, in batches bounded by count and bytes. */
  flush(): void {
    if (this.queued.length === 0) return;
    const ctx = this.ctx;
    const queued = this.queued;
    this.queued = [];
    const leader = ctx.rawNode.isLeader;
    if (!leader && !this.canForward()) {
      const err = ctx.roles.notLeaderError();
      for (const p of queued) p.waiter.reject(err);
      return;
    }
    let i = 0;
    while (i < queued.length) {
      const batch: Proposal[] = [];
      let bytes = 0;
      while (
        i < queued.length &&
        batch.length < ctx.opts.maxBatchEntries &&
        (batch.length === 0 || bytes + queued[i]!.data.length <= ctx.opts.maxBatchBytes)
      ) {
        bytes += queued[i]!.data.length;
        batch.push(queued[i]!);
        i++;
      }
      if (!leader) {
        try {
          ctx.forwarding.forward(batch);
        } catch (err) {
          // Not forwarded (no leader after all): nothing reached any log.
          if (!(err instanceof PontoonError)) throw err;
          for (const p of batch) p.waiter.reject(err);
        }
        continue;
      }
      let first: number;
      try {
        // One MsgProp for the batch: one append to the log and one MsgApp per follower.
        first = ctx.rawNode.proposeBatch(batch.map((p) => encodePlainCommand(p.data)));
      } catch (err) {
        if (!(err instanceof PontoonError)) throw err;
        for (const p of batch) p.waiter.reject(err);
        continue;
      }
      const term = ctx.rawNode.term;
      batch.forEach((p, k) => this.track(p, first + k, term));
    }
  }

  /**
   * Settles the proposals tracked at the applied entry's index. The entry at an index is
   * decided once it is applied: if it is the proposal's (same term), the proposal took effect;
   * otherwise another leader's entry won the index and the proposal never will.
   */
  settle(e: Entry, result: unknown, tag?: ForwardTag): void {
    this.ctx.forwarding.settle(e, result, tag);
    const list = this.tracked.get(e.index);
    if (list === undefined) return;
    this.tracked.delete(e.index);
    for (const p of list) {
      if (p.term !== e.term) {
        p.waiter.reject(
          new ProposalDroppedError(`raft proposal dropped: index ${e.index} was taken by an entry of term ${e.term} (proposed in term ${p.term})`),
        );
      } else if (p.kind === 'confChange' && e.type === EntryType.EntryNormal) {
        // The leader replaced the change with an empty entry: it failed the core's checks.
        p.waiter.reject(new ProposalDroppedError('raft proposal dropped: membership change refused (another change is pending)'));
      } else if (result instanceof ConfChangeError) {
        p.waiter.reject(result);
      } else {
        p.waiter.resolve(result);
      }
    }
  }

  /**
   * A snapshot covered the indexes up to `index` (term `term`): which entries won them is not
   * known here.
   */
  forgetUpTo(index: number, term: number): void {
    this.ctx.forwarding.forgetUpToTerm(term);
    for (const [idx, list] of [...this.tracked]) {
      if (idx > index) continue;
      this.tracked.delete(idx);
      for (const p of list) p.waiter.reject(new ProposalOutcomeUnknownError(p.index, p.term, 'snapshot'));
    }
  }

  /** The node stopped: what is in the log may still apply elsewhere, the rest never will. */
  rejectAll(cause: Error | undefined, stoppedError: () => NodeStoppedError): void {
    for (const p of this.queued) p.waiter.reject(stoppedError());
    this.queued = [];
    for (const list of this.tracked.values()) {
      for (const p of list) p.waiter.reject(new ProposalOutcomeUnknownError(p.index, p.term, 'stopped', cause));
    }
    this.tracked.clear();
    this.ctx.forwarding.rejectAll('stopped', cause);
  }
}
