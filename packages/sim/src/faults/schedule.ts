/**
 * Fault schedules: what goes wrong in a run, and when. A schedule is plain data (JSON), so a
 * failing one can be printed, pasted into replay(), and shrunk by taking faults away.
 */

/** A node by id, or whichever node leads when the fault starts (the most damaging choice). */
export type FaultTarget = number | 'leader';

/** One fault. `at` is virtual ms from the start of the run. */
export type Fault =
  /** The node's process dies; `downMs` later it restarts from its durable state. */
  | { kind: 'crash'; at: number; node: FaultTarget; downMs: number; tear?: boolean }
  /** Every node's process dies at once (a power cut); `downMs` later they all restart. */
  | { kind: 'powerLoss'; at: number; downMs: number }
  /** The nodes listed are cut off from the others, both ways. */
  | { kind: 'partition'; at: number; durationMs: number; nodes: FaultTarget[] }
  /** Messages from `from` to `to` are lost; the other direction works. */
  | { kind: 'oneWay'; at: number; durationMs: number; from: FaultTarget; to: FaultTarget }
  /** The node's process stops running (a long GC pause, a suspended VM), then resumes. */
  | { kind: 'pause'; at: number; durationMs: number; node: FaultTarget }
  /** Every message is lost with probability `loss` and delivered twice with `duplicate`. */
  | { kind: 'lossBurst'; at: number; durationMs: number; loss: number; duplicate: number }
  /** The node's clock runs at `rate` (1.2: 20% fast) for a while. */
  | { kind: 'clockSkew'; at: number; durationMs: number; node: FaultTarget; rate: number }
  /** The node's fsyncs do not complete for a while. */
  | { kind: 'diskStall'; at: number; durationMs: number; node: FaultTarget }
  /**
   * The leader is cut off with `partners` followers (short of a majority with it), both ways,
   * and its clock runs at `rate` (slow), so that CheckQuorum deposes it late: for a while it
   * still thinks it leads, and clients still ask it, while the majority elects a new leader and
   * moves on. What a read path that trusts too few acknowledgements gets wrong.
   */
  | { kind: 'deposedLeader'; at: number; durationMs: number; partners: number; rate: number }
  /**
   * Messages sent while it lasts are, with probability `rate`, delivered a second time up to
   * `maxDelayMs` later, when the state they were sent in has moved on (Raft assumes a network
   * that duplicates, delays and reorders).
   */
  | { kind: 'lateDuplicates'; at: number; durationMs: number; rate: number; maxDelayMs: number };

/** A run's faults. Every fault ends (and crashed nodes restart) by the end of the fault window. */
export interface FaultSchedule {
  faults: Fault[];
}

function target(t: FaultTarget): string {
  return t === 'leader' ? 'the leader' : `n${t}`;
}

/** A one-line rendering of a fault, for traces and reports. */
export function describeFault(f: Fault): string {
  switch (f.kind) {
    case 'crash':
      return `crash ${target(f.node)}${f.tear === true ? ' (tearing its last write)' : ''} for ${f.downMs} ms`;
    case 'powerLoss':
      return `power loss on every node for ${f.downMs} ms`;
    case 'partition':
      return `partition {${f.nodes.map(target).join(', ')}} from the rest for ${f.durationMs} ms`;
    case 'oneWay':
      return `drop messages ${target(f.from)} -> ${target(f.to)} for ${f.durationMs} ms`;
    case 'pause':
      return `pause ${target(f.node)} for ${f.durationMs} ms`;
    case 'lossBurst':
      return `lose ${Math.round(f.loss * 100)}% and duplicate ${Math.round(f.duplicate * 100)}% of messages for ${f.durationMs} ms`;
    case 'clockSkew':
      return `run ${target(f.node)}'s clock at x${f.rate.toFixed(2)} for ${f.durationMs} ms`;
    case 'diskStall':
      return `stall ${target(f.node)}'s disk for ${f.durationMs} ms`;
    case 'lateDuplicates':
      return `deliver ${Math.round(f.rate * 100)}% of messages again up to ${f.maxDelayMs} ms later, for ${f.durationMs} ms`;
    case 'deposedLeader':
      return `cut the leader off with ${f.partners} follower(s), its clock at x${f.rate.toFixed(2)}, for ${f.durationMs} ms`;
  }
}

/** How long a fault lasts, ms. */
export function faultDuration(f: Fault): number {
  return f.kind === 'crash' || f.kind === 'powerLoss' ? f.downMs : f.durationMs;
}

/** The schedule as pasteable text (one fault a line). */
export function formatSchedule(s: FaultSchedule): string {
  if (s.faults.length === 0) return '{ "faults": [] }';
  return `{ "faults": [\n${s.faults.map((f) => `  ${JSON.stringify(f)}`).join(',\n')}\n] }`;
}
