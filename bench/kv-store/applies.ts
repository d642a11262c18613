/**
 * Puts per second at a number in flight, four ways in one run, so that each is read against the
 * first: a bare SQLite transaction of the same rows (the floor of any store on SQLite), the
 * store's apply layer alone (KvStateMachine.applyBatch, no Raft), one KvMember, and a 3-member
 * cluster (in this process, TCP on 127.0.0.1). Every put writes a new key, so the rate does not
 * depend on how long a key's history has grown (hot-key.ts measures that).
 */
import { type KvMember, KvStateMachine, encodeCommand } from '@pontoon/kv';
import { EntryType, type Entry } from '@pontoon/raft';
import Database from 'better-sqlite3';
import path from 'node:path';
import { median } from '../lib/report.js';

export const APPLY_CONFIGS = ['bare SQLite txn', 'store applyBatch', '1 member', '3 members'] as const;
export type ApplyConfig = (typeof APPLY_CONFIGS)[number];

export interface ApplyRate {
  config: ApplyConfig;
  inFlight: number;
  putsPerSec: number;
  /** putsPerSec / the bare SQLite transaction's rows per second at the same level. */
  ratio: number;
}

export interface ApplyOptions {
  levels: readonly number[];
  valueBytes: number;
  durationMs: number;
  runs: number;
  warmupRuns: number;
  /** Where the temporary databases go. */
  dir: string;
  single: KvMember;
  cluster: KvMember;
  log: (line: string) => void;
}

const encoder = new TextEncoder();

/** Unique keys per configuration: `bench/<tag>/<seq>`. */
class KeySource {
  private seq = 0;
  constructor(private readonly tag: string) {}
  next(): Uint8Array {
    return encoder.encode(`bench/${this.tag}/${String(this.seq++).padStart(10, '0')}`);
  }
}

/** Runs `runOnce` (returns puts/s) warm-up + measured times; the median of the measured ones. */
async function rate(options: ApplyOptions, runOnce: () => Promise<number> | number): Promise<number> {
  const rates: number[] = [];
  for (let run = 0; run < options.warmupRuns + options.runs; run++) {
    const r = await runOnce();
    if (run >= options.warmupRuns) rates.push(r);
  }
  return median(rates);
}

/** Commits transactions of `batch` rows, back to back, for the duration. */
function bareSqlite(db: Database.Database, keys: KeySource, value: Uint8Array, batch: number, durationMs: number): number {
  const insert = db.prepare('INSERT OR REPLACE INTO kv (key, value) VALUES (?, ?)');
  const commit = db.transaction((rows: Uint8Array[]) => {
    for (const k of rows) insert.run(k, value);
  });
  let puts = 0;
  const started = performance.now();
  while (performance.now() - started < durationMs) {
    const rows = Array.from({ length: batch }, () => keys.next());
    commit(rows);
    puts += batch;
  }
  return puts / ((performance.now() - started) / 1000);
}

/** Applies batches of `batch` put entries, back to back, for the duration. */
function storeApply(sm: KvStateMachine, keys: KeySource, value: Uint8Array, batch: number, durationMs: number): number {
  let index = sm.position().index;
  let puts = 0;
  const started = performance.now();
  while (performance.now() - started < durationMs) {
    const entries: Entry[] = [];
    for (let i = 0; i < batch; i++) {
      entries.push({ index: ++index, term: 1, type: EntryType.EntryNormal, data: encodeCommand({ op: 'put', request: { key: keys.next(), value } }) });
    }
    sm.applyBatch(entries);
    puts += batch;
  }
  return puts / ((performance.now() - started) / 1000);
}

/** A closed loop of `inFlight` puts on `member`: each answer sends the next. */
async function memberPuts(member: KvMember, keys: KeySource, value: Uint8Array, inFlight: number, durationMs: number): Promise<number> {
  let completed = 0;
  let issuing = true;
  const started = performance.now();
  await new Promise<void>((resolve, reject) => {
    let outstanding = 0;
    const issue = (): void => {
      outstanding++;
      member.put(keys.next(), value).then(() => {
        outstanding--;
        completed++;
        if (issuing) issue();
        else if (outstanding === 0) resolve();
      }, reject);
    };
    for (let i = 0; i < inFlight; i++) issue();
    setTimeout(() => (issuing = false), durationMs);
  });
  return completed / ((performance.now() - started) / 1000);
}

/** Every configuration at every level, the levels in turn (so all four see the same load). */
export async function measureApplies(options: ApplyOptions): Promise<ApplyRate[]> {
  const value = new Uint8Array(options.valueBytes).fill(0x61);
  const bare = new Database(path.join(options.dir, 'bare.db'));
  bare.pragma('journal_mode = WAL');
  bare.pragma('synchronous = FULL');
  bare.exec('CREATE TABLE kv (key BLOB PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID');
  const sm = await KvStateMachine.open(path.join(options.dir, 'apply.db'));
  const keys = { bare: new KeySource('bare'), store: new KeySource('store'), single: new KeySource('one'), cluster: new KeySource('three') };
  const out: ApplyRate[] = [];
  try {
    for (const inFlight of options.levels) {
      const rates: Record<ApplyConfig, number> = {
        'bare SQLite txn': await rate(options, () => bareSqlite(bare, keys.bare, value, inFlight, options.durationMs)),
        'store applyBatch': await rate(options, () => storeApply(sm, keys.store, value, inFlight, options.durationMs)),
        '1 member': await rate(options, () => memberPuts(options.single, keys.single, value, inFlight, options.durationMs)),
        '3 members': await rate(options, () => memberPuts(options.cluster, keys.cluster, value, inFlight, options.durationMs)),
      };
      const base = rates['bare SQLite txn'];
      for (const config of APPLY_CONFIGS) out.push({ config, inFlight, putsPerSec: rates[config], ratio: rates[config] / base });
      options.log(`  ${inFlight} in flight: ${APPLY_CONFIGS.map((c) => `${c} ${Math.round(rates[c])}/s`).join(', ')}`);
    }
  } finally {
    bare.close();
    sm.close();
  }
  return out;
}
