/**
 * bench/sim (checker part): the linearizability checker's time on kv histories of 50 clients,
 * the size of Porcupine's c50 tests. Files named c50-*.txt in the shared conformance data are
 * used when present; c50-ok and c50-bad are generated (seeded) when they are not:
 *
 * - ok: 50 clients, 50 keys, gets and appends with random overlapping intervals, each taking
 *   effect at a random instant inside its interval, outputs from running them in that order.
 * - bad: the same history with one get missing a piece that an append finished writing before
 *   the get was called. With appends only, no value ever loses a piece, so no order explains it.
 *
 * Each history is checked a few times; the table shows the median and the max. Two stress
 * histories (the same 50 clients on 10 keys) are checked once each under the 10 s bound.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkLinearizabilitySync, kvModel, parseEdnKvHistory, type History, type KvInput, type KvOutput } from '@pontoon/sim';
import { SeededRand } from '@pontoon/raft/core';
import { formatCount, formatNs, formatTable, median } from '../lib/report.js';

const RUNS = 5;
const CLIENTS = 50;
const OPS_PER_CLIENT = 30;
const SEED = 50;
/** The bound of the conformance check; the stress histories may hit it. */
const STRESS_TIMEOUT_MS = 10_000;

const kvDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../shared/conformance/porcupine/kv');


interface Generated {
  history: History<KvInput, KvOutput>;
  /** Linearization instant of each operation (same order as history). */
  at: number[];
}

/**
 * `keys` = 50 spreads the clients as in Porcupine's c50 tests (a key per client, a few
 * operations in flight per key); 10 keys puts ~15 concurrent operations on each key, where the
 * orders of concurrent appends that no get has pinned yet make the search exponential.
 */
function generateOk(seed: number, keys: number): Generated {
  const gen = new SeededRand(seed);
  const random = (): number => gen.next();
  const planned: { clientId: number; input: KvInput; call: number; ret: number; at: number }[] = [];
  for (let c = 0; c < CLIENTS; c++) {
    let t = random() * 10;
    for (let i = 0; i < OPS_PER_CLIENT; i++) {
      const key = String(Math.floor(random() * keys));
      const input: KvInput = random() < 0.5 ? { op: 'get', key } : { op: 'append', key, value: `x ${c} ${i} y` };
      const call = t;
      const ret = call + 1 + random() * 20;
      planned.push({ clientId: c, input, call, ret, at: call + random() * (ret - call) });
      t = ret + random() * 5;
    }
  }
  const store = new Map<string, string>();
  const outputs = new Map<number, KvOutput>();
  const byInstant = planned.map((_, i) => i).sort((a, b) => planned[a]!.at - planned[b]!.at);
  for (const i of byInstant) {
    const { input } = planned[i]!;
    if (input.op === 'get') outputs.set(i, { op: 'get', value: store.get(input.key) ?? '' });
    else if (input.op === 'append') {
      store.set(input.key, (store.get(input.key) ?? '') + input.value);
      outputs.set(i, { op: 'append' });
    }
  }
  return {
    history: planned.map((p, i) => ({ clientId: p.clientId, input: p.input, call: p.call, return: p.ret, outcome: 'ok' as const, output: outputs.get(i)! })),
    at: planned.map((p) => p.at),
  };
}

function generateBad(ok: Generated): History<KvInput, KvOutput> {
  const h = ok.history;
  // The latest get that has, on its key, an append which returned before the get was called
  // and whose piece is in the value read: read it without that piece.
  for (let g = h.length - 1; g >= 0; g--) {
    const get = h[g]!;
    if (get.input.op !== 'get' || get.outcome !== 'ok' || get.output.op !== 'get') continue;
    const read = get.output.value;
    const done = h.find((a) => a.input.op === 'append' && a.input.key === get.input.key && a.outcome === 'ok' && a.return < get.call && read.includes(a.input.value));
    if (done === undefined || done.input.op !== 'append') continue;
    const mutated = { ...get, output: { op: 'get' as const, value: read.replace(done.input.value, '') } };
    return h.map((op, i) => (i === g ? mutated : op));
  }
  throw new Error('generator: no get to corrupt');
}

interface Input {
  name: string;
  source: 'file' | 'generated';
  history: History<KvInput, KvOutput>;
  runs: number;
  timeoutMs: number;
}

interface FileResult {
  name: string;
  source: 'file' | 'generated';
  operations: number;
  partitions: number;
  verdict: string;
  steps: number;
  medianMs: number;
  maxMs: number;
  runsMs: number[];
}

/** Times the checker on the c50 kv histories. */
export async function measureChecker(log: (line: string) => void): Promise<{ text: string; results: unknown }> {
  const inputs: Input[] = [];
  const present = existsSync(kvDir) ? readdirSync(kvDir).filter((f) => /^c50.*\.txt$/.test(f)).sort() : [];
  for (const f of present) {
    inputs.push({ name: f.replace(/\.txt$/, ''), source: 'file', history: parseEdnKvHistory(readFileSync(path.join(kvDir, f), 'utf8')), runs: RUNS, timeoutMs: 60_000 });
  }
  const ok = generateOk(SEED, CLIENTS);
  if (!present.includes('c50-ok.txt')) inputs.push({ name: 'c50-ok', source: 'generated', history: ok.history, runs: RUNS, timeoutMs: 60_000 });
  if (!present.includes('c50-bad.txt')) inputs.push({ name: 'c50-bad', source: 'generated', history: generateBad(ok), runs: RUNS, timeoutMs: 60_000 });
  // Stress: the same clients on 10 keys, once each, under the 10 s bound.
  const crowded = generateOk(SEED, 10);
  inputs.push({ name: 'c50-10keys-ok', source: 'generated', history: crowded.history, runs: 1, timeoutMs: STRESS_TIMEOUT_MS });
  inputs.push({ name: 'c50-10keys-bad', source: 'generated', history: generateBad(crowded), runs: 1, timeoutMs: STRESS_TIMEOUT_MS });

  const results: FileResult[] = [];
  for (const input of inputs) {
    // One unmeasured run first, so that the JIT has compiled the search (not for the slow ones).
    if (input.runs > 1) checkLinearizabilitySync(kvModel, input.history, { timeoutMs: input.timeoutMs });
    const runsMs: number[] = [];
    let last = checkLinearizabilitySync(kvModel, input.history, { timeoutMs: input.timeoutMs });
    runsMs.push(last.elapsedMs);
    for (let r = 1; r < input.runs; r++) {
      last = checkLinearizabilitySync(kvModel, input.history, { timeoutMs: input.timeoutMs });
      runsMs.push(last.elapsedMs);
    }
    const row: FileResult = {
      name: input.name,
      source: input.source,
      operations: last.operations,
      partitions: last.partitions,
      verdict: last.verdict === 'unknown' ? `unknown (${formatNs(input.timeoutMs * 1e6)} bound)` : last.verdict,
      steps: last.steps,
      medianMs: median(runsMs),
      maxMs: Math.max(...runsMs),
      runsMs,
    };
    results.push(row);
    log(`checker ${row.name}: ${row.verdict}, median ${formatNs(row.medianMs * 1e6)}`);
    // Let other work (a progress bar, signals) run between files.
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  const text = formatTable(results, [
    { header: 'history', align: 'left', cell: (r) => `${r.name}${r.source === 'generated' ? ' (generated)' : ''}` },
    { header: 'ops', cell: (r) => formatCount(r.operations) },
    { header: 'partitions', cell: (r) => String(r.partitions) },
    { header: 'verdict', align: 'left', cell: (r) => r.verdict },
    { header: 'steps', cell: (r) => formatCount(r.steps) },
    { header: 'runs', cell: (r) => String(r.runsMs.length) },
    { header: 'median', cell: (r) => formatNs(r.medianMs * 1e6) },
    { header: 'max', cell: (r) => formatNs(r.maxMs * 1e6) },
  ]);
  return { text: `linearizability checker, kv model (median and max over the runs)\n${text}`, results };
}
