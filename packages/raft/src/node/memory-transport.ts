/**
 * MemoryNetwork and MemoryTransport: RaftNodes in one process talking through an in-memory
 * network, with the faults tests need (partitions, isolation, a drop filter, latency).
 */
import type { SnapshotStreamHandler, Transport } from '../transport.js';
import type { Message, SnapshotStatus } from '../types.js';
import { MessageType } from '../types.js';
import type { Clock } from './clock.js';
import { realClock } from './clock.js';
import type { SnapshotSource } from './state-machine.js';

/** Options of a MemoryNetwork. */
export interface MemoryNetworkOptions {
  /** Delivery delay in ms (fixed, or drawn per message). Default 0: the next turn of the loop. */
  latencyMs?: (number | ((message: Message) => number)) | undefined;
  /** Timers for delivery. Default: Node's timers. */
  clock?: Clock | undefined;
  /**
   * Deliver a structured clone of each message rather than the sender's object, as a wire
   * would (no shared entries or buffers between nodes). Default true.
   */
  cloneMessages?: boolean | undefined;
}

/** Counters of a MemoryNetwork. */
export interface MemoryNetworkStats {
  sent: number;
  delivered: number;
  dropped: number;
}

/**
 * An in-process network. Each node gets its endpoint from transport(id). Messages go to the
 * endpoint registered for `message.to`, after the latency, unless a partition or the filter
 * drops them. A message to a node that is absent, closed or on the other side of a partition is
 * reported to the sender as unreachable (a real transport fails to connect); a snapshot that is
 * dropped for any reason is reported as failed, one that is delivered as finished.
 */
export class MemoryNetwork {
  /** Counters, for tests. */
  readonly stats: MemoryNetworkStats = { sent: 0, delivered: 0, dropped: 0 };
  private readonly endpoints = new Map<number, MemoryTransport>();
  /** Partition group of each node; nodes in different groups cannot talk. Undefined: no partition. */
  private groups: Map<number, number> | undefined;
  private filter: ((message: Message) => boolean) | undefined;
  private readonly latency: (message: Message) => number;
  readonly clock: Clock;
  private readonly clone: boolean;
  private readonly timers = new Set<unknown>();

  constructor(options: MemoryNetworkOptions = {}) {
    const l = options.latencyMs ?? 0;
    this.latency = typeof l === 'function' ? l : () => l;
    this.clock = options.clock ?? realClock;
    this.clone = options.cloneMessages ?? true;
  }

  /** The endpoint of node `id`; a new one replaces a closed one (a restarted node). */
  transport(id: number): MemoryTransport {
    const existing = this.endpoints.get(id);
    if (existing !== undefined && !existing.closed) throw new Error(`node ${id} already has an open MemoryTransport`);
    const t = new MemoryTransport(this, id);
    this.endpoints.set(id, t);
    return t;
  }

  /**
   * Splits the network: nodes in different groups cannot exchange messages; a node in no group
   * is cut off from everyone. Replaces any earlier partition.
   */
  partition(...groups: number[][]): void {
    const map = new Map<number, number>();
    groups.forEach((g, i) => g.forEach((id) => map.set(id, i)));
    this.groups = map;
  }

  /** Cuts `id` off from every other node (and keeps any existing partition of the others). */
  isolate(id: number): void {
    const map = this.groups ?? new Map<number, number>([...this.endpoints.keys()].map((n) => [n, 0]));
    map.set(id, -id - 1);
    this.groups = map;
  }

  /** Removes every partition. */
  heal(): void {
    this.groups = undefined;
  }

  /** Drops every message for which `keep` returns false (silently, like packet loss). */
  setFilter(keep: ((message: Message) => boolean) | undefined): void {
    this.filter = keep;
  }

  /** Whether `from` and `to` can currently talk. */
  connected(from: number, to: number): boolean {
    if (this.groups === undefined) return true;
    const a = this.groups.get(from);
    const b = this.groups.get(to);
    return a !== undefined && a === b;
  }

  /** Cancels deliveries in flight (for tests that end abruptly). */
  clear(): void {
    for (const t of this.timers) this.clock.clearTimeout(t);
    this.timers.clear();
  }

  /** @internal */
  route(sender: MemoryTransport, m: Message): void {
    this.stats.sent++;
    const dst = this.endpoints.get(m.to);
    const isSnap = m.type === MessageType.MsgSnap;
    if (dst === undefined || dst.closed || !this.connected(sender.id, m.to)) {
      this.stats.dropped++;
      this.later(0, () => {
        sender.unreachable(m.to);
        if (isSnap) sender.snapshotStatus(m.to, 'failed');
      });
      return;
    }
    if (this.filter !== undefined && !this.filter(m)) {
      this.stats.dropped++;
      if (isSnap) this.later(0, () => sender.snapshotStatus(m.to, 'failed'));
      return;
    }
    const copy = this.clone ? structuredClone(m) : m;
    this.later(this.latency(m), () => {
      // A node that closed (or restarted) while the message was in flight does not get it.
      if (dst.closed || this.endpoints.get(m.to) !== dst) {
        this.stats.dropped++;
        if (isSnap) sender.snapshotStatus(m.to, 'failed');
        return;
      }
      this.stats.delivered++;
      dst.deliver(copy);
      if (isSnap) sender.snapshotStatus(m.to, 'finished');
    });
  }

  /**
   * @internal A streamed snapshot: the receiver's sink takes the chunks one at a time, each a
   * copy (as off a wire); a partition, a closed receiver or a filtered MsgSnap fails the stream.
   */
  routeSnapshot(sender: MemoryTransport, m: Message, source: SnapshotSource): void {
    this.stats.sent++;
    const dst = this.endpoints.get(m.to);
    const reachable = (): boolean =>
      dst !== undefined && !dst.closed && this.endpoints.get(m.to) === dst && this.connected(sender.id, m.to);
    const fail = (): void => {
      this.stats.dropped++;
      sender.snapshotStatus(m.to, 'failed');
    };
    if (!reachable() || (this.filter !== undefined && !this.filter(m))) {
      this.later(0, () => void source.close().finally(fail));
      return;
    }
    const copy = this.clone ? structuredClone(m) : m;
    this.later(this.latency(m), () => {
      void (async () => {
        let delivered = false;
        try {
          if (!reachable()) return;
          const sink = await dst!.snapshotSink(copy);
          try {
            for await (const chunk of source.chunks()) {
              if (!reachable()) throw new Error('receiver gone');
              await sink.write(this.clone ? chunk.slice() : chunk);
            }
            if (!reachable()) throw new Error('receiver gone');
            await sink.finish();
          } catch (err) {
            await sink.abort();
            throw err;
          }
          this.stats.delivered++;
          dst!.deliver(copy);
          delivered = true;
        } catch {
          // The stream failed: reported below, as a real transport reports a broken connection.
        } finally {
          await source.close().catch(() => {});
          if (delivered) sender.snapshotStatus(m.to, 'finished');
          else fail();
        }
      })();
    });
  }

  private later(ms: number, fn: () => void): void {
    const timer = this.clock.setTimeout(() => {
      this.timers.delete(timer);
      fn();
    }, ms);
    this.timers.add(timer);
  }
}

/** One node's endpoint on a MemoryNetwork. */
export class MemoryTransport implements Transport {
  readonly id: number;
  private readonly network: MemoryNetwork;
  private messageHandler: ((message: Message) => void) | undefined;
  private unreachableHandler: ((peerId: number) => void) | undefined;
  private snapshotHandler: ((peerId: number, status: SnapshotStatus) => void) | undefined;
  private streamHandler: SnapshotStreamHandler | undefined;
  private readonly addresses = new Map<number, string>();
  /** Whether close() was called. */
  closed = false;

  /** Use MemoryNetwork.transport(id). */
  constructor(network: MemoryNetwork, id: number) {
    this.network = network;
    this.id = id;
  }

  /** The peers and addresses the node registered (the network routes by id, not address). */
  get peers(): ReadonlyMap<number, string> {
    return this.addresses;
  }

  send(messages: readonly Message[]): void {
    if (this.closed) return;
    for (const m of messages) this.network.route(this, m);
  }
  onMessage(handler: (message: Message) => void): void {
    this.messageHandler = handler;
  }
  onUnreachable(handler: (peerId: number) => void): void {
    this.unreachableHandler = handler;
  }
  onSnapshotStatus(handler: (peerId: number, status: SnapshotStatus) => void): void {
    this.snapshotHandler = handler;
  }
  sendSnapshot(message: Message, source: SnapshotSource): void {
    if (this.closed) {
      void source.close();
      return;
    }
    this.network.routeSnapshot(this, message, source);
  }
  onSnapshotStream(handler: SnapshotStreamHandler): void {
    this.streamHandler = handler;
  }
  addPeer(peerId: number, address: string): void {
    this.addresses.set(peerId, address);
  }
  removePeer(peerId: number): void {
    this.addresses.delete(peerId);
  }
  async close(): Promise<void> {
    this.closed = true;
  }

  /** @internal */
  deliver(m: Message): void {
    if (!this.closed) this.messageHandler?.(m);
  }
  /** @internal */
  snapshotSink(m: Message): ReturnType<SnapshotStreamHandler> {
    if (this.streamHandler === undefined) return Promise.reject(new Error(`node ${this.id} takes no snapshot streams`));
    return this.streamHandler(m);
  }
  /** @internal */
  unreachable(peerId: number): void {
    if (!this.closed) this.unreachableHandler?.(peerId);
  }
  /** @internal */
  snapshotStatus(peerId: number, status: SnapshotStatus): void {
    if (!this.closed) this.snapshotHandler?.(peerId, status);
  }
}
