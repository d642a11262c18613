/**
 * A cluster of RaftNodes in virtual time: each node has a disk that outlives its crashes, and
 * each incarnation of it a clock, a transport and a state machine of its own. A restart builds a
 * new RaftNode from what the disk holds as durable, and nothing else.
 */
import type { Entry, Member, RaftNodeOptions, Role, SnapshotPolicy, StateMachine } from '@pontoon/raft';
import { RaftNode } from '@pontoon/raft';
import type { DiskOptions } from './log-store.js';
import { SimDisk } from './log-store.js';
import type { NetworkOptions } from './network.js';
import { SimNetwork } from './network.js';
import { NodeClock } from './node-clock.js';
import { SimRandom } from './random.js';
import { Scheduler } from './scheduler.js';

/** The Raft settings every node of a simulated cluster gets. */
export interface SimRaftOptions {
  /** Virtual ms per tick. Default 10. */
  tickMs?: number;
  /** Default 10. */
  electionTicks?: number;
  /** Default 1. */
  heartbeatTicks?: number;
  /** Serve reads from the leader's lease (see RaftNodeOptions.leaseBasedReads). Default false. */
  leaseBasedReads?: boolean;
  /** Default true. */
  preVote?: boolean;
  /** Default true. */
  checkQuorum?: boolean;
  /** Default: every 300 entries, keeping 50 (small, so that runs exercise snapshots). */
  snapshot?: SnapshotPolicy | false;
  /** Default 64: keeps appends small, so that crashes and tears cut through batches. */
  maxBatchEntries?: number;
}

/** What a cluster is built from. */
export interface ClusterOptions<SM extends StateMachine> {
  /** Number of voters (ids 1..nodes). */
  nodes: number;
  /** A fresh state machine for an incarnation of node `id`. */
  stateMachine: (id: number) => SM;
  seed: number;
  raft?: SimRaftOptions;
  network?: NetworkOptions;
  disk?: DiskOptions;
  /** Per-node disk options (planted bugs on one node). */
  diskFor?: (id: number) => DiskOptions | undefined;
}

/** Hooks the checkers and traces use to watch every incarnation. */
export interface ClusterObserver<SM extends StateMachine> {
  /** A new incarnation started (before any of its events), its state machine as of `index`. */
  started?(node: SimNode<SM>, index: number): void;
  /** An incarnation applied an entry to its state machine (after apply returned). */
  applied?(node: SimNode<SM>, entry: Readonly<Entry>): void;
  /** An incarnation replaced its state machine with a snapshot from the leader, taken at `index`. */
  restored?(node: SimNode<SM>, index: number): void;
  roleChanged?(node: SimNode<SM>, role: Role, term: number): void;
  /** The node reported an unrecoverable error (it stops itself). */
  error?(node: SimNode<SM>, error: Error): void;
  crashed?(node: SimNode<SM>, lostWrites: number): void;
}

/**
 * One node of the cluster across its incarnations. `raft` and `stateMachine` are those of the
 * current incarnation; both are undefined while the node is down.
 */
export class SimNode<SM extends StateMachine> {
  raft: RaftNode<SM> | undefined;
  stateMachine: SM | undefined;
  clock: NodeClock;
  /** Incarnations started so far (1 after the first start). */
  incarnation = 0;
  /** The rate of this node's clock (skew), kept across restarts. */
  clockRate = 1;

  constructor(
    readonly id: number,
    readonly disk: SimDisk,
    clock: NodeClock,
  ) {
    this.clock = clock;
  }

  get up(): boolean {
    return this.raft !== undefined && !this.raft.isStopped;
  }
}

/** Wraps a state machine so that the checkers see every entry applied. */
function observed<SM extends StateMachine>(sm: SM, onApply: (e: Readonly<Entry>) => void): SM {
  const wrapper: StateMachine = {
    apply(entry) {
      const r = sm.apply(entry);
      if (r instanceof Promise) return r.then((v) => (onApply(entry), v));
      onApply(entry);
      return r;
    },
    snapshot: () => sm.snapshot(),
    restore: (data) => sm.restore(data),
  };
  return wrapper as SM;
}

export class SimCluster<SM extends StateMachine> {
  readonly scheduler = new Scheduler();
  readonly network: SimNetwork;
  readonly nodes: SimNode<SM>[] = [];
  readonly rand: SimRandom;
  private readonly members: Member[];
  private readonly observers: ClusterObserver<SM>[] = [];
  private readonly raftOptions: Required<Omit<SimRaftOptions, 'snapshot'>> & { snapshot: SnapshotPolicy | false };

  constructor(private readonly options: ClusterOptions<SM>) {
    this.rand = new SimRandom(options.seed);
    this.network = new SimNetwork(this.scheduler, this.rand.derive('network'), options.network);
    const r = options.raft ?? {};
    this.raftOptions = {
      tickMs: r.tickMs ?? 10,
      electionTicks: r.electionTicks ?? 10,
      heartbeatTicks: r.heartbeatTicks ?? 1,
      leaseBasedReads: r.leaseBasedReads ?? false,
      preVote: r.preVote ?? true,
      checkQuorum: r.checkQuorum ?? true,
      snapshot: r.snapshot ?? { everyEntries: 300, keepEntries: 50 },
      maxBatchEntries: r.maxBatchEntries ?? 64,
    };
    this.members = [];
    for (let id = 1; id <= options.nodes; id++) this.members.push({ id, address: `sim-${id}` });
    for (const m of this.members) {
      const diskOptions = { ...options.disk, ...options.diskFor?.(m.id) };
      const disk = new SimDisk(m.id, this.scheduler, this.rand.derive(`disk-${m.id}`), diskOptions);
      this.nodes.push(new SimNode<SM>(m.id, disk, new NodeClock(this.scheduler)));
    }
  }

  /** Virtual ms of one election timeout (the shortest a follower waits). */
  get electionTimeoutMs(): number {
    return this.raftOptions.tickMs * this.raftOptions.electionTicks;
  }

  get leaseBasedReads(): boolean {
    return this.raftOptions.leaseBasedReads;
  }

  watch(observer: ClusterObserver<SM>): void {
    this.observers.push(observer);
  }

  node(id: number): SimNode<SM> {
    const n = this.nodes[id - 1];
    if (n === undefined) throw new RangeError(`no node ${id} in a cluster of ${this.nodes.length}`);
    return n;
  }

  /** Starts every node (they bootstrap the cluster together). */
  start(): void {
    for (const n of this.nodes) this.startNode(n);
  }

  /** The nodes that believe they lead, with their terms, highest term first. */
  leaders(): Array<{ node: SimNode<SM>; term: number }> {
    const out: Array<{ node: SimNode<SM>; term: number }> = [];
    for (const n of this.nodes) {
      if (n.up && n.raft!.isLeader && !n.clock.isPaused) out.push({ node: n, term: n.raft!.status().term });
    }
    return out.sort((a, b) => b.term - a.term);
  }

  /**
   * Kills node `id`'s process: its unsynced writes are lost (the one in progress torn when
   * `tear`; default: the disk's `tearOnCrash`). No-op if it is down.
   */
  crash(id: number, tear?: boolean): void {
    const n = this.node(id);
    if (n.raft === undefined) return;
    n.clock.kill();
    const lost = n.disk.crash(tear);
    n.raft = undefined;
    n.stateMachine = undefined;
    for (const o of this.observers) o.crashed?.(n, lost);
  }

  /** Starts a new incarnation of node `id` from its durable state. No-op if it is up. */
  restart(id: number): void {
    const n = this.node(id);
    if (n.up) return;
    if (n.raft !== undefined) this.crash(id);
    this.startNode(n);
  }

  pause(id: number): void {
    this.node(id).clock.pause();
  }

  resume(id: number): void {
    this.node(id).clock.resume();
  }

  setClockRate(id: number, rate: number): void {
    const n = this.node(id);
    n.clockRate = rate;
    n.clock.setRate(rate);
  }

  private startNode(n: SimNode<SM>): void {
    n.incarnation++;
    const clock = new NodeClock(this.scheduler, this.rand.intn(1_000_000));
    if (n.clockRate !== 1) clock.setRate(n.clockRate);
    n.clock = clock;
    const logStore = n.disk.open(clock);
    const transport = this.network.attach(n.id, clock);
    const inner = this.options.stateMachine(n.id);
    const sm = observed(inner, (e) => {
      for (const o of this.observers) o.applied?.(n, e);
    });
    const r = this.raftOptions;
    const options: RaftNodeOptions<SM> = {
      id: n.id,
      logStore,
      transport,
      stateMachine: sm,
      initialMembers: this.members,
      tickMs: r.tickMs,
      electionTicks: r.electionTicks,
      heartbeatTicks: r.heartbeatTicks,
      preVote: r.preVote,
      checkQuorum: r.checkQuorum,
      leaseBasedReads: r.leaseBasedReads,
      snapshot: r.snapshot,
      maxBatchEntries: r.maxBatchEntries,
      proposalTimeoutMs: 50 * r.tickMs * r.electionTicks,
      readTimeoutMs: 50 * r.tickMs * r.electionTicks,
      clock,
      rand: this.rand.derive(`raft-${n.id}-${n.incarnation}`),
    };
    n.stateMachine = inner;
    // A restarted node rebuilds its state machine from the latest durable snapshot.
    const startIndex = logStore.snapshot().metadata.index;
    for (const o of this.observers) o.started?.(n, startIndex);
    const raft = new RaftNode<SM>(options);
    n.raft = raft;
    raft.on('roleChanged', ({ role, term }) => {
      for (const o of this.observers) o.roleChanged?.(n, role, term);
    });
    raft.on('snapshotInstalled', ({ index }) => {
      for (const o of this.observers) o.restored?.(n, index);
    });
    raft.on('error', (err) => {
      for (const o of this.observers) o.error?.(n, err);
    });
  }
}
