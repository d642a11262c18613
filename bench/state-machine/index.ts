/**
 * bench/state-machine: the cost of keeping the state on disk. Three RaftNodes in one process
 * over MemoryLogStore and MemoryNetwork (as `cluster-mem`, so that only the state machine
 * differs), the same closed loop of 128 B puts, against two state machines in one run: an
 * in-memory Map (StateMachine, one apply() per entry) and examples/sqlite-map's SqliteMap
 * (OnDiskStateMachine, one applyBatch() and one SQLite transaction per Ready, at
 * `synchronous=full`: an fsync per batch, and `normal`: none). Reported as commits/s and as a
 * ratio to the in-memory map.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MemoryLogStore, MemoryNetwork, RaftNode, type AnyStateMachine, type Entry, type StateMachine } from '@pontoon/raft';
import { SqliteMap, encodeCommand } from '../../examples/sqlite-map/sqlite-map.js';
import { formatCount, formatTable, median } from '../lib/report.js';
import type { Suite, SuiteOptions, SuiteReport } from '../lib/suite.js';

const LEVELS = [1, 64, 256];
const POOL = 1024;

/** The in-memory counterpart of SqliteMap: same commands, same results. */
class MemoryMap implements StateMachine<string | null> {
  private readonly map = new Map<string, string>();
  apply(entry: Readonly<Entry>): string | null {
    const cmd = JSON.parse(new TextDecoder().decode(entry.data)) as { key: string; value: string | null };
    const previous = this.map.get(cmd.key) ?? null;
    if (cmd.value === null) this.map.delete(cmd.key);
    else this.map.set(cmd.key, cmd.value);
    return previous;
  }
  snapshot(): Uint8Array {
    return new TextEncoder().encode(JSON.stringify([...this.map]));
  }
  restore(data: Uint8Array): void {
    this.map.clear();
    for (const [k, v] of JSON.parse(new TextDecoder().decode(data)) as Array<[string, string]>) this.map.set(k, v);
  }
}

interface Variant {
  name: string;
  create(dir: string, id: number): AnyStateMachine & { close?(): void };
}

const VARIANTS: Variant[] = [
  { name: 'memory Map', create: () => new MemoryMap() },
  { name: 'SqliteMap full', create: (dir, id) => SqliteMap.open(path.join(dir, `n${id}`), { synchronous: 'full' }) },
  { name: 'SqliteMap normal', create: (dir, id) => SqliteMap.open(path.join(dir, `n${id}`), { synchronous: 'normal' }) },
];

interface Result {
  variant: string;
  inFlight: number;
  commitsPerSec: number;
  ratio: number;
}

async function measure(variant: Variant, options: SuiteOptions): Promise<Map<number, number>> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pontoon-bench-sm-'));
  const network = new MemoryNetwork();
  const members = [1, 2, 3].map((id) => ({ id, address: `mem-${id}` }));
  const sms = members.map((m) => variant.create(dir, m.id));
  const nodes = members.map(
    (m, i) =>
      new RaftNode<AnyStateMachine>({
        id: m.id,
        logStore: new MemoryLogStore(),
        transport: network.transport(m.id),
        stateMachine: sms[i]!,
        initialMembers: members,
        tickMs: 50,
        snapshot: { everyEntries: 50_000, keepEntries: 10_000 },
        maxInflightMsgs: 256,
      }),
  );
  const rates = new Map<number, number>();
  try {
    while (!nodes.some((n) => n.isLeader)) await new Promise((r) => setTimeout(r, 10));
    const leader = nodes.find((n) => n.isLeader)!;
    const commands = Array.from({ length: POOL }, (_, i) => encodeCommand({ key: `k${i}`, value: 'v'.repeat(100) }));
    for (const inFlight of LEVELS) {
      const runs: number[] = [];
      for (let run = 0; run < options.runs + options.warmupRuns; run++) {
        let seq = 0;
        let completed = 0;
        let issuing = true;
        const started = performance.now();
        await new Promise<void>((resolve, reject) => {
          let outstanding = 0;
          const issue = (): void => {
            outstanding++;
            leader.propose(commands[seq++ % POOL]!).then(() => {
              outstanding--;
              completed++;
              if (issuing) issue();
              else if (outstanding === 0) resolve();
            }, reject);
          };
          for (let i = 0; i < inFlight; i++) issue();
          setTimeout(() => (issuing = false), options.durationMs);
        });
        if (run >= options.warmupRuns) runs.push(completed / ((performance.now() - started) / 1000));
      }
      rates.set(inFlight, median(runs));
    }
  } finally {
    await Promise.all(nodes.map((n) => n.stop()));
    network.clear();
    for (const sm of sms) sm.close?.();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return rates;
}

async function runSuite(options: SuiteOptions, log: (line: string) => void): Promise<SuiteReport> {
  const byVariant = new Map<string, Map<number, number>>();
  for (const v of VARIANTS) {
    if (options.filter !== undefined && !v.name.includes(options.filter)) continue;
    const rates = await measure(v, options);
    byVariant.set(v.name, rates);
    log(`  ${v.name}: ${LEVELS.map((l) => `${l} in flight ${formatCount(rates.get(l)!)}/s`).join(', ')}`);
  }
  const base = byVariant.get('memory Map');
  const results: Result[] = [];
  for (const [variant, rates] of byVariant) {
    for (const inFlight of LEVELS) {
      const r = rates.get(inFlight)!;
      results.push({ variant, inFlight, commitsPerSec: r, ratio: base === undefined ? NaN : r / base.get(inFlight)! });
    }
  }
  const text = formatTable(results, [
    { header: 'state machine', align: 'left', cell: (r) => r.variant },
    { header: 'in flight', cell: (r) => String(r.inFlight) },
    { header: 'commits/s', cell: (r) => formatCount(r.commitsPerSec) },
    { header: '× memory Map', cell: (r) => (Number.isNaN(r.ratio) ? '-' : r.ratio.toFixed(2)) },
  ]);
  return { text: `${text}\n(3 nodes in one process, MemoryLogStore and MemoryNetwork; 128 B puts over 1,024 keys)`, results };
}

export const stateMachineSuite: Suite = {
  name: 'state-machine',
  description: 'in-memory state machine vs SQLite on disk with batched applies, 3 nodes in one process',
  defaults: { runs: 3, durationMs: 1000, warmupRuns: 1 },
  run: runSuite,
};
