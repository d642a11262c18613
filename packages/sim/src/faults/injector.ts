/**
 * Plays a fault schedule on a cluster: each fault starts at its time on the virtual clock and
 * ends after its duration; healAll() ends everything at once (the end of the fault window).
 */
import type { StateMachine } from '@pontoon/raft';
import type { SimCluster } from '../sim/cluster.js';
import type { SimEvent } from '../sim/scheduler.js';
import type { Fault, FaultSchedule, FaultTarget } from './schedule.js';
import { describeFault, faultDuration } from './schedule.js';

export class FaultInjector<SM extends StateMachine> {
  /** How to undo each active fault. */
  private readonly active = new Map<Fault, () => void>();
  private readonly starts: SimEvent[] = [];
  /** Called as faults start and end (traces). */
  onEvent: ((line: string) => void) | undefined;

  constructor(
    private readonly cluster: SimCluster<SM>,
    private readonly schedule: FaultSchedule,
  ) {}

  /** Schedules every fault's start (and end). */
  install(): void {
    const s = this.cluster.scheduler;
    for (const f of this.schedule.faults) {
      this.starts.push(s.scheduleAt(Math.max(0, f.at), () => this.begin(f)));
    }
  }

  /** Ends every active fault and cancels those not started yet. */
  healAll(): void {
    for (const e of this.starts) this.cluster.scheduler.cancel(e);
    for (const [f, undo] of [...this.active]) {
      this.active.delete(f);
      undo();
    }
  }

  private resolve(t: FaultTarget): number {
    if (t !== 'leader') return t;
    const leaders = this.cluster.leaders();
    if (leaders.length > 0) return leaders[0]!.node.id;
    return 1 + this.cluster.rand.intn(this.cluster.nodes.length);
  }

  /** Cuts `side` off from the other nodes, both ways; returns the function that heals it. */
  private cutOff(side: ReadonlySet<number>): () => void {
    const net = this.cluster.network;
    const other = this.cluster.nodes.map((n) => n.id).filter((id) => !side.has(id));
    const links: Array<[number, number]> = [];
    for (const a of side) for (const b of other) links.push([a, b], [b, a]);
    for (const [a, b] of links) net.cutLink(a, b);
    return () => links.forEach(([a, b]) => net.healLink(a, b));
  }

  /** `count` distinct nodes drawn from `ids` with the cluster's seeded randomness. */
  private pick(ids: number[], count: number): number[] {
    const pool = [...ids];
    const out: number[] = [];
    while (out.length < count && pool.length > 0) out.push(pool.splice(this.cluster.rand.intn(pool.length), 1)[0]!);
    return out;
  }

  private begin(f: Fault): void {
    const c = this.cluster;
    let undo: (() => void) | undefined;
    // A description naming the resolved nodes; the duration is added below.
    let what: string | undefined;
    switch (f.kind) {
      case 'crash': {
        const id = this.resolve(f.node);
        if (!c.node(id).up) return;
        c.crash(id, f.tear);
        what = `crash n${id}${f.tear === true ? ' (tearing its last write)' : ''}`;
        undo = () => c.restart(id);
        break;
      }
      case 'powerLoss': {
        const down = c.nodes.filter((n) => n.up).map((n) => n.id);
        for (const id of down) c.crash(id);
        undo = () => down.forEach((id) => c.restart(id));
        break;
      }
      case 'partition': {
        const side = new Set(f.nodes.map((t) => this.resolve(t)));
        if (side.size >= c.nodes.length) return;
        what = `partition {${[...side].map((id) => `n${id}`).join(', ')}} from the rest`;
        undo = this.cutOff(side);
        break;
      }
      case 'oneWay': {
        const from = this.resolve(f.from);
        const to = this.resolve(f.to);
        if (from === to) return;
        c.network.cutLink(from, to);
        what = `drop messages n${from} -> n${to}`;
        undo = () => c.network.healLink(from, to);
        break;
      }
      case 'pause': {
        const id = this.resolve(f.node);
        const clock = c.node(id).clock;
        if (clock.isPaused || clock.isDead) return;
        clock.pause();
        what = `pause n${id}`;
        // What queued meanwhile is drained over up to half a tick (5 ms by default), as a real
        // process resumed by SIGCONT answered queued reads in 5 ms and stepped down in 8-24 ms.
        const drain = c.rand.derive(`resume-n${id}-at-${f.at}`);
        const drainMs = Math.max(1, Math.round(c.electionTimeoutMs / 20));
        undo = () => clock.resume(() => drain.between(0, drainMs));
        break;
      }
      case 'lossBurst':
        undo = c.network.burst(f.loss, f.duplicate);
        break;
      case 'lateDuplicates':
        undo = c.network.lateDuplicates(f.rate, f.maxDelayMs);
        break;
      case 'clockSkew': {
        const id = this.resolve(f.node);
        c.setClockRate(id, f.rate);
        what = `clock of n${id} at x${f.rate.toFixed(2)}`;
        undo = () => c.setClockRate(id, 1);
        break;
      }
      case 'diskStall': {
        const id = this.resolve(f.node);
        c.node(id).disk.stall(c.scheduler.now() + f.durationMs);
        what = `stall the disk of n${id}`;
        undo = () => c.node(id).disk.endStall();
        break;
      }
      case 'deposedLeader': {
        const leader = c.leaders()[0]?.node.id;
        if (leader === undefined) return;
        const followers = c.nodes.map((n) => n.id).filter((id) => id !== leader);
        const side = new Set([leader, ...this.pick(followers, f.partners)]);
        // Never a majority with the leader: then it is not deposed at all.
        if (side.size * 2 >= c.nodes.length) return;
        const heal = this.cutOff(side);
        c.setClockRate(leader, f.rate);
        what = `cut off leader n${leader} with {${[...side].filter((id) => id !== leader).map((id) => `n${id}`).join(', ')}}, its clock at x${f.rate.toFixed(2)}`;
        undo = () => {
          heal();
          c.setClockRate(leader, 1);
        };
        break;
      }
    }
    this.onEvent?.(`fault: ${what === undefined ? describeFault(f) : `${what} for ${faultDuration(f)} ms`}`);
    this.active.set(f, undo);
    c.scheduler.schedule(faultDuration(f), () => this.end(f));
  }

  private end(f: Fault): void {
    const undo = this.active.get(f);
    if (undo === undefined) return;
    this.active.delete(f);
    undo();
    this.onEvent?.(`fault over: ${describeFault(f)}`);
  }
}
