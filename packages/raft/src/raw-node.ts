/**
 * RawNode: the application-facing core. Single-threaded and synchronous; the application (or
 * RaftNode) drives it: tick() on a timer, step() for each received message, propose() for new
 * commands, and the ready()/advance() loop for persistence, sending and applying.
 */
import type { Config } from './config.js';
import { StepError, StepPeerNotFoundError, PontoonError, invariant } from './errors.js';
import { Raft } from './raft.js';
import type { Ready } from './ready.js';
import { mustSync } from './ready.js';
import type { BasicStatus, Status } from './status.js';
import type { Progress } from './tracker/progress.js';
import { confChangeAsV2, encodeConfChange, marshalConfChange } from './conf-change.js';
import type { ConfChangeI } from './conf-change.js';
import { LocalAppendThread, LocalApplyThread, isLocalMsgTarget } from './local-threads.js';
import { validateMessage } from './message-validation.js';
import {
  ConfChangeType,
  EntryType,
  MessageType,
  emptyHardState,
  EMPTY_BYTES,
  entriesSize,
  isEmptyHardState,
  isEmptySnap,
  isLocalMsg,
  isResponseMsg,
  blankMessage,
  newMessage,
  None,
  StateType,
} from './types.js';
import type { ConfState, Entry, HardState, Message, Snapshot, SnapshotStatus, SoftState } from './types.js';
import type { ReadState } from './read-only.js';
import type { LeaseBasis } from './leader-lease.js';
import { raftLogView } from './log/raft-log-view.js';
import type { RaftLogView } from './log/raft-log-view.js';

/** Whether a Progress belongs to a voter or a learner (for withProgress). */
export enum ProgressType {
  ProgressTypePeer = 0,
  ProgressTypeLearner = 1,
}

/** A member of the initial configuration, for bootstrap(). */
export interface Peer {
  id: number;
  context?: Uint8Array;
}

/** The snapshot of every Ready that carries none; frozen, as it is shared by all of them. */
const NO_SNAPSHOT: Snapshot = Object.freeze({
  data: EMPTY_BYTES,
  metadata: Object.freeze({
    index: 0,
    term: 0,
    confState: Object.freeze({
      voters: Object.freeze([]) as unknown as number[],
      learners: Object.freeze([]) as unknown as number[],
      votersOutgoing: Object.freeze([]) as unknown as number[],
      learnersNext: Object.freeze([]) as unknown as number[],
      autoLeave: false,
    }),
  }),
});

/** The read states of every Ready that carries none; frozen, as it is shared by all of them. */
const NO_READ_STATES = Object.freeze([]) as unknown as ReadState[];

function cloneProgress(pr: Progress): Progress {
  const copy = Object.assign(Object.create(Object.getPrototypeOf(pr) as object) as Progress, pr);
  copy.inflights = pr.inflights.clone();
  return copy;
}

export class RawNode {
  /** The protocol state inside. Tools read it through the getters and `log`; see raftOf(). */
  private readonly raft: Raft;
  readonly asyncStorageWrites: boolean;
  /** A read-only view of the in-memory log (durable entries and the unstable tail). */
  readonly log: RaftLogView;
  private prevSoftSt: SoftState;
  private prevHardSt: HardState;
  private stepsOnAdvance: Message[] = [];

  /** Creates a node from its config; throws ConfigError for an invalid one. */
  constructor(config: Config) {
    this.raft = new Raft(config);
    this.asyncStorageWrites = this.raft.config.asyncStorageWrites;
    this.log = raftLogView(this.raft.raftLog);
    this.prevSoftSt = this.raft.softState();
    this.prevHardSt = this.raft.hardState();
  }

  /** This node's id. */
  get id(): number {
    return this.raft.id;
  }

  /** The current term. */
  get term(): number {
    return this.raft.term;
  }

  /** The node voted for in the current term (None: none). */
  get vote(): number {
    return this.raft.vote;
  }

  /** The current role. */
  get state(): StateType {
    return this.raft.state;
  }

  /** The leader this node knows of (None: none). */
  get lead(): number {
    return this.raft.lead;
  }

  /** Whether this node is the leader. */
  get isLeader(): boolean {
    return this.raft.state === StateType.StateLeader;
  }

  /**
   * Whether a membership change is in the log but not yet applied (on the leader: the core
   * refuses another one until it is; the change counts from when it is appended).
   */
  hasPendingConfChange(): boolean {
    return this.raft.pendingConfIndex > this.raft.raftLog.applied;
  }

  /** Advances the logical clock by one tick: elections and heartbeats are counted in ticks. */
  tick(): void {
    this.raft.tick();
  }

  /**
   * Advances the election clock only, without heartbeats or elections. For groups known to be
   * idle; it subverts the protocol's timing, so prefer tick().
   */
  tickQuiesced(): void {
    this.raft.electionElapsed++;
  }

  /** Starts an election now (PreVote first when enabled). */
  campaign(): void {
    this.raft.step(newMessage({ type: MessageType.MsgHup }));
  }

  /**
   * Proposes a command to be appended to the log. Throws ProposalDroppedError when it cannot
   * be: no known leader, forwarding disabled, a leadership transfer, or the uncommitted limit.
   * Success means only that the proposal was accepted locally; it may still be lost.
   */
  propose(data: Uint8Array): void {
    // Once per command: the field-by-field form of newMessage() (see blankMessage).
    const m = blankMessage(MessageType.MsgProp, None);
    m.from = this.raft.id;
    m.entries = [{ term: 0, index: 0, type: EntryType.EntryNormal, data }];
    this.raft.step(m);
  }

  /**
   * Proposes several commands as one message: on the leader, one append to the log and one
   * append message per follower. Returns the index of the first one when this node is the
   * leader (they take consecutive indexes in the current term), or 0 when they were forwarded
   * to the leader, whose log decides their indexes. Throws ProposalDroppedError as propose().
   */
  proposeBatch(data: readonly Uint8Array[]): number {
    invariant(data.length > 0, 'proposeBatch() needs at least one command');
    const entries: Entry[] = data.map((d) => ({ term: 0, index: 0, type: EntryType.EntryNormal, data: d }));
    return this.stepProposal(newMessage({ type: MessageType.MsgProp, from: this.raft.id, entries }));
  }

  /**
   * Proposes a membership change. Apply it with applyConfChange() once it is committed. Returns
   * its index as proposeBatch() does.
   */
  proposeConfChange(cc: ConfChangeI): number {
    const { type, data } = marshalConfChange(cc);
    return this.stepProposal(newMessage({ type: MessageType.MsgProp, entries: [{ term: 0, index: 0, type, data }] }));
  }

  private stepProposal(m: Message): number {
    const wasLeader = this.raft.state === StateType.StateLeader;
    const before = this.raft.raftLog.lastIndex();
    this.raft.step(m);
    if (!wasLeader) return 0;
    const last = this.raft.raftLog.lastIndex();
    invariant(last === before + m.entries.length, () =>
      `a proposal of ${m.entries.length} entries moved the leader's last index from ${before} to ${last}`,
    );
    return before + 1;
  }

  /**
   * Applies a committed conf change to this node's configuration. The application must call it
   * for each conf change entry it applies (unless it rejects the change). Throws
   * ConfChangeError for a change that is invalid in the current configuration.
   */
  applyConfChange(cc: ConfChangeI): ConfState {
    return this.raft.applyConfChange(confChangeAsV2(cc));
  }

  /**
   * Steps a message received from a peer (or, with asyncStorageWrites, a storage thread).
   * Throws StepError for a local-only message type from the network or a malformed message,
   * StepPeerNotFoundError for a response from a node not in the configuration.
   */
  step(m: Message): void {
    validateMessage(m, this.raft.raftLog.lastIndex());
    if (isLocalMsg(m.type) && !isLocalMsgTarget(m.from)) {
      throw new StepError(`raft: cannot step raft local message ${MessageType[m.type]}`);
    }
    if (isResponseMsg(m.type) && !isLocalMsgTarget(m.from) && !this.raft.trk.progress.has(m.from)) {
      throw new StepPeerNotFoundError(m.from);
    }
    this.raft.step(m);
  }

  /** The outstanding work; it must be handled and then passed back to advance(). */
  ready(): Ready {
    const rd = this.readyWithoutAccept();
    this.acceptReady(rd);
    return rd;
  }

  private applyUnstableEntries(): boolean {
    // With the classic contract, entries are persisted before advance() and committed entries
    // may be applied in the same Ready. With async writes, only what is durable may be applied.
    return !this.asyncStorageWrites;
  }

  private readyWithoutAccept(): Ready {
    const r = this.raft;
    // The parts that did not change are shared frozen values, not fresh objects: most Readies
    // carry entries and messages only, and one is handed out per turn of the application's loop.
    const rd: Ready = {
      softState: undefined,
      hardState: emptyHardState,
      readStates: NO_READ_STATES,
      entries: r.raftLog.nextUnstableEnts(),
      snapshot: NO_SNAPSHOT,
      committedEntries: r.raftLog.nextCommittedEnts(this.applyUnstableEntries()),
      messages: r.msgs,
      mustSync: false,
    };
    if (this.softStateChanged()) rd.softState = r.softState();
    const hardStateChanged = this.hardStateChanged();
    if (hardStateChanged) rd.hardState = r.hardState();
    if (r.raftLog.hasNextUnstableSnapshot()) rd.snapshot = r.raftLog.nextUnstableSnapshot()!;
    if (r.readStates.length !== 0) rd.readStates = r.readStates;
    rd.mustSync = mustSync(hardStateChanged ? rd.hardState : this.prevHardSt, this.prevHardSt, rd.entries.length);

    if (this.asyncStorageWrites) {
      if (this.needStorageAppendMsg(rd)) {
        rd.messages = rd.messages === r.msgs ? r.msgs.slice() : rd.messages;
        rd.messages.push(this.newStorageAppendMsg(rd));
      }
      if (rd.committedEntries.length > 0) {
        if (rd.messages === r.msgs) rd.messages = r.msgs.slice();
        rd.messages.push(this.newStorageApplyMsg(rd.committedEntries));
      }
    } else {
      // The Ready contract: Messages are sent after Entries are durable, so responses that
      // wait for durability can ride in the same Ready. Self-addressed ones are stepped in
      // advance().
      for (const m of r.msgsAfterAppend) {
        if (m.to !== r.id) {
          if (rd.messages === r.msgs) rd.messages = r.msgs.slice();
          rd.messages.push(m);
        }
      }
    }
    return rd;
  }

  private needStorageAppendMsg(rd: Ready): boolean {
    // Also needed when responses must wait for earlier in-flight appends to be durable.
    return (
      rd.entries.length > 0 ||
      !isEmptyHardState(rd.hardState) ||
      !isEmptySnap(rd.snapshot) ||
      this.raft.msgsAfterAppend.length > 0
    );
  }

  private needStorageAppendRespMsg(rd: Ready): boolean {
    return this.raft.raftLog.hasNextOrInProgressUnstableEnts() || !isEmptySnap(rd.snapshot);
  }

  private newStorageAppendMsg(rd: Ready): Message {
    const r = this.raft;
    const m = newMessage({
      type: MessageType.MsgStorageAppend,
      to: LocalAppendThread,
      from: r.id,
      entries: rd.entries,
    });
    if (!isEmptyHardState(rd.hardState)) {
      // Only set when the hard state changed, so a reconstructed HardState is empty otherwise.
      m.term = rd.hardState.term;
      m.vote = rd.hardState.vote;
      m.commit = rd.hardState.commit;
    }
    if (!isEmptySnap(rd.snapshot)) m.snapshot = rd.snapshot;
    // The self-directed MsgAppResp must be handled before MsgStorageAppendResp, while the new
    // entries are still in the unstable log (a cheaper term lookup).
    const responses = r.msgsAfterAppend.slice();
    if (this.needStorageAppendRespMsg(rd)) responses.push(this.newStorageAppendRespMsg(rd));
    m.responses = responses;
    return m;
  }

  /**
   * The acknowledgement that everything unstable so far is durable. It carries the current term
   * and the last (index, term): if the term changed by the time it is stepped, the unstable
   * entries may have been overwritten and are not marked stable (the ABA case etcd documents).
   * It is attached whenever the unstable log is non-empty, not only when this Ready appends,
   * so that dropped older acks cannot leave entries unstable forever.
   */
  private newStorageAppendRespMsg(rd: Ready): Message {
    const r = this.raft;
    // Built once per Ready: the field-by-field form of newMessage() (see blankMessage).
    const m = blankMessage(MessageType.MsgStorageAppendResp, r.id);
    m.from = LocalAppendThread;
    m.term = r.term;
    if (r.raftLog.hasNextOrInProgressUnstableEnts()) {
      m.index = r.raftLog.lastIndex();
      m.logTerm = r.raftLog.lastTerm();
    }
    if (!isEmptySnap(rd.snapshot)) m.snapshot = rd.snapshot;
    return m;
  }

  private newStorageApplyMsg(ents: Entry[]): Message {
    return newMessage({
      type: MessageType.MsgStorageApply,
      to: LocalApplyThread,
      from: this.raft.id,
      entries: ents,
      responses: [this.newStorageApplyRespMsg(ents)],
    });
  }

  private newStorageApplyRespMsg(ents: Entry[]): Message {
    const m = blankMessage(MessageType.MsgStorageApplyResp, this.raft.id);
    m.from = LocalApplyThread;
    m.entries = ents;
    return m;
  }

  private acceptReady(rd: Ready): void {
    const r = this.raft;
    if (rd.softState !== undefined) this.prevSoftSt = rd.softState;
    if (!isEmptyHardState(rd.hardState)) this.prevHardSt = rd.hardState;
    if (rd.readStates.length !== 0) r.readStates = [];
    if (!this.asyncStorageWrites) {
      invariant(this.stepsOnAdvance.length === 0, 'two accepted Ready structs without a call to advance()');
      for (const m of r.msgsAfterAppend) {
        if (m.to === r.id) this.stepsOnAdvance.push(m);
      }
      if (this.needStorageAppendRespMsg(rd)) this.stepsOnAdvance.push(this.newStorageAppendRespMsg(rd));
      if (rd.committedEntries.length > 0) {
        this.stepsOnAdvance.push(this.newStorageApplyRespMsg(rd.committedEntries));
      }
    }
    r.msgs = [];
    r.msgsAfterAppend = [];
    r.raftLog.acceptUnstable();
    if (rd.committedEntries.length > 0) {
      const ents = rd.committedEntries;
      r.raftLog.acceptApplying(ents[ents.length - 1]!.index, entriesSize(ents), this.applyUnstableEntries());
    }
  }

  /** Whether the soft state differs from the one in the last Ready (without building it). */
  private softStateChanged(): boolean {
    const r = this.raft;
    return r.lead !== this.prevSoftSt.lead || r.state !== this.prevSoftSt.raftState;
  }

  /** Whether the hard state differs from the one in the last Ready (without building it). */
  private hardStateChanged(): boolean {
    const r = this.raft;
    const prev = this.prevHardSt;
    return r.term !== prev.term || r.vote !== prev.vote || r.raftLog.committed !== prev.commit;
  }

  /** Whether there is a Ready to handle. */
  hasReady(): boolean {
    const r = this.raft;
    if (this.softStateChanged()) return true;
    // An all-zero hard state is "nothing to persist" even when it differs from the previous one.
    if ((r.term !== 0 || r.vote !== 0 || r.raftLog.committed !== 0) && this.hardStateChanged()) return true;
    if (r.raftLog.hasNextUnstableSnapshot()) return true;
    if (r.msgs.length > 0 || r.msgsAfterAppend.length > 0) return true;
    if (r.raftLog.hasNextUnstableEnts() || r.raftLog.hasNextCommittedEnts(this.applyUnstableEntries())) return true;
    return r.readStates.length !== 0;
  }

  /**
   * Tells the node that the last Ready was handled: persisted, sent and applied. Not used with
   * asyncStorageWrites, where the storage threads' responses take its place.
   */
  advance(_rd?: Ready): void {
    invariant(!this.asyncStorageWrites, 'advance() must not be called when using asyncStorageWrites');
    const steps = this.stepsOnAdvance;
    this.stepsOnAdvance = [];
    for (const m of steps) {
      try {
        this.raft.step(m);
      } catch (err) {
        // A self-ack can only be refused as a dropped proposal (auto-leave during a transfer).
        if (!(err instanceof PontoonError)) throw err;
      }
    }
  }

  /** The node's status, with per-peer progress on the leader. Allocates; see basicStatus(). */
  status(): Status {
    const s = this.basicStatus();
    const progress = new Map<number, Progress>();
    if (s.softState.raftState === StateType.StateLeader) {
      this.raft.trk.visit((id, pr) => progress.set(id, cloneProgress(pr)));
    }
    return { ...s, config: this.raft.trk.config.clone(), progress };
  }

  basicStatus(): BasicStatus {
    const r = this.raft;
    return {
      id: r.id,
      hardState: r.hardState(),
      softState: r.softState(),
      applied: r.raftLog.applied,
      leadTransferee: r.leadTransferee,
    };
  }

  /** Visits every peer's progress (ascending id) without allocating copies. Do not mutate. */
  withProgress(visitor: (id: number, type: ProgressType, pr: Readonly<Progress>) => void): void {
    this.raft.trk.visit((id, pr) => {
      visitor(id, pr.isLearner ? ProgressType.ProgressTypeLearner : ProgressType.ProgressTypePeer, pr);
    });
  }

  /** Reports that the last send to `id` failed; the leader falls back to probing it. */
  reportUnreachable(id: number): void {
    this.stepIgnoringDrops(newMessage({ type: MessageType.MsgUnreachable, from: id }));
  }

  /** Reports the outcome of sending a snapshot to `id`. */
  reportSnapshot(id: number, status: SnapshotStatus): void {
    this.stepIgnoringDrops(
      newMessage({ type: MessageType.MsgSnapStatus, from: id, reject: status === 'failed' }),
    );
  }

  /** Asks the leader to hand leadership to `transferee` (thesis §3.10). */
  transferLeadership(transferee: number): void {
    this.stepIgnoringDrops(newMessage({ type: MessageType.MsgTransferLeader, from: transferee }));
  }

  /**
   * Forgets the current leader (a follower only), so that this node can vote in the next
   * election at once instead of waiting out an election timeout. Ignored with lease reads,
   * where it would break the lease's guarantee.
   */
  forgetLeader(): void {
    this.raft.step(newMessage({ type: MessageType.MsgForgetLeader }));
  }

  /**
   * Requests a read index. The answer comes as a ReadState with the same `rctx` in a later
   * Ready; once applied reaches its index, reads issued before this call are linearizable.
   */
  readIndex(rctx: Uint8Array): void {
    this.stepIgnoringDrops(
      newMessage({ type: MessageType.MsgReadIndex, entries: [{ term: 0, index: 0, type: EntryType.EntryNormal, data: rctx }] }),
    );
  }

  /**
   * With lease-based reads, on the leader: the heartbeat round its lease rests on now (see
   * leader-lease.ts), in its term. Undefined when it holds no lease, and on other nodes.
   */
  leaseBasis(): (LeaseBasis & { term: number }) | undefined {
    const r = this.raft;
    const basis = r.lease?.basis(r.trk.config.voters, r.leaseClock);
    return basis === undefined ? undefined : { ...basis, term: r.term };
  }

  /**
   * With lease-based reads, on the leader: the heartbeat rounds it sent so far in its term (the
   * newest one's number; the messages of a round leave with the next Ready). 0 otherwise.
   */
  leaseRoundsSent(): number {
    return this.raft.lease?.roundsSent ?? 0;
  }

  /**
   * With lease-based reads, on the leader: rounds up to `round` of its term no longer count
   * towards its lease. The driver calls it for the rounds its clock says are too old to rest a
   * lease on (node/lease-clock.ts). A no-op on other nodes.
   */
  expireLeaseRounds(round: number): void {
    this.raft.lease?.expireThrough(round);
  }

  private stepIgnoringDrops(m: Message): void {
    try {
      this.raft.step(m);
    } catch (err) {
      if (!(err instanceof PontoonError)) throw err;
    }
  }

  /**
   * Initializes an empty storage with a configuration of `peers`, as if the conf changes adding
   * them were committed at term 1. Throws StepError if storage is not empty or peers is empty.
   * (Applications may instead start from a Storage whose snapshot holds the initial ConfState.)
   */
  bootstrap(peers: Peer[]): void {
    if (peers.length === 0) throw new StepError('must provide at least one peer to bootstrap');
    if (this.raft.raftLog.storage.lastIndex() !== 0) throw new StepError("can't bootstrap a nonempty Storage");
    // The bootstrap entries are unstable: the next Ready persists them along with the
    // hard state, so the previous hard state is "nothing".
    this.prevHardSt = emptyHardState;
    this.raft.becomeFollower(1, None);
    const ents: Entry[] = peers.map((p, i) => ({
      type: EntryType.EntryConfChange,
      term: 1,
      index: i + 1,
      data: encodeConfChange({ type: ConfChangeType.ConfChangeAddNode, nodeId: p.id, context: p.context }),
    }));
    this.raft.raftLog.append(ents);
    // Committed by fiat: every member starts from the same configuration.
    this.raft.raftLog.committed = ents.length;
    for (const p of peers) {
      this.raft.applyConfChange(confChangeAsV2({ type: ConfChangeType.ConfChangeAddNode, nodeId: p.id }));
    }
  }
}

/**
 * The protocol state inside a RawNode, for this package's white-box tests; not exported from the
 * package. Mutating it bypasses every rule RawNode keeps.
 */
export function raftOf(rn: RawNode): Raft {
  // Element access is TypeScript's sanctioned way past `private` for a same-package friend.
  return rn['raft'];
}
