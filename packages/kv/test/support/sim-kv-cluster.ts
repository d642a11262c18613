/**
 * KvMembers on @pontoon/sim's virtual time: the sim's scheduler, network (latency, loss,
 * one-way cuts), disks (the Raft log loses what was not fsynced on a crash) and node clocks
 * (skew), with each member's store in a SQLite file that outlives its crashes (what a crash
 * loses there is what SQLite had not committed: nothing, since a batch commits before it counts
 * as applied). SimCluster hosts in-memory state machines only, so this harness builds its own
 * cluster from the sim's parts; the sim's transport does not stream snapshots, so this file adds
 * that over the same network.
 *
 * The store's snapshot path does real file I/O (a copy, chunks, fsyncs, renames); virtual time
 * stands still until each such operation settles (Scheduler.hold), so a seed replays the same
 * schedule on an idle machine and on a loaded one.
 */
import type { LogStore, Message, SnapshotPolicy, SnapshotSink, SnapshotStatus, SnapshotSource, SnapshotStreamHandler, Transport } from '@pontoon/raft';
import { NodeClock, Scheduler, SimDisk, SimNetwork, SimRandom } from '@pontoon/sim';
import type { SimTransport } from '@pontoon/sim';
import { join } from 'node:path';
import { KvMember } from '../../src/kv-member.js';
import { KvStateMachine, type KvSnapshotSink, type KvSnapshotSource } from '../../src/kv-state-machine.js';
import { type KvPeerLink, type PeerHandler, type PeerRequest, type PeerResponse, PeerUnreachableError } from '../../src/peer-link.js';

export const SIM_TICK_MS = 10;
export const SIM_ELECTION_TICKS = 10;

/** The sim's transport plus snapshot streams, chunk by chunk over the same links. */
class StreamingTransport implements Transport {
  private streamHandler: SnapshotStreamHandler | undefined;
  private statusHandler: ((peer: number, status: SnapshotStatus) => void) | undefined;

  constructor(
    private readonly cluster: SimKvCluster,
    readonly inner: SimTransport,
    readonly id: number,
    private readonly clock: NodeClock,
  ) {}

  send(messages: readonly Message[]): void {
    this.inner.send(messages);
  }
  onMessage(handler: (m: Message) => void): void {
    this.inner.onMessage(handler);
  }
  onUnreachable(handler: (peer: number) => void): void {
    this.inner.onUnreachable(handler);
  }
  onSnapshotStatus(handler: (peer: number, status: SnapshotStatus) => void): void {
    this.statusHandler = handler;
    this.inner.onSnapshotStatus(handler);
  }
  addPeer(): void {}
  removePeer(): void {}
  close(): Promise<void> {
    return this.inner.close();
  }
  onSnapshotStream(handler: SnapshotStreamHandler): void {
    this.streamHandler = handler;
  }

  sendSnapshot(message: Message, source: SnapshotSource): void {
    void this.stream(message, source);
  }

  /** @internal */
  get alive(): boolean {
    return !this.inner.closed && !this.clock.isDead;
  }

  /** @internal */
  receiverFor(message: Message): Promise<SnapshotSink> | undefined {
    return this.alive ? this.streamHandler?.(message) : undefined;
  }

  private async stream(message: Message, source: SnapshotSource): Promise<void> {
    const to = message.to;
    let sink: SnapshotSink | undefined;
    let ok = false;
    try {
      // The stream is a connection to one incarnation of the receiver: it dies with it, and a
      // restarted receiver never hears the rest of a stream begun before its crash.
      await this.cluster.delay();
      const receiver = this.cluster.transportOf(to);
      const link = (): StreamingTransport | undefined =>
        receiver !== undefined && receiver === this.cluster.transportOf(to) && receiver.alive && this.alive && this.cluster.network.linked(this.id, to)
          ? receiver
          : undefined;
      sink = await link()?.receiverFor(message);
      if (sink === undefined) return;
      for await (const chunk of source.chunks()) {
        await this.cluster.delay();
        if (link() === undefined) return;
        await sink.write(chunk);
      }
      await sink.finish();
      sink = undefined;
      await this.cluster.delay();
      const dst = link();
      if (dst === undefined) return;
      dst.inner.deliver(message);
      ok = true;
    } catch {
      ok = false;
    } finally {
      await sink?.abort().catch(() => undefined);
      await source.close().catch(() => undefined);
      if (this.alive) this.clock.gate(() => this.statusHandler?.(to, ok ? 'finished' : 'failed'));
    }
  }
}

/** The peer link over the sim's network: latency, cuts; a reply lost on a cut link is never heard. */
class SimPeerLink implements KvPeerLink {
  private handler: PeerHandler | undefined;
  closed = false;

  constructor(
    private readonly cluster: SimKvCluster,
    readonly id: number,
  ) {}

  serve(handler: PeerHandler): void {
    this.handler = handler;
  }

  close(): void {
    this.closed = true;
  }

  /** @internal */
  get serving(): PeerHandler | undefined {
    return this.closed ? undefined : this.handler;
  }

  call<R extends PeerRequest>(to: number, request: R, signal?: AbortSignal): Promise<PeerResponse<R['kind']>> {
    const c = this.cluster;
    return new Promise((resolve, reject) => {
      const onAbort = (): void => reject(signal!.reason);
      if (signal?.aborted === true) return onAbort();
      signal?.addEventListener('abort', onAbort, { once: true });
      const settle = (fn: () => void): void => {
        signal?.removeEventListener('abort', onAbort);
        if (!this.closed) fn();
      };
      c.scheduler.schedule(c.network.latency(), () => {
        const handler = c.linkOf(to)?.serving;
        // Refused before delivery (down, or cut): certainly not acted on.
        if (handler === undefined || !c.network.linked(this.id, to)) return settle(() => reject(new PeerUnreachableError(to)));
        handler(request, signal).then(
          (value) => c.scheduler.schedule(c.network.latency(), () => c.network.linked(to, this.id) && settle(() => resolve(value as PeerResponse<R['kind']>))),
          (err: unknown) => c.scheduler.schedule(c.network.latency(), () => c.network.linked(to, this.id) && settle(() => reject(err))),
        );
      });
    });
  }
}

/**
 * `kv`, with each of its snapshot path's file operations held by the scheduler: no virtual time
 * passes while one runs, however long the disk or a loaded machine takes.
 */
function holdFileIo(kv: KvStateMachine, scheduler: Scheduler): KvStateMachine {
  const hold = <T>(p: Promise<T>): Promise<T> => scheduler.hold(p);
  const openSnapshot = kv.openSnapshot.bind(kv);
  const receiveSnapshot = kv.receiveSnapshot.bind(kv);
  const installSnapshot = kv.installSnapshot.bind(kv);
  kv.openSnapshot = async (): Promise<KvSnapshotSource> => {
    const source = await hold(openSnapshot());
    return {
      position: source.position,
      bytes: source.bytes,
      async *chunks() {
        const it = source.chunks()[Symbol.asyncIterator]();
        try {
          for (;;) {
            const next = await hold(it.next());
            if (next.done === true) return;
            yield next.value;
          }
        } finally {
          if (it.return !== undefined) await hold(it.return());
        }
      },
      close: () => hold(source.close()),
    };
  };
  kv.receiveSnapshot = async (snapshot): Promise<KvSnapshotSink> => {
    const sink = await hold(receiveSnapshot(snapshot));
    return { write: (chunk) => hold(sink.write(chunk)), finish: () => hold(sink.finish()), abort: () => hold(sink.abort()) };
  };
  kv.installSnapshot = (index) => hold(installSnapshot(index));
  return kv;
}

export interface SimKvNode {
  readonly id: number;
  readonly disk: SimDisk;
  readonly file: string;
  clock: NodeClock;
  clockRate: number;
  incarnation: number;
  member: KvMember | undefined;
  kv: KvStateMachine | undefined;
  transport: StreamingTransport | undefined;
  link: SimPeerLink | undefined;
  /** The crashed incarnation's store winding down (see KvStateMachine.settled). */
  settling: Promise<void>;
  /** A restart waiting for that. */
  starting: Promise<void> | undefined;
}

export interface SimKvClusterOptions {
  seed: number;
  dir: string;
  nodes?: number;
  lossRate?: number;
  snapshot: SnapshotPolicy | false;
  /** The members' lessor expiry check interval (default: the member's, etcd's 500 ms). */
  lessorCheckIntervalMs?: number;
}

export class SimKvCluster {
  readonly scheduler = new Scheduler();
  readonly network: SimNetwork;
  readonly rand: SimRandom;
  readonly nodes: SimKvNode[] = [];
  private readonly members: { id: number; address: string }[] = [];
  private readonly startedHooks: Array<(n: SimKvNode) => void> = [];
  /** Errors members reported (a state machine or store failure stops a node: a bug here). */
  readonly errors: Error[] = [];

  constructor(private readonly options: SimKvClusterOptions) {
    this.rand = new SimRandom(options.seed);
    this.network = new SimNetwork(this.scheduler, this.rand.derive('network'), { lossRate: options.lossRate ?? 0 });
    const size = options.nodes ?? 3;
    for (let id = 1; id <= size; id++) this.members.push({ id, address: `sim-${id}` });
    for (const { id } of this.members) {
      this.nodes.push({
        id,
        disk: new SimDisk(id, this.scheduler, this.rand.derive(`disk-${id}`), { tearOnCrash: true }),
        file: join(options.dir, `kv-${id}.db`),
        clock: new NodeClock(this.scheduler),
        clockRate: 1,
        incarnation: 0,
        member: undefined,
        kv: undefined,
        transport: undefined,
        link: undefined,
        settling: Promise.resolve(),
        starting: undefined,
      });
    }
  }

  onStarted(hook: (n: SimKvNode) => void): void {
    this.startedHooks.push(hook);
  }

  node(id: number): SimKvNode {
    return this.nodes[id - 1]!;
  }

  transportOf(id: number): StreamingTransport | undefined {
    return this.nodes[id - 1]?.transport;
  }

  linkOf(id: number): SimPeerLink | undefined {
    return this.nodes[id - 1]?.link;
  }

  /** A network delay, in virtual time. */
  delay(): Promise<void> {
    return new Promise((resolve) => this.scheduler.schedule(this.network.latency(), resolve));
  }

  async start(): Promise<void> {
    for (const n of this.nodes) await this.startNode(n);
  }

  /** Kills node `id`'s process: its clock and timers stop, the Raft log loses unsynced writes. */
  crash(id: number): void {
    const n = this.node(id);
    if (n.member === undefined) return;
    n.clock.kill();
    n.disk.crash();
    n.link!.close();
    const member = n.member;
    n.member = undefined;
    // What a dead process leaves: nothing runs, nothing answers. close() only releases this
    // incarnation's objects (its timers are dead; its log writes never complete).
    void member.close().catch(() => undefined);
    n.kv!.close();
    // The dead process's file operations end here in a real crash; in this one process they end
    // at their next step, and the next incarnation opens the files only after that.
    n.settling = n.kv!.settled();
    n.kv = undefined;
  }

  /** Resolves once no crashed incarnation's file operation runs (before removing the files). */
  async settled(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.settling));
  }

  async restart(id: number): Promise<void> {
    const n = this.node(id);
    if (n.member !== undefined) return;
    // Two restarts of one crashed node (a fault's end, the final healing) start it once.
    n.starting ??= this.startNode(n).finally(() => (n.starting = undefined));
    await n.starting;
  }

  setClockRate(id: number, rate: number): void {
    const n = this.node(id);
    n.clockRate = rate;
    n.clock.setRate(rate);
  }

  private async startNode(n: SimKvNode): Promise<void> {
    n.incarnation++;
    const clock = new NodeClock(this.scheduler, this.rand.between(0, 1_000_000));
    if (n.clockRate !== 1) clock.setRate(n.clockRate);
    n.clock = clock;
    await n.settling;
    const logStore: LogStore = n.disk.open(clock);
    const transport = new StreamingTransport(this, this.network.attach(n.id, clock), n.id, clock);
    const link = new SimPeerLink(this, n.id);
    const kv = holdFileIo(await KvStateMachine.open(n.file, { synchronous: 'normal', verify: 'meta', minLeaseTtl: 1 }), this.scheduler);
    const member = new KvMember(
      {
        id: n.id,
        dataDir: this.options.dir,
        transport,
        peers: link,
        initialMembers: this.members,
        raft: {
          tickMs: SIM_TICK_MS,
          electionTicks: SIM_ELECTION_TICKS,
          heartbeatTicks: 2,
          clock,
          rand: this.rand.derive(`raft-${n.id}-${n.incarnation}`),
          snapshot: this.options.snapshot,
          maxBatchEntries: 64,
          proposalTimeoutMs: 50 * SIM_TICK_MS * SIM_ELECTION_TICKS,
          readTimeoutMs: 50 * SIM_TICK_MS * SIM_ELECTION_TICKS,
        },
        requestTimeoutMs: 500,
        ...(this.options.lessorCheckIntervalMs === undefined ? {} : { lessor: { checkIntervalMs: this.options.lessorCheckIntervalMs } }),
      },
      kv,
      logStore,
    );
    // A crashed incarnation's leftovers fail against its closed store; only live ones count.
    member.raft.on('error', (err) => {
      if (n.member === member) this.errors.push(err);
    });
    n.member = member;
    n.kv = kv;
    n.transport = transport;
    n.link = link;
    for (const hook of this.startedHooks) hook(n);
  }
}
