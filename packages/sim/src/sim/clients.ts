/**
 * Simulated clients: each runs one operation at a time against the cluster and records what it
 * saw in a history for the linearizability checker.
 *
 * What goes into the history follows what a client can know:
 * - a write that settles with a result is `ok`;
 * - a write whose fate is open (ProposalOutcomeUnknownError, no answer before the client's own
 *   deadline, the node crashed meanwhile) is `unknown`: it may take effect at any later time;
 * - a write the node refused before it entered the log (NotLeaderError, TimeoutError before
 *   appending, ProposalDroppedError, a node that is down) is left out: it never happened;
 * - a read that fails is left out too (it changed nothing).
 * Requests and responses travel with the network's latency but never through its partitions
 * (clients sit on another network than the one between the nodes).
 */
import type { StateMachine } from '@pontoon/raft';
import { NodeStoppedError, NotLeaderError, ProposalDroppedError, TimeoutError } from '@pontoon/raft';
import type { Operation } from '../linearizability/history.js';
import type { SimCluster } from './cluster.js';
import type { SimRandom } from './random.js';
import type { ClientOperation, Workload } from './workload.js';

/** How clients behave. */
export interface ClientOptions {
  /** Concurrent clients. Default 5. */
  clients?: number;
  /** Writes that reach the log (acknowledged or of unknown outcome) over all clients; then they stop. Default 200. */
  writes?: number;
  /** How long a client waits for an answer before calling the outcome unknown (and trying another node), ms. Default 5 election timeouts. */
  requestTimeoutMs?: number;
  /** Largest pause between a client's operations, ms. Default 5. */
  maxThinkMs?: number;
  /** Share of reads sent to a random node rather than the leader. Default 0.5. */
  followerReadShare?: number;
  /** Planted bug: serve reads from the local state machine without ReadIndex. Default false. */
  staleReads?: boolean;
  /** Planted bug: reads are never answered (a read path that hangs). Default false. */
  hangingReads?: boolean;
}

/** What became of one operation. */
export type OperationFate = 'ok' | 'unknown' | 'none';

type Settled = { ok: true; value: unknown } | { ok: false; error: unknown } | { hung: true };

export class ClientPool<SM extends StateMachine, I, O> {
  readonly history: Operation<I, O>[] = [];
  /** The commands of the writes clients saw acknowledged. */
  readonly acknowledged: Uint8Array[] = [];
  writesIssued = 0;
  acked = 0;
  unknown = 0;
  reads = 0;
  private running = 0;
  private writesInFlight = 0;
  private readonly backoffMs: number;
  private stopped = false;
  private readonly leaderGuess: Array<number | undefined> = [];
  private readonly options: Required<ClientOptions>;

  constructor(
    private readonly cluster: SimCluster<SM>,
    private readonly workload: Workload<SM, I, O>,
    private readonly rand: SimRandom,
    options: ClientOptions = {},
  ) {
    this.options = {
      clients: options.clients ?? 5,
      writes: options.writes ?? 200,
      requestTimeoutMs: options.requestTimeoutMs ?? 5 * cluster.electionTimeoutMs,
      maxThinkMs: options.maxThinkMs ?? 5,
      followerReadShare: options.followerReadShare ?? 0.5,
      staleReads: options.staleReads ?? false,
      hangingReads: options.hangingReads ?? false,
    };
    this.backoffMs = Math.max(1, Math.floor(cluster.electionTimeoutMs / 4));
  }

  /** Whether every client has finished. */
  get done(): boolean {
    return this.running === 0;
  }

  /** Starts the clients (ids 0..clients-1). */
  start(): void {
    for (let c = 0; c < this.options.clients; c++) {
      this.running++;
      void this.loop(c).finally(() => this.running--);
    }
  }

  /** Clients finish the operation they are in and stop. */
  stop(): void {
    this.stopped = true;
  }

  private async loop(clientId: number): Promise<void> {
    let seq = 0;
    let think = 0;
    // The budget counts writes that reached a log (acknowledged or unknown), not refusals.
    while (!this.stopped && this.acked + this.unknown + this.writesInFlight < this.options.writes) {
      const op = this.workload.next(this.rand, clientId, seq++);
      if (op.kind === 'write') {
        this.writesIssued++;
        this.writesInFlight++;
      }
      const fate = await this.perform(clientId, op, this.options.requestTimeoutMs, think);
      if (op.kind === 'write') this.writesInFlight--;
      // A refusal (no leader yet, a node down): back off rather than spin through the budget.
      think = fate === 'none' ? this.rand.between(1, this.backoffMs) : this.rand.between(0, this.options.maxThinkMs);
    }
  }

  /** Runs one operation for `clientId` and records it; resolves with its fate. */
  async perform(
    clientId: number,
    op: ClientOperation<SM, I, O>,
    timeoutMs = this.options.requestTimeoutMs,
    thinkMs = 0,
  ): Promise<OperationFate> {
    // The client thinks, then calls (at `call`), and the request travels: one timer for all.
    const target = this.pickTarget(clientId, op.kind);
    const call = this.cluster.scheduler.now() + thinkMs;
    await this.sleep(thinkMs + this.cluster.network.latency());
    const settled = await this.invoke(clientId, target, op, timeoutMs);
    await this.sleep(this.cluster.network.latency());
    const now = this.cluster.scheduler.now();
    if ('hung' in settled) {
      this.leaderGuess[clientId] = undefined;
      if (op.kind === 'read') return 'none';
      this.unknown++;
      this.history.push({ clientId, input: op.input, call, return: Infinity, outcome: 'unknown' });
      return 'unknown';
    }
    if (settled.ok) {
      const output = op.kind === 'write' ? op.output(settled.value as never) : (settled.value as O);
      if (op.kind === 'write') {
        this.acked++;
        this.acknowledged.push(op.command);
      } else this.reads++;
      this.history.push({ clientId, input: op.input, call, return: now, outcome: 'ok', output });
      return 'ok';
    }
    const err = settled.error;
    if (err instanceof NotLeaderError) this.leaderGuess[clientId] = err.leaderId;
    else this.leaderGuess[clientId] = undefined;
    if (op.kind === 'read') return 'none';
    if (
      err instanceof NotLeaderError ||
      err instanceof ProposalDroppedError ||
      err instanceof TimeoutError ||
      err instanceof NodeStoppedError ||
      err === REFUSED
    ) {
      return 'none';
    }
    this.unknown++;
    this.history.push({ clientId, input: op.input, call, return: Infinity, outcome: 'unknown' });
    return 'unknown';
  }

  private pickTarget(clientId: number, kind: 'write' | 'read'): number {
    const guess = this.leaderGuess[clientId];
    if (kind === 'read' && this.rand.chance(this.options.followerReadShare)) return 1 + this.rand.intn(this.cluster.nodes.length);
    return guess ?? 1 + this.rand.intn(this.cluster.nodes.length);
  }

  /** Hands the operation to the node's process and waits for its answer or the client's deadline. */
  private invoke(clientId: number, target: number, op: ClientOperation<SM, I, O>, timeoutMs: number): Promise<Settled> {
    const n = this.cluster.node(target);
    if (n.raft === undefined) return Promise.resolve({ ok: false, error: REFUSED });
    return new Promise<Settled>((resolve) => {
      let finished = false;
      const finish = (s: Settled): void => {
        if (finished) return;
        finished = true;
        this.cluster.scheduler.cancel(deadline);
        resolve(s);
      };
      const deadline = this.cluster.scheduler.schedule(timeoutMs, () => finish({ hung: true }));
      n.clock.gate(() => {
        const raft = n.raft;
        // The node runs a wrapper that reports applied entries; reads go to the state machine itself.
        const sm = n.stateMachine;
        if (raft === undefined || sm === undefined) return finish({ ok: false, error: REFUSED });
        let p: Promise<unknown>;
        if (op.kind === 'read' && this.options.hangingReads) return; // only the deadline ends it
        if (op.kind === 'write') p = raft.propose(op.command, { timeoutMs: timeoutMs / 2 });
        else if (this.options.staleReads) p = Promise.resolve(raft.staleRead(() => op.read(sm)));
        else p = raft.read(() => op.read(sm), { timeoutMs: timeoutMs / 2 });
        p.then(
          (value) => finish({ ok: true, value }),
          (error: unknown) => finish({ ok: false, error }),
        );
      }, `client-${clientId}`);
    });
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.cluster.scheduler.schedule(ms, resolve));
  }
}

/** A request that reached a node that was down: the connection was refused, nothing was done. */
const REFUSED = Symbol('refused');
