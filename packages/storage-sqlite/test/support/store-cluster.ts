/**
 * The raft core's simulated cluster (packages/raft/test/support/sim-network.ts) with a real disk:
 * every node's storage is a SqliteLogStore in its own directory. The sim network persists to a
 * MemoryStorage synchronously, inside its Ready loop; a SqliteLogStore's append() is a promise,
 * so this is a compact async driver of the same shape, run by the same fault schedules and shown
 * to the same SafetyChecker.
 *
 * Durability ordering is RaftNode's: with asyncStorageWrites the responses riding on a
 * MsgStorageAppend (a follower's append and vote acknowledgements) are delivered only once its
 * append() resolved; with the Ready contract, messages go out only after the Ready's append()
 * resolved. A node's disk takes the writes queued for it after every step unless it is stalled;
 * writes queued behind a stalled disk are appended together (the store group-commits them).
 *
 * A crash is a process crash as the store's contract allows it to end: a prefix of the writes
 * not yet acknowledged reaches the disk (writes apply in order, each whole or not at all; the
 * length of the prefix is drawn from the run's seed: none, some or all), their acknowledgements
 * are never sent, and the rest is lost. The store is then closed and opened again: the node's
 * durable state, for the checker and for the restart, is what recovery reads back from disk.
 * (Real SIGKILLs mid-write are crash.test.ts's business; here the choice of what survives must
 * come from the seed, so that a failing run replays.)
 *
 * Steps run one at a time and every store operation is awaited before the next step, so that a
 * run is a function of its options and schedule, however the disk times its fsyncs.
 */
import fs from 'node:fs';
import { type ConfState, type Entry, EntryType, type HardState, type LogWrite, type Message, MessageType, PontoonError, type Snapshot } from '@pontoon/raft';
import { LocalAppendThread, LocalApplyThread, RawNode, SeededRand, StateType, decodeConfChangeEntry, emptyConfState, isEmptyHardState, isEmptySnap } from '@pontoon/raft/core';
import { SqliteLogStore, type SqliteLogStoreOptions } from '../../src/index.js';
import {
  foldNode,
  formatSchedule,
  formatStep,
  type NodeView,
  raftLogView,
  ReplicatedList,
  SafetyChecker,
  SafetyViolation,
  type SimOptions,
  type Step,
  storageView,
} from '@pontoon/sim/rawnode';
import type { TempDirs } from './temp-dir.js';

interface InFlight {
  msg: Message;
  /** The sender's incarnation when it sent the message (reports go to that incarnation only). */
  incarnation: number;
  /** Sent over a cut link: it will be lost. */
  doomed: boolean;
}

type ApplyWork = { entries: Message } | { snapshot: Snapshot };

class StoreNode {
  readonly id: number;
  readonly dir: string;
  /** Open for the node's whole life: while it is down, it holds what the restart will find. */
  store!: SqliteLogStore;
  sm = new ReplicatedList();
  confState: ConfState = emptyConfState();
  rawNode: RawNode | undefined;
  incarnation = 0;
  diskStalled = false;
  /** asyncStorageWrites: MsgStorageAppends the disk has not taken yet, in order. */
  appendQueue: Message[] = [];
  applyQueue: ApplyWork[] = [];

  constructor(id: number, dir: string) {
    this.id = id;
    this.dir = dir;
  }

  get up(): boolean {
    return this.rawNode !== undefined;
  }

  /** The hard state on disk (the store's view holds only what is durable). */
  get persistedHardState(): HardState {
    return this.store.initialState().hardState;
  }
}

const encoder = new TextEncoder();

/**
 * The crashes here are the process's, not the machine's: what the OS holds survives them at any
 * synchronous level, so the fsync would only slow the runs down (and tie them to a shared
 * disk's mood). `normal` keeps every code path of the store but the fsync.
 */
const STORE_OPTIONS: SqliteLogStoreOptions = { synchronous: 'normal' };

export class StoreCluster {
  readonly opts: SimOptions;
  readonly nodes: StoreNode[] = [];
  readonly checker: SafetyChecker;
  inFlight: InFlight[] = [];
  readonly trace: string[] = [];
  readonly counts = { delivered: 0, lost: 0, restarts: 0, compactions: 0, appends: 0, lostWrites: 0, survivingUnackedWrites: 0 };
  private readonly cut = new Set<number>();
  /** Draws what survives each crash: part of the run, like the schedule. */
  private readonly crashRand: SeededRand;
  private proposalSeq = 0;

  private constructor(opts: SimOptions) {
    this.opts = opts;
    this.checker = new SafetyChecker(opts.nodeCount);
    this.crashRand = new SeededRand((opts.seed ^ 0x2545f491) >>> 0);
  }

  static async start(opts: SimOptions, temp: TempDirs): Promise<StoreCluster> {
    const c = new StoreCluster(opts);
    try {
      for (const id of c.ids()) {
        const n = new StoreNode(id, temp.make(`pontoon-raft-safety-${id}-`));
        n.store = await SqliteLogStore.open(n.dir, STORE_OPTIONS);
        if (opts.init === 'conf-state') {
          // A snapshot at index 0 with members: the store's way to start from a configuration.
          n.confState = { ...emptyConfState(), voters: c.ids() };
          await n.store.append({ snapshot: { data: new Uint8Array(0), metadata: { index: 0, term: 0, confState: n.confState } }, entries: [] });
        }
        c.nodes.push(n);
        c.startNode(n);
      }
      await c.processReadies();
      c.check();
    } catch (err) {
      await c.close();
      throw err;
    }
    return c;
  }

  ids(): number[] {
    return Array.from({ length: this.opts.nodeCount }, (_, i) => i + 1);
  }

  node(id: number): StoreNode {
    const n = this.nodes[id - 1];
    if (n === undefined) throw new Error(`no node ${id}`);
    return n;
  }

  private log(line: string): void {
    this.trace.push(line);
    if (this.trace.length > 60) this.trace.shift();
  }

  /** Closes every store (the directories belong to the caller's TempDirs). */
  async close(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.store?.close()));
  }

  // ---- lifecycle: as sim-network.ts's start(), over the store ------------------------------

  private startNode(n: StoreNode): void {
    const o = this.opts;
    const snap = n.store.snapshot();
    let applied: number;
    if (o.restart === 'replay' || n.incarnation === 0) {
      n.sm = ReplicatedList.fromSnapshot(snap);
      if (snap.metadata.index > 0) this.checker.observeSnapshotRestore(n.id, snap.metadata, n.sm.commands);
      applied = snap.metadata.index;
    } else if (o.init === 'conf-state') {
      // A durable state machine may be ahead of the durable commit index (sim-network.ts).
      applied = Math.min(n.sm.appliedIndex, n.persistedHardState.commit);
    } else {
      applied = snap.metadata.index;
    }
    n.confState = snap.metadata.index > 0 || o.init === 'conf-state' ? snap.metadata.confState : emptyConfState();
    const seed = (o.seed ^ Math.imul(n.id, 0x9e3779b1) ^ Math.imul(n.incarnation + 1, 0x85ebca6b)) >>> 0;
    const rn = new RawNode({
      id: n.id,
      electionTick: o.electionTick,
      heartbeatTick: o.heartbeatTick,
      storage: n.store,
      applied,
      preVote: o.preVote,
      checkQuorum: o.checkQuorum,
      maxSizePerMsg: o.maxSizePerMsg,
      maxInflightMsgs: o.maxInflightMsgs,
      asyncStorageWrites: o.asyncStorageWrites,
      rand: new SeededRand(seed),
    });
    if (o.init === 'bootstrap' && n.store.lastIndex() === 0) rn.bootstrap(this.ids().map((id) => ({ id })));
    n.appendQueue = [];
    n.applyQueue = [];
    n.diskStalled = false;
    n.rawNode = rn;
    if (n.incarnation > 0) this.checker.observeRestart(n.id, rn.log.committed, rn.term);
  }

  /**
   * The process dies: a prefix of the writes not yet acknowledged reaches the disk, the rest is
   * lost, and what is on disk is read back by a new store.
   */
  async crash(id: number): Promise<void> {
    const n = this.node(id);
    if (!n.up) return;
    n.rawNode = undefined;
    const queued = n.appendQueue;
    n.appendQueue = [];
    n.applyQueue = [];
    n.diskStalled = false;
    n.incarnation++;
    const survive = queued.length === 0 ? 0 : this.crashRand.intn(queued.length + 1);
    this.log(`crash ${id} (${survive} of ${queued.length} unacknowledged writes reach the disk)`);
    this.counts.survivingUnackedWrites += survive;
    this.counts.lostWrites += queued.length - survive;
    const writes = queued.slice(0, survive).map((m) => this.issue(n, m));
    for (const w of writes) await w.durable;
    await n.store.close();
    n.store = await SqliteLogStore.open(n.dir, STORE_OPTIONS);
  }

  async restart(id: number): Promise<void> {
    const n = this.node(id);
    // The crash left a store opened afresh on the directory: the node starts from what it recovered.
    await this.crash(id);
    this.log(`restart ${id}`);
    this.counts.restarts++;
    this.startNode(n);
  }

  // ---- the Ready loop ----------------------------------------------------------------------

  async processReadies(): Promise<void> {
    for (const n of this.nodes) await this.processReady(n);
  }

  private async processReady(n: StoreNode): Promise<void> {
    if (n.rawNode === undefined) return;
    if (this.opts.asyncStorageWrites) await this.processAsync(n);
    else await this.processReadyContract(n);
    if (n.up && n.sm.appliedIndex - (n.store.firstIndex() - 1) >= this.opts.compactEvery) await this.compact(n.id, 0);
  }

  /** The Ready contract: persist (awaited), send, apply, advance. A stalled disk takes no Ready. */
  private async processReadyContract(n: StoreNode): Promise<void> {
    const rn = n.rawNode!;
    for (let rounds = 0; !n.diskStalled && rn.hasReady(); rounds++) {
      if (rounds > 1000) throw new Error(`node ${n.id}: Ready loop does not settle`);
      const rd = rn.ready();
      const snap = isEmptySnap(rd.snapshot) ? undefined : rd.snapshot;
      if (!isEmptyHardState(rd.hardState) || rd.entries.length > 0 || snap !== undefined) {
        await this.issue(n, { hardState: rd.hardState, entries: rd.entries, snapshot: snap }).durable;
      }
      if (snap !== undefined) this.restoreStateMachine(n, snap);
      this.send(n, rd.messages);
      this.apply(n, rd.committedEntries);
      rn.advance();
      this.observeLeader(n);
    }
  }

  /**
   * asyncStorageWrites, as RaftNode runs it: messages to peers go out at once; the disk takes
   * every queued MsgStorageAppend (unless stalled), issued together, and each one's responses
   * are delivered in order once its append resolved; the apply thread works in order.
   */
  private async processAsync(n: StoreNode): Promise<void> {
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
      if (!n.diskStalled && n.appendQueue.length > 0) {
        worked = true;
        const batch = n.appendQueue;
        n.appendQueue = [];
        const writes = batch.map((m) => ({ m, w: this.issue(n, m) }));
        for (const { m, w } of writes) {
          await w.durable;
          // The state machine takes the snapshot in order with the entries before it.
          if (m.snapshot !== undefined && !isEmptySnap(m.snapshot)) n.applyQueue.push({ snapshot: m.snapshot });
          this.respond(n, m.responses ?? []);
        }
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

  /** Hands one write to the store now; `durable` settles when append() does. */
  private issue(n: StoreNode, w: Message | LogWrite): { write: LogWrite; durable: Promise<void> } {
    let write: LogWrite;
    if ('type' in w) {
      // MsgStorageAppend: a zero hard state means "unchanged".
      const hasHardState = w.term !== 0 || w.vote !== 0 || w.commit !== 0;
      write = {
        hardState: hasHardState ? { term: w.term, vote: w.vote, commit: w.commit } : undefined,
        entries: w.entries,
        snapshot: w.snapshot !== undefined && !isEmptySnap(w.snapshot) ? w.snapshot : undefined,
      };
    } else {
      write = w;
    }
    this.counts.appends++;
    const durable = n.store.append(write);
    // Awaited in order by the caller; this keeps a later failure from being unhandled meanwhile.
    durable.catch(() => {});
    const hs = write.hardState;
    return {
      write,
      durable: durable.then(() => {
        if (hs !== undefined && !isEmptyHardState(hs)) this.checker.observePersistedHardState(n.id, hs);
        if (write.snapshot !== undefined) this.log(`${n.id} persisted snapshot ${write.snapshot.metadata.index}/${write.snapshot.metadata.term}`);
      }),
    };
  }

  private respond(n: StoreNode, responses: readonly Message[]): void {
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

  private restoreStateMachine(n: StoreNode, snap: Snapshot): void {
    n.sm.restore(snap);
    this.checker.observeSnapshotRestore(n.id, snap.metadata, n.sm.commands);
    n.confState = snap.metadata.confState;
  }

  private apply(n: StoreNode, ents: readonly Entry[]): void {
    const rn = n.rawNode!;
    for (const e of ents) {
      this.checker.observeApply(n.id, e);
      if (e.index > n.sm.appliedIndex) n.sm.apply(e, n.id);
      if (e.type === EntryType.EntryConfChange || e.type === EntryType.EntryConfChangeV2) {
        n.confState = rn.applyConfChange(decodeConfChangeEntry(e));
      }
    }
  }

  private observeLeader(n: StoreNode): void {
    const r = n.rawNode;
    if (r !== undefined && r.state === StateType.StateLeader) this.checker.observeLeader(r.term, n.id);
  }

  // ---- the network: as sim-network.ts's --------------------------------------------------

  private linkCut(from: number, to: number): boolean {
    return this.cut.has(from * 1000 + to);
  }

  private send(n: StoreNode, msgs: readonly Message[]): void {
    for (const m of msgs) {
      if (m.to < 1 || m.to > this.opts.nodeCount) continue;
      this.inFlight.push({ msg: m, incarnation: n.incarnation, doomed: this.linkCut(m.from, m.to) });
    }
  }

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
    this.log(`${m.from}->${m.to} ${MessageType[m.type]} t${m.term} i${m.index} +${m.entries.length} c${m.commit}${m.reject ? ' reject' : ''}`);
    this.counts.delivered++;
    try {
      to.rawNode.step(structuredClone(m));
    } catch (err) {
      if (!(err instanceof PontoonError)) throw err;
    }
    this.observeLeader(to);
    if (m.type === MessageType.MsgSnap) {
      const sender = this.node(m.from);
      if (sender.rawNode !== undefined && sender.incarnation === f.incarnation) sender.rawNode.reportSnapshot(m.to, 'finished');
    }
  }

  deliver(pick: number): void {
    if (this.inFlight.length === 0) return;
    const [f] = this.inFlight.splice(pick % this.inFlight.length, 1);
    this.deliverOne(f!);
  }

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
    this.lost(f!, false);
  }

  duplicate(pick: number): void {
    if (this.inFlight.length === 0) return;
    this.inFlight.push({ ...this.inFlight[pick % this.inFlight.length]! });
  }

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
    for (const n of this.nodes) if (id === undefined || n.id === id) n.rawNode?.tick();
  }

  propose(id: number, data = `p${++this.proposalSeq}`): string | undefined {
    const rn = this.node(id).rawNode;
    if (rn === undefined) return undefined;
    try {
      rn.propose(encoder.encode(data));
      this.log(`propose ${data} at ${id}`);
      return data;
    } catch (err) {
      if (!(err instanceof PontoonError)) throw err;
      return undefined;
    }
  }

  /** Snapshot + compaction by the application, bounded as in sim-network.ts. */
  async compact(id: number, keep: number): Promise<void> {
    const n = this.node(id);
    if (!n.up) return;
    // Not past the durable commit index: a restart needs its snapshot covered by it.
    const index = Math.min(n.sm.appliedIndex, n.persistedHardState.commit) - keep;
    if (index <= n.store.firstIndex() - 1 || index > n.store.lastIndex()) return;
    if (index > n.store.snapshot().metadata.index) await n.store.createSnapshot(index, n.confState, n.sm.snapshotData(index));
    await n.store.compact(index);
    this.log(`compact ${id} at ${index}`);
    this.counts.compactions++;
  }

  currentLeader(): StoreNode | undefined {
    let best: StoreNode | undefined;
    for (const n of this.nodes) {
      const r = n.rawNode;
      if (r?.state !== StateType.StateLeader) continue;
      if (best === undefined || r.term > best.rawNode!.term) best = n;
    }
    return best;
  }

  // ---- observation -------------------------------------------------------------------------

  check(): void {
    const views: NodeView[] = this.nodes.map((n) => {
      const r = n.rawNode;
      return {
        id: n.id,
        live:
          r === undefined
            ? undefined
            : { term: r.term, isLeader: r.state === StateType.StateLeader, committed: r.log.committed, log: raftLogView(r.log) },
        durable: { log: storageView(n.store) },
      };
    });
    this.checker.check(views);
  }

  describeNodes(): string {
    return this.nodes
      .map((n) => {
        const r = n.rawNode;
        const disk = `disk=[${n.store.firstIndex()},${n.store.lastIndex()}] hs=${JSON.stringify(n.persistedHardState)}`;
        if (r === undefined) return `  ${n.id}: down, ${disk}`;
        return (
          `  ${n.id}: ${StateType[r.state]} term=${r.term} vote=${r.vote} lead=${r.lead} commit=${r.log.committed} ` +
          `applied=${r.log.applied} sm=${n.sm.appliedIndex} log=[${r.log.firstIndex()},${r.log.lastIndex()}] ${disk}` +
          `${n.diskStalled ? ` disk-stalled (${n.appendQueue.length} queued)` : ''}`
        );
      })
      .join('\n');
  }

  explain(err: unknown, where: string, steps: readonly Step[], upTo: number): Error {
    if (!(err instanceof Error)) return new Error(String(err));
    const o = { ...this.opts, maxSizePerMsg: String(this.opts.maxSizePerMsg), compactEvery: String(this.opts.compactEvery) };
    const detail =
      `${err.message}\n  at ${where}\nnodes:\n${this.describeNodes()}\nlast events:\n  ${this.trace.join('\n  ')}\n` +
      `options: ${JSON.stringify(o)}\nschedule (node ids folded onto ${this.opts.nodeCount} nodes):\n` +
      formatSchedule(steps.slice(0, upTo), this.opts.nodeCount);
    if (err instanceof SafetyViolation) return new SafetyViolation(err.invariant, detail.slice(`${err.invariant} violated: `.length));
    const wrapped = new Error(`${err.name}: ${detail}`, { cause: err });
    wrapped.name = err.name;
    return wrapped;
  }
}

/** One step of a fault schedule (fault-schedule.ts), as schedule-runner.ts's applyStep does it. */
export async function applyStep(c: StoreCluster, s: Step): Promise<void> {
  const n = c.opts.nodeCount;
  const id = (x: number): number => foldNode(x, n);
  switch (s.t) {
    case 'tick':
      for (let i = 0; i < s.count; i++) c.tick(s.node === null ? undefined : id(s.node));
      return;
    case 'deliver':
      return c.deliver(s.pick);
    case 'flush':
      return c.flush(s.shuffle);
    case 'drop':
      return c.drop(s.pick);
    case 'duplicate':
      return c.duplicate(s.pick);
    case 'propose':
      c.propose(id(s.node));
      return;
    case 'campaign':
      return c.node(id(s.node)).rawNode?.campaign();
    case 'transfer':
      return c.node(id(s.node)).rawNode?.transferLeadership(id(s.to));
    case 'partition':
      return c.partition(s.side.map(id));
    case 'cut':
      return c.cutLink(id(s.from), id(s.to));
    case 'heal':
      return healAll(c);
    case 'isolate-leader': {
      const leader = c.currentLeader();
      if (leader !== undefined) c.partition([leader.id]);
      return;
    }
    case 'crash-leader': {
      const leader = c.currentLeader();
      if (leader !== undefined) await c.crash(leader.id);
      return;
    }
    case 'crash':
      return c.crash(id(s.node));
    case 'restart':
      return c.restart(id(s.node));
    case 'stall': {
      const node = c.node(id(s.node));
      if (node.up) node.diskStalled = true;
      return;
    }
    case 'unstall':
      c.node(id(s.node)).diskStalled = false;
      return;
    case 'compact':
      return c.compact(id(s.node), s.keep);
  }
}

async function healAll(c: StoreCluster): Promise<void> {
  c.healNetwork();
  for (const n of c.nodes) {
    if (!n.up) await c.restart(n.id);
    n.diskStalled = false;
  }
}

/** Liveness once every fault is healed, as schedule-runner.ts's checkLiveness. */
async function checkLiveness(c: StoreCluster, bound: number): Promise<number> {
  await healAll(c);
  await c.processReadies();
  c.check();
  const markers: string[] = [];
  let proposedAt = -Infinity;
  for (let tick = 1; tick <= bound; tick++) {
    c.tick();
    await c.processReadies();
    for (let round = 0; c.inFlight.length > 0 && round < 50; round++) {
      c.flush();
      await c.processReadies();
    }
    c.check();
    if (markers.some((m) => c.nodes.every((n) => n.sm.has(m)))) return tick;
    if (tick - proposedAt >= 2 * c.opts.electionTick) {
      const leader = c.currentLeader();
      const marker = leader === undefined ? undefined : c.propose(leader.id, `liveness-${tick}`);
      if (marker !== undefined) {
        markers.push(marker);
        proposedAt = tick;
      }
    }
  }
  throw new SafetyViolation('liveness', `no proposal applied on every node within ${bound} ticks after healing (proposed: ${markers.join(',') || 'nothing'})`);
}

export interface StoreRunStats {
  steps: number;
  maxTerm: number;
  committed: number;
  counts: StoreCluster['counts'];
}

/** Runs a schedule over SqliteLogStores, checking every invariant after every step, then liveness. */
export async function runStoreSchedule(opts: SimOptions, steps: readonly Step[], temp: TempDirs, livenessTicks = 300): Promise<StoreRunStats> {
  const c = await StoreCluster.start(opts, temp);
  try {
    for (let i = 0; i < steps.length; i++) {
      try {
        await applyStep(c, steps[i]!);
        await c.processReadies();
        c.check();
      } catch (err) {
        throw c.explain(err, `step ${i}: ${formatStep(steps[i]!, opts.nodeCount)}`, steps, i + 1);
      }
    }
    try {
      await checkLiveness(c, livenessTicks);
    } catch (err) {
      throw c.explain(err, 'liveness phase (all faults healed)', steps, steps.length);
    }
    return { steps: steps.length, maxTerm: c.checker.maxTerm, committed: c.checker.committedEntries().size, counts: { ...c.counts } };
  } finally {
    await c.close();
    for (const n of c.nodes) fs.rmSync(n.dir, { recursive: true, force: true });
  }
}
