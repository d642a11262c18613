/**
 * What the checker shows for a history that is not linearizable: the shortest prefix of the
 * failing partition that no order explains, and the longest linearization the search found.
 */
import type { Operation } from './history.js';
import type { Model } from './model.js';
import type { LinearizabilitySearch } from './search.js';

/** One operation of a counterexample, with its rendering by the model. */
export interface CounterexampleOperation<I, O> {
  readonly operation: Operation<I, O>;
  /** `model.describe(input, output)`, or a JSON rendering when the model has no describe. */
  readonly description: string;
  /**
   * True when the operation had not returned (or never returned) by the time the culprit
   * returned: within the prefix it may or may not have taken effect.
   */
  readonly pending: boolean;
}

/** Why a history is not linearizable, for a person to read. */
export interface Counterexample<I, O> {
  /** Index of the failing partition among `model.partition`'s parts (0 without partitioning). */
  readonly partition: number;
  /** How many operations that partition has. */
  readonly partitionOperations: number;
  /**
   * The shortest non-linearizable prefix of the partition: its operations in call order up to
   * the return of `culprit`, the first operation that no order of what came before explains.
   * Every shorter prefix (up to the return before the culprit's) is linearizable.
   */
  readonly prefix: readonly CounterexampleOperation<I, O>[];
  /** The operation whose return could not be explained. */
  readonly culprit: CounterexampleOperation<I, O>;
  /** The linearization the search had when it got furthest: operations in linearized order. */
  readonly longestLinearization: readonly CounterexampleOperation<I, O>[];
}

/** Renders one operation with the model's describe, or as JSON when the model has none. */
export function describeOperation<S, I, O>(model: Model<S, I, O>, op: Operation<I, O>): string {
  const output = op.outcome === 'ok' ? op.output : undefined;
  const text =
    model.describe !== undefined
      ? model.describe(op.input, output)
      : `${JSON.stringify(op.input)} -> ${op.outcome === 'ok' ? JSON.stringify(output) : '?'}`;
  return op.outcome === 'unknown' ? `${text} (outcome unknown)` : text;
}

/** Builds the counterexample from a search that ended 'illegal'. */
export function buildCounterexample<S, I, O>(
  model: Model<S, I, O>,
  search: LinearizabilitySearch<S, I, O>,
  partition: number,
): Counterexample<I, O> {
  const ops = search.operations;
  const failure = search.bestFailure;
  let culpritId = -1;
  for (let i = 0; i < ops.length; i++) if (search.returnPosition[i] === failure) culpritId = i;
  const entry = (id: number): CounterexampleOperation<I, O> => ({
    operation: ops[id]!,
    description: describeOperation(model, ops[id]!),
    pending: search.returnPosition[id]! > failure,
  });
  const ids: number[] = [];
  for (let i = 0; i < ops.length; i++) if (search.callPosition[i]! < failure) ids.push(i);
  ids.sort((a, b) => search.callPosition[a]! - search.callPosition[b]!);
  return {
    partition,
    partitionOperations: ops.length,
    prefix: ids.map(entry),
    culprit: entry(culpritId),
    longestLinearization: search.bestLinearization.map(entry),
  };
}

/** A plain-text rendering: the prefix, one operation a line, with client, times and marks. */
export function formatCounterexample<I, O>(counterexample: Counterexample<I, O>): string {
  const lines: string[] = [];
  lines.push(
    `partition ${counterexample.partition} (${counterexample.partitionOperations} operations): ` +
      `the shortest non-linearizable prefix has ${counterexample.prefix.length} operations, in call order:`,
  );
  for (const op of counterexample.prefix) {
    const o = op.operation;
    const ret = o.outcome === 'unknown' ? '?' : String(o.return);
    const mark = op.operation === counterexample.culprit.operation ? '  <- cannot be linearized' : op.pending ? '  (pending)' : '';
    lines.push(`  client ${o.clientId}  [${o.call}, ${ret}]  ${op.description}${mark}`);
  }
  lines.push(`longest linearization found (${counterexample.longestLinearization.length} operations):`);
  for (const op of counterexample.longestLinearization) lines.push(`  ${op.description}`);
  return lines.join('\n');
}
