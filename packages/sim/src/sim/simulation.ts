/**
 * One simulated run: a cluster, clients, a fault schedule, and every checker, all in virtual
 * time and all determined by (config, seed, schedule).
 *
 * Phases: faults play during the fault window while clients work; then every fault ends
 * (crashed nodes restart, partitions heal, pauses resume); within `livenessBoundMs` a leader
 * must be elected and a write committed; the clients finish, the nodes catch up, and the final
 * checks run (replica states, log matching, committed entries retained, linearizability).
 */
import type { StateMachine } from '@pontoon/raft';
import { ElectionSafety } from '../checkers/election-safety.js';
import { LeaderCompleteness } from '../checkers/leader-completeness.js';
import { checkLogMatching } from '../checkers/log-matching.js';
import { checkCommittedRetained } from '../checkers/committed-retained.js';
import { logOf } from '../checkers/log-view.js';
import { StateMachineSafety, checkReplicaStates } from '../checkers/state-machine-safety.js';
import type { Violation } from '../checkers/violation.js';
import { FaultInjector } from '../faults/injector.js';
import type { FaultOptions } from '../faults/arbitraries.js';
import type { FaultSchedule } from '../faults/schedule.js';
import { describeFault } from '../faults/schedule.js';
import { checkLinearizability } from '../linearizability/check.js';
import type { Verdict } from '../linearizability/check.js';
import { formatCounterexample } from '../linearizability/counterexample.js';
import type { Operation } from '../linearizability/history.js';
import type { Model } from '../linearizability/model.js';
import type { ClientOptions } from './clients.js';
import { ClientPool } from './clients.js';
import type { SimRaftOptions } from './cluster.js';
import { SimCluster } from './cluster.js';
import type { DiskOptions } from './log-store.js';
import type { NetworkOptions } from './network.js';
import { SimRandom } from './random.js';
import { Tracer } from './trace.js';
import type { ClientOperation, Workload } from './workload.js';

/** Everything a run is made of, except its seed and fault schedule. */
export interface SimulationConfig<SM extends StateMachine, I, O, S = unknown> {
  /** Voters in the cluster. Default 3. */
  nodes?: number;
  /** A fresh state machine for each incarnation of each node. */
  stateMachine: (nodeId: number) => SM;
  /** What the clients do. */
  workload: Workload<SM, I, O>;
  /** The sequential specification the client history is checked against (none: no check). */
  model?: Model<S, I, O>;
  clients?: ClientOptions;
  raft?: SimRaftOptions;
  network?: NetworkOptions;
  disk?: DiskOptions;
  /** Disk options for one node (planted bugs). */
  diskFor?: (nodeId: number) => DiskOptions | undefined;
  /** How schedules are drawn for this config (explore(), replay() without a schedule). */
  faults?: FaultOptions;
  /** After the fault window, a write must commit within this many virtual ms. Default 30 election timeouts. */
  livenessBoundMs?: number;
  /**
   * Budget of the linearizability check in search steps (not time, so that a run's outcome does
   * not depend on the machine). A check that spends it is inconclusive, and the run fails: a run
   * that could not be checked did not show the history linearizable. Default 1 000 000.
   */
  checkMaxSteps?: number;
}

/** Counters of a run. */
export interface SimulationStats {
  virtualMs: number;
  wallMs: number;
  events: number;
  /** Time steps (each ends with the microtask queue drained). */
  steps: number;
  messages: number;
  writesIssued: number;
  writesAcknowledged: number;
  writesUnknown: number;
  reads: number;
  crashes: number;
  elections: number;
  /** Highest log index applied anywhere. */
  lastIndex: number;
  /** Search steps the linearizability check took (0 without a check). */
  checkSteps: number;
}

export interface SimulationResult<I, O> {
  seed: number;
  schedule: FaultSchedule;
  /** No violation, and the history was checked to the end (an inconclusive check is a violation). */
  ok: boolean;
  violations: Violation[];
  /** The linearizability verdict ('skipped' without a model, or when the run already failed). */
  linearizability: Verdict | 'skipped';
  history: Operation<I, O>[];
  /** The trace, when asked for. */
  trace: string[];
  stats: SimulationStats;
}

/** Options of one run. */
export interface SimulateOptions {
  /** Record a trace (and pass each line to the function, if one is given). */
  trace?: boolean | ((line: string) => void);
}

const MAX_VIOLATIONS = 10;
/**
 * Measured: the 510 histories of the CI configurations (40-60 writes) took at most 385 search
 * steps (median 84), and runs of 1 000 writes at most 2 321. A history that needs 400 times that
 * is a reason to look at it, and the check still ends within about a second.
 */
const DEFAULT_CHECK_MAX_STEPS = 1_000_000;

/** Runs one simulation. Never throws for a bug found: it is in `violations`. */
export async function simulate<SM extends StateMachine, I, O, S>(
  config: SimulationConfig<SM, I, O, S>,
  seed: number,
  schedule: FaultSchedule,
  options: SimulateOptions = {},
): Promise<SimulationResult<I, O>> {
  const wallStart = performance.now();
  const rand = new SimRandom(seed);
  const cluster = new SimCluster<SM>({
    nodes: config.nodes ?? 3,
    stateMachine: config.stateMachine,
    seed,
    ...(config.raft === undefined ? {} : { raft: config.raft }),
    ...(config.network === undefined ? {} : { network: config.network }),
    ...(config.disk === undefined ? {} : { disk: config.disk }),
    ...(config.diskFor === undefined ? {} : { diskFor: config.diskFor }),
  });
  const scheduler = cluster.scheduler;
  const violations: Violation[] = [];
  const report = (v: Omit<Violation, 'time'>): void => {
    if (violations.length < MAX_VIOLATIONS) violations.push({ ...v, time: scheduler.now() });
  };
  const failed = (): boolean => violations.length > 0;

  const tracer = options.trace === undefined || options.trace === false
    ? undefined
    : new Tracer<SM>(scheduler, typeof options.trace === 'function' ? options.trace : undefined);
  if (tracer !== undefined) {
    cluster.watch(tracer);
    cluster.network.onSend = (m) => tracer.sent(m);
    for (const f of schedule.faults) tracer.note(`scheduled at ${f.at} ms: ${describeFault(f)}`);
  }
  const elections = new ElectionSafety<SM>(report);
  const applied = new StateMachineSafety<SM>(report);
  cluster.watch(elections);
  cluster.watch(applied);
  cluster.watch(new LeaderCompleteness<SM>(applied, report));
  let crashes = 0;
  cluster.watch({
    crashed: () => void crashes++,
    error: (node, err) => report({ property: 'node error', message: `n${node.id} stopped on an error: ${err.stack ?? err.message}` }),
  });

  const injector = new FaultInjector(cluster, schedule);
  if (tracer !== undefined) injector.onEvent = (line) => tracer.note(line);
  const clients = new ClientPool<SM, I, O>(cluster, config.workload, rand.derive('clients'), config.clients);
  const electionMs = cluster.electionTimeoutMs;
  const windowMs = config.faults?.windowMs ?? 2000;
  const livenessBound = config.livenessBoundMs ?? 30 * electionMs;

  const run = async (until: number, done?: () => boolean): Promise<void> => {
    try {
      await scheduler.run(until, () => failed() || (done?.() ?? false));
    } catch (err) {
      report({ property: 'simulator', message: `an event threw: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}` });
    }
  };

  cluster.start();
  injector.install();
  clients.start();
  await run(windowMs);

  if (!failed()) {
    injector.healAll();
    for (const n of cluster.nodes) {
      cluster.restart(n.id);
      n.clock.resume();
      if (n.clockRate !== 1) cluster.setClockRate(n.id, 1);
    }
    cluster.network.healAll();
    cluster.network.endBursts();
    tracer?.note('all faults healed');

    // Liveness: a write commits within the bound, then a read is answered within it.
    const healedAt = scheduler.now();
    let committed = false;
    let answered = false;
    let giveUp = false;
    const probeClient = config.clients?.clients ?? 5;
    const probeRand = rand.derive('probe');
    const probe = async (): Promise<void> => {
      let seq = 0;
      while (!committed && !giveUp) {
        const op = nextOfKind(config.workload, 'write', probeRand, probeClient, seq++);
        const fate = await clients.perform(probeClient, op, 5 * electionMs);
        if (fate === 'ok' && op.kind === 'write') committed = true;
        else await new Promise<void>((r) => scheduler.schedule(electionMs / 2, r));
      }
    };
    void probe();
    await run(healedAt + livenessBound, () => committed);
    if (!committed && !failed()) {
      report({ property: 'liveness', message: `no write committed within ${livenessBound} ms after the faults ended: ${describeNodes(cluster)}` });
    } else tracer?.note(`liveness: a write committed ${(scheduler.now() - healedAt).toFixed(0)} ms after healing`);
    // A read path that never answers again (a lease never renewed, a read round never retried)
    // loses nothing a checker of histories would see: reads that hang are not in the history.
    const readProbe = committed ? nextOfKind(config.workload, 'read', probeRand, probeClient, 1_000_000) : undefined;
    if (readProbe?.kind === 'read') {
      const readFrom = scheduler.now();
      const probeReads = async (): Promise<void> => {
        while (!answered && !giveUp) {
          const fate = await clients.perform(probeClient, readProbe, 5 * electionMs);
          if (fate === 'ok') answered = true;
          else await new Promise<void>((r) => scheduler.schedule(electionMs / 2, r));
        }
      };
      void probeReads();
      await run(readFrom + livenessBound, () => answered);
      if (!answered && !failed()) {
        report({ property: 'liveness', message: `no read answered within ${livenessBound} ms after a write committed: ${describeNodes(cluster)}` });
      } else tracer?.note(`liveness: a read answered ${(scheduler.now() - readFrom).toFixed(0)} ms after that`);
    }
    // Both probes stop here, answered or not.
    giveUp = true;
  }

  if (!failed()) {
    clients.stop();
    await run(scheduler.now() + 50 * electionMs, () => clients.done);
    // Catch-up: every node applies what the leader committed.
    const caughtUp = (): boolean => {
      const leader = cluster.leaders()[0];
      if (leader === undefined) return false;
      const commit = logOf(leader.node.raft!).committed;
      return cluster.nodes.every((n) => n.up && n.raft!.status().appliedIndex >= commit);
    };
    await run(scheduler.now() + 50 * electionMs, caughtUp);
    if (!failed() && !caughtUp()) {
      report({
        property: 'liveness',
        message: `the nodes did not all catch up with the leader within ${50 * electionMs} ms after the clients finished: ${describeNodes(cluster)}`,
      });
    }
  }

  tracer?.flush();
  let linearizability: Verdict | 'skipped' = 'skipped';
  let checkSteps = 0;
  if (!failed()) {
    await checkReplicaStates(cluster.nodes, report);
    checkLogMatching(cluster.nodes.map((n) => ({ id: n.id, log: n.disk.durable })), report);
    const leader = cluster.leaders()[0];
    if (leader !== undefined) {
      checkCommittedRetained(leader.node.id, logOf(leader.node.raft!), applied.committed, clients.acknowledged, report);
    }
  }
  if (!failed() && config.model !== undefined) {
    const maxSteps = config.checkMaxSteps ?? DEFAULT_CHECK_MAX_STEPS;
    const r = await checkLinearizability(config.model, clients.history, { maxSteps, timeoutMs: Infinity });
    linearizability = r.verdict;
    checkSteps = r.steps;
    if (r.verdict === 'illegal') {
      const detail = r.counterexample === undefined ? '' : `\n${formatCounterexample(r.counterexample)}`;
      report({ property: 'linearizability', message: `the client history is not linearizable${detail}` });
    } else if (r.verdict === 'unknown') {
      report({
        property: 'linearizability',
        message: `inconclusive: the check of ${r.operations} operations spent its budget of ${maxSteps} search steps`,
      });
    }
  }
  if (tracer !== undefined) for (const v of violations) tracer.note(`VIOLATION (${v.property}): ${v.message}`);

  return {
    seed,
    schedule,
    ok: violations.length === 0,
    violations,
    linearizability,
    history: clients.history,
    trace: tracer?.lines ?? [],
    stats: {
      virtualMs: scheduler.now(),
      wallMs: performance.now() - wallStart,
      events: scheduler.stats.events,
      steps: scheduler.stats.steps,
      messages: cluster.network.stats.sent,
      writesIssued: clients.writesIssued,
      writesAcknowledged: clients.acked,
      writesUnknown: clients.unknown,
      reads: clients.reads,
      crashes,
      elections: elections.leaders.size,
      lastIndex: applied.maxIndex,
      checkSteps,
    },
  };
}

/** Where every node stands, for a liveness report. */
function describeNodes<SM extends StateMachine>(cluster: SimCluster<SM>): string {
  return cluster.nodes
    .map((n) => {
      if (!n.up) return `n${n.id} down`;
      const st = n.raft!.status();
      const log = logOf(n.raft!);
      return `n${n.id} ${st.role} term ${st.term} last ${log.lastIndex()} commit ${st.commitIndex} applied ${st.appliedIndex}`;
    })
    .join('; ');
}

/**
 * The workload's next operation of `kind` for the liveness probe, redrawn up to 100 times; the
 * last one drawn if none is of that kind.
 */
function nextOfKind<SM extends StateMachine, I, O>(
  workload: Workload<SM, I, O>,
  kind: 'write' | 'read',
  rand: SimRandom,
  clientId: number,
  seq: number,
): ClientOperation<SM, I, O> {
  let op = workload.next(rand, clientId, seq);
  for (let i = 0; i < 100 && op.kind !== kind; i++) op = workload.next(rand, clientId, seq);
  return op;
}
