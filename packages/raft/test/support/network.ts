/**
 * Test support for the rule tests (paper.test.ts, raft-rules.test.ts): etcd raft's in-process
 * `network` of Raft state machines (raft_test.go), and the small helpers its tests lean on.
 *
 * Everything here is deterministic: every Raft gets a SeededRand seeded with its id, and the
 * network's message dropping draws from its own seeded generator. Tests that depend on one
 * particular randomized election timeout set it with setRandomizedElectionTimeout().
 */
import type { Config } from '../../src/config.js';
import { PontoonError } from '../../src/errors.js';
import { Changer } from '../../src/confchange/changer.js';
import { restore as restoreConfig } from '../../src/confchange/restore.js';
import type { RaftLog } from '../../src/log/raft-log.js';
import { Raft } from '../../src/raft.js';
import { SeededRand } from '../../src/rand.js';
import { MemoryStorage } from '../../src/storage.js';
import { ProgressTracker } from '../../src/tracker/progress-tracker.js';
import {
  EMPTY_BYTES,
  EntryType,
  MessageType,
  StateType,
  emptyConfState,
  newMessage,
} from '../../src/types.js';
import type { ConfState, Entry, Message } from '../../src/types.js';

// ---------------------------------------------------------------------------------------------
// Values

const encoder = new TextEncoder();

/** The bytes of a string, for entry payloads and read contexts. */
export function bytes(s: string): Uint8Array {
  return encoder.encode(s);
}

/** An entry; fields left out take their zero values (an empty normal entry). */
export function entry(init: Partial<Entry> = {}): Entry {
  return {
    term: init.term ?? 0,
    index: init.index ?? 0,
    type: init.type ?? EntryType.EntryNormal,
    data: init.data ?? EMPTY_BYTES,
  };
}

/** etcd's `index(i).terms(t1, t2, ...)`: consecutive empty entries from index i. */
export function index(i: number): { terms(...terms: number[]): Entry[] } {
  return {
    terms: (...terms: number[]) => terms.map((term, k) => entry({ index: i + k, term })),
  };
}

/** A message; fields left out take their zero values. */
export const msg = newMessage;

/** A proposal of one normal entry with `data` (a fresh entry object every call). */
export function propMsg(from: number, to: number, data: Uint8Array = EMPTY_BYTES): Message {
  return newMessage({ type: MessageType.MsgProp, from, to, entries: [entry({ data })] });
}

/** A local MsgHup for `id`. */
export function hup(id: number): Message {
  return newMessage({ type: MessageType.MsgHup, from: id, to: id });
}

/** A local MsgBeat for `id`. */
export function beat(id: number): Message {
  return newMessage({ type: MessageType.MsgBeat, from: id, to: id });
}

/** Messages sorted by recipient, then type: a stable order to compare broadcasts against. */
export function sortMessages(msgs: Message[]): Message[] {
  return msgs.slice().sort((a, b) => a.to - b.to || a.type - b.type);
}

// ---------------------------------------------------------------------------------------------
// Storage and Raft construction

/** An option of newTestMemoryStorage: edits the ConfState of the initial (empty) snapshot. */
export type StorageOption = (cs: ConfState) => void;

export function withPeers(...ids: number[]): StorageOption {
  return (cs) => {
    cs.voters = ids.slice();
  };
}

export function withLearners(...ids: number[]): StorageOption {
  return (cs) => {
    cs.learners = ids.slice();
  };
}

/** A MemoryStorage whose (index 0) snapshot holds the configuration the options describe. */
export function newTestMemoryStorage(...opts: StorageOption[]): MemoryStorage {
  const ms = new MemoryStorage();
  const cs = emptyConfState();
  for (const o of opts) o(cs);
  ms.applySnapshot({ data: EMPTY_BYTES, metadata: { index: 0, term: 0, confState: cs } });
  return ms;
}

/** A MemoryStorage holding exactly `ents` (index 0 is the dummy, as in etcd's literals). */
export function storageWithEntries(ents: Entry[], ...opts: StorageOption[]): MemoryStorage {
  const ms = newTestMemoryStorage(...opts);
  ms.append(ents);
  return ms;
}

/** etcd's newTestConfig: no message size limit, 256 inflight messages, a seeded rand. */
export function newTestConfig(
  id: number,
  election: number,
  heartbeat: number,
  storage: MemoryStorage,
  overrides: Partial<Config> = {},
): Config {
  return {
    id,
    electionTick: election,
    heartbeatTick: heartbeat,
    storage,
    maxSizePerMsg: Infinity,
    maxInflightMsgs: 256,
    rand: new SeededRand(id),
    ...overrides,
  };
}

export function newTestRaft(
  id: number,
  election: number,
  heartbeat: number,
  storage: MemoryStorage,
  overrides: Partial<Config> = {},
): Raft {
  return new Raft(newTestConfig(id, election, heartbeat, storage, overrides));
}

/** Learners come from the storage's ConfState; the name follows etcd's tests. */
export const newTestLearnerRaft = newTestRaft;

/** A Config editor, as etcd's `func(*Config)` (e.g. preVoteConfig). */
export type ConfigFunc = ((c: Config) => void) | undefined;

export const preVoteConfig = (c: Config): void => {
  c.preVote = true;
};

// Options that etcd's tests flip on a live raft. They are readonly on Raft because nothing but
// the Config should set them; tests that simulate a rolling restart still need to.
type Mutable<T> = { -readonly [K in keyof T]: T[K] };

export function setPreVote(r: Raft, v: boolean): void {
  (r as Mutable<Raft>).preVote = v;
}

export function setCheckQuorum(r: Raft, v: boolean): void {
  (r as Mutable<Raft>).checkQuorum = v;
}

/** etcd's setRandomizedElectionTimeout: pins the timeout a test depends on. */
export function setRandomizedElectionTimeout(r: Raft, v: number): void {
  r.randomizedElectionTimeout = v;
}

export function idsBySize(size: number): number[] {
  return Array.from({ length: size }, (_, i) => i + 1);
}

// ---------------------------------------------------------------------------------------------
// Driving a single Raft, as etcd's test helpers do

/** Takes the messages that wait for durability (votes, append acks). */
export function takeMessagesAfterAppend(r: Raft): Message[] {
  const msgs = r.msgsAfterAppend;
  r.msgsAfterAppend = [];
  return msgs;
}

/** Steps self-addressed messages, queues the others for sending. */
export function stepOrSend(r: Raft, msgs: Message[]): void {
  for (const m of msgs) {
    if (m.to === r.id) r.step(m);
    else r.msgs.push(m);
  }
}

/**
 * etcd's advanceMessagesAfterAppend: treats everything unstable as durable for the purpose of
 * the messages that wait for it, stepping the self-addressed ones (self-votes, the leader's
 * self-ack) until none are left. Like etcd's helper, it does not write to storage.
 */
export function advanceMessagesAfterAppend(r: Raft): void {
  for (;;) {
    const msgs = takeMessagesAfterAppend(r);
    if (msgs.length === 0) return;
    stepOrSend(r, msgs);
  }
}

/** etcd's raft.readMessages: advances the after-append messages, then takes the outbox. */
export function readMessages(r: Raft): Message[] {
  advanceMessagesAfterAppend(r);
  const msgs = r.msgs;
  r.msgs = [];
  return msgs;
}

/**
 * etcd's nextEnts: persists the unstable entries to `s`, runs the post-append steps, and
 * returns the committed entries after marking them applied.
 */
export function nextEnts(r: Raft, s: MemoryStorage): Entry[] {
  s.append(r.raftLog.nextUnstableEnts());
  r.raftLog.stableTo(r.raftLog.lastIndex(), r.raftLog.lastTerm());
  advanceMessagesAfterAppend(r);
  const ents = r.raftLog.nextCommittedEnts(true);
  r.raftLog.appliedTo(r.raftLog.committed, 0);
  return ents;
}

export function mustAppendEntry(r: Raft, ...ents: Entry[]): void {
  if (!r.appendEntry(ents)) throw new Error('entry unexpectedly dropped');
}

/** The MsgAppResp a follower that accepted `m` (a MsgApp) would send. */
export function acceptAndReply(m: Message): Message {
  if (m.type !== MessageType.MsgApp) throw new Error('type should be MsgApp');
  return newMessage({
    type: MessageType.MsgAppResp,
    from: m.to,
    to: m.from,
    term: m.term,
    index: m.index + m.entries.length,
  });
}

/** etcd's commitNoopEntry: commits the new leader's empty entry with every follower's ack. */
export function commitNoopEntry(r: Raft, s: MemoryStorage): void {
  if (r.state !== StateType.StateLeader) throw new Error('it should only be used when it is the leader');
  r.bcastAppend();
  for (const m of readMessages(r)) {
    if (m.type !== MessageType.MsgApp || m.entries.length !== 1 || m.entries[0]!.data.length !== 0) {
      throw new Error('not a message to append noop entry');
    }
    r.step(acceptAndReply(m));
  }
  // Ignore the appends that carry the new commit index to the followers.
  readMessages(r);
  s.append(r.raftLog.nextUnstableEnts());
  r.raftLog.appliedTo(r.raftLog.committed, 0);
  r.raftLog.stableTo(r.raftLog.lastIndex(), r.raftLog.lastTerm());
}

/** The shape etcd's ltoa prints of a log, as a value to compare. */
export interface LogView {
  lastIndex: number;
  applied: number;
  entries: Entry[];
}

/** What etcd's ltoa prints of a log: last index, applied index and every entry. */
export function ltoa(l: RaftLog): LogView {
  return {
    lastIndex: l.lastIndex(),
    applied: l.applied,
    entries: l.allEntries().map((e) => entry({ index: e.index, term: e.term, type: e.type, data: e.data })),
  };
}

/** A log as etcd's tests build one with `newLog(&MemoryStorage{ents: ...})` (index 0: dummy). */
export function logOf(ents: Entry[]): LogView {
  const real = ents.filter((e) => e.index > 0).map((e) => entry(e));
  return { lastIndex: real.length === 0 ? 0 : real[real.length - 1]!.index, applied: 0, entries: real };
}

// ---------------------------------------------------------------------------------------------
// The network

/** A peer that swallows everything (etcd's nopStepper / blackHole). */
export const blackHole = Object.freeze({ kind: 'blackhole' as const });
export type BlackHole = typeof blackHole;

/** Builds the Raft of a peer once its id and the cluster's ids are known. */
export type PeerFactory = (id: number, peers: number[], configFunc: ConfigFunc) => Raft;

/** What newNetwork takes per peer: a fresh default Raft (null), a Raft, a factory or a black hole. */
export type PeerSpec = Raft | BlackHole | PeerFactory | null;

export type StateMachine = Raft | BlackHole;

/** etcd's entsWithConfig: a peer whose log holds entries of the given terms (from index 1). */
export function entsWithConfig(configFunc: ConfigFunc, ...terms: number[]): PeerFactory {
  return (id, peers) => {
    const storage = newTestMemoryStorage(withPeers(...peers));
    storage.append(terms.map((term, i) => entry({ index: i + 1, term })));
    const cfg = newTestConfig(id, 5, 1, storage);
    configFunc?.(cfg);
    const sm = new Raft(cfg);
    sm.reset(terms[terms.length - 1]!);
    return sm;
  };
}

/** etcd's votedWithConfig: a peer that voted for `vote` in `term` but has no entries. */
export function votedWithConfig(configFunc: ConfigFunc, vote: number, term: number): PeerFactory {
  return (id, peers) => {
    const storage = newTestMemoryStorage(withPeers(...peers));
    storage.setHardState({ term, vote, commit: 0 });
    const cfg = newTestConfig(id, 5, 1, storage);
    configFunc?.(cfg);
    const sm = new Raft(cfg);
    sm.reset(term);
    return sm;
  };
}

/**
 * Gives `r` a fresh tracker in which every peer of the network is a voter (or a learner, if
 * it was one in r's configuration), as etcd's newNetwork does with the rafts it is given.
 */
function resetPeers(r: Raft, peers: number[]): void {
  const learners = new Set(r.trk.learnerNodes());
  const cs = emptyConfState();
  for (const id of peers) (learners.has(id) ? cs.learners : cs.voters).push(id);
  r.trk = new ProgressTracker(r.trk.maxInflight, r.trk.maxInflightBytes);
  const [cfg, prs] = restoreConfig(new Changer(r.trk, r.raftLog.lastIndex()), cs);
  r.trk.config = cfg;
  r.trk.progress = prs;
  r.isLearner = prs.get(r.id)?.isLearner ?? false;
  r.reset(r.term);
}

/**
 * Raft instances connected by a perfect, synchronous network that tests can degrade: drop
 * links (with a probability), cut or isolate peers, ignore message types, or inspect every
 * message with a hook.
 */
export class Network {
  readonly peers = new Map<number, StateMachine>();
  readonly storage = new Map<number, MemoryStorage>();
  /** Drop probability per `from->to` link (>= 1 always drops). */
  private dropm = new Map<string, number>();
  private ignorem = new Set<MessageType>();
  /** Called for each message sent; return false to drop it. */
  msgHook: ((m: Message) => boolean) | undefined;
  private readonly rand = new SeededRand(0x5eed);

  constructor(configFunc: ConfigFunc, specs: PeerSpec[]) {
    const ids = idsBySize(specs.length);
    specs.forEach((p, j) => {
      const id = ids[j]!;
      if (p === null) {
        const s = newTestMemoryStorage(withPeers(...ids));
        this.storage.set(id, s);
        const cfg = newTestConfig(id, 10, 1, s);
        configFunc?.(cfg);
        this.peers.set(id, new Raft(cfg));
      } else if (p === blackHole) {
        this.peers.set(id, blackHole);
      } else if (p instanceof Raft) {
        if (p.id !== id) throw new Error(`raft ${p.id} given at position of peer ${id}`);
        resetPeers(p, ids);
        this.peers.set(id, p);
      } else {
        const r = (p as PeerFactory)(id, ids, configFunc);
        this.storage.set(id, r.raftLog.storage as MemoryStorage);
        this.peers.set(id, r);
      }
    });
  }

  /** The Raft of peer `id` (throws for a black hole). */
  raft(id: number): Raft {
    const p = this.peers.get(id);
    if (!(p instanceof Raft)) throw new Error(`peer ${id} is not a raft`);
    return p;
  }

  /** Delivers `msgs`, and everything they cause, until the network is quiet. */
  send(...msgs: Message[]): void {
    const queue = msgs.slice();
    while (queue.length > 0) {
      const m = queue.shift()!;
      const p = this.peers.get(m.to);
      if (p === undefined) throw new Error(`message to unknown peer ${m.to}: ${MessageType[m.type]}`);
      if (p === blackHole) continue;
      const r = p as Raft;
      try {
        r.step(m);
      } catch (err) {
        // etcd's network ignores what Step returns (dropped proposals); bugs still surface.
        if (!(err instanceof PontoonError)) throw err;
      }
      advanceMessagesAfterAppend(r);
      queue.push(...this.filter(readMessages(r)));
    }
  }

  drop(from: number, to: number, perc: number): void {
    this.dropm.set(`${from}->${to}`, perc);
  }

  /** Cuts the link between two peers, both ways. */
  cut(one: number, other: number): void {
    this.drop(one, other, 2.0);
    this.drop(other, one, 2.0);
  }

  /** Cuts every link of `id`. */
  isolate(id: number): void {
    for (const nid of this.peers.keys()) {
      if (nid !== id) {
        this.drop(id, nid, 1.0);
        this.drop(nid, id, 1.0);
      }
    }
  }

  ignore(t: MessageType): void {
    this.ignorem.add(t);
  }

  /** Heals every link and stops ignoring message types. */
  recover(): void {
    this.dropm = new Map();
    this.ignorem = new Set();
  }

  private filter(msgs: Message[]): Message[] {
    const out: Message[] = [];
    for (const m of msgs) {
      if (this.ignorem.has(m.type)) continue;
      if (m.type === MessageType.MsgHup) throw new Error('unexpected MsgHup on the network');
      const perc = this.dropm.get(`${m.from}->${m.to}`) ?? 0;
      if (this.rand.next() < perc) continue;
      if (this.msgHook !== undefined && !this.msgHook(m)) continue;
      out.push(m);
    }
    return out;
  }
}

export function newNetwork(...peers: PeerSpec[]): Network {
  return new Network(undefined, peers);
}

export function newNetworkWithConfig(configFunc: ConfigFunc, ...peers: PeerSpec[]): Network {
  return new Network(configFunc, peers);
}
