/**
 * The data types of the Raft protocol: log entries, messages, persistent and volatile state,
 * membership configurations and snapshots. Terms and indices are JS numbers (safe integers).
 *
 * Shapes and names follow etcd's raftpb so that behaviour, scenario files and the literature
 * line up one to one.
 */

/** What an entry carries: a normal command, or a membership change (v1 single-step, or v2). */
export enum EntryType {
  EntryNormal = 0,
  EntryConfChange = 1,
  EntryConfChangeV2 = 2,
}

/** One log entry. `data` is opaque to the core except for conf change entries. */
export interface Entry {
  term: number;
  index: number;
  type: EntryType;
  data: Uint8Array;
}

/**
 * Every message the core sends or receives. Local-only types (MsgHup, MsgBeat, MsgUnreachable,
 * MsgSnapStatus, MsgCheckQuorum, MsgStorage*) never travel over a network.
 */
export enum MessageType {
  MsgHup = 0,
  MsgBeat = 1,
  MsgProp = 2,
  MsgApp = 3,
  MsgAppResp = 4,
  MsgVote = 5,
  MsgVoteResp = 6,
  MsgSnap = 7,
  MsgHeartbeat = 8,
  MsgHeartbeatResp = 9,
  MsgUnreachable = 10,
  MsgSnapStatus = 11,
  MsgCheckQuorum = 12,
  MsgTransferLeader = 13,
  MsgTimeoutNow = 14,
  MsgReadIndex = 15,
  MsgReadIndexResp = 16,
  MsgPreVote = 17,
  MsgPreVoteResp = 18,
  MsgStorageAppend = 19,
  MsgStorageAppendResp = 20,
  MsgStorageApply = 21,
  MsgStorageApplyResp = 22,
  MsgForgetLeader = 23,
}

/** The membership of the cluster as of some log index. Arrays hold node ids. */
export interface ConfState {
  /** Voters of the incoming (or only) configuration. */
  voters: number[];
  learners: number[];
  /** Voters of the outgoing configuration; non-empty only while in a joint configuration. */
  votersOutgoing: number[];
  /**
   * Nodes that become learners when the joint configuration is left: voters being demoted
   * cannot be learners while they are still voters in the outgoing half.
   */
  learnersNext: number[];
  /** Whether the joint configuration is left automatically once it is committed. */
  autoLeave: boolean;
}

export interface SnapshotMetadata {
  confState: ConfState;
  index: number;
  term: number;
}

export interface Snapshot {
  data: Uint8Array;
  metadata: SnapshotMetadata;
}

/** A message between Raft peers (or between the core and its local storage threads). */
export interface Message {
  type: MessageType;
  to: number;
  from: number;
  term: number;
  /**
   * The term of the entry at `index`. For vote requests, the candidate's last log term.
   * For MsgAppResp rejections, the term of the follower's hint entry.
   */
  logTerm: number;
  index: number;
  entries: Entry[];
  commit: number;
  /** Used by MsgStorageAppend to carry the vote to persist. */
  vote: number;
  snapshot?: Snapshot | undefined;
  reject: boolean;
  rejectHint: number;
  context?: Uint8Array | undefined;
  /** Used by MsgStorageAppend/MsgStorageApply: messages to deliver once the work is done. */
  responses?: Message[] | undefined;
}

/** What must be persisted before any message that depends on it is sent. */
export interface HardState {
  term: number;
  vote: number;
  commit: number;
}

/** The roles a node can be in. */
export enum StateType {
  StateFollower = 0,
  StateCandidate = 1,
  StateLeader = 2,
  StatePreCandidate = 3,
}

/** Volatile state, useful for logging and for the driver; never persisted. */
export interface SoftState {
  lead: number;
  raftState: StateType;
}

export enum ConfChangeType {
  ConfChangeAddNode = 0,
  ConfChangeRemoveNode = 1,
  ConfChangeUpdateNode = 2,
  ConfChangeAddLearnerNode = 3,
}

/** A single-node membership change (the v1 API). */
export interface ConfChange {
  type: ConfChangeType;
  nodeId: number;
  context?: Uint8Array | undefined;
}

/** One change within a ConfChangeV2. */
export interface ConfChangeSingle {
  type: ConfChangeType;
  nodeId: number;
}

/** How a ConfChangeV2 moves between configurations. */
export enum ConfChangeTransition {
  /**
   * Use joint consensus only when needed (more than one voter changes), and leave the joint
   * configuration automatically.
   */
  ConfChangeTransitionAuto = 0,
  /** Always use joint consensus; leave automatically. */
  ConfChangeTransitionJointImplicit = 1,
  /** Always use joint consensus; the application leaves it with an empty ConfChangeV2. */
  ConfChangeTransitionJointExplicit = 2,
}

/** A membership change of any number of nodes, possibly through joint consensus. */
export interface ConfChangeV2 {
  transition: ConfChangeTransition;
  changes: ConfChangeSingle[];
  context?: Uint8Array | undefined;
}

/** A node with id 0 does not exist: 0 means "no node" (no leader, no vote). */
/** The outcome of sending a snapshot to a peer: RawNode.reportSnapshot(), Transport.onSnapshotStatus(). */
export type SnapshotStatus = 'finished' | 'failed';

export const None = 0;

/** An empty byte array shared by every entry without a payload. */
export const EMPTY_BYTES: Uint8Array = new Uint8Array(0);

/** A ConfState with no members. */
export function emptyConfState(): ConfState {
  return { voters: [], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false };
}

/** A deep copy of a ConfState (its arrays are not shared). */
export function cloneConfState(cs: ConfState): ConfState {
  return {
    voters: cs.voters.slice(),
    learners: cs.learners.slice(),
    votersOutgoing: cs.votersOutgoing.slice(),
    learnersNext: cs.learnersNext.slice(),
    autoLeave: cs.autoLeave,
  };
}

/** An empty snapshot (index 0): "no snapshot". */
export function emptySnapshot(): Snapshot {
  return { data: EMPTY_BYTES, metadata: { confState: emptyConfState(), index: 0, term: 0 } };
}

export function isEmptySnap(s: Snapshot | undefined): boolean {
  return s === undefined || s.metadata.index === 0;
}

export const emptyHardState: Readonly<HardState> = Object.freeze({ term: 0, vote: 0, commit: 0 });

export function isEmptyHardState(hs: HardState): boolean {
  return hs.term === 0 && hs.vote === 0 && hs.commit === 0;
}

export function hardStateEqual(a: HardState, b: HardState): boolean {
  return a.term === b.term && a.vote === b.vote && a.commit === b.commit;
}

const EMPTY_ENTRIES: Entry[] = [];

/**
 * Builds a message with every field set (zero values where not given), so that all messages
 * share one hidden class and readers never see `undefined` for numeric fields.
 */
export function newMessage(init: Partial<Message> & { type: MessageType }): Message {
  return {
    type: init.type,
    to: init.to ?? 0,
    from: init.from ?? 0,
    term: init.term ?? 0,
    logTerm: init.logTerm ?? 0,
    index: init.index ?? 0,
    entries: init.entries ?? EMPTY_ENTRIES,
    commit: init.commit ?? 0,
    vote: init.vote ?? 0,
    snapshot: init.snapshot,
    reject: init.reject ?? false,
    rejectHint: init.rejectHint ?? 0,
    context: init.context,
    responses: init.responses,
  };
}

/**
 * A message of `type` to `to` with every other field at its zero value: the same object as
 * newMessage() builds (same fields in the same order, so the same hidden class), for the paths
 * that run once per message or per Ready and then set the few fields they need. newMessage()
 * cannot be made fast there: the options objects from its many call sites all differ in shape,
 * so every field read from them is a megamorphic lookup, on top of allocating them.
 */
export function blankMessage(type: MessageType, to: number): Message {
  return {
    type,
    to,
    from: 0,
    term: 0,
    logTerm: 0,
    index: 0,
    entries: EMPTY_ENTRIES,
    commit: 0,
    vote: 0,
    snapshot: undefined,
    reject: false,
    rejectHint: 0,
    context: undefined,
    responses: undefined,
  };
}

/** Message types that only the local node may create; step() refuses them from the network. */
export function isLocalMsg(t: MessageType): boolean {
  return (
    t === MessageType.MsgHup ||
    t === MessageType.MsgBeat ||
    t === MessageType.MsgUnreachable ||
    t === MessageType.MsgSnapStatus ||
    t === MessageType.MsgCheckQuorum ||
    t === MessageType.MsgStorageAppend ||
    t === MessageType.MsgStorageAppendResp ||
    t === MessageType.MsgStorageApply ||
    t === MessageType.MsgStorageApplyResp
  );
}

/** Responses that a node sends to a request it received. */
export function isResponseMsg(t: MessageType): boolean {
  return (
    t === MessageType.MsgAppResp ||
    t === MessageType.MsgVoteResp ||
    t === MessageType.MsgHeartbeatResp ||
    t === MessageType.MsgUnreachable ||
    t === MessageType.MsgReadIndexResp ||
    t === MessageType.MsgPreVoteResp ||
    t === MessageType.MsgStorageAppendResp ||
    t === MessageType.MsgStorageApplyResp
  );
}

/** The response type that answers a vote request of the given type. */
export function voteRespMsgType(t: MessageType): MessageType {
  switch (t) {
    case MessageType.MsgVote:
      return MessageType.MsgVoteResp;
    case MessageType.MsgPreVote:
      return MessageType.MsgPreVoteResp;
    default:
      throw new Error(`not a vote message: ${MessageType[t]}`);
  }
}

/**
 * The encoded size of an entry, as etcd's protobuf encoding would count it. Byte budgets
 * (max message size, inflight bytes, committed bytes per Ready) are counted in this unit so that
 * limits mean the same as in etcd's raft and its scenario files.
 */
export function entrySize(e: Entry): number {
  let n = 3 + varintSize(e.type) + varintSize(e.term) + varintSize(e.index);
  const l = e.data.length;
  if (l > 0) n += 1 + l + varintSize(l);
  return n;
}

/** The bytes of an entry's payload: what counts against the max uncommitted size. */
export function payloadSize(e: Entry): number {
  return e.data.length;
}

export function entriesSize(ents: readonly Entry[]): number {
  let n = 0;
  for (const e of ents) n += entrySize(e);
  return n;
}

export function payloadsSize(ents: readonly Entry[]): number {
  let n = 0;
  for (const e of ents) n += e.data.length;
  return n;
}

/**
 * The bytes of `v` as a protobuf varint. Byte budgets count every entry several times per
 * Ready (append slicing, applying budget), so the common sizes are answered by comparisons
 * instead of a loop of divisions; terms and indexes below 2^28 take the first four branches.
 */
function varintSize(v: number): number {
  if (v < 0x80) return 1;
  if (v < 0x4000) return 2;
  if (v < 0x200000) return 3;
  if (v < 0x10000000) return 4;
  let n = 5;
  for (v = Math.floor(v / 0x800000000); v >= 1; v = Math.floor(v / 128)) n++;
  return n;
}
