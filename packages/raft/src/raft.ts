/**
 * The Raft role state machine: follower, pre-candidate, candidate and leader. Everything here
 * is pure: time is tick(), randomness comes from the injected Rand, and output is collected in
 * `msgs` / `msgsAfterAppend` for the RawNode to hand out in a Ready.
 *
 * The shape follows etcd's raft: terms are handled once in step() before the role's step
 * function (stepLeader, stepCandidate, stepFollower), and the become* transitions reset exactly
 * the state they own.
 */
import type { ResolvedConfig } from './config.js';
import { ReadOnlyOption, validateConfig } from './config.js';
import type { Config } from './config.js';
import {
  ConfChangeError,
  ProposalDroppedError,
  SnapshotTemporarilyUnavailableError,
  invariant,
} from './errors.js';
import type { Logger } from './logger.js';
import type { Rand } from './rand.js';
import type { ReadState } from './read-only.js';
import { ReadOnly } from './read-only.js';
import { LeaderLease } from './leader-lease.js';
import { RaftLog } from './log/raft-log.js';
import { ProgressTracker } from './tracker/progress-tracker.js';
import type { TrackerConfig } from './tracker/progress-tracker.js';
import type { Progress, ProgressMap } from './tracker/progress.js';
import { Inflights } from './tracker/inflights.js';
import { ProgressStateType } from './tracker/state.js';
import { VoteResult } from './quorum/quorum.js';
import { Changer } from './confchange/changer.js';
import { restore as restoreConfig } from './confchange/restore.js';
import {
  confChangeAsV2,
  confStateEquivalent,
  decodeConfChange,
  decodeConfChangeV2,
  enterJoint,
  leaveJoint,
} from './conf-change.js';
import type { ConfChangeI } from './conf-change.js';
import {
  EMPTY_BYTES,
  EntryType,
  MessageType,
  None,
  StateType,
  blankMessage,
  entriesSize,
  newMessage,
  payloadsSize,
  voteRespMsgType,
} from './types.js';
import type { ConfChangeV2, ConfState, Entry, HardState, Message, Snapshot, SoftState } from './types.js';

/** Why a node campaigns: PreVote phase, a normal election, or a leadership transfer. */
export enum CampaignType {
  PreElection = 'CampaignPreElection',
  Election = 'CampaignElection',
  Transfer = 'CampaignTransfer',
}

const CAMPAIGN_TRANSFER_CTX = new TextEncoder().encode(CampaignType.Transfer);

function isTransferCtx(ctx: Uint8Array | undefined): boolean {
  if (ctx === undefined || ctx.length !== CAMPAIGN_TRANSFER_CTX.length) return false;
  for (let i = 0; i < ctx.length; i++) if (ctx[i] !== CAMPAIGN_TRANSFER_CTX[i]) return false;
  return true;
}

/** A ConfChange entry's payload decoded; an empty payload is the "leave joint" V2 change. */
export function decodeConfChangeEntry(e: Entry): ConfChangeI {
  if (e.type === EntryType.EntryConfChange) return decodeConfChange(e.data);
  if (e.data.length === 0) return { transition: 0, changes: [] };
  return decodeConfChangeV2(e.data);
}

function sortedIds(ids: Iterable<number>): number[] {
  return Array.from(ids).sort((a, b) => a - b);
}

function assertConfStatesEquivalent(expected: ConfState, actual: ConfState): void {
  const diff = confStateEquivalent(expected, actual);
  invariant(diff === undefined, () => `conf states are not equivalent: ${diff}`);
}

type StepFn = (r: Raft, m: Message) => void;

/**
 * One Raft peer's protocol state. Applications use RawNode (or RaftNode); this class is exposed
 * for tests, simulations and tools that need to look inside.
 */
export class Raft {
  readonly id: number;
  term = 0;
  vote = None;
  readStates: ReadState[] = [];
  raftLog: RaftLog;
  readonly maxMsgSize: number;
  readonly maxUncommittedSize: number;
  trk: ProgressTracker;
  state: StateType = StateType.StateFollower;
  /** Whether this node is a learner in its current configuration. */
  isLearner = false;
  /** Messages to send right away (never to self). */
  msgs: Message[] = [];
  /**
   * Messages to send only once everything unstable so far is durable: MsgAppResp, MsgVoteResp,
   * MsgPreVoteResp (Raft §5.1 / thesis §3.8: votes and acks must survive a restart).
   */
  msgsAfterAppend: Message[] = [];
  lead = None;
  /** The target of a leadership transfer in progress (thesis §3.10), or None. */
  leadTransferee = None;
  /**
   * At least the index of the newest conf change in the log. Only one conf change may be
   * pending (in the log, not yet applied) at a time; proposals wait until applied passes this.
   */
  pendingConfIndex = 0;
  readonly disableConfChangeValidation: boolean;
  /** An estimate of the payload bytes of the uncommitted tail (leader only). */
  uncommittedSize = 0;
  readOnly: ReadOnly;
  electionElapsed = 0;
  heartbeatElapsed = 0;
  readonly checkQuorum: boolean;
  readonly preVote: boolean;
  readonly heartbeatTimeout: number;
  readonly electionTimeout: number;
  /** In [electionTimeout, 2 * electionTimeout - 1]; reset on every role change. */
  randomizedElectionTimeout = 0;
  readonly disableProposalForwarding: boolean;
  readonly stepDownOnRemoval: boolean;
  readonly logger: Logger;
  readonly rand: Rand;
  /**
   * ReadIndex requests that arrived before this leader committed an entry of its own term;
   * answered once it has (thesis §6.4: the commit index is only known to be current then).
   */
  pendingReadIndexMessages: Message[] = [];
  /** Ticks this node has seen (never reset): the clock of the leader's lease. */
  leaseClock = 0;
  /** With lease-based reads, the leader's lease (see leader-lease.ts); undefined unless leading. */
  lease: LeaderLease | undefined;
  /** Lease-based read requests waiting for the lease to be (re)established by a heartbeat round. */
  pendingLeaseReads: Message[] = [];

  private tickFn: () => void = () => this.tickElection();
  private stepFn: StepFn = stepFollower;
  readonly config: ResolvedConfig;

  constructor(c: Config) {
    const cfg = validateConfig(c);
    this.config = cfg;
    this.id = cfg.id;
    this.logger = cfg.logger;
    this.rand = cfg.rand;
    this.raftLog = new RaftLog(cfg.storage, cfg.logger, cfg.maxCommittedSizePerReady);
    const { hardState, confState } = cfg.storage.initialState();
    this.maxMsgSize = cfg.maxSizePerMsg;
    this.maxUncommittedSize = cfg.maxUncommittedEntriesSize;
    this.trk = new ProgressTracker(cfg.maxInflightMsgs, cfg.maxInflightBytes);
    this.electionTimeout = cfg.electionTick;
    this.heartbeatTimeout = cfg.heartbeatTick;
    this.checkQuorum = cfg.checkQuorum;
    this.preVote = cfg.preVote;
    this.readOnly = new ReadOnly(cfg.readOnlyOption);
    this.disableProposalForwarding = cfg.disableProposalForwarding;
    this.disableConfChangeValidation = cfg.disableConfChangeValidation;
    this.stepDownOnRemoval = cfg.stepDownOnRemoval;

    const [tcfg, prs] = restoreConfig(new Changer(this.trk, this.raftLog.lastIndex()), confState);
    assertConfStatesEquivalent(confState, this.switchToConfig(tcfg, prs));

    if (hardState.term !== 0 || hardState.vote !== 0 || hardState.commit !== 0) {
      this.loadState(hardState);
    }
    if (cfg.applied > 0) this.raftLog.appliedTo(cfg.applied, 0);
    this.becomeFollower(this.term, None);
    this.logger.info(
      `newRaft ${this.id} [peers: [${this.trk.voterNodes().join(',')}], term: ${this.term}, ` +
        `commit: ${this.raftLog.committed}, applied: ${this.raftLog.applied}, ` +
        `lastindex: ${this.raftLog.lastIndex()}, lastterm: ${this.raftLog.lastTerm()}]`,
    );
  }

  hasLeader(): boolean {
    return this.lead !== None;
  }

  softState(): SoftState {
    return { lead: this.lead, raftState: this.state };
  }

  hardState(): HardState {
    return { term: this.term, vote: this.vote, commit: this.raftLog.committed };
  }

  /**
   * Queues a message. Responses that acknowledge durable state (append acks, votes) wait in
   * msgsAfterAppend until that state is persisted; everything else goes out at once.
   */
  send(m: Message): void {
    if (m.from === None) m.from = this.id;
    const t = m.type;
    if (
      t === MessageType.MsgVote ||
      t === MessageType.MsgVoteResp ||
      t === MessageType.MsgPreVote ||
      t === MessageType.MsgPreVoteResp
    ) {
      // Campaign messages carry the term they are about, which for PreVote is a future term.
      invariant(m.term !== 0, () => `term should be set when sending ${MessageType[t]}`);
    } else {
      invariant(m.term === 0, () => `term should not be set when sending ${MessageType[t]} (was ${m.term})`);
      // Proposals and read requests forwarded to the leader are treated like local messages.
      if (t !== MessageType.MsgProp && t !== MessageType.MsgReadIndex) m.term = this.term;
    }
    if (t === MessageType.MsgAppResp || t === MessageType.MsgVoteResp || t === MessageType.MsgPreVoteResp) {
      this.msgsAfterAppend.push(m);
    } else {
      invariant(m.to !== this.id, () => `message should not be self-addressed when sending ${MessageType[t]}`);
      this.msgs.push(m);
    }
  }

  /** Sends an append (with new entries, if any, and the commit index) to `to`. */
  sendAppend(to: number): void {
    this.maybeSendAppend(to, true);
  }

  /**
   * Sends an append to `to` if its progress allows. With sendIfEmpty false, an append without
   * entries is not sent (used when sending several messages in a row). Returns whether sent.
   */
  maybeSendAppend(to: number, sendIfEmpty: boolean): boolean {
    const pr = this.trk.progress.get(to)!;
    if (pr.isPaused()) return false;

    const prevIndex = pr.next - 1;
    let prevTerm: number;
    try {
      prevTerm = this.raftLog.term(prevIndex);
    } catch {
      // The log was compacted at or past pr.next: only a snapshot can catch the follower up.
      return this.maybeSendSnapshot(to, pr);
    }

    let ents: Entry[] = [];
    // A throttled follower in StateReplicate gets only empty appends, so that progress is still
    // made if every inflight message was lost: the empty append's ack or rejection frees them.
    if (pr.state !== ProgressStateType.StateReplicate || !pr.inflights.full()) {
      try {
        ents = this.raftLog.entries(pr.next, this.maxMsgSize);
      } catch {
        return this.maybeSendSnapshot(to, pr);
      }
    }
    if (ents.length === 0 && !sendIfEmpty) return false;

    const m = blankMessage(MessageType.MsgApp, to);
    m.index = prevIndex;
    m.logTerm = prevTerm;
    m.entries = ents;
    m.commit = this.raftLog.committed;
    this.send(m);
    pr.sentEntries(ents.length, payloadsSize(ents));
    pr.setSentCommit(this.raftLog.committed);
    return true;
  }

  /** Sends the storage's snapshot to `to`. Returns whether a message was sent. */
  maybeSendSnapshot(to: number, pr: Progress): boolean {
    if (!pr.recentActive) {
      this.logger.debug(`${this.id} ignore sending snapshot to ${to} since it is not recently active`);
      return false;
    }
    let snapshot: Snapshot;
    try {
      snapshot = this.raftLog.snapshot();
    } catch (err) {
      if (err instanceof SnapshotTemporarilyUnavailableError) {
        this.logger.debug(`${this.id} failed to send snapshot to ${to}: temporarily unavailable`);
        return false;
      }
      throw err;
    }
    invariant(snapshot.metadata.index !== 0, 'need non-empty snapshot');
    const sindex = snapshot.metadata.index;
    this.logger.debug(
      `${this.id} [firstindex: ${this.raftLog.firstIndex()}, commit: ${this.raftLog.committed}] ` +
        `sent snapshot[index: ${sindex}, term: ${snapshot.metadata.term}] to ${to} [${pr.toString()}]`,
    );
    pr.becomeSnapshot(sindex);
    this.send(newMessage({ type: MessageType.MsgSnap, to, snapshot }));
    return true;
  }

  /** Sends a heartbeat carrying min(match, committed): never a commit the peer may not have. */
  sendHeartbeat(to: number, ctx: Uint8Array | undefined): void {
    const pr = this.trk.progress.get(to)!;
    const commit = Math.min(pr.match, this.raftLog.committed);
    const m = blankMessage(MessageType.MsgHeartbeat, to);
    m.commit = commit;
    m.context = ctx;
    this.send(m);
    pr.setSentCommit(commit);
  }

  /** Sends appends to every peer that is not up to date. */
  bcastAppend(): void {
    this.trk.visit((id) => {
      if (id !== this.id) this.sendAppend(id);
    });
  }

  /**
   * Sends heartbeats to every peer, carrying the newest pending read request's context, or with
   * lease-based reads a lease token (the two never mix: lease mode sends no read contexts).
   */
  bcastHeartbeat(): void {
    this.bcastHeartbeatWithCtx(this.lease !== undefined ? this.lease.nextToken(this.leaseClock) : this.readOnly.lastPendingRequestCtx());
  }

  bcastHeartbeatWithCtx(ctx: Uint8Array | undefined): void {
    this.trk.visit((id) => {
      if (id !== this.id) this.sendHeartbeat(id, ctx);
    });
  }

  /** Records that entries up to `index` (of `size` bytes) are applied. */
  appliedTo(index: number, size: number): void {
    const oldApplied = this.raftLog.applied;
    const newApplied = Math.max(index, oldApplied);
    this.raftLog.appliedTo(newApplied, size);

    if (this.trk.config.autoLeave && newApplied >= this.pendingConfIndex && this.state === StateType.StateLeader) {
      // Leave the joint configuration now that entering it is applied. An empty payload decodes
      // to an empty ConfChangeV2 and can never be refused for its size. It can be refused during
      // a leadership transfer; this check runs again on each applied entry, so it is retried.
      const m = newMessage({
        type: MessageType.MsgProp,
        entries: [{ term: 0, index: 0, type: EntryType.EntryConfChangeV2, data: EMPTY_BYTES }],
      });
      try {
        this.step(m);
        this.logger.info(`initiating automatic transition out of joint configuration ${this.trk.config.toString()}`);
      } catch (err) {
        if (!(err instanceof ProposalDroppedError)) throw err;
        this.logger.debug(`not initiating automatic transition out of joint configuration: ${String(err)}`);
      }
    }
  }

  appliedSnap(snap: Snapshot): void {
    const index = snap.metadata.index;
    this.raftLog.stableSnapTo(index);
    this.appliedTo(index, 0);
  }

  /**
   * Advances the commit index to what a quorum has acknowledged. Raft §5.4.2: only an entry of
   * the current term is committed by counting replicas; earlier ones commit with it.
   */
  maybeCommit(): boolean {
    return this.raftLog.maybeCommit(this.trk.committed(), this.term);
  }

  reset(term: number): void {
    if (this.term !== term) {
      invariant(term > this.term, () => `term must never go down: ${this.term} -> ${term}`);
      this.term = term;
      this.vote = None;
    }
    this.lead = None;
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    this.resetRandomizedElectionTimeout();
    this.abortLeaderTransfer();
    this.trk.resetVotes();
    const lastIndex = this.raftLog.lastIndex();
    this.trk.visit((id, pr) => {
      pr.match = id === this.id ? lastIndex : 0;
      pr.next = lastIndex + 1;
      pr.sentCommit = 0;
      pr.state = ProgressStateType.StateProbe;
      pr.pendingSnapshot = 0;
      pr.recentActive = false;
      pr.msgAppFlowPaused = false;
      pr.inflights = new Inflights(this.trk.maxInflight, this.trk.maxInflightBytes);
    });
    this.pendingConfIndex = 0;
    this.uncommittedSize = 0;
    this.readOnly = new ReadOnly(this.readOnly.option);
    this.lease = undefined;
    this.pendingLeaseReads = [];
  }

  /** Appends entries at the end of the leader's log with the current term. */
  appendEntry(es: Entry[]): boolean {
    let li = this.raftLog.lastIndex();
    for (let i = 0; i < es.length; i++) {
      const e = es[i]!;
      e.term = this.term;
      e.index = li + 1 + i;
    }
    if (!this.increaseUncommittedSize(es)) {
      this.logger.warn(`${this.id} appending new entries to log would exceed uncommitted entry size limit; dropping proposal`);
      return false;
    }
    li = this.raftLog.append(es);
    // The leader acks its own entries once they are durable, through the same path as a
    // follower's MsgAppResp (it never sends itself a MsgApp).
    const ack = blankMessage(MessageType.MsgAppResp, this.id);
    ack.index = li;
    this.send(ack);
    return true;
  }

  tick(): void {
    this.leaseClock++;
    this.tickFn();
  }

  /** Followers and candidates: campaign when the randomized election timeout passes. */
  tickElection(): void {
    this.electionElapsed++;
    if (this.promotable() && this.pastElectionTimeout()) {
      this.electionElapsed = 0;
      this.stepLocal(newMessage({ type: MessageType.MsgHup, from: this.id }));
    }
  }

  /** Leaders: heartbeat every heartbeatTimeout; CheckQuorum every electionTimeout. */
  tickHeartbeat(): void {
    this.heartbeatElapsed++;
    this.electionElapsed++;

    if (this.electionElapsed >= this.electionTimeout) {
      this.electionElapsed = 0;
      if (this.checkQuorum) {
        this.stepLocal(newMessage({ type: MessageType.MsgCheckQuorum, from: this.id }));
      }
      // A transfer that did not finish within an election timeout is abandoned (thesis §3.10).
      if (this.state === StateType.StateLeader && this.leadTransferee !== None) {
        this.abortLeaderTransfer();
      }
    }

    if (this.state !== StateType.StateLeader) return;

    if (this.heartbeatElapsed >= this.heartbeatTimeout) {
      this.heartbeatElapsed = 0;
      this.stepLocal(newMessage({ type: MessageType.MsgBeat, from: this.id }));
    }
  }

  /** Steps a message generated internally; errors there are expected outcomes, not failures. */
  private stepLocal(m: Message): void {
    try {
      this.step(m);
    } catch (err) {
      if (!(err instanceof ProposalDroppedError)) throw err;
      this.logger.debug(`error occurred during ${MessageType[m.type]}: ${String(err)}`);
    }
  }

  becomeFollower(term: number, lead: number): void {
    this.stepFn = stepFollower;
    this.reset(term);
    this.tickFn = () => this.tickElection();
    this.lead = lead;
    this.state = StateType.StateFollower;
    this.logger.info(`${this.id} became follower at term ${this.term}`);
  }

  becomeCandidate(): void {
    invariant(this.state !== StateType.StateLeader, 'invalid transition [leader -> candidate]');
    this.stepFn = stepCandidate;
    this.reset(this.term + 1);
    this.tickFn = () => this.tickElection();
    this.vote = this.id;
    this.state = StateType.StateCandidate;
    this.logger.info(`${this.id} became candidate at term ${this.term}`);
  }

  becomePreCandidate(): void {
    invariant(this.state !== StateType.StateLeader, 'invalid transition [leader -> pre-candidate]');
    // A pre-candidate changes neither term nor vote (thesis §9.6): that is the point of PreVote.
    this.stepFn = stepCandidate;
    this.trk.resetVotes();
    this.tickFn = () => this.tickElection();
    this.lead = None;
    this.state = StateType.StatePreCandidate;
    this.logger.info(`${this.id} became pre-candidate at term ${this.term}`);
  }

  becomeLeader(): void {
    invariant(this.state !== StateType.StateFollower, 'invalid transition [follower -> leader]');
    this.stepFn = stepLeader;
    this.reset(this.term);
    this.tickFn = () => this.tickHeartbeat();
    this.lead = this.id;
    this.state = StateType.StateLeader;
    if (this.readOnly.option === ReadOnlyOption.ReadOnlyLeaseBased) this.lease = new LeaderLease(this.id, this.electionTimeout);
    const pr = this.trk.progress.get(this.id)!;
    pr.becomeReplicate();
    pr.recentActive = true;
    // Conservatively assume a conf change may be pending anywhere in the log: scanning the tail
    // could be expensive, and waiting for the log to commit is harmless.
    this.pendingConfIndex = this.raftLog.lastIndex();
    // Raft §8: a new leader commits an entry of its own term to learn the commit index.
    const empty: Entry = { term: 0, index: 0, type: EntryType.EntryNormal, data: EMPTY_BYTES };
    invariant(this.appendEntry([empty]), 'empty entry was dropped');
    this.logger.info(`${this.id} became leader at term ${this.term}`);
  }

  hup(t: CampaignType): void {
    if (this.state === StateType.StateLeader) {
      this.logger.debug(`${this.id} ignoring MsgHup because already leader`);
      return;
    }
    if (!this.promotable()) {
      this.logger.warn(`${this.id} is unpromotable and can not campaign`);
      return;
    }
    if (this.hasUnappliedConfChanges()) {
      this.logger.warn(
        `${this.id} cannot campaign at term ${this.term} since there are still pending configuration changes to apply`,
      );
      return;
    }
    this.logger.info(`${this.id} is starting a new election at term ${this.term}`);
    this.campaign(t);
  }

  hasUnappliedConfChanges(): boolean {
    if (this.raftLog.applied >= this.raftLog.committed) return false;
    // Paginate so that a long unapplied tail does not mean one huge read.
    let lo = this.raftLog.applied + 1;
    const hi = this.raftLog.committed + 1;
    const pageSize = this.raftLog.maxApplyingEntsSize;
    while (lo < hi) {
      const ents = this.raftLog.slice(lo, hi, pageSize);
      if (ents.length === 0) break;
      for (const e of ents) {
        if (e.type === EntryType.EntryConfChange || e.type === EntryType.EntryConfChangeV2) return true;
      }
      lo += ents.length;
    }
    return false;
  }

  /** Becomes (pre-)candidate and asks every voter for its vote. */
  campaign(t: CampaignType): void {
    if (!this.promotable()) {
      this.logger.warn(`${this.id} is unpromotable; campaign() should have been called`);
    }
    let term: number;
    let voteMsg: MessageType;
    if (t === CampaignType.PreElection) {
      this.becomePreCandidate();
      voteMsg = MessageType.MsgPreVote;
      // PreVote asks about the term we would campaign in, without moving to it yet.
      term = this.term + 1;
    } else {
      this.becomeCandidate();
      voteMsg = MessageType.MsgVote;
      term = this.term;
    }
    const ids = sortedIds(this.trk.config.voters.ids());
    const lastIndex = this.raftLog.lastIndex();
    const lastTerm = this.raftLog.lastTerm();
    for (const id of ids) {
      if (id === this.id) {
        // Our own vote counts once it is durable, like any other.
        this.send(newMessage({ type: voteRespMsgType(voteMsg), to: id, term }));
        continue;
      }
      this.logger.info(
        `${this.id} [logterm: ${lastTerm}, index: ${lastIndex}] sent ${MessageType[voteMsg]} request to ${id} at term ${this.term}`,
      );
      this.send(
        newMessage({
          type: voteMsg,
          to: id,
          term,
          index: lastIndex,
          logTerm: lastTerm,
          context: t === CampaignType.Transfer ? CAMPAIGN_TRANSFER_CTX : undefined,
        }),
      );
    }
  }

  poll(id: number, t: MessageType, v: boolean): { granted: number; rejected: number; result: VoteResult } {
    this.logger.info(`${this.id} received ${MessageType[t]}${v ? '' : ' rejection'} from ${id} at term ${this.term}`);
    this.trk.recordVote(id, v);
    return this.trk.tallyVotes();
  }

  /**
   * Steps a message. Throws ProposalDroppedError when a proposal cannot be accepted; every
   * other outcome (stale terms, unknown peers) is absorbed as the protocol says.
   */
  step(m: Message): void {
    // Term rules first (Raft §5.1): a higher term makes us a follower, a lower one is stale.
    if (m.term === 0) {
      // A local message.
    } else if (m.term > this.term) {
      if (m.type === MessageType.MsgVote || m.type === MessageType.MsgPreVote) {
        const force = isTransferCtx(m.context);
        const inLease = this.checkQuorum && this.lead !== None && this.electionElapsed < this.electionTimeout;
        if (!force && inLease) {
          // Thesis §4.2.3: a server that heard from a current leader within the minimum
          // election timeout neither updates its term nor grants its vote.
          this.logger.info(
            `${this.id} [logterm: ${this.raftLog.lastTerm()}, index: ${this.raftLog.lastIndex()}, vote: ${this.vote}] ` +
              `ignored ${MessageType[m.type]} from ${m.from} [logterm: ${m.logTerm}, index: ${m.index}] at term ${this.term}: ` +
              `lease is not expired (remaining ticks: ${this.electionTimeout - this.electionElapsed})`,
          );
          return;
        }
      }
      if (m.type === MessageType.MsgPreVote) {
        // Never change our term in response to a PreVote.
      } else if (m.type === MessageType.MsgPreVoteResp && !m.reject) {
        // A granted pre-vote carries the future term we asked about; the term moves only when a
        // quorum grants. A rejection carries the rejecter's term and makes us follow it.
      } else {
        this.logger.info(
          `${this.id} [term: ${this.term}] received a ${MessageType[m.type]} message with higher term from ${m.from} [term: ${m.term}]`,
        );
        if (m.type === MessageType.MsgApp || m.type === MessageType.MsgHeartbeat || m.type === MessageType.MsgSnap) {
          this.becomeFollower(m.term, m.from);
        } else {
          this.becomeFollower(m.term, None);
        }
      }
    } else if (m.term < this.term) {
      if ((this.checkQuorum || this.preVote) && (m.type === MessageType.MsgHeartbeat || m.type === MessageType.MsgApp)) {
        // A leader of a lower term may be cut off from a majority that moved on, or we may have
        // bumped our term while partitioned. Answering lets it learn the newer term and step
        // down; with CheckQuorum/PreVote we would otherwise never disturb it (or be freed).
        this.send(newMessage({ type: MessageType.MsgAppResp, to: m.from }));
      } else if (m.type === MessageType.MsgPreVote) {
        // Reject explicitly: a candidate with a higher term but a shorter log must learn our
        // term, or a cluster upgrading to PreVote could deadlock.
        this.logger.info(
          `${this.id} [logterm: ${this.raftLog.lastTerm()}, index: ${this.raftLog.lastIndex()}, vote: ${this.vote}] ` +
            `rejected MsgPreVote from ${m.from} [logterm: ${m.logTerm}, index: ${m.index}] at term ${this.term}`,
        );
        this.send(newMessage({ type: MessageType.MsgPreVoteResp, to: m.from, term: this.term, reject: true }));
      } else if (m.type === MessageType.MsgStorageAppendResp) {
        if (m.index !== 0) {
          // The entries may have been overwritten in the unstable log at a later term: they are
          // not known to be stable (see RawNode's storage append response).
          this.logger.info(
            `${this.id} [term: ${this.term}] ignored entry appends from a MsgStorageAppendResp message with lower term [term: ${m.term}]`,
          );
        }
        if (m.snapshot !== undefined) {
          // A snapshot holds committed state: applied is applied, whatever the term.
          this.appliedSnap(m.snapshot);
        }
      } else {
        this.logger.info(
          `${this.id} [term: ${this.term}] ignored a ${MessageType[m.type]} message with lower term from ${m.from} [term: ${m.term}]`,
        );
      }
      return;
    }

    switch (m.type) {
      case MessageType.MsgHup:
        this.hup(this.preVote ? CampaignType.PreElection : CampaignType.Election);
        break;
      case MessageType.MsgStorageAppendResp:
        if (m.index !== 0) this.raftLog.stableTo(m.index, m.logTerm);
        if (m.snapshot !== undefined) this.appliedSnap(m.snapshot);
        break;
      case MessageType.MsgStorageApplyResp:
        if (m.entries.length > 0) {
          const index = m.entries[m.entries.length - 1]!.index;
          this.appliedTo(index, entriesSize(m.entries));
          this.reduceUncommittedSize(payloadsSize(m.entries));
        }
        break;
      case MessageType.MsgVote:
      case MessageType.MsgPreVote: {
        // We can vote if this is a repeat of a vote we've already cast, or we haven't voted and
        // know of no leader this term, or this is a PreVote for a future term...
        const canVote =
          this.vote === m.from ||
          (this.vote === None && this.lead === None) ||
          (m.type === MessageType.MsgPreVote && m.term > this.term);
        // ...and the candidate's log is at least as up-to-date as ours (Raft §5.4.1).
        if (canVote && this.raftLog.isUpToDate(m.index, m.logTerm)) {
          // Learners must be allowed to vote too: a learner may have been promoted without
          // having learned about it yet, and its vote may be needed.
          this.logger.info(
            `${this.id} [logterm: ${this.raftLog.lastTerm()}, index: ${this.raftLog.lastIndex()}, vote: ${this.vote}] ` +
              `cast ${MessageType[m.type]} for ${m.from} [logterm: ${m.logTerm}, index: ${m.index}] at term ${this.term}`,
          );
          // Answer with the message's term, not ours: for a pre-vote ours may be older, and the
          // pre-candidate would ignore a response from its past.
          this.send(newMessage({ type: voteRespMsgType(m.type), to: m.from, term: m.term }));
          if (m.type === MessageType.MsgVote) {
            // Only real votes are recorded.
            this.electionElapsed = 0;
            this.vote = m.from;
          }
        } else {
          this.logger.info(
            `${this.id} [logterm: ${this.raftLog.lastTerm()}, index: ${this.raftLog.lastIndex()}, vote: ${this.vote}] ` +
              `rejected ${MessageType[m.type]} from ${m.from} [logterm: ${m.logTerm}, index: ${m.index}] at term ${this.term}`,
          );
          this.send(newMessage({ type: voteRespMsgType(m.type), to: m.from, term: this.term, reject: true }));
        }
        break;
      }
      default:
        this.stepFn(this, m);
    }
  }

  handleAppendEntries(m: Message): void {
    if (m.index < this.raftLog.committed) {
      // Everything up to our commit index is known to match; tell the leader where we are.
      this.send(newMessage({ type: MessageType.MsgAppResp, to: m.from, index: this.raftLog.committed }));
      return;
    }
    const res = this.raftLog.maybeAppend(m.index, m.logTerm, m.commit, m.entries);
    if (res.ok) {
      const ack = blankMessage(MessageType.MsgAppResp, m.from);
      ack.index = res.lastNewIndex;
      this.send(ack);
      return;
    }
    this.logger.debug(
      `${this.id} [logterm: ${this.raftLog.termOrZero(m.index)}, index: ${m.index}] rejected MsgApp ` +
        `[logterm: ${m.logTerm}, index: ${m.index}] from ${m.from}`,
    );
    // Hint the leader at the largest (index, term) that may match: the last entry with a term
    // <= m.logTerm at or below m.index. This skips a divergent uncommitted tail in one step.
    const hint = this.raftLog.findConflictByTerm(Math.min(m.index, this.raftLog.lastIndex()), m.logTerm);
    this.send(
      newMessage({
        type: MessageType.MsgAppResp,
        to: m.from,
        index: m.index,
        reject: true,
        rejectHint: hint.index,
        logTerm: hint.term,
      }),
    );
  }

  handleHeartbeat(m: Message): void {
    this.raftLog.commitTo(m.commit);
    const resp = blankMessage(MessageType.MsgHeartbeatResp, m.from);
    resp.context = m.context;
    this.send(resp);
  }

  handleSnapshot(m: Message): void {
    const s = m.snapshot;
    const sindex = s?.metadata.index ?? 0;
    const sterm = s?.metadata.term ?? 0;
    if (s !== undefined && this.restore(s)) {
      this.logger.info(`${this.id} [commit: ${this.raftLog.committed}] restored snapshot [index: ${sindex}, term: ${sterm}]`);
      this.send(newMessage({ type: MessageType.MsgAppResp, to: m.from, index: this.raftLog.lastIndex() }));
    } else {
      this.logger.info(`${this.id} [commit: ${this.raftLog.committed}] ignored snapshot [index: ${sindex}, term: ${sterm}]`);
      this.send(newMessage({ type: MessageType.MsgAppResp, to: m.from, index: this.raftLog.committed }));
    }
  }

  /**
   * Restores the log and the configuration from a snapshot. Returns false if the snapshot was
   * ignored: obsolete, or not meant for us.
   */
  restore(s: Snapshot): boolean {
    if (s.metadata.index <= this.raftLog.committed) return false;
    if (this.state !== StateType.StateFollower) {
      // Defense in depth: only followers receive snapshots. Never overwrite a leader's log.
      this.logger.warn(`${this.id} attempted to restore snapshot as leader; should never happen`);
      this.becomeFollower(this.term + 1, None);
      return false;
    }
    // Defense in depth: a snapshot whose configuration lacks us would leave us without progress.
    const cs = s.metadata.confState;
    if (!cs.voters.includes(this.id) && !cs.learners.includes(this.id) && !cs.votersOutgoing.includes(this.id)) {
      this.logger.warn(`${this.id} attempted to restore snapshot but it is not in the ConfState; should never happen`);
      return false;
    }
    if (this.raftLog.matchTerm(s.metadata.index, s.metadata.term)) {
      // We have the snapshot's last entry already: just fast-forward the commit index.
      this.logger.info(
        `${this.id} [commit: ${this.raftLog.committed}, lastindex: ${this.raftLog.lastIndex()}, lastterm: ${this.raftLog.lastTerm()}] ` +
          `fast-forwarded commit to snapshot [index: ${s.metadata.index}, term: ${s.metadata.term}]`,
      );
      this.raftLog.commitTo(s.metadata.index);
      return false;
    }

    // Build the new configuration before touching the log: a snapshot whose ConfState does not
    // describe a valid configuration is refused whole, never half-installed.
    const trk = new ProgressTracker(this.trk.maxInflight, this.trk.maxInflightBytes);
    let restored: [TrackerConfig, ProgressMap];
    try {
      restored = restoreConfig(new Changer(trk, s.metadata.index), cs);
    } catch (err) {
      if (!(err instanceof ConfChangeError)) throw err;
      this.logger.warn(`${this.id} ignored snapshot with an invalid ConfState: ${err.message}`);
      return false;
    }
    trk.config = restored[0];
    trk.progress = restored[1];
    if (confStateEquivalent(cs, trk.confState()) !== undefined) {
      this.logger.warn(`${this.id} ignored snapshot whose ConfState is not a valid configuration`);
      return false;
    }

    this.raftLog.restore(s);
    this.trk = trk;
    assertConfStatesEquivalent(cs, this.switchToConfig(restored[0], restored[1]));
    this.logger.info(
      `${this.id} [commit: ${this.raftLog.committed}, lastindex: ${this.raftLog.lastIndex()}, lastterm: ${this.raftLog.lastTerm()}] ` +
        `restored snapshot [index: ${s.metadata.index}, term: ${s.metadata.term}]`,
    );
    return true;
  }

  /** Whether this node may become leader: a voter, and not waiting on a snapshot. */
  promotable(): boolean {
    const pr = this.trk.progress.get(this.id);
    return pr !== undefined && !pr.isLearner && !this.raftLog.hasNextOrInProgressSnapshot();
  }

  /** Applies a (committed) conf change to the tracker. Throws ConfChangeError if invalid. */
  applyConfChange(cc: ConfChangeV2): ConfState {
    const changer = new Changer(this.trk, this.raftLog.lastIndex());
    let result: [TrackerConfig, ProgressMap];
    if (leaveJoint(cc)) {
      result = changer.leaveJoint();
    } else {
      const j = enterJoint(cc);
      result = j.ok ? changer.enterJoint(j.autoLeave, ...cc.changes) : changer.simple(...cc.changes);
    }
    return this.switchToConfig(result[0], result[1]);
  }

  /**
   * Switches to a new configuration and does what it implies: stepping down if we were removed,
   * committing what the new quorum allows, probing new peers.
   */
  switchToConfig(cfg: TrackerConfig, prs: ProgressMap): ConfState {
    this.trk.config = cfg;
    this.trk.progress = prs;
    this.logger.info(`${this.id} switched to configuration ${this.trk.config.toString()}`);
    const cs = this.trk.confState();
    const pr = this.trk.progress.get(this.id);
    this.isLearner = pr !== undefined && pr.isLearner;

    if ((pr === undefined || this.isLearner) && this.state === StateType.StateLeader) {
      // Removed or demoted while leading.
      if (this.stepDownOnRemoval) this.becomeFollower(this.term, None);
      return cs;
    }
    if (this.state !== StateType.StateLeader || cs.voters.length === 0) return cs;

    if (this.maybeCommit()) {
      // The new quorum may commit more: tell everyone in the new configuration.
      this.bcastAppend();
    } else {
      // Probe newly added peers now rather than at the next heartbeat or proposal.
      this.trk.visit((id) => {
        if (id !== this.id) this.maybeSendAppend(id, false);
      });
    }
    if (this.leadTransferee !== None && !this.trk.config.voters.ids().has(this.leadTransferee)) {
      this.abortLeaderTransfer();
    }
    return cs;
  }

  loadState(hs: HardState): void {
    invariant(
      hs.commit >= this.raftLog.committed && hs.commit <= this.raftLog.lastIndex(),
      () => `${this.id} state.commit ${hs.commit} is out of range [${this.raftLog.committed}, ${this.raftLog.lastIndex()}]`,
    );
    this.raftLog.committed = hs.commit;
    this.term = hs.term;
    this.vote = hs.vote;
  }

  pastElectionTimeout(): boolean {
    return this.electionElapsed >= this.randomizedElectionTimeout;
  }

  resetRandomizedElectionTimeout(): void {
    this.randomizedElectionTimeout = this.electionTimeout + this.rand.intn(this.electionTimeout);
  }

  sendTimeoutNow(to: number): void {
    this.send(newMessage({ type: MessageType.MsgTimeoutNow, to }));
  }

  abortLeaderTransfer(): void {
    this.leadTransferee = None;
    this.lease?.transferEnded();
  }

  /** Whether this leader has committed an entry of its own term (the commit index is current). */
  committedEntryInCurrentTerm(): boolean {
    return this.raftLog.termOrZero(this.raftLog.committed) === this.term;
  }

  /** The response to a read request; local requests become read states directly. */
  responseToReadIndexReq(req: Message, readIndex: number): Message | undefined {
    if (req.from === None || req.from === this.id) {
      this.readStates.push({ index: readIndex, requestCtx: req.entries[0]!.data });
      return undefined;
    }
    return newMessage({ type: MessageType.MsgReadIndexResp, to: req.from, index: readIndex, entries: req.entries });
  }

  /**
   * Accounts for proposed entries against the uncommitted-size limit. An empty tail always
   * accepts (so any one proposal fits), and empty payloads are never refused (the new leader's
   * empty entry, leaving a joint configuration).
   */
  increaseUncommittedSize(ents: Entry[]): boolean {
    const s = payloadsSize(ents);
    if (this.uncommittedSize > 0 && s > 0 && this.uncommittedSize + s > this.maxUncommittedSize) return false;
    this.uncommittedSize += s;
    return true;
  }

  /** Committed entries leave the uncommitted tail. The estimate saturates at 0. */
  reduceUncommittedSize(s: number): void {
    this.uncommittedSize = s > this.uncommittedSize ? 0 : this.uncommittedSize - s;
  }
}

function releasePendingReadIndexMessages(r: Raft): void {
  if (r.pendingReadIndexMessages.length === 0) return;
  if (!r.committedEntryInCurrentTerm()) {
    r.logger.error('pending MsgReadIndex should be released only after first commit in current term');
    return;
  }
  const msgs = r.pendingReadIndexMessages;
  r.pendingReadIndexMessages = [];
  for (const m of msgs) sendMsgReadIndexResponse(r, m);
}

function sendMsgReadIndexResponse(r: Raft, m: Message): void {
  if (r.readOnly.option === ReadOnlyOption.ReadOnlySafe) {
    // Confirm leadership with a heartbeat round; the leader's own ack counts at once.
    const ctx = m.entries[0]!.data;
    r.readOnly.addRequest(r.raftLog.committed, m);
    r.readOnly.recvAck(r.id, ctx);
    r.bcastHeartbeatWithCtx(ctx);
  } else if (r.lease?.valid(r.trk.config.voters, r.leaseClock) === true) {
    const resp = r.responseToReadIndexReq(m, r.raftLog.committed);
    if (resp !== undefined) r.send(resp);
  } else {
    // No lease (a new leader, lost heartbeat rounds, a transfer): renew it now and answer once a
    // quorum has acknowledged; one round for all the reads that wait, not one per read.
    if (r.pendingLeaseReads.push(m) === 1) r.bcastHeartbeat();
  }
}

/** Answers the lease-based reads that waited for the lease, if it is held now. */
function releasePendingLeaseReads(r: Raft): void {
  if (r.pendingLeaseReads.length === 0 || r.lease?.valid(r.trk.config.voters, r.leaseClock) !== true) return;
  const msgs = r.pendingLeaseReads;
  r.pendingLeaseReads = [];
  for (const m of msgs) {
    const resp = r.responseToReadIndexReq(m, r.raftLog.committed);
    if (resp !== undefined) r.send(resp);
  }
}

function stepLeader(r: Raft, m: Message): void {
  // These message types do not need a progress for m.from.
  switch (m.type) {
    case MessageType.MsgBeat:
      r.bcastHeartbeat();
      return;
    case MessageType.MsgCheckQuorum:
      if (!r.trk.quorumActive()) {
        r.logger.warn(`${r.id} stepped down to follower since quorum is not active`);
        r.becomeFollower(r.term, None);
      }
      // Mark everyone but ourselves inactive, ready for the next check.
      r.trk.visit((id, pr) => {
        if (id !== r.id) pr.recentActive = false;
      });
      return;
    case MessageType.MsgProp: {
      invariant(m.entries.length > 0, () => `${r.id} stepped empty MsgProp`);
      if (!r.trk.progress.has(r.id)) {
        // We were removed from the configuration while leading: accept nothing new.
        throw new ProposalDroppedError('raft proposal dropped: this leader is not in the configuration');
      }
      if (r.leadTransferee !== None) {
        r.logger.debug(`${r.id} [term ${r.term}] transfer leadership to ${r.leadTransferee} is in progress; dropping proposal`);
        throw new ProposalDroppedError('raft proposal dropped: leadership transfer in progress');
      }
      // appendEntry stamps term and index into the entries, and the log keeps them: entries of
      // a proposal forwarded by a peer belong to the caller (who may deliver it twice), so they
      // are copied. Local proposals are built fresh by RawNode and need no copy.
      const entries = m.from === r.id || m.from === None ? m.entries : m.entries.map((e) => ({ ...e }));
      for (let i = 0; i < entries.length; i++) {
        const e = entries[i]!;
        if (e.type !== EntryType.EntryConfChange && e.type !== EntryType.EntryConfChangeV2) continue;
        const cc = decodeConfChangeEntry(e);
        const alreadyPending = r.pendingConfIndex > r.raftLog.applied;
        const alreadyJoint = r.trk.config.voters.outgoing.size > 0;
        const wantsLeaveJoint = confChangeAsV2(cc).changes.length === 0;
        let failedCheck = '';
        if (alreadyPending) {
          failedCheck = `possible unapplied conf change at index ${r.pendingConfIndex} (applied to ${r.raftLog.applied})`;
        } else if (alreadyJoint && !wantsLeaveJoint) {
          failedCheck = 'must transition out of joint config first';
        } else if (!alreadyJoint && wantsLeaveJoint) {
          failedCheck = 'not in joint state; refusing empty conf change';
        }
        if (failedCheck !== '' && !r.disableConfChangeValidation) {
          r.logger.info(`${r.id} ignoring conf change at config ${r.trk.config.toString()}: ${failedCheck}`);
          // Replace rather than drop, so that the other entries of the batch keep their place.
          entries[i] = { term: 0, index: 0, type: EntryType.EntryNormal, data: EMPTY_BYTES };
        } else {
          r.pendingConfIndex = r.raftLog.lastIndex() + i + 1;
        }
      }
      if (!r.appendEntry(entries)) {
        throw new ProposalDroppedError('raft proposal dropped: uncommitted entries size limit reached');
      }
      r.bcastAppend();
      return;
    }
    case MessageType.MsgReadIndex:
      // A single voter (us) is its own quorum.
      if (r.trk.isSingleton()) {
        const resp = r.responseToReadIndexReq(m, r.raftLog.committed);
        if (resp !== undefined) r.send(resp);
        return;
      }
      // Until an entry of this term is committed, our commit index may lag the true one.
      if (!r.committedEntryInCurrentTerm()) {
        r.pendingReadIndexMessages.push(m);
        return;
      }
      sendMsgReadIndexResponse(r, m);
      return;
    case MessageType.MsgForgetLeader:
      return;
    default:
      break;
  }

  // The remaining types need a progress for m.from.
  const pr = r.trk.progress.get(m.from);
  if (pr === undefined) {
    r.logger.debug(`${r.id} no progress available for ${m.from}`);
    return;
  }
  switch (m.type) {
    case MessageType.MsgAppResp:
      // Also reached from advance: the leader's self-ack of its own appended entries.
      // A leader's log only grows within its term and responses from earlier terms were dropped
      // above, so an index beyond our log (or a hint beyond the index) is a peer's bug. Believing
      // it would move match past the log and commit what no quorum has.
      if (m.index > r.raftLog.lastIndex() || (m.reject && m.rejectHint > m.index)) {
        r.logger.warn(`${r.id} ignored MsgAppResp from ${m.from} for index ${m.index} beyond last index ${r.raftLog.lastIndex()}`);
        return;
      }
      pr.recentActive = true;
      if (m.reject) {
        r.logger.debug(
          `${r.id} received MsgAppResp(rejected, hint: (index ${m.rejectHint}, term ${m.logTerm})) from ${m.from} for index ${m.index}`,
        );
        let nextProbeIdx = m.rejectHint;
        if (m.logTerm > 0) {
          // The follower's term at the hint bounds what can match: every leader index with a
          // larger term than the follower's hint term cannot match, so skip them all at once.
          // This probes at most once per term of the leader's log.
          nextProbeIdx = r.raftLog.findConflictByTerm(m.rejectHint, m.logTerm).index;
        }
        if (pr.maybeDecrTo(m.index, nextProbeIdx)) {
          r.logger.debug(`${r.id} decreased progress of ${m.from} to [${pr.toString()}]`);
          if (pr.state === ProgressStateType.StateReplicate) pr.becomeProbe();
          r.sendAppend(m.from);
        }
      } else {
        // Update if the ack moves match forward, or if it lets a probing peer go back to
        // replicating (an ack of exactly its match index while in StateProbe).
        if (pr.maybeUpdate(m.index) || (pr.match === m.index && pr.state === ProgressStateType.StateProbe)) {
          if (pr.state === ProgressStateType.StateProbe) {
            pr.becomeReplicate();
          } else if (pr.state === ProgressStateType.StateSnapshot && pr.match + 1 >= r.raftLog.firstIndex()) {
            // The follower can be caught up from the log now, whatever snapshot it applied.
            r.logger.debug(
              `${r.id} recovered from needing snapshot, resumed sending replication messages to ${m.from} [${pr.toString()}]`,
            );
            pr.becomeProbe();
            pr.becomeReplicate();
          } else if (pr.state === ProgressStateType.StateReplicate) {
            pr.inflights.freeLE(m.index);
          }

          if (r.maybeCommit()) {
            // The commit index moved in this term: pending reads can be answered now.
            releasePendingReadIndexMessages(r);
            r.bcastAppend();
          } else if (r.id !== m.from && pr.canBumpCommit(r.raftLog.committed)) {
            // The peer may not know the newest commit index; tell it before the next heartbeat.
            r.sendAppend(m.from);
          }
          // Flow control may allow several messages now (probe -> replicate, freed inflights).
          if (r.id !== m.from) {
            while (r.maybeSendAppend(m.from, false)) {
              // keep sending while there are entries and room
            }
          }
          if (m.from === r.leadTransferee && pr.match === r.raftLog.lastIndex()) {
            r.logger.info(`${r.id} sent MsgTimeoutNow to ${m.from} after received MsgAppResp`);
            r.sendTimeoutNow(m.from);
          }
        }
      }
      return;
    case MessageType.MsgHeartbeatResp:
      pr.recentActive = true;
      pr.msgAppFlowPaused = false;
      // Even a throttled follower gets an (empty) append: if every inflight append was lost,
      // this is how it recovers. A caught-up follower in StateProbe gets one to return to
      // StateReplicate.
      if (pr.match < r.raftLog.lastIndex() || pr.state === ProgressStateType.StateProbe) {
        r.sendAppend(m.from);
      }
      if (r.lease?.ack(m.from, m.context) === true) {
        releasePendingLeaseReads(r);
        return;
      }
      if (r.readOnly.option !== ReadOnlyOption.ReadOnlySafe || m.context === undefined || m.context.length === 0) {
        return;
      }
      {
        const acks = r.readOnly.recvAck(m.from, m.context);
        if (acks === undefined || r.trk.config.voters.voteResult(acks) !== VoteResult.VoteWon) return;
      }
      for (const rs of r.readOnly.advance(m)) {
        const resp = r.responseToReadIndexReq(rs.req, rs.index);
        if (resp !== undefined) r.send(resp);
      }
      return;
    case MessageType.MsgSnapStatus:
      if (pr.state !== ProgressStateType.StateSnapshot) return;
      if (!m.reject) {
        pr.becomeProbe();
        r.logger.debug(`${r.id} snapshot succeeded, resumed sending replication messages to ${m.from} [${pr.toString()}]`);
      } else {
        // Clear the pending snapshot first, or we would probe from an index never applied.
        pr.pendingSnapshot = 0;
        pr.becomeProbe();
        r.logger.debug(`${r.id} snapshot failed, resumed sending replication messages to ${m.from} [${pr.toString()}]`);
      }
      // After success wait for the follower's ack; after failure wait for a heartbeat round.
      pr.msgAppFlowPaused = true;
      return;
    case MessageType.MsgUnreachable:
      // While replicating optimistically, an unreachable peer has probably lost appends.
      if (pr.state === ProgressStateType.StateReplicate) pr.becomeProbe();
      r.logger.debug(`${r.id} failed to send message to ${m.from} because it is unreachable [${pr.toString()}]`);
      return;
    case MessageType.MsgTransferLeader: {
      if (pr.isLearner) {
        r.logger.debug(`${r.id} is learner. Ignored transferring leadership`);
        return;
      }
      const leadTransferee = m.from;
      const lastLeadTransferee = r.leadTransferee;
      if (lastLeadTransferee !== None) {
        if (lastLeadTransferee === leadTransferee) {
          r.logger.info(
            `${r.id} [term ${r.term}] transfer leadership to ${leadTransferee} is in progress, ignores request to same node ${leadTransferee}`,
          );
          return;
        }
        r.abortLeaderTransfer();
        r.logger.info(`${r.id} [term ${r.term}] abort previous transferring leadership to ${lastLeadTransferee}`);
      }
      if (leadTransferee === r.id) {
        r.logger.debug(`${r.id} is already leader. Ignored transferring leadership to self`);
        return;
      }
      r.logger.info(`${r.id} [term ${r.term}] starts to transfer leadership to ${leadTransferee}`);
      // The transfer must finish within an election timeout (thesis §3.10).
      r.electionElapsed = 0;
      r.leadTransferee = leadTransferee;
      r.lease?.transferStarted();
      if (pr.match === r.raftLog.lastIndex()) {
        r.sendTimeoutNow(leadTransferee);
        r.logger.info(`${r.id} sends MsgTimeoutNow to ${leadTransferee} immediately as ${leadTransferee} already has up-to-date log`);
      } else {
        r.sendAppend(leadTransferee);
      }
      return;
    }
    default:
      return;
  }
}

/** Shared by StateCandidate and StatePreCandidate; each counts only its own kind of vote. */
function stepCandidate(r: Raft, m: Message): void {
  // In StateCandidate, stale MsgPreVoteResp from our pre-candidacy may still arrive.
  const myVoteRespType =
    r.state === StateType.StatePreCandidate ? MessageType.MsgPreVoteResp : MessageType.MsgVoteResp;
  switch (m.type) {
    case MessageType.MsgProp:
      r.logger.info(`${r.id} no leader at term ${r.term}; dropping proposal`);
      throw new ProposalDroppedError('raft proposal dropped: no leader');
    case MessageType.MsgApp:
      r.becomeFollower(m.term, m.from); // m.term === r.term here
      r.handleAppendEntries(m);
      return;
    case MessageType.MsgHeartbeat:
      r.becomeFollower(m.term, m.from);
      r.handleHeartbeat(m);
      return;
    case MessageType.MsgSnap:
      r.becomeFollower(m.term, m.from);
      r.handleSnapshot(m);
      return;
    case myVoteRespType: {
      const { granted, rejected, result } = r.poll(m.from, m.type, !m.reject);
      r.logger.info(`${r.id} has received ${granted} ${MessageType[m.type]} votes and ${rejected} vote rejections`);
      if (result === VoteResult.VoteWon) {
        if (r.state === StateType.StatePreCandidate) {
          r.campaign(CampaignType.Election);
        } else if (r.trk.votes.get(r.id) !== true) {
          // Won on peers' votes alone, but our own (term, vote) is not known to be durable yet:
          // it arrives as our self-vote once persisted. Leading now would let a crash bring us
          // back in the previous term to campaign for, win (repeat votes are granted) and lead
          // this same term a second time with a different log. With asyncStorageWrites, votes
          // go out before our hard state is written, so this is reachable; we lead once our
          // self-vote is counted (this branch runs again then).
          r.logger.info(`${r.id} won the election at term ${r.term}; waiting for its own vote to be durable`);
        } else {
          r.becomeLeader();
          r.bcastAppend();
        }
      } else if (result === VoteResult.VoteLost) {
        // A MsgPreVoteResp carries the pre-candidate's future term; keep ours.
        r.becomeFollower(r.term, None);
      }
      return;
    }
    case MessageType.MsgTimeoutNow:
      r.logger.debug(`${r.id} [term ${r.term} state ${StateType[r.state]}] ignored MsgTimeoutNow from ${m.from}`);
      return;
    default:
      return;
  }
}

function stepFollower(r: Raft, m: Message): void {
  switch (m.type) {
    case MessageType.MsgProp:
      if (r.lead === None) {
        r.logger.info(`${r.id} no leader at term ${r.term}; dropping proposal`);
        throw new ProposalDroppedError('raft proposal dropped: no leader');
      } else if (r.disableProposalForwarding) {
        r.logger.info(`${r.id} not forwarding to leader ${r.lead} at term ${r.term}; dropping proposal`);
        throw new ProposalDroppedError('raft proposal dropped: proposal forwarding is disabled');
      }
      // A copy: the message belongs to the caller, who may deliver it again.
      r.send({ ...m, to: r.lead });
      return;
    case MessageType.MsgApp:
      r.electionElapsed = 0;
      r.lead = m.from;
      r.handleAppendEntries(m);
      return;
    case MessageType.MsgHeartbeat:
      r.electionElapsed = 0;
      r.lead = m.from;
      r.handleHeartbeat(m);
      return;
    case MessageType.MsgSnap:
      r.electionElapsed = 0;
      r.lead = m.from;
      r.handleSnapshot(m);
      return;
    case MessageType.MsgTransferLeader:
      if (r.lead === None) {
        r.logger.info(`${r.id} no leader at term ${r.term}; dropping leader transfer msg`);
        return;
      }
      // A copy: the message belongs to the caller, who may deliver it again.
      r.send({ ...m, to: r.lead });
      return;
    case MessageType.MsgForgetLeader:
      // With lease reads, forgetting the leader could let us vote for another within its lease.
      if (r.readOnly.option === ReadOnlyOption.ReadOnlyLeaseBased) {
        r.logger.error('ignoring MsgForgetLeader due to ReadOnlyLeaseBased');
        return;
      }
      if (r.lead !== None) {
        r.logger.info(`${r.id} forgetting leader ${r.lead} at term ${r.term}`);
        r.lead = None;
      }
      return;
    case MessageType.MsgTimeoutNow:
      r.logger.info(`${r.id} [term ${r.term}] received MsgTimeoutNow from ${m.from} and starts an election to get leadership.`);
      // Transfers skip PreVote: we are not rejoining from a partition.
      r.hup(CampaignType.Transfer);
      return;
    case MessageType.MsgReadIndex:
      if (r.lead === None) {
        r.logger.info(`${r.id} no leader at term ${r.term}; dropping index reading msg`);
        return;
      }
      // A copy: the message belongs to the caller, who may deliver it again.
      r.send({ ...m, to: r.lead });
      return;
    case MessageType.MsgReadIndexResp:
      if (m.entries.length !== 1) {
        r.logger.error(`${r.id} invalid format of MsgReadIndexResp from ${m.from}, entries count: ${m.entries.length}`);
        return;
      }
      r.readStates.push({ index: m.index, requestCtx: m.entries[0]!.data });
      return;
    default:
      return;
  }
}
