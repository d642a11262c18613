/**
 * Linearizability checking of a client history against a model: the Wing–Gong–Lowe search
 * (see search.ts) over each independent part of the history, bounded in search steps (the same
 * on every machine: what tests use) and in wall-clock time (what an interactive check uses).
 */
import type { History, Operation } from './history.js';
import type { Model } from './model.js';
import { LinearizabilitySearch } from './search.js';
import { buildCounterexample, type Counterexample } from './counterexample.js';

/** Options of {@link checkLinearizability}. */
export interface CheckOptions {
  /**
   * Wall-clock budget for the whole check, in ms (default 10 000). When it runs out the verdict
   * is 'unknown': the search space of a linearizability check is exponential in the worst case.
   */
  timeoutMs?: number | undefined;
  /**
   * Budget of search steps over all partitions (default: no bound). When it runs out the verdict
   * is 'unknown'. Unlike `timeoutMs` it stops a check at the same point on any machine, however
   * busy: a test that must not depend on the machine's speed bounds its checks with this.
   */
  maxSteps?: number | undefined;
  /** Stops the check early with verdict 'unknown'. */
  signal?: AbortSignal | undefined;
}

/**
 * - `ok`: some order of the operations, consistent with real time, is legal for the model.
 * - `illegal`: no such order exists (see `counterexample`).
 * - `unknown`: the time or step bound, or the signal, stopped the search first.
 */
export type Verdict = 'ok' | 'illegal' | 'unknown';

/** The outcome of a check. */
export interface CheckResult<I, O> {
  readonly verdict: Verdict;
  /** Wall time the check took, in ms. */
  readonly elapsedMs: number;
  /** How many independent parts the model split the history into (1 without `partition`). */
  readonly partitions: number;
  /** How many operations the history has. */
  readonly operations: number;
  /** Search steps over all partitions (a machine-independent measure of effort). */
  readonly steps: number;
  /** For 'unknown': whether the time bound, the step budget or the signal stopped the search. */
  readonly stoppedBy?: StopReason;
  /** For 'illegal': why. */
  readonly counterexample?: Counterexample<I, O>;
}

/** What stopped a search before its verdict. */
export type StopReason = 'timeout' | 'steps' | 'signal';

/** Read through a call: TypeScript would otherwise keep `aborted` narrowed across a run. */
function aborted(signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true;
}

const DEFAULT_TIMEOUT_MS = 10_000;
/** How long the async checker computes before letting the event loop run (and a signal fire). */
const SLICE_MS = 20;

interface Plan<S, I, O> {
  readonly started: number;
  readonly deadline: number;
  readonly maxSteps: number;
  readonly searches: LinearizabilitySearch<S, I, O>[];
  /** Partitions smallest first, so that a slow big one cannot hide a small illegal one. */
  readonly order: readonly number[];
  readonly operations: number;
}

function plan<S, I, O>(model: Model<S, I, O>, history: History<I, O>, options: CheckOptions | undefined): Plan<S, I, O> {
  const started = performance.now();
  const timeoutMs = options?.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (!(timeoutMs >= 0)) throw new RangeError(`timeoutMs must be >= 0, got ${timeoutMs}`);
  const maxSteps = options?.maxSteps ?? Infinity;
  if (!(maxSteps >= 0)) throw new RangeError(`maxSteps must be >= 0, got ${maxSteps}`);
  const parts: readonly (readonly Operation<I, O>[])[] =
    model.partition !== undefined ? model.partition(history) : [history];
  const order = parts.map((_, i) => i).sort((a, b) => parts[a]!.length - parts[b]!.length || a - b);
  return {
    started,
    deadline: started + timeoutMs,
    maxSteps,
    searches: parts.map((part) => new LinearizabilitySearch(model, part)),
    order,
    operations: history.length,
  };
}

/** The steps the check may still take, over all partitions. */
function stepsLeft<S, I, O>(p: Plan<S, I, O>): number {
  return p.maxSteps - p.searches.reduce((sum, s) => sum + s.steps, 0);
}

/** Why a search that is still running stopped. */
function stopReason<S, I, O>(p: Plan<S, I, O>, signal: AbortSignal | undefined): StopReason {
  if (aborted(signal)) return 'signal';
  return stepsLeft(p) <= 0 ? 'steps' : 'timeout';
}

function result<S, I, O>(
  model: Model<S, I, O>,
  p: Plan<S, I, O>,
  stoppedBy: StopReason | undefined,
): CheckResult<I, O> {
  const steps = p.searches.reduce((sum, s) => sum + s.steps, 0);
  const base = { elapsedMs: performance.now() - p.started, partitions: p.searches.length, operations: p.operations, steps };
  const failed = p.searches.findIndex((s) => s.verdict === 'illegal');
  if (failed >= 0) {
    return { verdict: 'illegal', ...base, counterexample: buildCounterexample(model, p.searches[failed]!, failed) };
  }
  if (p.searches.every((s) => s.verdict === 'ok')) return { verdict: 'ok', ...base };
  return { verdict: 'unknown', ...base, stoppedBy: stoppedBy ?? 'timeout' };
}

/**
 * Checks `history` against `model` in one synchronous run, bounded by `options.maxSteps` and
 * `options.timeoutMs`.
 * Prefer {@link checkLinearizability} where an AbortSignal must be able to stop it: a
 * synchronous run only notices a signal aborted before it started or by its own code.
 */
export function checkLinearizabilitySync<S, I, O>(
  model: Model<S, I, O>,
  history: History<I, O>,
  options?: CheckOptions,
): CheckResult<I, O> {
  const p = plan(model, history, options);
  const signal = options?.signal;
  for (const i of p.order) {
    const search = p.searches[i]!;
    if (signal?.aborted === true) return result(model, p, 'signal');
    if (search.run(p.deadline, signal, search.steps + stepsLeft(p)) === 'illegal') break;
    if (search.verdict === 'running') return result(model, p, stopReason(p, signal));
  }
  return result(model, p, undefined);
}

/**
 * Checks that `history` is linearizable with respect to `model`: that some total order of its
 * operations, in which each takes effect at one instant between its call and its return, is a
 * legal sequential run of the model with the same outputs.
 *
 * - Operations that overlap in time may be ordered either way; one that returned before another
 *   was called comes first.
 * - An operation with outcome 'unknown' may take effect at any time after its call, or never.
 * - With `model.partition`, each part is checked alone (P-compositionality), and the history
 *   is illegal if any part is.
 * - The search is bounded by `options.maxSteps`, `options.timeoutMs` (default 10 s) and
 *   `options.signal`, and answers 'unknown' when stopped; it yields to the event loop every few ms.
 *
 * @example
 * const result = await checkLinearizability(registerModel, [
 *   { clientId: 0, input: { op: 'write', value: 1 }, call: 0, return: 10, outcome: 'ok', output: { op: 'write' } },
 *   { clientId: 1, input: { op: 'read' }, call: 2, return: 5, outcome: 'ok', output: { op: 'read', value: 1 } },
 * ]);
 * result.verdict; // 'ok': the write took effect before the read, while both were running
 */
export async function checkLinearizability<S, I, O>(
  model: Model<S, I, O>,
  history: History<I, O>,
  options?: CheckOptions,
): Promise<CheckResult<I, O>> {
  const p = plan(model, history, options);
  const signal = options?.signal;
  for (const i of p.order) {
    const search = p.searches[i]!;
    while (search.verdict === 'running') {
      if (signal?.aborted === true) return result(model, p, 'signal');
      const now = performance.now();
      if (now > p.deadline) return result(model, p, 'timeout');
      if (stepsLeft(p) <= 0) return result(model, p, 'steps');
      search.run(Math.min(p.deadline, now + SLICE_MS), signal, search.steps + stepsLeft(p));
      if (search.verdict === 'running') await new Promise<void>((resolve) => setImmediate(resolve));
    }
    if (search.verdict === 'illegal') break;
  }
  return result(model, p, undefined);
}
