/**
 * RaftNode: the application-facing driver. It owns a RawNode (with asyncStorageWrites) and runs
 * it: the tick timer, the Ready loop (persist, send, apply), proposals as promises, linearizable
 * reads, snapshots by policy, membership changes, leadership transfer, typed events.
 *
 * Durability ordering. The core hands persistence and application out as messages to two local
 * "threads" (MsgStorageAppend, MsgStorageApply), and attaches to each the responses that may go
 * out once the work is done: a follower's append and vote acknowledgements ride on the append,
 * so they leave only once LogStore.append() resolved. Appends are issued in Ready order (so a
 * store can pipeline them) and their completions are handled in that same order; applies run
 * one batch after another. Messages that do not acknowledge anything (the leader's appends to
 * followers, heartbeats) go out at once: the leader replicates while its own write is in flight.
 *
 * Batching. Proposals, reads and received messages are only recorded when they arrive; the
 * Ready loop runs once per turn of the event loop (Clock.setTimeout 0, setImmediate for real
 * time), so whatever arrived in one turn becomes one Ready and one LogStore.append().
 */
import { EventEmitter } from 'eventemitter3';
import { randomBytes } from 'node:crypto';
import { decodeConfChangeEntry } from '../raft.js';
import { ConfChangeError, ConfigError, PontoonError, ProposalDroppedError, SnapOutOfDateError, invariant } from '../errors.js';
import { LocalAppendThread, LocalApplyThread, isLocalMsgTarget } from '../local-threads.js';
import type { LogStore, LogWrite } from '../log-store.js';
import type { Logger } from '../logger.js';
import { ReadOnlyOption } from '../config.js';
import { contextKey } from '../read-only.js';
import type { ReadState } from '../read-only.js';
import { RawNode } from '../raw-node.js';
import type { Transport } from '../transport.js';
import { ProgressStateType } from '../tracker/state.js';
import { confChangeAsV2 } from '../conf-change.js';
import {
  ConfChangeTransition,
  ConfChangeType,
  EntryType,
  MessageType,
  None,
  StateType,
  isEmptyHardState,
  isEmptySnap,
  isLocalMsg,
  newMessage,
  cloneConfState,
} from '../types.js';
import type { ConfChangeSingle, ConfState, Entry, Message, Snapshot, SoftState } from '../types.js';
import type { Clock, ClockTimer } from './clock.js';
import { decodeAddresses, decodeSnapshotData, encodeAddresses, encodeSnapshotData } from './codec.js';
import {
  CommandTooLargeError,
  InvalidCommandError,
  NodeStoppedError,
  NotLeaderError,
  ProposalOutcomeUnknownError,
  TimeoutError,
} from '../errors.js';
import type { Membership, RaftNodeEvents, Role } from './events.js';
import { membershipOf, roleOf } from './events.js';
import type { RaftNodeOptions, ResolvedNodeOptions } from './options.js';
import { resolveNodeOptions } from './options.js';
import { SerialQueue } from './serial-queue.js';
import type { ApplyResult, StateMachine } from './state-machine.js';
import type { GiveUp } from './waiter.js';
import { Waiter } from './waiter.js';

/** Per-call options of propose(), read() and the membership calls. */
export interface CallOptions {
  /** Stop waiting when this signal aborts. */
  signal?: AbortSignal | undefined;
  /** Stop waiting after this many ms. Default: the node's proposalTimeoutMs / readTimeoutMs. */
  timeoutMs?: number | undefined;
}

/** One change of a changeMembership() call. */
export type MembershipChange =
  | { type: 'addVoter'; id: number; address?: string }
  | { type: 'addLearner'; id: number; address: string }
  | { type: 'remove'; id: number };

/** How the leader replicates to one peer (status(), on the leader only). */
export interface PeerProgress {
  /** The highest index known to be replicated on the peer. */
  matchIndex: number;
  /** The next index the leader sends. */
  nextIndex: number;
  state: 'probe' | 'replicate' | 'snapshot';
  /** Whether the peer was heard from within the current election timeout. */
  recentActive: boolean;
  isLearner: boolean;
  /** The index of the snapshot in flight to the peer (state 'snapshot'), else 0. */
  pendingSnapshot: number;
}

/** What status() reports. */
export interface RaftNodeStatus {
  id: number;
  term: number;
  /** The node this one voted for in `term` (undefined: none). */
  vote: number | undefined;
  role: Role;
  leaderId: number | undefined;
  commitIndex: number;
  /** The last index applied to the state machine. */
  appliedIndex: number;
  /** The index of the latest snapshot this node took or installed (0: none). */
  snapshotIndex: number;
  /** The id a leadership transfer is in progress to (leader only). */
  leadTransferee: number | undefined;
  membership: Membership;
  /** Per-peer replication progress; filled in on the leader only. */
  progress: Map<number, PeerProgress>;
}

type ProposalKind = 'command' | 'confChange';

/** A proposal waiting for its outcome. `index` 0: not yet in the log. */
interface Proposal {
  kind: ProposalKind;
  waiter: Waiter<unknown>;
  data: Uint8Array;
  index: number;
  term: number;
}

interface ReadRequest {
  fn: (sm: never) => unknown;
  waiter: Waiter<unknown>;
}

/** Reads that share one ReadIndex request. `index` -1: the read index is not known yet. */
interface ReadBatch {
  reads: ReadRequest[];
  ctx: Uint8Array;
  key: string;
  index: number;
  issuedAtTick: number;
}

const PROGRESS_STATE: Record<ProgressStateType, PeerProgress['state']> = {
  [ProgressStateType.StateProbe]: 'probe',
  [ProgressStateType.StateReplicate]: 'replicate',
  [ProgressStateType.StateSnapshot]: 'snapshot',
};

function membersOf(cs: ConfState): Set<number> {
  return new Set([...cs.voters, ...cs.learners, ...cs.votersOutgoing, ...cs.learnersNext]);
}

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
export class RaftNode<SM extends StateMachine = StateMachine> extends EventEmitter<RaftNodeEvents> {
  /** This node's id. */
  readonly id: number;
  private readonly opts: ResolvedNodeOptions;
  private readonly rawNode: RawNode;
  private readonly logStore: LogStore;
  private readonly transport: Transport;
  private readonly sm: SM;
  private readonly clock: Clock;
  private readonly logger: Logger;

  private stopped = false;
  private stopPromise: Promise<void> | undefined;
  private tickTimer: ClockTimer | undefined;
  private readyTimer: ClockTimer | undefined;
  private ticks = 0;

  /**
   * Term and vote of the last hard state handed to the store: a write that changes neither, and
   * carries no entries and no snapshot, only moves the commit index, which Raft may lose in a
   * crash, so it goes to the store with `sync: false`.
   */
  private writtenTerm = 0;
  private writtenVote = 0;
  /**
   * The highest commit index known to be on stable storage. A snapshot is taken only at or
   * below it: the store may make a snapshot durable before an earlier hard-state write
   * completes, and a restart from a snapshot above the stored commit index is impossible
   * (Raft's applied <= committed).
   */
  private durableCommit = 0;
  /** Whether `removed` was emitted. */
  private removedNoticed = false;

  private readonly appendQueue: SerialQueue;
  private readonly applyQueue: SerialQueue;
  private snapshotWork: Promise<void> | undefined;

  private currentRole: Role = 'follower';
  private currentLeader: number | undefined = undefined;

  /** Proposals not yet handed to the core (they go in with the next Ready). */
  private queuedProposals: Proposal[] = [];
  /** Proposals in the log, by index, waiting for that index to be applied. */
  private readonly trackedProposals = new Map<number, Proposal[]>();

  private pendingReads: ReadRequest[] = [];
  private readonly inflightReads = new Map<string, ReadBatch>();
  private readyReads: ReadBatch[] = [];
  private readonly readCtxPrefix = randomBytes(8);
  private readCtxSeq = 0;

  /** Calls waiting for a leader change (transfers) or a membership change (leaving joint). */
  private readonly leaderWaiters = new Map<(leaderId: number | undefined) => void, Waiter<void>>();
  private readonly membershipWaiters = new Map<(cs: ConfState) => void, Waiter<void>>();

  /** Applied to the state machine (may trail the core's applied while a batch is running). */
  private appliedIndex = 0;
  private snapshotIndex = 0;
  private bytesSinceSnapshot = 0;
  private snapshotting = false;
  /** The configuration as of appliedIndex. */
  private confState: ConfState;
  /** Known addresses of members (and seeded peers), by id. */
  private readonly addresses = new Map<number, string>();

  /**
   * Validates the options (throwing ConfigError at once for a bad one), recovers or bootstraps
   * from the store, and starts the node.
   */
  constructor(options: RaftNodeOptions<SM>) {
    super();
    const o = resolveNodeOptions(options as RaftNodeOptions);
    this.opts = o;
    this.id = o.id;
    this.logStore = options.logStore;
    this.transport = options.transport;
    this.sm = options.stateMachine;
    this.clock = o.clock;
    this.logger = o.logger;

    const store = this.logStore;
    const snap = store.snapshot();
    const initial = store.initialState();
    this.writtenTerm = initial.hardState.term;
    this.writtenVote = initial.hardState.vote;
    this.durableCommit = Math.max(initial.hardState.commit, snap.metadata.index);
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

    this.rawNode = new RawNode({
      id: o.id,
      storage: store,
      electionTick: o.electionTicks,
      heartbeatTick: o.heartbeatTicks,
      applied: snap.metadata.index,
      asyncStorageWrites: true,
      preVote: o.preVote,
      checkQuorum: o.checkQuorum,
      readOnlyOption: o.leaseBasedReads ? ReadOnlyOption.ReadOnlyLeaseBased : ReadOnlyOption.ReadOnlySafe,
      maxSizePerMsg: o.maxSizePerMsg,
      maxInflightMsgs: o.maxInflightMsgs,
      maxUncommittedEntriesSize: o.maxUncommittedEntriesSize,
      maxCommittedSizePerReady: o.maxApplyBatchBytes,
      // Only the leader takes proposals (NotLeaderError elsewhere); forwarding would hide
      // where a proposal went and so its fate.
      disableProposalForwarding: true,
      // A leader removed from the configuration must not go on leading it.
      stepDownOnRemoval: true,
      logger: o.logger,
      ...(o.rand === undefined ? {} : { rand: o.rand }),
    });

    const onQueueError = (err: unknown): void => this.fail(err);
    this.appendQueue = new SerialQueue(onQueueError);
    this.applyQueue = new SerialQueue(onQueueError);

    this.confState = cloneConfState(initial.confState);
    for (const m of o.initialMembers) this.setAddress(m.id, m.address);
    if (bootstrap) {
      this.rawNode.bootstrap(o.initialMembers.map((m) => ({ id: m.id, context: encodeAddresses([[m.id, m.address]]) })));
    }
    if (!isEmptySnap(snap)) {
      // The state machine is rebuilt from the latest snapshot; the core replays the log after it.
      this.applyQueue.push(() => this.restoreStateMachine(snap, false));
    }
    this.currentRole = roleOf(this.rawNode.raft.state);

    this.transport.onMessage((m) => this.receive(m));
    this.transport.onUnreachable((peer) => {
      if (this.stopped) return;
      this.rawNode.reportUnreachable(peer);
      this.scheduleReady();
    });
    this.transport.onSnapshotStatus((peer, status) => {
      if (this.stopped) return;
      this.rawNode.reportSnapshot(peer, status);
      this.scheduleReady();
    });
    this.tickTimer = this.clock.setTimeout(this.onTick, o.tickMs);
    this.scheduleReady();
  }

  // ---------------------------------------------------------------------------------------
  // Public API

  /** This node's current role. */
  get role(): Role {
    return roleOf(this.rawNode.raft.state);
  }

  /** The leader this node knows of, if any. */
  get leaderId(): number | undefined {
    const lead = this.rawNode.raft.lead;
    return lead === None ? undefined : lead;
  }

  /** Whether this node is the leader (the only node that accepts proposals). */
  get isLeader(): boolean {
    return this.rawNode.raft.state === StateType.StateLeader;
  }

  /** Whether stop() was called (or the node stopped itself after an error). */
  get isStopped(): boolean {
    return this.stopped;
  }

  /**
   * Proposes a command and settles with the state machine's result once it is applied here.
   *
   * Rejects at once with NotLeaderError (only the leader accepts proposals; the error names the
   * leader when known), CommandTooLargeError (over `maxCommandBytes`), InvalidCommandError
   * (empty), NodeStoppedError, or the signal's reason if it is already aborted.
   *
   * Later, with:
   * - ProposalDroppedError: the command was definitely not applied (the leader refused it, or
   *   another entry won its log index after a leader change);
   * - ProposalOutcomeUnknownError: the command is in the log but its fate was not decided when
   *   the timeout expired, the signal aborted or the node stopped. It may be applied (or
   *   already was). Never treat this as a failure of a non-idempotent command;
   * - TimeoutError, or the signal's reason: only if the command never reached the log.
   *
   * If this node loses leadership after appending the command, the promise keeps waiting: the
   * command commits or not under the next leader, and this node learns which when it applies
   * that index.
   */
  propose(command: Uint8Array, options: CallOptions = {}): Promise<ApplyResult<SM>> {
    if (this.stopped) return Promise.reject(new NodeStoppedError());
    if (!(command instanceof Uint8Array)) return Promise.reject(new InvalidCommandError('a command must be a Uint8Array'));
    if (command.length === 0) {
      return Promise.reject(new InvalidCommandError('a command must not be empty (empty entries are Raft no-ops)'));
    }
    if (command.length > this.opts.maxCommandBytes) {
      return Promise.reject(new CommandTooLargeError(command.length, this.opts.maxCommandBytes));
    }
    if (options.signal?.aborted === true) return Promise.reject(options.signal.reason);
    if (!this.isLeader) return Promise.reject(this.notLeaderError());
    const proposal = this.newProposal('command', command, options);
    this.queuedProposals.push(proposal);
    this.scheduleReady();
    return proposal.waiter.promise as Promise<ApplyResult<SM>>;
  }

  /**
   * Runs `fn` against the state machine at a linearizable point: it sees every write that was
   * acknowledged before read() was called. Works on any member (a follower asks the leader for
   * the read index through ReadIndex, Raft thesis §6.4); all reads of one turn of the event
   * loop share one request. Rejects with TimeoutError, NodeStoppedError, the signal's reason,
   * or what `fn` throws.
   */
  read<T>(fn: (stateMachine: SM) => T | Promise<T>, options: CallOptions = {}): Promise<Awaited<T>> {
    if (this.stopped) return Promise.reject(new NodeStoppedError());
    if (options.signal?.aborted === true) return Promise.reject(options.signal.reason);
    const timeoutMs = options.timeoutMs ?? this.opts.readTimeoutMs;
    const waiter = new Waiter<unknown>(this.clock, timeoutMs, options.signal, (w, why) => {
      // A read that gives up simply stays out of its batch's results.
      w.reject(why.kind === 'timeout' ? new TimeoutError('read', why.timeoutMs) : why.reason);
    });
    this.pendingReads.push({ fn: fn as (sm: never) => unknown, waiter });
    this.scheduleReady();
    return waiter.promise as Promise<Awaited<T>>;
  }

  /**
   * Runs `fn` against the local state machine now, without any coordination: it may miss
   * writes acknowledged elsewhere (this node may lag, or be partitioned away). For reads that
   * tolerate staleness.
   */
  staleRead<T>(fn: (stateMachine: SM) => T): T {
    return fn(this.sm);
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
    if (!this.confState.learners.includes(id)) {
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
    if (this.stopped) return Promise.reject(new NodeStoppedError());
    if (options.signal?.aborted === true) return Promise.reject(options.signal.reason);
    if (!this.isLeader) return Promise.reject(this.notLeaderError());
    if (changes.length === 0) return Promise.reject(new ConfChangeError('no membership change given'));
    const raft = this.rawNode.raft;
    if (raft.pendingConfIndex > raft.raftLog.applied || this.confState.votersOutgoing.length > 0) {
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
    const proposal = this.newProposal('confChange', new Uint8Array(0), options);
    try {
      this.rawNode.proposeConfChange({
        transition: ConfChangeTransition.ConfChangeTransitionAuto,
        changes: singles,
        context: encodeAddresses(addresses),
      });
    } catch (err) {
      proposal.waiter.reject(err);
      return proposal.waiter.promise as Promise<Membership>;
    }
    this.track(proposal, raft.raftLog.lastIndex(), raft.term);
    this.scheduleReady();
    return proposal.waiter.promise.then(async (cs) => {
      const applied = cs as ConfState;
      // Joint consensus is left by an entry the leader proposes by itself once the joint
      // configuration is applied; the change is complete when that one is applied too.
      if (applied.votersOutgoing.length > 0) await this.waitForSimpleConfig(options);
      return this.membership();
    });
  }

  /**
   * Hands leadership to the voter `id` (Raft thesis §3.10) and resolves once this node sees it
   * lead. Rejects with NotLeaderError if this node is not the leader (or another node took
   * over), TimeoutError if the transfer does not happen within `timeoutMs` (default: two
   * election timeouts; the core gives up on a transfer after one).
   */
  transferLeadership(id: number, options: CallOptions = {}): Promise<void> {
    if (this.stopped) return Promise.reject(new NodeStoppedError());
    if (options.signal?.aborted === true) return Promise.reject(options.signal.reason);
    if (!this.isLeader) return Promise.reject(this.notLeaderError());
    if (id === this.id) return Promise.resolve();
    if (!this.confState.voters.includes(id)) return Promise.reject(new ConfChangeError(`node ${id} is not a voter`));
    const timeoutMs = options.timeoutMs ?? 2 * this.opts.electionTicks * this.opts.tickMs;
    const waiter = new Waiter<void>(this.clock, timeoutMs, options.signal, (w, why) => {
      this.leaderWaiters.delete(onLeader);
      w.reject(why.kind === 'timeout' ? new TimeoutError(`leadership transfer to ${id}`, why.timeoutMs) : why.reason);
    });
    const onLeader = (leader: number | undefined): void => {
      if (leader === id) {
        this.leaderWaiters.delete(onLeader);
        waiter.resolve();
      } else if (leader !== undefined && leader !== this.id) {
        this.leaderWaiters.delete(onLeader);
        waiter.reject(new NotLeaderError(leader, this.addresses.get(leader)));
      }
    };
    this.leaderWaiters.set(onLeader, waiter);
    this.rawNode.transferLeadership(id);
    this.scheduleReady();
    return waiter.promise;
  }

  /** The membership as of the last applied entry. */
  membership(): Membership {
    return membershipOf(this.confState, this.addresses);
  }

  /** A snapshot of the node's state: term, role, leader, indexes, membership, peers' progress. */
  status(): RaftNodeStatus {
    const st = this.rawNode.status();
    const progress = new Map<number, PeerProgress>();
    for (const [id, pr] of st.progress) {
      progress.set(id, {
        matchIndex: pr.match,
        nextIndex: pr.next,
        state: PROGRESS_STATE[pr.state],
        recentActive: pr.recentActive,
        isLearner: pr.isLearner,
        pendingSnapshot: pr.pendingSnapshot,
      });
    }
    return {
      id: this.id,
      term: st.hardState.term,
      vote: st.hardState.vote === None ? undefined : st.hardState.vote,
      role: roleOf(st.softState.raftState),
      leaderId: st.softState.lead === None ? undefined : st.softState.lead,
      commitIndex: st.hardState.commit,
      appliedIndex: this.appliedIndex,
      snapshotIndex: this.snapshotIndex,
      leadTransferee: st.leadTransferee === None ? undefined : st.leadTransferee,
      membership: this.membership(),
      progress,
    };
  }

  /** Starts an election now (e.g. to pick a preferred leader in tests); PreVote first when on. */
  campaign(): void {
    if (this.stopped) return;
    this.rawNode.campaign();
    this.scheduleReady();
  }

  /**
   * Stops the node: clears its timers, settles everything waiting (proposals already in the log
   * with ProposalOutcomeUnknownError, the rest with NodeStoppedError), waits for the appends and
   * applies in flight (so the store holds whole writes only), then closes the transport and the
   * store unless told they are not the node's to close. Idempotent.
   */
  stop(): Promise<void> {
    this.stopPromise ??= this.shutdown(undefined);
    return this.stopPromise;
  }

  // ---------------------------------------------------------------------------------------
  // The loop

  private readonly onTick = (): void => {
    this.tickTimer = undefined;
    if (this.stopped) return;
    this.ticks++;
    this.rawNode.tick();
    this.retryReads();
    this.scheduleReady();
    this.tickTimer = this.clock.setTimeout(this.onTick, this.opts.tickMs);
  };

  private scheduleReady(): void {
    if (this.readyTimer === undefined && !this.stopped) {
      this.readyTimer = this.clock.setTimeout(this.processReady, 0);
    }
  }

  private readonly processReady = (): void => {
    this.readyTimer = undefined;
    if (this.stopped) return;
    try {
      this.flushProposals();
      this.flushReads();
      while (!this.stopped && this.rawNode.hasReady()) {
        const rd = this.rawNode.ready();
        if (rd.softState !== undefined) this.onSoftState(rd.softState);
        for (const rs of rd.readStates) this.onReadState(rs);
        let outgoing: Message[] | undefined;
        for (const m of rd.messages) {
          if (m.to === LocalAppendThread) this.persist(m);
          else if (m.to === LocalApplyThread) this.applyQueue.push(() => this.applyEntries(m));
          else (outgoing ??= []).push(m);
        }
        if (outgoing !== undefined && !this.stopped) this.transport.send(outgoing);
      }
    } catch (err) {
      this.fail(err);
    }
  };

  private receive(m: Message): void {
    if (this.stopped) return;
    // The core trusts `from` on storage-thread responses: nothing from the network may pose
    // as one of our own threads.
    if (m.to !== this.id || isLocalMsg(m.type) || isLocalMsgTarget(m.from)) {
      this.logger.warn(`raft node ${this.id}: dropped a message that is not for it or is local-only (type ${MessageType[m.type] ?? m.type}, from ${m.from}, to ${m.to})`);
      return;
    }
    try {
      this.rawNode.step(m);
    } catch (err) {
      if (!(err instanceof PontoonError)) {
        this.fail(err);
        return;
      }
      this.logger.warn(`raft node ${this.id}: refused a message from ${m.from}: ${err.message}`);
    }
    this.scheduleReady();
  }

  /**
   * Issues the write of a MsgStorageAppend now, and queues its completion behind the earlier
   * ones: its responses (the acknowledgements of what it persists) are delivered only once it
   * and every earlier write are durable.
   */
  private persist(m: Message): void {
    const hasHardState = m.term !== 0 || m.vote !== 0 || m.commit !== 0;
    const hasSnapshot = !isEmptySnap(m.snapshot);
    let durable: Promise<void> | undefined;
    if (hasHardState || m.entries.length > 0 || hasSnapshot) {
      const termOrVote = hasHardState && (m.term !== this.writtenTerm || m.vote !== this.writtenVote);
      const write: LogWrite = {
        hardState: hasHardState ? { term: m.term, vote: m.vote, commit: m.commit } : undefined,
        entries: m.entries,
        snapshot: hasSnapshot ? m.snapshot : undefined,
        sync: m.entries.length > 0 || hasSnapshot || termOrVote,
      };
      if (hasHardState) {
        this.writtenTerm = m.term;
        this.writtenVote = m.vote;
      }
      try {
        durable = this.logStore.append(write);
      } catch (err) {
        durable = Promise.reject(err);
      }
      // Handled in order by the queue below; this keeps an early failure from being reported
      // as unhandled while earlier writes are still pending.
      durable.catch(() => {});
    }
    this.appendQueue.push(() => (durable === undefined ? this.appended(m) : durable.then(() => this.appended(m))));
  }

  private appended(m: Message): void {
    if (this.stopped) return;
    const snap = m.snapshot;
    const durableCommit = Math.max(m.commit, snap === undefined ? 0 : snap.metadata.index);
    if (durableCommit > this.durableCommit) {
      this.durableCommit = durableCommit;
      this.maybeSnapshot();
    }
    if (snap !== undefined && !isEmptySnap(snap)) {
      // Entries after the snapshot are handed out only once the response below is stepped, so
      // they queue behind this restore; entries before it are already queued ahead of it.
      this.applyQueue.push(() => this.restoreStateMachine(snap, true));
    }
    this.deliver(m.responses);
    this.scheduleReady();
  }

  /** Steps the responses addressed to this node and sends the rest. */
  private deliver(responses: readonly Message[] | undefined): void {
    if (responses === undefined) return;
    let outgoing: Message[] | undefined;
    for (const r of responses) {
      if (r.to === this.id) {
        try {
          this.rawNode.step(r);
        } catch (err) {
          // A self-addressed response can be refused once the configuration moved on
          // (a leader that removed itself no longer tracks its own progress).
          if (!(err instanceof PontoonError)) throw err;
          this.logger.debug(`raft node ${this.id}: own response refused: ${err.message}`);
        }
      } else {
        (outgoing ??= []).push(r);
      }
    }
    if (outgoing !== undefined) this.transport.send(outgoing);
  }

  // ---------------------------------------------------------------------------------------
  // Applying

  /** Applies a MsgStorageApply's entries in order, then steps its responses. */
  private applyEntries(m: Message): void | Promise<void> {
    if (this.stopped) return;
    const ents = m.entries;
    let i = 0;
    const run = (): void | Promise<void> => {
      for (; i < ents.length; i++) {
        if (this.stopped) return;
        const e = ents[i]!;
        // Covered by a snapshot installed in the meantime.
        if (e.index <= this.appliedIndex) continue;
        if (e.type !== EntryType.EntryNormal) {
          this.applyConfChangeEntry(e);
          continue;
        }
        if (e.data.length === 0) {
          // A new leader's empty entry: nothing to apply, but it may sit at a proposal's index.
          this.settleProposals(e, undefined);
          this.appliedIndex = e.index;
          continue;
        }
        const result = this.sm.apply(e);
        if (result instanceof Promise) {
          return result.then((value) => {
            this.afterApply(e, value);
            i++;
            return run();
          });
        }
        this.afterApply(e, result);
      }
      this.finishApply(m);
    };
    return run();
  }

  private afterApply(e: Entry, result: unknown): void {
    this.appliedIndex = e.index;
    this.bytesSinceSnapshot += e.data.length;
    this.settleProposals(e, result);
  }

  private finishApply(m: Message): void {
    this.deliver(m.responses);
    this.notify('applied', { index: this.appliedIndex });
    this.serveReads();
    this.maybeSnapshot();
    this.scheduleReady();
  }

  private applyConfChangeEntry(e: Entry): void {
    const cc = decodeConfChangeEntry(e);
    let cs: ConfState;
    try {
      cs = this.rawNode.applyConfChange(cc);
    } catch (err) {
      if (!(err instanceof ConfChangeError)) throw err;
      // Every node refuses the same change the same way: the configuration stays as it was.
      this.logger.warn(`raft node ${this.id}: refused the membership change at index ${e.index}: ${err.message}`);
      this.appliedIndex = e.index;
      this.settleProposals(e, err);
      return;
    }
    const v2 = confChangeAsV2(cc);
    let addresses = new Map<number, string>();
    if (v2.context !== undefined && v2.context.length > 0) {
      try {
        addresses = decodeAddresses(v2.context);
      } catch (err) {
        this.logger.warn(`raft node ${this.id}: conf change at index ${e.index} carries no addresses: ${String(err)}`);
      }
    }
    for (const c of v2.changes) {
      const address = addresses.get(c.nodeId);
      if (c.type !== ConfChangeType.ConfChangeRemoveNode && address !== undefined) this.setAddress(c.nodeId, address);
    }
    this.confState = cloneConfState(cs);
    this.forgetNonMembers();
    this.appliedIndex = e.index;
    this.settleProposals(e, cs);
    this.notify('membershipChanged', { index: e.index, membership: this.membership() });
    this.noticeRemoval(e.index);
    for (const onChange of [...this.membershipWaiters.keys()]) onChange(this.confState);
  }

  /** Emits `removed` the first time the applied configuration leaves this node out. */
  private noticeRemoval(index: number): void {
    if (this.removedNoticed || membersOf(this.confState).has(this.id)) return;
    this.removedNoticed = true;
    this.notify('removed', { index });
  }

  private setAddress(id: number, address: string): void {
    this.addresses.set(id, address);
    if (id !== this.id) this.transport.addPeer(id, address);
  }

  /** Drops the addresses of nodes in neither half of the configuration. */
  private forgetNonMembers(): void {
    const members = membersOf(this.confState);
    for (const id of [...this.addresses.keys()]) {
      if (members.has(id)) continue;
      this.addresses.delete(id);
      if (id !== this.id) this.transport.removePeer(id);
    }
  }

  /**
   * Replaces the state machine with a snapshot's: at startup (the store's latest snapshot) or
   * when the leader sent one (`received`). Runs on the apply queue.
   */
  private restoreStateMachine(snap: Snapshot, received: boolean): void | Promise<void> {
    if (this.stopped) return;
    const { addresses, data } = decodeSnapshotData(snap.data);
    const done = (): void => {
      const index = snap.metadata.index;
      this.appliedIndex = index;
      this.snapshotIndex = index;
      this.bytesSinceSnapshot = 0;
      this.confState = cloneConfState(snap.metadata.confState);
      for (const [id, address] of addresses) this.setAddress(id, address);
      this.forgetNonMembers();
      // This node skipped the entries up to the snapshot: which proposals won is not known here.
      for (const [idx, list] of [...this.trackedProposals]) {
        if (idx > index) continue;
        this.trackedProposals.delete(idx);
        for (const p of list) p.waiter.reject(new ProposalOutcomeUnknownError(p.index, p.term, 'snapshot'));
      }
      if (received) {
        this.notify('snapshotInstalled', { index, term: snap.metadata.term, bytes: snap.data.length });
        this.notify('membershipChanged', { index, membership: this.membership() });
        this.noticeRemoval(index);
        this.notify('applied', { index });
      }
      this.serveReads();
    };
    const r = this.sm.restore(data);
    if (r instanceof Promise) return r.then(done);
    done();
  }

  // ---------------------------------------------------------------------------------------
  // Snapshots

  private maybeSnapshot(): void {
    const policy = this.opts.snapshot;
    if (policy === false || this.snapshotting || this.stopped) return;
    if (this.appliedIndex - this.snapshotIndex < policy.everyEntries && this.bytesSinceSnapshot < policy.everyBytes) return;
    // Retried from appended() once the commit index of what was applied is durable.
    if (this.appliedIndex > this.durableCommit) return;
    this.snapshotting = true;
    // On the apply queue: the state machine is captured exactly at appliedIndex, before the
    // next batch. Writing it to the store and compacting then run beside further applies.
    this.applyQueue.push(() => {
      if (this.stopped || this.appliedIndex <= this.snapshotIndex || this.appliedIndex > this.durableCommit) {
        this.snapshotting = false;
        return;
      }
      const index = this.appliedIndex;
      const cs = cloneConfState(this.confState);
      const addresses = new Map(this.addresses);
      const save = (data: Uint8Array): void => {
        this.snapshotWork = this.saveSnapshot(index, cs, addresses, data)
          .catch((err: unknown) => this.fail(err))
          .finally(() => {
            this.snapshotting = false;
          });
      };
      const data = this.sm.snapshot();
      if (data instanceof Promise) return data.then(save);
      save(data);
    });
  }

  private async saveSnapshot(index: number, cs: ConfState, addresses: Map<number, string>, data: Uint8Array): Promise<void> {
    const framed = encodeSnapshotData(addresses, data);
    let snap: Snapshot;
    try {
      snap = await this.logStore.createSnapshot(index, cs, framed);
    } catch (err) {
      // A newer snapshot from the leader was installed meanwhile: this one is obsolete.
      if (err instanceof SnapOutOfDateError) return;
      throw err;
    }
    if (index > this.snapshotIndex) {
      this.snapshotIndex = index;
      this.bytesSinceSnapshot = 0;
    }
    const policy = this.opts.snapshot;
    // As MemoryStorage.compact: compact(i) drops the entries up to i (keeping i's term), so the
    // log then starts at i + 1, `keepEntries` behind the snapshot.
    const compactTo = policy === false ? 0 : index - policy.keepEntries;
    if (compactTo >= this.logStore.firstIndex()) await this.logStore.compact(compactTo);
    this.notify('snapshotTaken', { index, term: snap.metadata.term, bytes: framed.length });
  }

  // ---------------------------------------------------------------------------------------
  // Proposals

  private newProposal(kind: ProposalKind, data: Uint8Array, options: CallOptions): Proposal {
    const timeoutMs = options.timeoutMs ?? this.opts.proposalTimeoutMs;
    const proposal: Proposal = {
      kind,
      data,
      index: 0,
      term: 0,
      waiter: new Waiter<unknown>(this.clock, timeoutMs, options.signal, (w, why) => this.giveUp(proposal, w, why)),
    };
    return proposal;
  }

  private giveUp(p: Proposal, w: Waiter<unknown>, why: GiveUp): void {
    const cause = why.kind === 'timeout' ? new TimeoutError('proposal', why.timeoutMs) : why.reason;
    if (p.index === 0) {
      // Never reached the log: it is simply not proposed.
      const i = this.queuedProposals.indexOf(p);
      if (i >= 0) this.queuedProposals.splice(i, 1);
      w.reject(cause);
      return;
    }
    this.untrack(p);
    w.reject(new ProposalOutcomeUnknownError(p.index, p.term, why.kind === 'timeout' ? 'timeout' : 'aborted', cause));
  }

  private track(p: Proposal, index: number, term: number): void {
    p.index = index;
    p.term = term;
    const list = this.trackedProposals.get(index);
    if (list === undefined) this.trackedProposals.set(index, [p]);
    else list.push(p);
  }

  private untrack(p: Proposal): void {
    const list = this.trackedProposals.get(p.index);
    if (list === undefined) return;
    const i = list.indexOf(p);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) this.trackedProposals.delete(p.index);
  }

  /** Hands the queued proposals to the core, in batches bounded by count and bytes. */
  private flushProposals(): void {
    if (this.queuedProposals.length === 0) return;
    const queued = this.queuedProposals;
    this.queuedProposals = [];
    if (!this.isLeader) {
      const err = this.notLeaderError();
      for (const p of queued) p.waiter.reject(err);
      return;
    }
    const raft = this.rawNode.raft;
    let i = 0;
    while (i < queued.length) {
      const batch: Proposal[] = [];
      let bytes = 0;
      while (
        i < queued.length &&
        batch.length < this.opts.maxBatchEntries &&
        (batch.length === 0 || bytes + queued[i]!.data.length <= this.opts.maxBatchBytes)
      ) {
        bytes += queued[i]!.data.length;
        batch.push(queued[i]!);
        i++;
      }
      const before = raft.raftLog.lastIndex();
      const entries: Entry[] = batch.map((p) => ({ term: 0, index: 0, type: EntryType.EntryNormal, data: p.data }));
      try {
        // One MsgProp for the batch: one append to the log and one MsgApp per follower.
        this.rawNode.step(newMessage({ type: MessageType.MsgProp, from: this.id, entries }));
      } catch (err) {
        if (!(err instanceof PontoonError)) throw err;
        for (const p of batch) p.waiter.reject(err);
        continue;
      }
      invariant(raft.raftLog.lastIndex() === before + batch.length, () =>
        `a batch of ${batch.length} proposals moved the last index from ${before} to ${raft.raftLog.lastIndex()}`,
      );
      batch.forEach((p, k) => this.track(p, before + 1 + k, raft.term));
    }
  }

  /**
   * Settles the proposals tracked at the applied entry's index. The entry at an index is
   * decided once it is applied: if it is the proposal's (same term), the proposal took effect;
   * otherwise another leader's entry won the index and the proposal never will.
   */
  private settleProposals(e: Entry, result: unknown): void {
    const list = this.trackedProposals.get(e.index);
    if (list === undefined) return;
    this.trackedProposals.delete(e.index);
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

  private waitForSimpleConfig(options: CallOptions): Promise<void> {
    if (this.confState.votersOutgoing.length === 0) return Promise.resolve();
    const timeoutMs = options.timeoutMs ?? this.opts.proposalTimeoutMs;
    const waiter = new Waiter<void>(this.clock, timeoutMs, options.signal, (w, why) => {
      this.membershipWaiters.delete(onChange);
      w.reject(why.kind === 'timeout' ? new TimeoutError('leaving the joint configuration', why.timeoutMs) : why.reason);
    });
    const onChange = (cs: ConfState): void => {
      if (cs.votersOutgoing.length > 0) return;
      this.membershipWaiters.delete(onChange);
      waiter.resolve();
    };
    this.membershipWaiters.set(onChange, waiter);
    return waiter.promise;
  }

  private notLeaderError(): NotLeaderError {
    const leader = this.leaderId;
    return new NotLeaderError(leader, leader === undefined ? undefined : this.addresses.get(leader));
  }

  // ---------------------------------------------------------------------------------------
  // Reads

  private flushReads(): void {
    if (this.pendingReads.length === 0) return;
    const reads = this.pendingReads.filter((r) => !r.waiter.settled);
    this.pendingReads = [];
    if (reads.length === 0) return;
    this.issueReadIndex({ reads, ctx: new Uint8Array(0), key: '', index: -1, issuedAtTick: 0 });
  }

  private issueReadIndex(batch: ReadBatch): void {
    // Unique across nodes and restarts: the leader keys pending requests by context, and a
    // stale answer to an earlier incarnation's request must never match a new one.
    const ctx = new Uint8Array(16);
    ctx.set(this.readCtxPrefix, 0);
    new DataView(ctx.buffer).setFloat64(8, ++this.readCtxSeq);
    batch.ctx = ctx;
    batch.key = contextKey(ctx);
    batch.issuedAtTick = this.ticks;
    this.inflightReads.set(batch.key, batch);
    this.rawNode.readIndex(ctx);
  }

  private onReadState(rs: ReadState): void {
    const key = contextKey(rs.requestCtx);
    const batch = this.inflightReads.get(key);
    if (batch === undefined) return;
    this.inflightReads.delete(key);
    batch.index = rs.index;
    this.readyReads.push(batch);
    this.serveReads();
  }

  /** Runs the reads whose read index is applied. */
  private serveReads(): void {
    if (this.readyReads.length === 0) return;
    const waiting: ReadBatch[] = [];
    for (const batch of this.readyReads) {
      if (batch.index > this.appliedIndex) {
        waiting.push(batch);
        continue;
      }
      for (const r of batch.reads) {
        if (r.waiter.settled) continue;
        try {
          const v = (r.fn as (sm: SM) => unknown)(this.sm);
          if (v instanceof Promise) v.then((x) => r.waiter.resolve(x), (err: unknown) => r.waiter.reject(err));
          else r.waiter.resolve(v);
        } catch (err) {
          r.waiter.reject(err);
        }
      }
    }
    this.readyReads = waiting;
  }

  /**
   * ReadIndex requests are dropped without an answer when there is no leader or the message is
   * lost: ask again (with a new context) after an election timeout.
   */
  private retryReads(): void {
    for (const batch of [...this.inflightReads.values()]) {
      if (this.ticks - batch.issuedAtTick < this.opts.electionTicks) continue;
      this.reissue(batch);
    }
  }

  private reissue(batch: ReadBatch): void {
    this.inflightReads.delete(batch.key);
    batch.reads = batch.reads.filter((r) => !r.waiter.settled);
    if (batch.reads.length > 0) this.issueReadIndex(batch);
  }

  // ---------------------------------------------------------------------------------------
  // Role and leader changes

  private onSoftState(ss: SoftState): void {
    const term = this.rawNode.raft.term;
    const role = roleOf(ss.raftState);
    const leader = ss.lead === None ? undefined : ss.lead;
    if (role !== this.currentRole) {
      const previousRole = this.currentRole;
      this.currentRole = role;
      this.notify('roleChanged', { role, previousRole, term });
    }
    if (leader !== this.currentLeader) {
      const previousLeaderId = this.currentLeader;
      this.currentLeader = leader;
      this.notify('leaderChanged', { leaderId: leader, previousLeaderId, term });
      for (const onLeader of [...this.leaderWaiters.keys()]) onLeader(leader);
      // A new leader does not know the requests the old one was confirming.
      if (leader !== undefined) for (const batch of [...this.inflightReads.values()]) this.reissue(batch);
    }
  }

  // ---------------------------------------------------------------------------------------
  // Errors and shutdown

  private notify<K extends keyof RaftNodeEvents>(event: K, ...args: RaftNodeEvents[K]): void {
    try {
      (this.emit as (e: K, ...a: RaftNodeEvents[K]) => boolean)(event, ...args);
    } catch (err) {
      this.logger.error(`raft node ${this.id}: a '${String(event)}' listener threw: ${String(err)}`);
    }
  }

  /** Something the node cannot recover from: report it and stop. */
  private fail(err: unknown): void {
    const error = err instanceof Error ? err : new Error(String(err));
    if (this.stopped) {
      this.logger.error(`raft node ${this.id}: error while stopping: ${error.message}`);
      return;
    }
    this.logger.error(`raft node ${this.id}: stopping after an unrecoverable error: ${error.message}`);
    this.notify('error', error);
    this.stopPromise ??= this.shutdown(error);
  }

  private async shutdown(cause: Error | undefined): Promise<void> {
    this.stopped = true;
    if (this.tickTimer !== undefined) this.clock.clearTimeout(this.tickTimer);
    if (this.readyTimer !== undefined) this.clock.clearTimeout(this.readyTimer);
    this.tickTimer = undefined;
    this.readyTimer = undefined;
    const stoppedError = (): NodeStoppedError =>
      new NodeStoppedError('the raft node stopped', cause === undefined ? undefined : { cause });
    for (const p of this.queuedProposals) p.waiter.reject(stoppedError());
    this.queuedProposals = [];
    for (const list of this.trackedProposals.values()) {
      for (const p of list) p.waiter.reject(new ProposalOutcomeUnknownError(p.index, p.term, 'stopped', cause));
    }
    this.trackedProposals.clear();
    for (const r of this.pendingReads) r.waiter.reject(stoppedError());
    for (const b of [...this.inflightReads.values(), ...this.readyReads]) for (const r of b.reads) r.waiter.reject(stoppedError());
    this.pendingReads = [];
    this.inflightReads.clear();
    this.readyReads = [];
    for (const w of [...this.leaderWaiters.values(), ...this.membershipWaiters.values()]) w.reject(stoppedError());
    this.leaderWaiters.clear();
    this.membershipWaiters.clear();

    // Whole writes only: the writes already issued finish before the store is closed.
    await this.appendQueue.idle();
    await this.applyQueue.idle();
    if (this.snapshotWork !== undefined) await this.snapshotWork;
    try {
      if (this.opts.closeTransportOnStop) await this.transport.close();
    } catch (err) {
      this.logger.error(`raft node ${this.id}: closing the transport failed: ${String(err)}`);
    }
    try {
      if (this.opts.closeLogStoreOnStop) await this.logStore.close();
    } catch (err) {
      this.logger.error(`raft node ${this.id}: closing the log store failed: ${String(err)}`);
    }
  }
}
