/**
 * Clients writing to a counter cluster: `concurrency` loops, each sending `inc` (add 1) to the
 * node it believes is the leader, one at a time, following NotLeaderError's hint. Every write
 * ends in one of three ways, and the checker below relies on the difference:
 *
 * - acknowledged: the leader applied it and answered with the counter's new value;
 * - definitely not applied (not the leader, dropped, timed out before reaching the log, node not
 *   running): retried, as a new write;
 * - outcome unknown (ProposalOutcomeUnknownError, or the node died with the write in flight):
 *   counted, never retried (an increment is not idempotent).
 */
import type { Answer, Cluster } from './cluster.js';
import { NodeDownError } from './cluster.js';

/** Errors after which the write certainly did not take effect: safe to send again. */
const NOT_APPLIED = new Set(['ERR_NOT_LEADER', 'ERR_PROPOSAL_DROPPED', 'ERR_TIMEOUT', 'ERR_NODE_STOPPED']);

export class WriteLoad {
  /** The counter value each acknowledged write returned, in acknowledgement order. */
  readonly acked: number[] = [];
  /** Writes whose outcome is unknown. */
  unknown = 0;
  /** Why, by cause: `died` (the node died with the write in flight) or the error's reason. */
  readonly unknownBy: Record<string, number> = {};
  /** Writes refused before reaching the log (then retried). */
  retried = 0;
  /** Time of the last acknowledgement (cluster.now()). */
  lastAckAt = 0;
  /** The longest time without any acknowledgement, and when it ended. */
  longestPause = { ms: 0, endedAt: 0 };
  private target: number;
  private running = true;
  private readonly loops: Array<Promise<void>>;

  constructor(
    private readonly cluster: Cluster,
    concurrency: number,
    /** Stop after this many acknowledged writes (default: until stop()). */
    private readonly limit = Infinity,
  ) {
    this.target = cluster.live()[0] ?? 1;
    this.lastAckAt = cluster.now();
    this.loops = Array.from({ length: concurrency }, () => this.loop());
  }

  /** Resolves once `limit` writes were acknowledged (or stop() was called). */
  get done(): Promise<void> {
    return Promise.all(this.loops).then(() => undefined);
  }

  /** Stops sending and waits for the writes in flight to end. */
  async stop(): Promise<void> {
    this.running = false;
    await this.done;
  }

  private async loop(): Promise<void> {
    while (this.running && !this.cluster.isClosed && this.acked.length < this.limit) {
      const target = this.target;
      let answer: Answer;
      try {
        answer = await this.cluster.command(target, 'inc');
      } catch (err) {
        if (!(err instanceof NodeDownError)) throw err;
        if (err.sent) this.countUnknown('died');
        else this.retried++;
        await this.findLeader(target);
        continue;
      }
      if (answer.error === undefined) {
        const now = this.cluster.now();
        if (now - this.lastAckAt > this.longestPause.ms) this.longestPause = { ms: now - this.lastAckAt, endedAt: now };
        this.lastAckAt = now;
        this.acked.push(answer.value!);
      } else if (NOT_APPLIED.has(answer.error)) {
        this.retried++;
        await this.findLeader(target, answer.leaderId);
      } else if (answer.error === 'ERR_PROPOSAL_OUTCOME_UNKNOWN') {
        this.countUnknown(/\((\w+)\)/.exec(answer.message ?? '')?.[1] ?? 'unknown');
      } else {
        throw new Error(`node ${target} answered inc with ${answer.error}: ${answer.message}`);
      }
    }
  }

  private countUnknown(cause: string): void {
    this.unknown++;
    this.unknownBy[cause] = (this.unknownBy[cause] ?? 0) + 1;
  }

  /** After `failed` refused a write: go to the leader it named, or try the next running node. */
  private async findLeader(failed: number, hint?: number): Promise<void> {
    if (this.target !== failed) return; // another loop already moved on
    const live = this.cluster.live();
    if (hint !== undefined && hint !== failed && live.includes(hint)) {
      this.target = hint;
      return;
    }
    // No leader known (an election is running): back off a little, then ask another node.
    await new Promise((r) => setTimeout(r, 20));
    if (this.target === failed && live.length > 0) this.target = live[(live.indexOf(failed) + 1) % live.length]!;
  }
}

/**
 * Checks a counter against the writes made to it (each adding 1), Jepsen's counter check plus
 * uniqueness: the final value lies between the acknowledged writes and those plus the writes of
 * unknown outcome, and no two acknowledged writes got the same new value (an acknowledged write
 * that was later lost would leave its value to be handed out again). Returns what is wrong.
 */
export function checkCounter(load: Pick<WriteLoad, 'acked' | 'unknown'>, values: ReadonlyMap<number, number>): string[] {
  const problems: string[] = [];
  const distinct = new Set(values.values());
  if (distinct.size !== 1) problems.push(`the nodes disagree: ${[...values].map(([id, v]) => `n${id}=${v}`).join(' ')}`);
  const value = Math.min(...values.values());
  const acked = load.acked.length;
  if (value < acked) problems.push(`counter ${value} < ${acked} acknowledged writes: acknowledged writes were lost`);
  if (value > acked + load.unknown) problems.push(`counter ${value} > ${acked} acknowledged + ${load.unknown} unknown writes`);
  const seen = new Set<number>();
  for (const v of load.acked) {
    if (seen.has(v)) problems.push(`two acknowledged writes both returned ${v}: one of them was lost`);
    if (v > value) problems.push(`an acknowledged write returned ${v}, above the final counter ${value}`);
    seen.add(v);
  }
  return problems.slice(0, 10);
}
