/**
 * bench/kv-store: @pontoon/kv (etcd's data model on SQLite, replicated by RaftNode), the
 * figures of issue 14, in one run:
 * - `applies`: puts/s at 1, 64 and 256 in flight on one member and on a 3-member cluster (in this
 *   process, SQLite log at synchronous=FULL, store at KvMember's NORMAL, TCP on 127.0.0.1), and
 *   the apply layer alone, each as a ratio to a bare SQLite transaction of the same rows (applies.ts);
 * - `stored`: a member filled with PONTOON_KV_BENCH_KEYS keys (default 1,000,000) restarted in a
 *   fresh process: start time, resident memory per stored key, bytes on disk per key, and the
 *   latency of a single-key get, serializable and linearizable (member-child.ts);
 * - `watch`: PONTOON_KV_BENCH_WATCHERS watchers (default 1,000) on a prefix, p50/p99 from a put's
 *   acknowledgement to each watcher's loop receiving the event (watch-fanout.ts);
 * - `hot key`: puts/s to one key as its version grows (hot-key.ts).
 * PONTOON_KV_BENCH_QUICK=1 runs every section at small sizes (what bench/test runs).
 */
import { decodeHistogram, cdfPoints, summarize } from '../lib/histogram.js';
import { ChildGroup, guarded } from '../lib/child-processes.js';
import { formatCount, formatNs, formatTable } from '../lib/report.js';
import type { Chart, Suite, SuiteOptions, SuiteReport } from '../lib/suite.js';
import { type ApplyRate, measureApplies } from './applies.js';
import { fillKeys } from './fill.js';
import { type HotKeyPoint, measureHotKey } from './hot-key.js';
import type { MemberChildReport } from './member-child.js';
import { openMembers } from './members.js';
import { type FanoutResult, measureFanout } from './watch-fanout.js';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** How big each section is. */
export interface KvStoreSizes {
  /** In-flight levels of `applies`. */
  levels: readonly number[];
  valueBytes: number;
  /** Keys stored for `stored`. */
  keys: number;
  /** Gets of each kind in `stored`. */
  getSamples: number;
  watchers: number;
  /** Puts observed by every watcher in `watch`. */
  watchWrites: number;
  /** Versions of the hot key at which its put rate is measured. */
  hotKeyVersions: readonly number[];
}

export const DEFAULT_SIZES: KvStoreSizes = {
  levels: [1, 64, 256],
  valueBytes: 128,
  keys: 1_000_000,
  getSamples: 5_000,
  watchers: 1_000,
  watchWrites: 200,
  hotKeyVersions: [0, 1_000, 5_000, 10_000],
};

/** Every section at a size that finishes in seconds: keeps the suite working (bench/test). */
export const QUICK_SIZES: KvStoreSizes = {
  levels: [1, 16],
  valueBytes: 128,
  keys: 3_000,
  getSamples: 200,
  watchers: 50,
  watchWrites: 10,
  hotKeyVersions: [0, 300],
};

export const SECTIONS = ['applies', 'stored', 'watch', 'hot key'] as const;

export interface StoredResult {
  keys: number;
  fillMs: number;
  /** kv.db (with its WAL) and the Raft log directory, in bytes. */
  storeBytes: number;
  raftLogBytes: number;
  /** Start with the default check of the store file (quick_check: reads every page). */
  quick: MemberChildReport;
  /** Start with `verify: 'meta'` (the meta row only). */
  meta: MemberChildReport;
  /** A member with an empty store, for the memory baseline. */
  empty: MemberChildReport;
  rssPerKeyBytes: number;
}

export interface KvStoreResults {
  sizes: KvStoreSizes;
  applies?: ApplyRate[];
  stored?: StoredResult;
  watch?: { oneMember: FanoutResult; follower: FanoutResult };
  hotKey?: HotKeyPoint[];
}

const childScript = fileURLToPath(new URL('./member-child.ts', import.meta.url));

function dirBytes(p: string): number {
  const st = fs.statSync(p);
  if (!st.isDirectory()) return st.size;
  return fs.readdirSync(p).reduce((sum, name) => sum + dirBytes(path.join(p, name)), 0);
}

async function runChild(group: ChildGroup, dataDir: string, keys: number, verify: 'quick' | 'meta', samples: number): Promise<MemberChildReport> {
  const child = group.fork<never, MemberChildReport>(`member (${keys} keys, verify ${verify})`, childScript, [dataDir, String(keys), verify, String(samples)]);
  return guarded(child.next(), [], 30 * 60_000, child.name);
}

async function measureStored(group: ChildGroup, sizes: KvStoreSizes, log: (line: string) => void): Promise<StoredResult> {
  const full = group.tempDir('kv-stored');
  const empty = group.tempDir('kv-empty');
  let fillMs = 0;
  for (const [dir, keys] of [
    [full, sizes.keys],
    [empty, 0],
  ] as const) {
    // The log is compacted to nothing once filled, so that the restart measures the store: a
    // SqliteLogStore reads the entries it holds at open, and the fill's entries (128 puts
    // each) would otherwise be most of the memory and part of the start time.
    const g = await openMembers(dir, 1, 'kv-store-bench', { snapshot: { keepEntries: 0 } });
    try {
      const leader = await g.leader();
      if (keys > 0) {
        fillMs = await fillKeys(leader, keys, sizes.valueBytes, log);
        log(`  filled ${keys.toLocaleString('en-US')} keys in ${(fillMs / 1000).toFixed(1)} s`);
      }
      await leader.raft.snapshot();
    } finally {
      await g.close();
    }
  }
  const storeBytes = ['kv.db', 'kv.db-wal'].reduce((s, f) => s + (fs.existsSync(path.join(full, 'm1', f)) ? dirBytes(path.join(full, 'm1', f)) : 0), 0);
  const raftLogBytes = dirBytes(path.join(full, 'm1', 'raft'));
  const quick = await runChild(group, full, sizes.keys, 'quick', sizes.getSamples);
  const meta = await runChild(group, full, sizes.keys, 'meta', sizes.getSamples);
  const emptyReport = await runChild(group, empty, 0, 'quick', sizes.getSamples);
  if (!quick.allFound || !meta.allFound || !emptyReport.allFound) throw new Error('stored: a get found nothing where a key is stored, or something where none is');
  return {
    keys: sizes.keys,
    fillMs,
    storeBytes,
    raftLogBytes,
    quick,
    meta,
    empty: emptyReport,
    rssPerKeyBytes: (quick.rssAfterReadsBytes - emptyReport.rssAfterReadsBytes) / sizes.keys,
  };
}

/** Runs the sections whose name contains `filter` (all when undefined). */
export async function runKvStore(sizes: KvStoreSizes, options: SuiteOptions, log: (line: string) => void): Promise<KvStoreResults> {
  const wanted = (s: (typeof SECTIONS)[number]): boolean => options.filter === undefined || s.includes(options.filter);
  const group = new ChildGroup();
  const results: KvStoreResults = { sizes };
  try {
    if (wanted('applies') || wanted('watch')) {
      const dir = group.tempDir('kv-members');
      const single = await openMembers(path.join(dir, 'one'), 1);
      const three = await openMembers(path.join(dir, 'three'), 3, 'kv-store-bench-3');
      try {
        const [one, leader] = await Promise.all([single.leader(), three.leader()]);
        if (wanted('applies')) {
          log('applies');
          results.applies = await measureApplies({ ...options, levels: sizes.levels, valueBytes: sizes.valueBytes, dir, single: one, cluster: leader, log });
        }
        if (wanted('watch')) {
          log(`watch: ${sizes.watchers} watchers, ${sizes.watchWrites} puts`);
          const follower = three.members.find((m) => m !== leader)!;
          results.watch = {
            oneMember: await measureFanout(one, one, sizes.watchers, sizes.watchWrites, sizes.valueBytes, 'one'),
            follower: await measureFanout(leader, follower, sizes.watchers, sizes.watchWrites, sizes.valueBytes, 'follower'),
          };
        }
      } finally {
        await Promise.all([single.close(), three.close()]);
      }
    }
    if (wanted('stored')) {
      log(`stored: ${sizes.keys.toLocaleString('en-US')} keys`);
      results.stored = await measureStored(group, sizes, log);
    }
    if (wanted('hot key')) {
      log('hot key');
      results.hotKey = await measureHotKey(path.join(group.tempDir('kv-hot'), 'hot.db'), sizes.hotKeyVersions, sizes.valueBytes);
    }
  } finally {
    await group.close();
  }
  return results;
}

const mib = (b: number): string => `${(b / 2 ** 20).toFixed(1)} MiB`;
const ms = (x: number): string => `${x.toFixed(x < 10 ? 1 : 0)} ms`;

function report(r: KvStoreResults): SuiteReport {
  const parts: string[] = [];
  const charts: Chart[] = [];
  if (r.applies !== undefined) {
    parts.push(
      formatTable(r.applies, [
        { header: 'applies', align: 'left', cell: (a) => a.config },
        { header: 'in flight', cell: (a) => String(a.inFlight) },
        { header: 'puts/s', cell: (a) => formatCount(a.putsPerSec) },
        { header: 'x bare txn', cell: (a) => a.ratio.toFixed(2) },
      ]) +
        `\n(${r.sizes.valueBytes} B values, a new key per put; 'bare SQLite txn' and 'store applyBatch' commit batches of` +
        `\n'in flight' rows per transaction, the members keep that many puts in flight; bare, applyBatch and` +
        `\nthe Raft logs at synchronous=FULL, the members' stores at NORMAL, synced before the log is compacted)`,
    );
    const configs = [...new Set(r.applies.map((a) => a.config))];
    charts.push({
      kind: 'throughput',
      title: 'puts/s against puts in flight',
      series: configs.map((c) => ({ name: c, points: r.applies!.filter((a) => a.config === c).map((a) => [a.inFlight, a.putsPerSec] as const) })),
    });
  }
  if (r.stored !== undefined) {
    const s = r.stored;
    const rows = [
      { what: 'start, verify quick (default)', child: s.quick },
      { what: "start, verify 'meta'", child: s.meta },
      { what: 'start, empty store', child: s.empty },
    ];
    parts.push(
      formatTable(rows, [
        { header: `member with ${s.keys.toLocaleString('en-US')} keys`, align: 'left', cell: (x) => x.what },
        { header: 'open', cell: (x) => ms(x.child.openMs) },
        { header: 'ready', cell: (x) => ms(x.child.readyMs) },
        { header: 'RSS at ready', cell: (x) => mib(x.child.rssAfterOpenBytes) },
        { header: `after ${(2 * r.sizes.getSamples).toLocaleString('en-US')} gets`, cell: (x) => mib(x.child.rssAfterReadsBytes) },
        { header: 'heap', cell: (x) => mib(x.child.heapUsedAfterReadsBytes) },
      ]) +
        `\nresident memory per stored key: ${s.rssPerKeyBytes.toFixed(1)} B (RSS with the keys minus RSS with none, after the same gets)` +
        `\nfilled through Raft (txns of 128 puts, 8 in flight) in ${(s.fillMs / 1000).toFixed(1)} s, then the log compacted` +
        `\non disk: store ${mib(s.storeBytes)} (${(s.storeBytes / s.keys).toFixed(0)} B/key), Raft log ${mib(s.raftLogBytes)}`,
    );
    const gets = [
      { what: 'get one key, serializable', h: decodeHistogram(s.quick.serializable) },
      { what: 'get one key, linearizable', h: decodeHistogram(s.quick.linearizable) },
    ];
    parts.push(
      formatTable(gets, [
        { header: `range, ${s.keys.toLocaleString('en-US')} keys stored`, align: 'left', cell: (g) => g.what },
        { header: 'gets', cell: (g) => formatCount(g.h.totalCount) },
        { header: 'p50', cell: (g) => formatNs(summarize(g.h).p50Ns) },
        { header: 'p99', cell: (g) => formatNs(summarize(g.h).p99Ns) },
      ]),
    );
    charts.push({ kind: 'cdf', title: 'single-key get latency', series: gets.map((g) => ({ name: g.what, points: cdfPoints(g.h) })) });
  }
  if (r.watch !== undefined) {
    const rows = [
      { what: '1 member (writes and watches on it)', f: r.watch.oneMember },
      { what: '3 members, watches on a follower', f: r.watch.follower },
    ];
    parts.push(
      formatTable(rows, [
        { header: `watch fan-out, ${r.sizes.watchers} watchers`, align: 'left', cell: (x) => x.what },
        { header: 'events', cell: (x) => formatCount(x.f.fromAck.totalCount) },
        { header: 'ack->event p50', cell: (x) => formatNs(summarize(x.f.fromAck).p50Ns) },
        { header: 'p99', cell: (x) => formatNs(summarize(x.f.fromAck).p99Ns) },
        { header: 'before ack', cell: (x) => `${(x.f.beforeAck * 100).toFixed(0)}%` },
        { header: 'put->event p50', cell: (x) => formatNs(summarize(x.f.fromCall).p50Ns) },
        { header: 'p99', cell: (x) => formatNs(summarize(x.f.fromCall).p99Ns) },
      ]) + `\n(one put at a time under the prefix; an event delivered before its put's acknowledgement counts as 0 from the ack)`,
    );
    charts.push({ kind: 'cdf', title: 'watch: put call to event', series: rows.map((x) => ({ name: x.what, points: cdfPoints(x.f.fromCall) })) });
  }
  if (r.hotKey !== undefined) {
    parts.push(
      formatTable(r.hotKey, [
        { header: 'one key written again and again', align: 'left', cell: (p) => `at version ${p.version.toLocaleString('en-US')}${p.compacted ? ', compacted' : ''}` },
        { header: 'puts/s', cell: (p) => formatCount(p.putsPerSec) },
      ]) + '\n(apply layer alone, 64 puts per transaction; no compaction but the last)',
    );
  }
  const { applies, stored, watch, hotKey } = r;
  const json = {
    sizes: r.sizes,
    applies,
    stored: stored && {
      ...stored,
      quick: { ...stored.quick, serializable: summarize(decodeHistogram(stored.quick.serializable)), linearizable: summarize(decodeHistogram(stored.quick.linearizable)) },
      meta: { ...stored.meta, serializable: undefined, linearizable: undefined },
    },
    watch: watch && Object.fromEntries(Object.entries(watch).map(([k, f]) => [k, { ...f, fromAck: summarize(f.fromAck), fromCall: summarize(f.fromCall) }])),
    hotKey,
  };
  return { text: parts.join('\n\n'), results: json, charts };
}

function sizesFromEnv(): KvStoreSizes {
  const base = process.env.PONTOON_KV_BENCH_QUICK === '1' ? QUICK_SIZES : DEFAULT_SIZES;
  const int = (name: string, fallback: number): number => {
    const v = process.env[name];
    if (v === undefined) return fallback;
    const n = Number(v);
    if (!Number.isSafeInteger(n) || n < 1) throw new Error(`${name} must be a positive integer, got ${v}`);
    return n;
  };
  return { ...base, keys: int('PONTOON_KV_BENCH_KEYS', base.keys), watchers: int('PONTOON_KV_BENCH_WATCHERS', base.watchers) };
}

export const kvStoreSuite: Suite = {
  name: 'kv-store',
  description: '@pontoon/kv: puts/s (1 and 3 members) vs bare SQLite, gets with PONTOON_KV_BENCH_KEYS stored, start, memory/key, watch fan-out',
  defaults: { runs: 3, durationMs: 1000, warmupRuns: 1 },
  async run(options, log) {
    return report(await runKvStore(sizesFromEnv(), options, log));
  },
};

/** For tests: the report of a run. */
export { report as kvStoreReport };
