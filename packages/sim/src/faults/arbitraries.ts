/**
 * Fault schedules as fast-check arbitraries, and the schedule a seed stands for.
 */
import fc from 'fast-check';
import type { Fault, FaultSchedule, FaultTarget } from './schedule.js';

/** The kinds of fault a schedule may hold. */
export type FaultKind = Fault['kind'];

export const ALL_FAULT_KINDS: readonly FaultKind[] = [
  'crash',
  'powerLoss',
  'partition',
  'oneWay',
  'pause',
  'lossBurst',
  'clockSkew',
  'diskStall',
  'deposedLeader',
  'lateDuplicates',
];

/**
 * How far from the true rate lease-read schedules run a node's clock (clock skew, and the slowed
 * clock of a deposed leader): 5%. Lease reads assume clocks within RaftNode's leaseDriftMargin of
 * each other (default 0.1): a leader 5% slow and a follower 5% fast are within it, as
 * 0.95 / 1.05 > 0.9. Skews beyond the margin legitimately allow stale lease reads. Pauses of any
 * length are drawn: lease reads no longer assume bounded pauses (RaftNode's lease clock).
 */
export const LEASE_CLOCK_DRIFT = 0.05;

/** What schedules are drawn from. */
export interface FaultOptions {
  /** Faults start within [0, windowMs) and all end by windowMs. Default 2000. */
  windowMs?: number;
  /** Most faults in one schedule. Default 6. */
  maxFaults?: number;
  /** Kinds to draw from. Default: all. */
  kinds?: readonly FaultKind[];
  /**
   * Clocks run at most this far from the true rate (0.05: between x0.95 and x1.05), for clock
   * skews and deposed leaders' slowed clocks. Default: skews from x0.5 to x2, deposed leaders'
   * clocks at x0.1 to x0.6 (what lease reads cannot survive; see LEASE_CLOCK_DRIFT).
   */
  maxClockDrift?: number;
  /** Longest fault, ms. Default windowMs / 3. */
  maxDurationMs?: number;
  /**
   * The cluster's election timeout, ms (default 100, the simulator's default): a deposed leader
   * is cut off for at least two, long enough for the majority to elect another.
   */
  electionTimeoutMs?: number;
}

/** An arbitrary of fault schedules for a cluster of `nodes` (ids 1..nodes). */
export function faultScheduleArbitrary(nodes: number, options: FaultOptions = {}): fc.Arbitrary<FaultSchedule> {
  const windowMs = options.windowMs ?? 2000;
  const maxDuration = Math.max(10, Math.floor(options.maxDurationMs ?? windowMs / 3));
  const kinds = options.kinds ?? ALL_FAULT_KINDS;
  const at = fc.integer({ min: 0, max: Math.max(0, windowMs - 10) });
  const duration = fc.integer({ min: 10, max: maxDuration });
  const node: fc.Arbitrary<FaultTarget> = fc.oneof(fc.constant<FaultTarget>('leader'), fc.integer({ min: 1, max: nodes }));
  const minority = fc.uniqueArray(node, { minLength: 1, maxLength: Math.max(1, Math.floor(nodes / 2)) });
  // Followers cut off with a deposed leader: at least one where the cluster allows it (the leader
  // alone is `partition`'s), always short of a majority with the leader.
  const maxPartners = Math.max(0, Math.floor((nodes - 1) / 2) - 1);
  const electionMs = options.electionTimeoutMs ?? 100;
  // Rates in thousandths: a drift bound of a few percent still leaves room to draw from.
  const drift = options.maxClockDrift;
  const skewRate =
    drift === undefined
      ? fc.integer({ min: 50, max: 200 }).map((p) => p / 100)
      : fc.integer({ min: Math.ceil((1 - drift) * 1000), max: Math.floor((1 + drift) * 1000) }).map((p) => p / 1000);
  const slowRate =
    drift === undefined
      ? fc.integer({ min: 10, max: 60 }).map((p) => p / 100)
      : fc.integer({ min: Math.ceil((1 - drift) * 1000), max: 999 }).map((p) => p / 1000);
  const deposedFor = fc.integer({ min: Math.min(maxDuration, 2 * electionMs), max: Math.max(maxDuration, Math.min(windowMs - 10, 12 * electionMs)) });
  const byKind: Record<FaultKind, fc.Arbitrary<Fault>> = {
    crash: fc.record({ kind: fc.constant('crash' as const), at, node, downMs: duration, tear: fc.boolean() }),
    powerLoss: fc.record({ kind: fc.constant('powerLoss' as const), at, downMs: duration }),
    partition: fc.record({ kind: fc.constant('partition' as const), at, durationMs: duration, nodes: minority }),
    oneWay: fc.record({ kind: fc.constant('oneWay' as const), at, durationMs: duration, from: node, to: node }),
    pause: fc.record({ kind: fc.constant('pause' as const), at, durationMs: duration, node }),
    lossBurst: fc.record({
      kind: fc.constant('lossBurst' as const),
      at,
      durationMs: duration,
      loss: fc.integer({ min: 5, max: 60 }).map((p) => p / 100),
      duplicate: fc.integer({ min: 0, max: 30 }).map((p) => p / 100),
    }),
    clockSkew: fc.record({
      kind: fc.constant('clockSkew' as const),
      at,
      durationMs: duration,
      node,
      rate: skewRate,
    }),
    diskStall: fc.record({ kind: fc.constant('diskStall' as const), at, durationMs: duration, node }),
    lateDuplicates: fc.record({
      kind: fc.constant('lateDuplicates' as const),
      at,
      durationMs: duration,
      rate: fc.integer({ min: 5, max: 50 }).map((p) => p / 100),
      // From a few round trips to several election timeouts: late enough to find a node that
      // has snapshotted, compacted or changed term since.
      maxDelayMs: fc.integer({ min: 20, max: Math.max(20, 10 * (options.electionTimeoutMs ?? 100)) }),
    }),
    deposedLeader: fc.record({
      kind: fc.constant('deposedLeader' as const),
      at,
      durationMs: deposedFor,
      partners: fc.integer({ min: Math.min(1, maxPartners), max: maxPartners }),
      rate: slowRate,
    }),
  };
  const fault = fc.oneof(...kinds.map((k) => byKind[k]));
  return fc
    .array(fault, { minLength: 0, maxLength: options.maxFaults ?? 6 })
    .map((faults) => ({ faults: faults.sort((a, b) => a.at - b.at) }));
}

/** The schedule that `seed` stands for: the same seed always gives the same schedule. */
export function scheduleForSeed(seed: number, nodes: number, options: FaultOptions = {}): FaultSchedule {
  const [schedule] = fc.sample(faultScheduleArbitrary(nodes, options), { seed, numRuns: 1 });
  return schedule ?? { faults: [] };
}
