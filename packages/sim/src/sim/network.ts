/**
 * The simulated network: one SimTransport per node incarnation, messages delivered after a
 * latency drawn per message, with loss, duplication, reordering (latency jitter and occasional
 * long delays), and partitions that cut links in one or both directions.
 */
import type { Message, SnapshotStatus, Transport } from '@pontoon/raft';
import { MessageType } from '@pontoon/raft';
import type { NodeClock } from './node-clock.js';
import type { SimRandom } from './random.js';
import type { Scheduler } from './scheduler.js';

/** How messages travel when no fault is active. */
export interface NetworkOptions {
  /** Smallest one-way latency, ms. Default 1. */
  minLatencyMs?: number;
  /** Largest one-way latency (uniform between min and max), ms. Default 4. */
  maxLatencyMs?: number;
  /** Probability that a message is held back much longer than usual (reordering). Default 0.01. */
  reorderRate?: number;
  /** How long a reordered message is held back at most, ms. Default 40. */
  reorderDelayMs?: number;
  /** Base probability of losing a message. Default 0. */
  lossRate?: number;
  /** Base probability of delivering a message twice. Default 0. */
  duplicateRate?: number;
}

/** Counters of a SimNetwork. */
export interface NetworkStats {
  sent: number;
  delivered: number;
  dropped: number;
  duplicated: number;
}

/**
 * Copies a message the way a wire would, so that no mutable object is shared between sender
 * and receiver. Entries are shared, frozen instead of copied (a Raft node never changes an entry
 * once it is in a log; if one tried, the freeze would make it throw): copying each entry for each
 * follower was the largest allocation of a run.
 */
function copyMessage(m: Message): Message {
  const copy: Message = { ...m };
  if (m.entries.length > 0) {
    for (const e of m.entries) if (!Object.isFrozen(e)) Object.freeze(e);
    copy.entries = m.entries.slice();
  }
  return copy;
}

export class SimNetwork {
  readonly stats: NetworkStats = { sent: 0, delivered: 0, dropped: 0, duplicated: 0 };
  private readonly endpoints = new Map<number, SimTransport>();
  /** Cut links, as "from>to", with how many active faults cut each (faults overlap). */
  private readonly cut = new Map<string, number>();
  private readonly minLatency: number;
  private readonly maxLatency: number;
  private readonly reorderRate: number;
  private readonly reorderDelay: number;
  /** The current loss and duplication probabilities (the base rates, or a burst's). */
  lossRate: number;
  duplicateRate: number;
  private readonly bursts = new Set<{ loss: number; duplicate: number }>();
  /** Active late-duplicate faults: a copy of a message arrives again up to `maxDelayMs` later. */
  private readonly lateCopies = new Set<{ rate: number; maxDelayMs: number }>();
  private readonly baseLoss: number;
  private readonly baseDup: number;
  /** Called for every message handed to the network (for traces). */
  onSend: ((m: Message) => void) | undefined;

  constructor(
    private readonly scheduler: Scheduler,
    private readonly rand: SimRandom,
    options: NetworkOptions = {},
  ) {
    this.minLatency = options.minLatencyMs ?? 1;
    this.maxLatency = options.maxLatencyMs ?? 4;
    this.reorderRate = options.reorderRate ?? 0.01;
    this.reorderDelay = options.reorderDelayMs ?? 40;
    this.baseLoss = options.lossRate ?? 0;
    this.baseDup = options.duplicateRate ?? 0;
    this.lossRate = this.baseLoss;
    this.duplicateRate = this.baseDup;
  }

  /** A new endpoint for node `id` whose process runs on `clock`; replaces an earlier one. */
  attach(id: number, clock: NodeClock): SimTransport {
    const t = new SimTransport(this, id, clock);
    this.endpoints.set(id, t);
    return t;
  }

  /** Cuts the link from `from` to `to` (one way). */
  cutLink(from: number, to: number): void {
    if (from === to) return;
    const k = `${from}>${to}`;
    this.cut.set(k, (this.cut.get(k) ?? 0) + 1);
  }

  /** Restores the link from `from` to `to`. */
  healLink(from: number, to: number): void {
    const k = `${from}>${to}`;
    const n = this.cut.get(k);
    if (n === undefined) return;
    if (n <= 1) this.cut.delete(k);
    else this.cut.set(k, n - 1);
  }

  /** Restores every link. */
  healAll(): void {
    this.cut.clear();
  }

  /** Adds a loss/duplication burst; returns the function that ends it. */
  burst(loss: number, duplicate: number): () => void {
    const b = { loss, duplicate };
    this.bursts.add(b);
    this.recomputeRates();
    return () => {
      this.bursts.delete(b);
      this.recomputeRates();
    };
  }

  /** Ends every burst and late-duplicate fault: back to the base loss and duplication rates. */
  endBursts(): void {
    this.bursts.clear();
    this.lateCopies.clear();
    this.recomputeRates();
  }

  /**
   * While it lasts, each message delivered is, with probability `rate`, delivered once more up
   * to `maxDelayMs` later: a stale copy arriving after the state it was sent in has moved on (a
   * retransmission, a slow path). Returns the function that ends it.
   */
  lateDuplicates(rate: number, maxDelayMs: number): () => void {
    const f = { rate, maxDelayMs };
    this.lateCopies.add(f);
    return () => {
      this.lateCopies.delete(f);
    };
  }

  private recomputeRates(): void {
    this.lossRate = this.baseLoss;
    this.duplicateRate = this.baseDup;
    for (const b of this.bursts) {
      this.lossRate = Math.max(this.lossRate, b.loss);
      this.duplicateRate = Math.max(this.duplicateRate, b.duplicate);
    }
  }

  linked(from: number, to: number): boolean {
    return !this.cut.has(`${from}>${to}`);
  }

  /** A one-way latency draw, ms. */
  latency(): number {
    let ms = this.rand.between(this.minLatency, this.maxLatency);
    if (this.rand.chance(this.reorderRate)) ms += this.rand.between(1, this.reorderDelay);
    return ms;
  }

  /**
   * @internal Routes one send() call: the messages to one peer travel together (one write per
   * peer per turn of the event loop, as a real transport batches them), each one still lost or
   * duplicated on its own.
   */
  routeAll(sender: SimTransport, messages: readonly Message[]): void {
    if (messages.length === 1) {
      this.route(sender, messages[0]!.to, messages);
      return;
    }
    const byPeer = new Map<number, Message[]>();
    for (const m of messages) {
      const list = byPeer.get(m.to);
      if (list === undefined) byPeer.set(m.to, [m]);
      else list.push(m);
    }
    for (const [to, list] of byPeer) this.route(sender, to, list);
  }

  private route(sender: SimTransport, to: number, messages: readonly Message[]): void {
    this.stats.sent += messages.length;
    if (this.onSend !== undefined) for (const m of messages) this.onSend(m);
    const dst = this.endpoints.get(to);
    if (dst === undefined || !this.linked(sender.id, to)) {
      // A connection that cannot be made is noticed by the sender's transport.
      this.stats.dropped += messages.length;
      const snaps = messages.filter((m) => m.type === MessageType.MsgSnap).length;
      this.scheduler.schedule(this.latency(), () => {
        sender.unreachable(to);
        for (let i = 0; i < snaps; i++) sender.snapshotStatus(to, 'failed');
      });
      return;
    }
    const batch: Message[] = [];
    let extra: Message[] | undefined;
    for (const m of messages) {
      if (this.rand.chance(this.lossRate)) {
        this.stats.dropped++;
        if (m.type === MessageType.MsgSnap) this.scheduler.schedule(this.latency(), () => sender.snapshotStatus(to, 'failed'));
        continue;
      }
      batch.push(copyMessage(m));
      if (this.rand.chance(this.duplicateRate)) {
        this.stats.duplicated++;
        (extra ??= []).push(copyMessage(m));
      }
      for (const late of this.lateCopies) {
        if (!this.rand.chance(late.rate)) continue;
        this.stats.duplicated++;
        this.deliverLater(sender, dst, [copyMessage(m)], false, this.rand.between(1, late.maxDelayMs));
      }
    }
    if (batch.length > 0) this.deliverLater(sender, dst, batch, true);
    if (extra !== undefined) this.deliverLater(sender, dst, extra, false);
  }

  private deliverLater(sender: SimTransport, dst: SimTransport, batch: Message[], original: boolean, extraDelayMs = 0): void {
    const to = dst.id;
    this.scheduler.schedule(this.latency() + extraDelayMs, () => {
      // Partitions also cut what is already in flight; a restarted node gets nothing sent to
      // its previous incarnation.
      const lost = this.endpoints.get(to) !== dst || dst.closed || !this.linked(sender.id, to);
      for (const m of batch) {
        const isSnap = m.type === MessageType.MsgSnap;
        if (lost) {
          this.stats.dropped++;
          if (isSnap && original) sender.snapshotStatus(to, 'failed');
          continue;
        }
        this.stats.delivered++;
        dst.deliver(m);
        if (isSnap && original) sender.snapshotStatus(to, 'finished');
      }
    });
  }
}

/** One node incarnation's endpoint: what its RaftNode sends through and receives from. */
export class SimTransport implements Transport {
  closed = false;
  private messageHandler: ((m: Message) => void) | undefined;
  private unreachableHandler: ((peer: number) => void) | undefined;
  private snapshotHandler: ((peer: number, status: SnapshotStatus) => void) | undefined;

  /** Use SimNetwork.attach(). */
  constructor(
    private readonly network: SimNetwork,
    readonly id: number,
    private readonly clock: NodeClock,
  ) {}

  send(messages: readonly Message[]): void {
    if (this.closed || this.clock.isDead || messages.length === 0) return;
    this.network.routeAll(this, messages);
  }
  onMessage(handler: (m: Message) => void): void {
    this.messageHandler = handler;
  }
  onUnreachable(handler: (peer: number) => void): void {
    this.unreachableHandler = handler;
  }
  onSnapshotStatus(handler: (peer: number, status: SnapshotStatus) => void): void {
    this.snapshotHandler = handler;
  }
  addPeer(): void {}
  removePeer(): void {}
  async close(): Promise<void> {
    this.closed = true;
  }

  /** @internal */
  deliver(m: Message): void {
    this.clock.gate(() => {
      if (!this.closed) this.messageHandler?.(m);
    }, `peer-${m.from}`);
  }
  /** @internal */
  unreachable(peer: number): void {
    this.clock.gate(() => {
      if (!this.closed) this.unreachableHandler?.(peer);
    });
  }
  /** @internal */
  snapshotStatus(peer: number, status: SnapshotStatus): void {
    this.clock.gate(() => {
      if (!this.closed) this.snapshotHandler?.(peer, status);
    });
  }
}
