/**
 * Property runs that cannot pass by giving up. fast-check's `interruptAfterTimeLimit` counts a
 * run it interrupted as a pass, so a test titled "400 schedules" could pass after a handful.
 * These run every one of `numRuns` and throw otherwise, saying how many ran; a failure names the
 * seed and path that replay it.
 */
import fc from 'fast-check';

/** One batch of runs: `numRuns` from `seed`. */
export interface PropertyRuns {
  seed: number;
  numRuns: number;
  /**
   * A wall-clock bound, so that a failure that shrinks for too long still gets reported before
   * the test runner's own timeout: reaching it fails the property, with the count of runs done.
   */
  timeLimitMs?: number | undefined;
}

/**
 * The seed of this process's fresh batch: `PONTOON_SEED` when set (to replay a failure), else a
 * new one each process. Put it in the test's title or message, so that a failure can be replayed.
 */
export function freshSeed(): number {
  const fromEnv = process.env['PONTOON_SEED'];
  if (fromEnv !== undefined && fromEnv !== '') {
    const seed = Number(fromEnv);
    if (!Number.isSafeInteger(seed)) throw new RangeError(`PONTOON_SEED must be an integer, got ${fromEnv}`);
    return seed;
  }
  return Math.floor(Math.random() * 0x7fff_ffff);
}

function parameters(runs: PropertyRuns): fc.Parameters<unknown> {
  return {
    seed: runs.seed,
    numRuns: runs.numRuns,
    // Without this a failure's report is buried under every failure met while shrinking.
    verbose: fc.VerbosityLevel.None,
    includeErrorInReport: true,
    ...(runs.timeLimitMs === undefined ? {} : { interruptAfterTimeLimit: runs.timeLimitMs, markInterruptAsFailure: true }),
  };
}

function verdict(details: fc.RunDetails<unknown>, runs: PropertyRuns): void {
  const replay = `replay with PONTOON_SEED=${runs.seed} or fast-check's { seed: ${details.seed}, path: "${details.counterexamplePath ?? ''}" }`;
  if (details.counterexample !== null) {
    throw new Error(`${fc.defaultReportMessage(details)}\n${replay}`, { cause: details.errorInstance });
  }
  if (details.interrupted || details.failed || details.numRuns < runs.numRuns) {
    throw new Error(
      `ran ${details.numRuns} of ${runs.numRuns} runs (seed ${runs.seed})` +
        (details.interrupted ? `: interrupted by the time limit of ${runs.timeLimitMs} ms` : '') +
        (details.numSkips > 0 ? `; ${details.numSkips} skipped by preconditions` : ''),
    );
  }
}

/** Runs a synchronous property `runs.numRuns` times from `runs.seed`; throws unless all ran and passed. */
export function assertProperty<Ts>(property: fc.IProperty<Ts>, runs: PropertyRuns): void {
  verdict(fc.check(property, parameters(runs)) as fc.RunDetails<unknown>, runs);
}

/** The asynchronous form of {@link assertProperty}. */
export async function assertAsyncProperty<Ts>(property: fc.IAsyncProperty<Ts>, runs: PropertyRuns): Promise<void> {
  verdict((await fc.check(property, parameters(runs))) as fc.RunDetails<unknown>, runs);
}
