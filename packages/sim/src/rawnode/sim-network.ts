/**
 * A deterministic in-memory cluster of RawNodes: every node has its own MemoryStorage (its
 * disk) and state machine, and one network carries their messages. Nothing happens unless a
 * caller asks: ticks, deliveries, faults. Given the same calls, a run is the same run.
 *
 * Each node handles its Ready the way the Ready contract says (ready.ts): persist the snapshot,
 * entries and hard state; then send the messages; then apply the committed entries (conf changes
 * through applyConfChange); then advance(). Or, with asyncStorageWrites, the way etcd's
 * AsyncStorageWrites says: local append and apply threads whose responses carry the
 * acknowledgements. The MemoryStorage is the durable disk: a crash loses the RawNode and whatever
 * it had not yet persisted, never what was written to storage.
 *
 * Every observable change is shown to a SafetyChecker.
 */
import {
  type Config,
  type ConfState,
  type Entry,
  EntryType,
  type HardState,
  LocalAppendThread,
  LocalApplyThread,
  MemoryStorage,
  type Message,
  MessageType,
  PontoonError,
  RawNode,
  type Ready,
  SeededRand,
  type Snapshot,
  StateType,
  decodeConfChangeEntry,
  emptyConfState,
  isEmptyHardState,
  isEmptySnap,
} from '@pontoon/raft/core';
import { raftLogView, storageView } from './log-views.js';
import { raftOf } from './raw-node-internals.js';
import { ReplicatedList } from './replicated-list.js';
import { SafetyChecker, SafetyViolation } from './safety-checker.js';
import type { NodeView } from './safety-checker.js';

/**
 * A bug planted in the driver, to show that the checker catches what it claims to.
 * - `ack-before-persist`: while its disk is stalled, a node sends the messages of a Ready (its
 *   append and vote acknowledgements among them) before the Ready is persisted; a crash loses
 *   what it acknowledged.
 * - `forget-vote`: a node restarts with the vote of its hard state erased.
 */
export type PlantedBug = 'ack-before-persist' | 'forget-vote';

/** How a cluster is set up; one value per run. */
export interface SimOptions {
  nodeCount: number;
  preVote: boolean;
  checkQuorum: boolean;
  /** Seeds every node's election-timeout randomness. */
  seed: number;
  /**
   * `bootstrap`: RawNode.bootstrap() writes conf change entries 1..n (applied as conf changes).
   * `conf-state`: each storage starts from an empty snapshot holding the ConfState.
   */
  init: 'bootstrap' | 'conf-state';
  /**
   * What a restarted node's state machine is. `replay`: rebuilt from the storage's snapshot, the
   * log replayed from there. `durable`: kept across the crash, as a state machine on disk; with
   * `conf-state` the RawNode restarts with `applied` = its applied index, with `bootstrap` from
   * the snapshot's index (etcd's consistent-index scheme: the configuration is rebuilt from the
   * log, entries the state machine already has are skipped).
   */
  restart: 'replay' | 'durable';
  /**
   * etcd's AsyncStorageWrites: persistence and application arrive as MsgStorageAppend /
   * MsgStorageApply to local threads, whose work completes later (a stalled disk holds it), and
   * whose responses carry the acknowledgements. Otherwise the Ready/advance contract.
   */
  asyncStorageWrites: boolean;
  maxSizePerMsg: number;
  maxInflightMsgs: number;
  /**
   * A snapshot policy: a node compacts its log once this many applied entries have piled up
   * since its last snapshot (Infinity: only when a schedule says so).
   */
  compactEvery: number;
  electionTick: number;
  heartbeatTick: number;
  bug?: PlantedBug | undefined;
}

export const defaultSimOptions: SimOptions = {
  nodeCount: 3,
  preVote: false,
  checkQuorum: false,
  seed: 1,
  init: 'bootstrap',
  restart: 'replay',
  asyncStorageWrites: false,
  maxSizePerMsg: Infinity,
  maxInflightMsgs: 256,
  compactEvery: Infinity,
  electionTick: 10,
  heartbeatTick: 1,
};

interface InFlight {
  /** Copied at each delivery, as a real network would: the core mutates messages it steps. */
  msg: Message;
  /** The sender's incarnation when it sent the message (for snapshot and unreachable reports). */
  incarnation: number;
  /** Sent over a cut link: it will be lost. */
  doomed: boolean;
}

/** Work for the apply thread: committed entries, or a snapshot to restore the state machine from. */
type ApplyWork = { entries: Message } | { snapshot: Snapshot };

/** One simulated server: a disk, a state machine, and a RawNode while it is up. */
export class SimNode {
  readonly id: number;
  readonly storage = new MemoryStorage();
  /** The last hard state written to storage (MemoryStorage keeps its own copy private). */
  persistedHardState: HardState = { term: 0, vote: 0, commit: 0 };
  sm = new ReplicatedList();
  /** The configuration as of the last conf change applied (or snapshot restored). */
  confState: ConfState = emptyConfState();
  rawNode: RawNode | undefined;
  /** Bumped at every restart; messages of an older incarnation report to nobody. */
  incarnation = 0;
  /** A stalled disk: the node takes no Ready until it is unstalled. */
  diskStalled = false;
  /** With the `ack-before-persist` bug: a Ready whose messages went out but not yet persisted. */
  unpersisted: Ready | undefined;
  /** With asyncStorageWrites: the append thread's queue (MsgStorageAppend), in order. */
  appendQueue: Message[] = [];
  /** With the `ack-before-persist` bug: how many queued appends already had their acks sent. */
  appendsAcked = 0;
  /** With asyncStorageWrites: the apply thread's queue, in order. */
  applyQueue: ApplyWork[] = [];

  /** Forgets everything that was only in memory. */
  resetVolatile(): void {
    this.rawNode = undefined;
    this.unpersisted = undefined;
    this.appendQueue = [];
    this.appendsAcked = 0;
    this.applyQueue = [];
    this.diskStalled = false;
  }

  constructor(id: number) {
    this.id = id;
  }

  get up(): boolean {
    return this.rawNode !== undefined;
  }
}

const encoder = new TextEncoder();

export class SimNetwork {
  readonly opts: SimOptions;
  readonly nodes: SimNode[] = [];
  readonly checker: SafetyChecker;
  /** Messages sent and not yet delivered or lost, in send order. */
  inFlight: InFlight[] = [];
  /** Links that lose everything: `from * 1000 + to`. */
  private readonly cut = new Set<number>();
  /** The last events, newest last, for failure reports. */
  readonly trace: string[] = [];
  private proposalSeq = 0;
  /** What happened in this run, to tell how much a schedule exercised. */
  readonly counts = {
    delivered: 0,
    lost: 0,
    snapshotsDelivered: 0,
    proposalsAccepted: 0,
    restarts: 0,
    compactions: 0,
  };

  constructor(opts: SimOptions) {
    this.opts = opts;
    this.checker = new SafetyChecker(opts.nodeCount);
    const voters = this.ids();
    for (const id of voters) {
      const n = new SimNode(id);
      if (opts.init === 'conf-state') {
        n.confState = { ...emptyConfState(), voters: voters.slice() };
        n.storage.applySnapshot({
          data: new Uint8Array(0),
          metadata: { index: 0, term: 0, confState: n.confState },
        });
      }
      this.nodes.push(n);
      this.start(n);
    }
    this.processReadies();
    this.check();
  }

  ids(): number[] {
    return Array.from({ length: this.opts.nodeCount }, (_, i) => i + 1);
  }

  node(id: number): SimNode {
    const n = this.nodes[id - 1];
    if (n === undefined) throw new Error(`no node ${id}`);
    return n;
  }

  private log(line: string): void {
    this.trace.push(line);
    if (this.trace.length > 60) this.trace.shift();
  }

  // ---- lifecycle --------------------------------------------------------------------------

  private config(n: SimNode, applied: number): Config {
    const o = this.opts;
    // Distinct, reproducible election timeouts per node and per incarnation.
    const seed = (o.seed ^ Math.imul(n.id, 0x9e3779b1) ^ Math.imul(n.incarnation + 1, 0x85ebca6b)) >>> 0;
    return {
      id: n.id,
      electionTick: o.electionTick,
      heartbeatTick: o.heartbeatTick,
      storage: n.storage,
      applied,
      preVote: o.preVote,
      checkQuorum: o.checkQuorum,
      maxSizePerMsg: o.maxSizePerMsg,
      maxInflightMsgs: o.maxInflightMsgs,
      asyncStorageWrites: o.asyncStorageWrites,
      rand: new SeededRand(seed),
    };
  }

  private start(n: SimNode): void {
    let applied = 0;
    const snap = n.storage.snapshot();
    if (this.opts.restart === 'replay' || n.incarnation === 0) {
      n.sm = ReplicatedList.fromSnapshot(snap);
      if (snap.metadata.index > 0) this.checker.observeSnapshotRestore(n.id, snap.metadata, n.sm.commands);
      applied = snap.metadata.index;
    } else if (this.opts.init === 'conf-state') {
      // With async writes the state machine may be ahead of the persisted commit index (it
      // applies what is committed and durable, whether or not that commit index was written
      // yet); raft must not be told more than it can know. Entries between are re-applied,
      // and the state machine skips them.
      applied = Math.min(n.sm.appliedIndex, n.persistedHardState.commit);
    } else {
      applied = snap.metadata.index;
    }
    if (snap.metadata.index > 0 || this.opts.init === 'conf-state') {
      n.confState = snap.metadata.confState;
    } else {
      n.confState = emptyConfState();
    }
    const rn = new RawNode(this.config(n, applied));
    if (this.opts.init === 'bootstrap' && n.storage.lastIndex() === 0) {
      // Never persisted anything: start as a new member, as an application would.
      rn.bootstrap(this.ids().map((id) => ({ id })));
    }
    n.resetVolatile();
    n.rawNode = rn;
    if (n.incarnation > 0) {
      this.checker.observeRestart(n.id, raftOf(rn).raftLog.committed, raftOf(rn).term);
    }
  }

  crash(id: number): void {
    const n = this.node(id);
    if (!n.up) return;
    this.log(`crash ${id}`);
    n.resetVolatile();
    n.incarnation++;
  }

  /** Restarts a node from its storage (crashing it first if it is up). */
  restart(id: number): void {
    const n = this.node(id);
    this.crash(id);
    if (this.opts.bug === 'forget-vote') {
      const hs = n.persistedHardState;
      n.storage.setHardState({ term: hs.term, vote: 0, commit: hs.commit });
    }
    this.log(`restart ${id}`);
    this.counts.restarts++;
    this.start(n);
  }

  // ---- the Ready loop ----------------------------------------------------------------------

  /** Every node that is up and whose disk is not stalled handles its Ready until it has none. */
  processReadies(): void {
    for (const n of this.nodes) this.processReady(n);
  }

  processReady(n: SimNode): void {
    if (n.rawNode === undefined) return;
    if (this.opts.asyncStorageWrites) {
      this.processAsync(n);
    } else {
      this.processReadyContract(n);
    }
    if (n.up && n.sm.appliedIndex - (n.storage.firstIndex() - 1) >= this.opts.compactEvery) this.compact(n.id, 0);
  }

  /** The Ready contract: persist, send, apply, advance. A stalled disk takes no Ready. */
  private processReadyContract(n: SimNode): void {
    const rn = n.rawNode!;
    if (n.diskStalled) {
      if (this.opts.bug === 'ack-before-persist' && n.unpersisted === undefined && rn.hasReady()) {
        // The planted bug: acknowledge first, persist later.
        const rd = rn.ready();
        this.send(n, rd.messages);
        n.unpersisted = rd;
      }
      return;
    }
    if (n.unpersisted !== undefined) {
      const rd = n.unpersisted;
      n.unpersisted = undefined;
      this.persist(n, rd.hardState, rd.entries, rd.snapshot);
      if (!isEmptySnap(rd.snapshot)) this.restoreStateMachine(n, rd.snapshot);
      this.apply(n, rd.committedEntries);
      rn.advance();
      this.observeLeader(n);
    }
    for (let rounds = 0; rn.hasReady(); rounds++) {
      if (rounds > 1000) throw new Error(`node ${n.id}: Ready loop does not settle`);
      const rd = rn.ready();
      this.persist(n, rd.hardState, rd.entries, rd.snapshot);
      if (!isEmptySnap(rd.snapshot)) this.restoreStateMachine(n, rd.snapshot);
      this.send(n, rd.messages);
      this.apply(n, rd.committedEntries);
      rn.advance();
      this.observeLeader(n);
    }
  }

  /**
   * asyncStorageWrites: the Ready's messages to peers go out at once; MsgStorageAppend and
   * MsgStorageApply queue up for the local threads, which complete their work in order (the
   * append thread only while the disk is not stalled) and then deliver the responses.
   */
  private processAsync(n: SimNode): void {
    const rn = n.rawNode!;
    for (let rounds = 0; ; rounds++) {
      if (rounds > 1000) throw new Error(`node ${n.id}: Ready loop does not settle`);
      let worked = false;
      while (rn.hasReady()) {
        worked = true;
        for (const m of rn.ready().messages) {
          if (m.to === LocalAppendThread) n.appendQueue.push(m);
          else if (m.to === LocalApplyThread) n.applyQueue.push({ entries: m });
          else this.send(n, [m]);
        }
      }
      if (n.diskStalled) {
        if (this.opts.bug === 'ack-before-persist') {
          // The planted bug: the acknowledgements to peers go out before the write.
          for (; n.appendsAcked < n.appendQueue.length; n.appendsAcked++) {
            this.send(n, (n.appendQueue[n.appendsAcked]!.responses ?? []).filter((r) => r.to !== n.id));
          }
        }
      } else if (n.appendQueue.length > 0) {
        worked = true;
        const m = n.appendQueue.shift()!;
        const early = n.appendsAcked > 0;
        if (early) n.appendsAcked--;
        // Only set when the hard state changed (a zero term means "unchanged").
        const hs = { term: m.term, vote: m.vote, commit: m.commit };
        this.persist(n, hs, m.entries, m.snapshot);
        // The state machine takes the snapshot in order with the entries before it.
        if (m.snapshot !== undefined && !isEmptySnap(m.snapshot)) n.applyQueue.push({ snapshot: m.snapshot });
        this.respond(n, (m.responses ?? []).filter((r) => !early || r.to === n.id));
      }
      const work = n.applyQueue.shift();
      if (work !== undefined) {
        worked = true;
        if ('snapshot' in work) {
          this.restoreStateMachine(n, work.snapshot);
        } else {
          this.apply(n, work.entries.entries);
          this.respond(n, work.entries.responses ?? []);
        }
      }
      this.observeLeader(n);
      if (!worked || n.rawNode !== rn) return;
    }
  }

  /** A local thread's responses: to this node's RawNode, or to peers. */
  private respond(n: SimNode, responses: readonly Message[]): void {
    const rn = n.rawNode!;
    for (const r of responses) {
      if (r.to !== n.id) {
        this.send(n, [r]);
        continue;
      }
      try {
        rn.step(r);
      } catch (err) {
        if (!(err instanceof PontoonError)) throw err;
      }
    }
  }

  /** Writes to the node's disk: snapshot first (the log restarts after it), entries, hard state. */
  private persist(n: SimNode, hs: HardState, entries: readonly Entry[], snapshot: Snapshot | undefined): void {
    if (snapshot !== undefined && !isEmptySnap(snapshot)) {
      n.storage.applySnapshot(snapshot);
      this.log(`${n.id} persisted snapshot ${snapshot.metadata.index}/${snapshot.metadata.term}`);
    }
    if (entries.length > 0) n.storage.append(entries);
    if (!isEmptyHardState(hs)) {
      n.storage.setHardState(hs);
      n.persistedHardState = { term: hs.term, vote: hs.vote, commit: hs.commit };
      this.checker.observePersistedHardState(n.id, hs);
    }
  }

  private restoreStateMachine(n: SimNode, snap: Snapshot): void {
    n.sm.restore(snap);
    this.checker.observeSnapshotRestore(n.id, snap.metadata, n.sm.commands);
    n.confState = snap.metadata.confState;
  }

  private apply(n: SimNode, ents: readonly Entry[]): void {
    const rn = n.rawNode!;
    for (const e of ents) {
      this.checker.observeApply(n.id, e);
      // A durable state machine already has what it applied before a crash.
      if (e.index > n.sm.appliedIndex) n.sm.apply(e, n.id);
      if (e.type === EntryType.EntryConfChange || e.type === EntryType.EntryConfChangeV2) {
        n.confState = rn.applyConfChange(decodeConfChangeEntry(e));
      }
    }
  }

  private observeLeader(n: SimNode): void {
    const r = n.rawNode === undefined ? undefined : raftOf(n.rawNode);
    if (r !== undefined && r.state === StateType.StateLeader) this.checker.observeLeader(r.term, n.id);
  }

  // ---- the network -------------------------------------------------------------------------

  private linkCut(from: number, to: number): boolean {
    return this.cut.has(from * 1000 + to);
  }

  private send(n: SimNode, msgs: readonly Message[]): void {
    for (const m of msgs) {
      if (m.to < 1 || m.to > this.opts.nodeCount) continue;
      // A message sent over a cut link is lost even if the link heals before it would arrive.
      // The sender hears of it at delivery time: reports must not interleave with its Ready.
      this.inFlight.push({ msg: m, incarnation: n.incarnation, doomed: this.linkCut(m.from, m.to) });
    }
  }

  /** A message did not arrive; the sender learns of it when a transport would. */
  private lost(f: InFlight, unreachable: boolean): void {
    this.counts.lost++;
    const sender = this.node(f.msg.from);
    const rn = sender.rawNode;
    if (rn === undefined || sender.incarnation !== f.incarnation) return;
    if (f.msg.type === MessageType.MsgSnap) rn.reportSnapshot(f.msg.to, 'failed');
    if (unreachable) rn.reportUnreachable(f.msg.to);
  }

  private deliverOne(f: InFlight): void {
    const m = f.msg;
    const to = this.node(m.to);
    if (to.rawNode === undefined || f.doomed || this.linkCut(m.from, m.to)) {
      this.lost(f, true);
      return;
    }
    this.log(`${m.from}->${m.to} ${describe(m)}`);
    this.counts.delivered++;
    if (m.type === MessageType.MsgSnap) this.counts.snapshotsDelivered++;
    try {
      to.rawNode.step(structuredClone(m));
    } catch (err) {
      // Refused messages (unknown peer, a proposal without a leader) are the network's loss.
      if (!(err instanceof PontoonError)) throw err;
    }
    this.observeLeader(to);
    if (m.type === MessageType.MsgSnap) {
      const sender = this.node(m.from);
      if (sender.rawNode !== undefined && sender.incarnation === f.incarnation) {
        sender.rawNode.reportSnapshot(m.to, 'finished');
      }
    }
  }

  /** Delivers the in-flight message at `pick` (modulo their number): any order is possible. */
  deliver(pick: number): void {
    if (this.inFlight.length === 0) return;
    const [f] = this.inFlight.splice(pick % this.inFlight.length, 1);
    this.deliverOne(f!);
  }

  /**
   * Delivers every message in flight now (not those sent meanwhile): in send order when
   * `shuffle` is 0, else in an order drawn from it.
   */
  flush(shuffle = 0): void {
    const batch = this.inFlight;
    this.inFlight = [];
    if (shuffle !== 0) {
      const rand = new SeededRand(shuffle);
      for (let i = batch.length - 1; i > 0; i--) {
        const j = rand.intn(i + 1);
        [batch[i], batch[j]] = [batch[j]!, batch[i]!];
      }
    }
    for (const f of batch) this.deliverOne(f);
  }

  drop(pick: number): void {
    if (this.inFlight.length === 0) return;
    const [f] = this.inFlight.splice(pick % this.inFlight.length, 1);
    this.log(`drop ${f!.msg.from}->${f!.msg.to} ${describe(f!.msg)}`);
    this.lost(f!, false);
  }

  duplicate(pick: number): void {
    if (this.inFlight.length === 0) return;
    const f = this.inFlight[pick % this.inFlight.length]!;
    this.inFlight.push({ ...f });
  }

  /** Cuts the links between `side` and the other nodes, both ways. */
  partition(side: readonly number[]): void {
    const inside = new Set(side);
    for (const a of inside) {
      for (const b of this.ids()) {
        if (inside.has(b)) continue;
        this.cut.add(a * 1000 + b);
        this.cut.add(b * 1000 + a);
      }
    }
    this.log(`partition [${[...inside].join(',')}]`);
  }

  /** Cuts the link from `from` to `to` only. */
  cutLink(from: number, to: number): void {
    if (from !== to) this.cut.add(from * 1000 + to);
    this.log(`cut ${from}->${to}`);
  }

  healNetwork(): void {
    this.cut.clear();
    this.log('heal');
  }

  // ---- the application's calls ------------------------------------------------------------

  tick(id?: number): void {
    for (const n of this.nodes) {
      if (id === undefined || n.id === id) n.rawNode?.tick();
    }
  }

  /** Proposes a fresh command at node `id`; returns its payload, or undefined if dropped. */
  propose(id: number, data = `p${++this.proposalSeq}`): string | undefined {
    const rn = this.node(id).rawNode;
    if (rn === undefined) return undefined;
    try {
      rn.propose(encoder.encode(data));
      this.log(`propose ${data} at ${id}`);
      this.counts.proposalsAccepted++;
      return data;
    } catch (err) {
      if (!(err instanceof PontoonError)) throw err;
      return undefined;
    }
  }

  campaign(id: number): void {
    this.node(id).rawNode?.campaign();
  }

  transferLeadership(id: number, to: number): void {
    this.node(id).rawNode?.transferLeadership(to);
  }

  stallDisk(id: number): void {
    const n = this.node(id);
    if (n.up) n.diskStalled = true;
  }

  unstallDisk(id: number): void {
    this.node(id).diskStalled = false;
  }

  /**
   * Takes a snapshot of node `id`'s state machine `keep` entries before its applied index and
   * compacts its log there, as an application does by policy. Lagging followers then need
   * snapshots.
   */
  compact(id: number, keep: number): void {
    const n = this.node(id);
    if (!n.up) return;
    // Not past the persisted commit index: a restart needs its snapshot covered by it (with
    // async writes, what is applied can be ahead of it).
    const index = Math.min(n.sm.appliedIndex, n.persistedHardState.commit) - keep;
    if (index <= n.storage.firstIndex() - 1 || index > n.storage.lastIndex()) return;
    n.storage.createSnapshot(index, n.confState, n.sm.snapshotData(index));
    n.storage.compact(index);
    this.log(`compact ${id} at ${index}`);
    this.counts.compactions++;
  }

  // ---- observation -------------------------------------------------------------------------

  leaders(): SimNode[] {
    return this.nodes.filter((n) => n.rawNode !== undefined && raftOf(n.rawNode).state === StateType.StateLeader);
  }

  /** The leader of the highest term, if any node is leader. */
  currentLeader(): SimNode | undefined {
    let best: SimNode | undefined;
    for (const n of this.leaders()) {
      if (best === undefined || raftOf(n.rawNode!).term > raftOf(best.rawNode!).term) best = n;
    }
    return best;
  }

  views(): NodeView[] {
    return this.nodes.map((n) => {
      const r = n.rawNode === undefined ? undefined : raftOf(n.rawNode);
      return {
        id: n.id,
        live:
          r === undefined
            ? undefined
            : {
                term: r.term,
                isLeader: r.state === StateType.StateLeader,
                committed: r.raftLog.committed,
                log: raftLogView(r.raftLog),
              },
        durable: { log: storageView(n.storage) },
      };
    });
  }

  /** Checks every invariant over the present state. */
  check(): void {
    this.checker.check(this.views());
  }

  /** One line per node, for failure reports. */
  describeNodes(): string {
    return this.nodes
      .map((n) => {
        const r = n.rawNode === undefined ? undefined : raftOf(n.rawNode);
        if (r === undefined) return `  ${n.id}: down, persisted ${JSON.stringify(n.persistedHardState)}`;
        return (
          `  ${n.id}: ${StateType[r.state]} term=${r.term} vote=${r.vote} lead=${r.lead} ` +
          `commit=${r.raftLog.committed} applied=${r.raftLog.applied} sm=${n.sm.appliedIndex} ` +
          `log=[${r.raftLog.firstIndex()},${r.raftLog.lastIndex()}]` +
          `${n.diskStalled ? ' disk-stalled' : ''}`
        );
      })
      .join('\n');
  }

  /**
   * Wraps a failure with where the cluster was, for the report fast-check prints: the step, every
   * node's state, the last events, and `context` (the schedule so far).
   */
  explain(err: unknown, where: string, context = ''): Error {
    if (!(err instanceof Error)) return new Error(String(err));
    const body = err instanceof SafetyViolation ? err.message.slice(`${err.invariant} violated: `.length) : err.message;
    const detail =
      `${body}\n  at ${where}\nnodes:\n${this.describeNodes()}\nlast events:\n  ${this.trace.join('\n  ')}` +
      (context === '' ? '' : `\n${context}`);
    if (err instanceof SafetyViolation) return new SafetyViolation(err.invariant, detail);
    // Anything else is the core failing on its own (an AssertionError is a core invariant).
    const wrapped = new Error(`${err.name}: ${detail}`, { cause: err });
    wrapped.name = err.name;
    return wrapped;
  }
}

function describe(m: Message): string {
  let s = `${MessageType[m.type]} t${m.term}`;
  if (m.type === MessageType.MsgApp) {
    s += ` (${m.index}/${m.logTerm}) +${m.entries.length} c${m.commit}`;
  } else if (m.type === MessageType.MsgAppResp) {
    s += ` ${m.reject ? `reject ${m.index} hint ${m.rejectHint}/${m.logTerm}` : m.index}`;
  } else if (m.type === MessageType.MsgSnap) {
    s += ` ${m.snapshot?.metadata.index ?? 0}/${m.snapshot?.metadata.term ?? 0}`;
  } else if (m.type === MessageType.MsgVote || m.type === MessageType.MsgPreVote) {
    s += ` last ${m.index}/${m.logTerm}`;
  } else if (m.type === MessageType.MsgVoteResp || m.type === MessageType.MsgPreVoteResp) {
    s += m.reject ? ' reject' : ' grant';
  } else if (m.type === MessageType.MsgHeartbeat) {
    s += ` c${m.commit}`;
  }
  return s;
}
