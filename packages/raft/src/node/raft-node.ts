/**
 * RaftNode: the application-facing driver. It owns a RawNode (with asyncStorageWrites) and runs
 * it: the tick timer, the Ready loop (persist, send, apply), proposals as promises, linearizable
 * reads, snapshots by policy, membership changes, leadership transfer, typed events.
 *
 * This file is the facade and the wiring; each concern has its own handler, as openraft's
 * engine has: the loop (ready-loop.ts), log writes (log-writes.ts), applying (applying.ts),
 * snapshots (snapshots.ts), proposals (proposals.ts), reads (reads.ts), membership
 * (membership.ts), role changes (role-changes.ts) and shutdown (shutdown.ts), sharing one
 * NodeContext (node-context.ts).
 *
 * Durability ordering. The core hands persistence and application out as messages to two local
 * "threads" (MsgStorageAppend, MsgStorageApply), and attaches to each the responses that may go
 * out once the work is done: a follower's append and vote acknowledgements ride on the append,
 * so they leave only once LogStore.append() resolved. Appends are issued in Ready order (so a
 * store can pipeline them) and their completions are handled in that same order; applies run
 * one batch after another. Messages that do not acknowledge anything (the leader's appends to
 * followers, heartbeats) go out at once: the leader replicates while its own write is in flight.
 */
import { EventEmitter } from 'eventemitter3';
import { ConfChangeError, ConfigError, NodeStoppedError, TransportListenError } from '../errors.js';
import type { RaftLogView } from '../log/raft-log-view.js';
import { ReadOnlyOption } from '../config.js';
import { RawNode } from '../raw-node.js';
import { EntryType, isEmptyHardState, isEmptySnap } from '../types.js';
import type { Snapshot } from '../types.js';
import { ApplyHandler } from './applying.js';
import type { CallOptions } from './call-options.js';
import { decodeSnapshotData, encodeAddresses } from './codec.js';
import { ForwardingHandler } from './forwarding.js';
import type { Membership, RaftNodeEvents, Role } from './events.js';
import { roleOf } from './events.js';
import { LogWriteHandler } from './log-writes.js';
import type { MembershipChange } from './membership.js';
import { MembershipHandler } from './membership.js';
import { NodeContext } from './node-context.js';
import type { RaftNodeStatus } from './node-status.js';
import { nodeStatus } from './node-status.js';
import type { RaftNodeOptions } from './options.js';
import { resolveNodeOptions } from './options.js';
import { PeerContact } from './peer-contact.js';
import { ProposalHandler } from './proposals.js';
import { ReadHandler } from './reads.js';
import { ReadyLoop } from './ready-loop.js';
import { RoleHandler } from './role-changes.js';
import { ShutdownHandler } from './shutdown.js';
import { SnapshotHandler } from './snapshots.js';
import { isOnDiskStateMachine } from './state-machine.js';
import type { AnyStateMachine, ApplyResult, LogPosition } from './state-machine.js';

export type { CallOptions } from './call-options.js';
export type { MembershipChange } from './membership.js';
export type { MembershipStatus, NodeFailure, PeerProgress, RaftNodeStatus } from './node-status.js';

/**
 * A Raft node: give it a LogStore, a Transport and a StateMachine, and propose commands.
 *
 * The node starts in the constructor: it recovers from the store (restoring the state machine
 * from the latest snapshot and replaying the log after it), or bootstraps a new cluster from
 * `initialMembers`, or waits to be added (`join`). It runs until stop().
 *
 * ```ts
 * const node = new RaftNode({ id: 1, logStore, transport, stateMachine, initialMembers });
 * node.on('leaderChanged', ({ leaderId }) => console.log('leader is', leaderId));
 * const result = await node.propose(command); // on the leader
 * ```
 *
 * @typeParam SM - the state machine; propose() settles with what its apply() returns.
 */
export class RaftNode<SM extends AnyStateMachine = AnyStateMachine> extends EventEmitter<RaftNodeEvents> {
  /** This node's id. */
  readonly id: number;
  private readonly ctx: NodeContext<SM>;

  /**
   * Validates the options (throwing ConfigError at once for a bad one), recovers or bootstraps
   * from the store, and starts the node.
   */
  constructor(options: RaftNodeOptions<SM>) {
    super();
    const o = resolveNodeOptions(options as RaftNodeOptions);
    this.id = o.id;

    const store = options.logStore;
    const snap = store.snapshot();
    const initial = store.initialState();
    const sm = options.stateMachine;
    const onDisk = isOnDiskStateMachine(sm);
    if (onDisk && (options.transport.sendSnapshot === undefined || options.transport.onSnapshotStream === undefined)) {
      throw new ConfigError('transport', 'an OnDiskStateMachine needs a transport that streams snapshots (sendSnapshot and onSnapshotStream)');
    }
    // An on-disk state machine says what it holds; the core hands out only the entries after
    // that (etcd's consistent index), or after the store's snapshot if the state machine is
    // behind it (then the staged copy of that snapshot is installed first).
    const position = onDisk ? sm.position() : undefined;
    const applied = appliedOnOpen(snap.metadata.index, initial.hardState.commit, position);
    const fresh =
      isEmptySnap(snap) &&
      store.lastIndex() === 0 &&
      isEmptyHardState(initial.hardState) &&
      initial.confState.voters.length === 0;
    const bootstrap = fresh && !o.join;
    if (bootstrap) {
      if (o.initialMembers.length === 0) {
        throw new ConfigError('initialMembers', 'an empty log store needs initialMembers to bootstrap a cluster (or join: true)');
      }
      if (!o.initialMembers.some((m) => m.id === o.id)) {
        throw new ConfigError('initialMembers', `must include this node (${o.id}) to bootstrap a cluster`);
      }
    }

    const rawNode = new RawNode({
      id: o.id,
      storage: store,
      electionTick: o.electionTicks,
      heartbeatTick: o.heartbeatTicks,
      applied,
      asyncStorageWrites: true,
      preVote: o.preVote,
      checkQuorum: o.checkQuorum,
      readOnlyOption: o.leaseBasedReads ? ReadOnlyOption.ReadOnlyLeaseBased : ReadOnlyOption.ReadOnlySafe,
      maxSizePerMsg: o.maxSizePerMsg,
      maxInflightMsgs: o.maxInflightMsgs,
      maxUncommittedEntriesSize: o.maxUncommittedEntriesSize,
      maxCommittedSizePerReady: o.maxApplyBatchBytes,
      // A follower's proposals reach the leader through the core's forwarding, wrapped so
      // that their fate can be told (forwarding.ts).
      disableProposalForwarding: o.disableProposalForwarding,
      // A leader removed from the configuration must not go on leading it.
      stepDownOnRemoval: true,
      logger: o.logger,
      ...(o.rand === undefined ? {} : { rand: o.rand }),
    });

    const ctx = new NodeContext<SM>({
      opts: o,
      rawNode,
      logStore: store,
      transport: options.transport,
      sm: options.stateMachine,
      events: this,
    });
    this.ctx = ctx;
    ctx.shutdown = new ShutdownHandler(ctx);
    ctx.loop = new ReadyLoop(ctx);
    ctx.logWrites = new LogWriteHandler(ctx, {
      term: initial.hardState.term,
      vote: initial.hardState.vote,
      durableCommit: Math.max(initial.hardState.commit, snap.metadata.index),
    });
    ctx.applying = new ApplyHandler(ctx);
    ctx.snapshots = new SnapshotHandler(ctx);
    ctx.proposals = new ProposalHandler(ctx);
    ctx.reads = new ReadHandler(ctx);
    ctx.membership = new MembershipHandler(ctx, initial.confState);
    ctx.peerContact = new PeerContact(ctx);
    ctx.forwarding = new ForwardingHandler(ctx);

    for (const m of o.initialMembers) ctx.membership.setAddress(m.id, m.address);
    if (bootstrap) {
      rawNode.bootstrap(o.initialMembers.map((m) => ({ id: m.id, context: encodeAddresses([[m.id, m.address]]) })));
    }
    if (position !== undefined) {
      this.openOnDisk(snap, position, applied);
    } else if (!isEmptySnap(snap)) {
      // The state machine is rebuilt from the latest snapshot; the core replays the log after it.
      ctx.applying.queue.push(() => ctx.snapshots.restoreStateMachine(snap, false));
    }
    // After bootstrap, which makes the node a follower of term 1.
    ctx.roles = new RoleHandler(ctx);

    const transport = options.transport;
    transport.onMessage((m) => ctx.loop.receive(m));
    transport.onUnreachable((peer) => {
      if (ctx.stopped) return;
      rawNode.reportUnreachable(peer);
      ctx.scheduleReady();
    });
    if (onDisk) transport.onSnapshotStream!((m) => ctx.snapshots.receive(m));
    transport.onSnapshotStatus((peer, status) => {
      if (ctx.stopped) return;
      rawNode.reportSnapshot(peer, status);
      ctx.scheduleReady();
    });
    ctx.loop.start();
    // A transport that must be told to listen is started here: the application may forget to.
    if (typeof transport.listen === 'function') {
      transport.listen().catch((err: unknown) => ctx.fail(new TransportListenError(err)));
    }
  }

  /** This node's current role. */
  get role(): Role {
    return roleOf(this.ctx.rawNode.state);
  }

  /** The leader this node knows of, if any. */
  get leaderId(): number | undefined {
    return this.ctx.roles.leaderId();
  }

  /** Whether this node is the leader. */
  get isLeader(): boolean {
    return this.ctx.rawNode.isLeader;
  }

  /** Whether stop() was called (or the node stopped itself after an error). */
  get isStopped(): boolean {
    return this.ctx.stopped;
  }

  /** The current term. */
  get term(): number {
    return this.ctx.rawNode.term;
  }

  /**
   * A read-only view of this node's in-memory Raft log, entries not yet durable included: for
   * checkers (such as @pontoon/sim's) and tools. It reads the live log.
   */
  get log(): RaftLogView {
    return this.ctx.rawNode.log;
  }

  /**
   * Proposes a command and settles with the state machine's result once it is applied here.
   * Works on every member: a follower forwards the command to the leader (unless
   * `disableProposalForwarding`) and settles when it applies the entry itself. The command is
   * applied at most once, also when forwarding races a leader change.
   *
   * Rejects at once with NotLeaderError (no leader is known, or this is a follower and
   * forwarding is disabled; the error names the leader when known), CommandTooLargeError (over
   * `maxCommandBytes`), InvalidCommandError (empty), NodeStoppedError, or the signal's reason
   * if it is already aborted.
   *
   * Later, with:
   * - ProposalDroppedError: the command was definitely not applied and never will be (the
   *   leader refused it, another entry won its log index after a leader change, or, forwarded,
   *   the log moved to a later term without it);
   * - ProposalOutcomeUnknownError: the command may be in the log but its fate was not decided
   *   when the timeout expired, the signal aborted or the node stopped. It may be applied (or
   *   already was). Never treat this as a failure of a non-idempotent command. `index` is 0
   *   when the command was forwarded (a follower does not learn its index);
   * - TimeoutError, or the signal's reason: only if the command never left this node.
   *
   * If this node loses leadership after appending the command, the promise keeps waiting: the
   * command commits or not under the next leader, and this node learns which when it applies
   * that index.
   */
  propose(command: Uint8Array, options: CallOptions = {}): Promise<ApplyResult<SM>> {
    return this.ctx.proposals.propose(command, options) as Promise<ApplyResult<SM>>;
  }

  /**
   * Runs `fn` against the state machine at a linearizable point: it sees every write that was
   * acknowledged before read() was called. Works on any member (a follower asks the leader for
   * the read index through ReadIndex, Raft thesis §6.4); all reads of one turn of the event
   * loop share one request. Rejects with TimeoutError, NodeStoppedError, the signal's reason,
   * or what `fn` throws.
   */
  read<T>(fn: (stateMachine: SM) => T | Promise<T>, options: CallOptions = {}): Promise<Awaited<T>> {
    return this.ctx.reads.read(fn as (sm: never) => unknown, options) as Promise<Awaited<T>>;
  }

  /**
   * Resolves once this member has applied everything the leader had committed when barrier()
   * was called (a ReadIndex round, Raft thesis §6.4): afterwards, local reads see every write
   * acknowledged before the call, on any member. Rejects as read().
   */
  async barrier(options: CallOptions = {}): Promise<void> {
    await this.ctx.reads.read(() => undefined, options);
  }

  /**
   * Resolves once this member has applied the entry at `index` (at once if it has). Rejects
   * with TimeoutError (default: readTimeoutMs), NodeStoppedError or the signal's reason.
   */
  waitForApplied(index: number, options: CallOptions = {}): Promise<void> {
    return this.ctx.reads.waitForApplied(index, options);
  }

  /**
   * Runs `fn` against the local state machine now, without any coordination: it may miss
   * writes acknowledged elsewhere (this node may lag, or be partitioned away). For reads that
   * tolerate staleness.
   */
  staleRead<T>(fn: (stateMachine: SM) => T): T {
    return fn(this.ctx.sm);
  }

  /**
   * Adds `id` as a voter (or promotes it if it is a learner), reachable at `address`. Resolves
   * with the new membership once the change is applied here. Rejections as for propose(), plus
   * ProposalDroppedError when another membership change is in progress, and ConfChangeError when
   * the change is not valid in the configuration it is applied to.
   */
  addVoter(id: number, address: string, options: CallOptions = {}): Promise<Membership> {
    return this.changeMembership([{ type: 'addVoter', id, address }], options);
  }

  /** Adds `id` as a learner (it replicates the log but does not vote). As addVoter(). */
  addLearner(id: number, address: string, options: CallOptions = {}): Promise<Membership> {
    return this.changeMembership([{ type: 'addLearner', id, address }], options);
  }

  /** Makes the learner `id` a voter. As addVoter(). */
  promote(id: number, options: CallOptions = {}): Promise<Membership> {
    if (!this.ctx.membership.confState.learners.includes(id)) {
      return Promise.reject(new ConfChangeError(`node ${id} is not a learner`));
    }
    return this.changeMembership([{ type: 'addVoter', id }], options);
  }

  /** Removes `id` (voter or learner) from the cluster. As addVoter(). */
  remove(id: number, options: CallOptions = {}): Promise<Membership> {
    return this.changeMembership([{ type: 'remove', id }], options);
  }

  /**
   * Applies several membership changes at once. One change is made directly; more than one go
   * through joint consensus (Raft thesis §4.3), left automatically: the promise resolves once
   * the joint configuration is left.
   */
  changeMembership(changes: readonly MembershipChange[], options: CallOptions = {}): Promise<Membership> {
    return this.ctx.membership.change(changes, options);
  }

  /**
   * Hands leadership to the voter `id` (Raft thesis §3.10) and resolves once this node sees it
   * lead. Rejects with NotLeaderError if this node is not the leader (or another node took
   * over), TimeoutError if the transfer does not happen within `timeoutMs` (default: two
   * election timeouts; the core gives up on a transfer after one).
   */
  transferLeadership(id: number, options: CallOptions = {}): Promise<void> {
    return this.ctx.roles.transferLeadership(id, options);
  }

  /** The membership as of the last applied entry. */
  membership(): Membership {
    return this.ctx.membership.membership();
  }

  /** A snapshot of the node's state: term, role, leader, indexes, membership, peers' progress. */
  status(): RaftNodeStatus {
    return nodeStatus(this.ctx);
  }

  /**
   * How long this node has been in unbroken contact with each peer, in milliseconds by peer id:
   * a peer is listed while some message from it arrived within the last election timeout, and
   * its value is the time since the first message after its last silence longer than that (the
   * peer's "active since" in etcd's terms). On the leader every follower answers each
   * heartbeat, so this is the leader's view of which members are up; a follower hears from the
   * leader and, during elections, from candidates.
   */
  peerContact(): Record<number, number> {
    return this.ctx.peerContact.contactMs();
  }

  /** Starts an election now (e.g. to pick a preferred leader in tests); PreVote first when on. */
  campaign(): void {
    if (this.ctx.stopped) return;
    this.ctx.rawNode.campaign();
    this.ctx.scheduleReady();
  }

  /**
   * Takes a snapshot now, whatever the snapshot policy (even with `snapshot: false`; the log is
   * compacted behind it, keeping `keepEntries`, only under a policy). Resolves with its position
   * once it is in the store, or at once with the latest snapshot's if nothing was applied since.
   * With an OnDiskStateMachine this only records the position in the store: its state is durable
   * already.
   */
  snapshot(): Promise<LogPosition> {
    if (this.ctx.stopped) return Promise.reject(new NodeStoppedError());
    return this.ctx.snapshots.request();
  }

  /**
   * Stops the node: clears its timers, settles everything waiting (proposals already in the log
   * with ProposalOutcomeUnknownError, the rest with NodeStoppedError), waits for the appends and
   * applies in flight (so the store holds whole writes only), then closes the transport and the
   * store unless told they are not the node's to close. Idempotent.
   */
  stop(): Promise<void> {
    return this.ctx.shutdown.stop();
  }

  /**
   * Positions the node over an on-disk state machine: the configuration and addresses of the
   * store's snapshot, then the membership changes between it and what the core starts from
   * (the core does not hand those entries out again), or, if the state machine is behind the
   * snapshot, the install of its staged copy ahead of everything else.
   */
  private openOnDisk(snap: Snapshot, position: LogPosition, applied: number): void {
    const ctx = this.ctx;
    const snapIndex = snap.metadata.index;
    if (snapIndex > 0) ctx.membership.restore(snap.metadata.confState, decodeSnapshotData(snap.data).addresses);
    ctx.snapshots.snapshotIndex = snapIndex;
    ctx.applying.appliedIndex = snapIndex;
    if (position.index < snapIndex) {
      ctx.applying.queue.push(() => ctx.snapshots.installOnOpen(snap, position));
      return;
    }
    const store = ctx.logStore;
    if (position.index <= store.lastIndex() && position.index >= store.firstIndex() && store.term(position.index) !== position.term) {
      throw new ConfigError(
        'stateMachine',
        `it holds index ${position.index} of term ${position.term}, but this log has term ${store.term(position.index)} there: it is not this log's state machine`,
      );
    }
    ctx.applying.smPosition = position.index;
    if (applied > snapIndex) {
      for (const e of store.entries(snapIndex + 1, applied + 1, Number.MAX_SAFE_INTEGER)) {
        if (e.type !== EntryType.EntryNormal) ctx.membership.applyEntry(e);
      }
    }
    ctx.applying.appliedIndex = applied;
  }
}

/**
 * The index the core starts from: the store's snapshot, or an on-disk state machine's position
 * when it is ahead of that, capped at the stored commit index (Raft's applied <= committed; the
 * stored commit may lag, since commit-only writes need not be synced: the entries in between
 * are handed out again, and skipped for the state machine, which holds them).
 */
function appliedOnOpen(snapIndex: number, commit: number, position: LogPosition | undefined): number {
  if (position === undefined || position.index <= snapIndex) return snapIndex;
  return Math.max(snapIndex, Math.min(position.index, commit));
}
