/**
 * The `check` command: checks a history file for linearizability against a named model.
 *
 *     pnpm --filter @pontoon/sim check <file> [--model register|kv] [--timeout-ms N]
 *
 * The format (Jepsen log or EDN lines) is read from the content; the model defaults to the one
 * the format holds (register for Jepsen logs, kv for EDN lines). Exit status: 0 linearizable,
 * 1 not linearizable, 2 unknown (the time bound was hit), 64 usage or unreadable file.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { checkLinearizability, type CheckResult } from './check.js';
import { formatCounterexample } from './counterexample.js';
import type { History } from './history.js';
import type { Model } from './model.js';
import { registerModel } from './models/register.js';
import { kvModel } from './models/kv.js';
import { detectHistoryFormat, type HistoryFormat } from '../history-formats/detect-format.js';
import { parseJepsenLog } from '../history-formats/jepsen-log.js';
import { parseEdnKvHistory } from '../history-formats/edn-kv.js';
import { HistoryParseError } from '../history-formats/history-parse-error.js';

const EXIT_OK = 0;
const EXIT_ILLEGAL = 1;
const EXIT_UNKNOWN = 2;
const EXIT_USAGE = 64;

const USAGE = 'usage: pnpm --filter @pontoon/sim check <file> [--model register|kv] [--timeout-ms N]\n';

/** What the format holds, and so which model reads it. */
const MODEL_OF_FORMAT: Record<HistoryFormat, 'register' | 'kv'> = { 'jepsen-log': 'register', 'edn-lines': 'kv' };

class UsageError extends Error {}

interface Args {
  file: string;
  model: 'register' | 'kv' | undefined;
  timeoutMs: number | undefined;
}

function parse(argv: readonly string[]): Args | 'help' {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        model: { type: 'string' },
        'timeout-ms': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help === true) return 'help';
  if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? 'no history file given' : `one history file expected, got ${positionals.length}`);
  const model = values.model;
  if (model !== undefined && model !== 'register' && model !== 'kv') throw new UsageError(`unknown model ${JSON.stringify(model)} (expected register or kv)`);
  let timeoutMs: number | undefined;
  if (values['timeout-ms'] !== undefined) {
    timeoutMs = Number(values['timeout-ms']);
    if (!Number.isSafeInteger(timeoutMs) || timeoutMs <= 0) throw new UsageError(`--timeout-ms must be a positive integer, got ${values['timeout-ms']}`);
  }
  return { file: positionals[0]!, model, timeoutMs };
}

function verdictLine(result: CheckResult<unknown, unknown>): string {
  switch (result.verdict) {
    case 'ok':
      return 'verdict: linearizable';
    case 'illegal':
      return 'verdict: NOT linearizable';
    case 'unknown':
      return `verdict: unknown (${result.stoppedBy === 'signal' ? 'stopped' : result.stoppedBy === 'steps' ? 'step budget spent' : 'time bound hit'} before the search finished)`;
  }
}

async function check<S, I, O>(model: Model<S, I, O>, history: History<I, O>, timeoutMs: number | undefined, out: (s: string) => void): Promise<number> {
  const result = await checkLinearizability(model, history, timeoutMs === undefined ? {} : { timeoutMs });
  const unknown = history.filter((op) => op.outcome === 'unknown').length;
  out(`operations: ${result.operations} (${unknown} of unknown outcome), partitions: ${result.partitions}\n`);
  out(`${verdictLine(result as CheckResult<unknown, unknown>)}\n`);
  out(`time: ${result.elapsedMs.toFixed(1)} ms (${result.steps} search steps)\n`);
  if (result.counterexample !== undefined) out(`\n${formatCounterexample(result.counterexample)}\n`);
  return result.verdict === 'ok' ? EXIT_OK : result.verdict === 'illegal' ? EXIT_ILLEGAL : EXIT_UNKNOWN;
}

/**
 * Runs `check` with its arguments (without the program name), writing to `out` and `err`;
 * returns the exit status. Throws only on a bug, never on bad input.
 */
export async function runCheckCommand(
  argv: readonly string[],
  out: (s: string) => void,
  err: (s: string) => void,
  // pnpm runs package scripts in the package's directory; INIT_CWD is where the user typed.
  cwd: string = process.env['INIT_CWD'] || process.cwd(),
): Promise<number> {
  try {
    const args = parse(argv);
    if (args === 'help') {
      out(USAGE);
      return EXIT_OK;
    }
    const file = path.resolve(cwd, args.file);
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      throw new UsageError(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    const format = detectHistoryFormat(text);
    if (format === undefined) throw new UsageError(`${file}: not a history file (expected Jepsen log lines or EDN maps, one a line)`);
    const modelName = args.model ?? MODEL_OF_FORMAT[format];
    if (modelName !== MODEL_OF_FORMAT[format]) {
      throw new UsageError(`${file} is a ${format} history of ${MODEL_OF_FORMAT[format]} operations; it cannot be checked with --model ${modelName}`);
    }
    out(`history: ${file} (${format}), model: ${modelName}\n`);
    return modelName === 'register'
      ? await check(registerModel, parseJepsenLog(text), args.timeoutMs, out)
      : await check(kvModel, parseEdnKvHistory(text), args.timeoutMs, out);
  } catch (e) {
    if (e instanceof UsageError) {
      err(`error: ${e.message}\n${USAGE}`);
      return EXIT_USAGE;
    }
    if (e instanceof HistoryParseError) {
      err(`error: cannot parse the history: ${e.message}\n`);
      return EXIT_USAGE;
    }
    throw e;
  }
}

