/**
 * Runs random request sequences on a real etcd 3.4 (through etcdctl -w json) and on MvccStore,
 * and compares every answer: header revisions, kvs with their revisions, versions and leases,
 * count, more, deleted, prev_kvs, txn branches, error messages and the final HashKV. (etcdctl 3.4
 * has no flags for the min/max revision filters; the model-based test covers those.) Not part of the test suite
 * (it needs etcd installed: `apt-get install -y etcd-server etcd-client`); run it with
 *
 *   npx -y pnpm@10 exec tsx packages/kv/test/etcd-compare.ts [sequences] [steps] [seed]
 *
 * It starts one etcd per sequence on 127.0.0.1 with a temporary data directory and stops it.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EtcdError, MvccStore, type KeyValue, type RequestOp, prefixEnd } from '../src/index.js';

const [sequences = 4, steps = 80, seed0 = Date.now() % 100000] = process.argv.slice(2).map(Number);

function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const KEYS = ['a', 'b', 'ab', 'c', 'd'];
const b = (s: string): Uint8Array => Buffer.from(s);

interface Norm {
  [k: string]: unknown;
}

function normKv(kv: { key?: string | Uint8Array; value?: string | Uint8Array; create_revision?: number; mod_revision?: number; version?: number; lease?: string | bigint } | KeyValue): Norm {
  const asHex = (v: unknown): string => (v === undefined ? '' : typeof v === 'string' ? Buffer.from(v, 'base64').toString('hex') : Buffer.from(v as Uint8Array).toString('hex'));
  if ('createRevision' in kv) {
    return { key: asHex(kv.key), value: asHex(kv.value), create: kv.createRevision, mod: kv.modRevision, version: kv.version, lease: kv.lease.toString() };
  }
  return { key: asHex(kv.key), value: asHex(kv.value), create: kv.create_revision ?? 0, mod: kv.mod_revision ?? 0, version: kv.version ?? 0, lease: String(kv.lease ?? '0') };
}

async function startEtcd(port: number): Promise<{ proc: ChildProcess; dir: string; endpoint: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'pontoon-etcd-'));
  const endpoint = `127.0.0.1:${port}`;
  const proc = spawn(
    'etcd',
    [
      '--data-dir', dir,
      '--listen-client-urls', `http://${endpoint}`,
      '--advertise-client-urls', `http://${endpoint}`,
      '--listen-peer-urls', `http://127.0.0.1:${port + 1}`,
      '--initial-advertise-peer-urls', `http://127.0.0.1:${port + 1}`,
      '--initial-cluster', `default=http://127.0.0.1:${port + 1}`,
    ],
    { stdio: 'ignore' },
  );
  for (let i = 0; i < 100; i++) {
    try {
      execFileSync('etcdctl', ['--endpoints', endpoint, 'endpoint', 'health'], { env: { ...process.env, ETCDCTL_API: '3' }, stdio: 'pipe' });
      return { proc, dir, endpoint };
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  proc.kill();
  throw new Error('etcd did not start');
}

function etcdctl(endpoint: string, args: string[], input?: string): { ok: true; json: Norm } | { ok: false; message: string } {
  try {
    const out = execFileSync('etcdctl', ['--endpoints', endpoint, '-w', 'json', ...args], {
      env: { ...process.env, ETCDCTL_API: '3' },
      stdio: 'pipe',
      ...(input === undefined ? {} : { input }),
    }).toString();
    // compact answers in text whatever -w says.
    if (args[0] === 'compact') return { ok: true, json: { text: out.trim() } };
    // Lease ids are int64: keep them exact.
    return { ok: true, json: JSON.parse(out.replace(/"(lease|ID)":(\d+)/g, '"$1":"$2"')) as Norm };
  } catch (err) {
    const stderr = String((err as { stderr?: Buffer }).stderr ?? '');
    const line = stderr.split('\n').find((l) => l.startsWith('Error: ')) ?? stderr;
    return { ok: false, message: line.replace(/^Error: /, '').trim() };
  }
}

function ours(fn: () => unknown): { ok: true; value: unknown } | { ok: false; message: string } {
  try {
    return { ok: true, value: fn() };
  } catch (err) {
    if (err instanceof EtcdError) return { ok: false, message: err.etcdMessage };
    throw err;
  }
}

let mismatches = 0;
function same(step: string, expected: unknown, actual: unknown): void {
  const e = JSON.stringify(expected);
  const a = JSON.stringify(actual);
  if (e !== a) {
    mismatches++;
    console.log(`MISMATCH ${step}\n  etcd: ${e}\n  ours: ${a}`);
  }
}

type RangeSpec = { flags: string[]; key: string; rangeEnd?: Uint8Array };
function rangeSpec(r: () => number): RangeSpec {
  const key = KEYS[Math.floor(r() * KEYS.length)]!;
  const pick = r();
  if (pick < 0.4) return { flags: [key], key };
  if (pick < 0.6) return { flags: [key, '--prefix'], key, rangeEnd: prefixEnd(b(key)) };
  if (pick < 0.8) return { flags: [key, '--from-key'], key, rangeEnd: Uint8Array.of(0) };
  return { flags: [key, 'e'], key, rangeEnd: b('e') };
}

async function runSequence(seq: number): Promise<void> {
  const r = rng(seed0 + seq);
  const { proc, dir, endpoint } = await startEtcd(24000 + seq * 10);
  const store = MvccStore.open(':memory:');
  const leases: string[] = [];
  try {
    for (let step = 0; step < steps; step++) {
      const kind = r();
      const label = `seq ${seq} step ${step}`;
      if (kind < 0.3) {
        const key = KEYS[Math.floor(r() * KEYS.length)]!;
        const value = `v${step}`;
        const prevKv = r() < 0.5;
        const lease = leases.length > 0 && r() < 0.3 ? leases[Math.floor(r() * leases.length)] : undefined;
        const ignoreValue = r() < 0.1;
        const ignoreLease = !lease && r() < 0.1;
        const args = ['put', key, ...(ignoreValue ? [] : [value])];
        if (prevKv) args.push('--prev-kv');
        if (lease) args.push(`--lease=${lease}`);
        if (ignoreValue) args.push('--ignore-value');
        if (ignoreLease) args.push('--ignore-lease');
        const e = etcdctl(endpoint, args);
        const o = ours(() =>
          store.put({ key: b(key), value: ignoreValue ? new Uint8Array(0) : b(value), prevKv, ignoreValue, ignoreLease, ...(lease ? { lease: BigInt(`0x${lease}`) } : {}) }),
        );
        same(`${label} ${args.join(' ')}`,
          e.ok ? { rev: (e.json['header'] as Norm)['revision'], prev: e.json['prev_kv'] ? normKv(e.json['prev_kv'] as Norm) : null } : e.message,
          o.ok ? { rev: (o.value as { header: { revision: number } }).header.revision, prev: (o.value as { prevKv?: KeyValue }).prevKv ? normKv((o.value as { prevKv: KeyValue }).prevKv) : null } : o.message);
      } else if (kind < 0.55) {
        const spec = rangeSpec(r);
        const args = ['get', ...spec.flags];
        const rev = r() < 0.3 ? Math.floor(r() * (store.revision + 2)) : 0;
        const limit = r() < 0.3 ? 1 + Math.floor(r() * 3) : 0;
        const sortTargets = ['KEY', 'VERSION', 'CREATE', 'MODIFY', 'VALUE'] as const;
        const ours2 = { key: 'key', VERSION: 'version', CREATE: 'create', MODIFY: 'mod', VALUE: 'value', KEY: 'key' } as const;
        const target = sortTargets[Math.floor(r() * sortTargets.length)]!;
        const order = r() < 0.5 ? 'ASCEND' : 'DESCEND';
        const sort = r() < 0.4;
        const keysOnly = r() < 0.2;
        // etcdctl 3.4 has no --count-only either.
        const countOnly = false;
        if (rev > 0) args.push(`--rev=${rev}`);
        if (limit > 0) args.push(`--limit=${limit}`);
        if (sort) args.push(`--sort-by=${target}`, `--order=${order}`);
        if (keysOnly) args.push('--keys-only');
        const e = etcdctl(endpoint, args);
        const o = ours(() =>
          store.range({
            key: b(spec.key),
            ...(spec.rangeEnd ? { rangeEnd: spec.rangeEnd } : {}),
            revision: rev,
            limit,
            ...(sort ? { sortTarget: ours2[target], sortOrder: order === 'ASCEND' ? ('ascend' as const) : ('descend' as const) } : {}),
            keysOnly,
            countOnly,
          }),
        );
        same(`${label} ${args.join(' ')}`,
          e.ok ? { rev: (e.json['header'] as Norm)['revision'], kvs: ((e.json['kvs'] as Norm[]) ?? []).map(normKv), more: e.json['more'] ?? false, count: e.json['count'] ?? 0 } : e.message,
          o.ok ? (() => { const v = o.value as { header: { revision: number }; kvs: KeyValue[]; more: boolean; count: number }; return { rev: v.header.revision, kvs: v.kvs.map(normKv), more: v.more, count: v.count }; })() : o.message);
      } else if (kind < 0.65) {
        const spec = rangeSpec(r);
        const prevKv = r() < 0.5;
        const args = ['del', ...spec.flags, ...(prevKv ? ['--prev-kv'] : [])];
        const e = etcdctl(endpoint, args);
        const o = ours(() => store.deleteRange({ key: b(spec.key), ...(spec.rangeEnd ? { rangeEnd: spec.rangeEnd } : {}), prevKv }));
        same(`${label} ${args.join(' ')}`,
          e.ok ? { rev: (e.json['header'] as Norm)['revision'], deleted: e.json['deleted'] ?? 0, prev: ((e.json['prev_kvs'] as Norm[]) ?? []).map(normKv) } : e.message,
          o.ok ? (() => { const v = o.value as { header: { revision: number }; deleted: number; prevKvs: KeyValue[] }; return { rev: v.header.revision, deleted: v.deleted, prev: v.prevKvs.map(normKv) }; })() : o.message);
      } else if (kind < 0.85) {
        const cmpKey = KEYS[Math.floor(r() * KEYS.length)]!;
        const targets = ['version', 'create', 'mod', 'value'] as const;
        const target = targets[Math.floor(r() * targets.length)]!;
        const ops = ['=', '!=', '<', '>'] as const;
        const op = ops[Math.floor(r() * ops.length)]!;
        const operand = target === 'value' ? `v${Math.floor(r() * step + 1)}` : String(Math.floor(r() * 4));
        const results = { '=': 'equal', '!=': 'notEqual', '<': 'less', '>': 'greater' } as const;
        const branch = (): { lines: string[]; ops: RequestOp[] } => {
          const lines: string[] = [];
          const reqs: RequestOp[] = [];
          const used = new Set<string>();
          for (let i = Math.floor(r() * 3); i > 0; i--) {
            const key = KEYS[Math.floor(r() * KEYS.length)]!;
            const what = r();
            if (what < 0.4 && !used.has(key)) {
              used.add(key);
              lines.push(`put ${key} t${step}`);
              reqs.push({ put: { key: b(key), value: b(`t${step}`) } });
            } else if (what < 0.7) {
              lines.push(`get ${key}`);
              reqs.push({ range: { key: b(key) } });
            } else if (!used.has(key)) {
              used.add(key);
              lines.push(`del ${key}`);
              reqs.push({ deleteRange: { key: b(key) } });
            }
          }
          return { lines, ops: reqs };
        };
        const then = branch();
        const otherwise = branch();
        const compareLine = `${target}("${cmpKey}") ${op} "${operand}"`;
        const input = `${compareLine}\n\n${then.lines.join('\n')}${then.lines.length ? '\n' : ''}\n${otherwise.lines.join('\n')}${otherwise.lines.length ? '\n' : ''}\n`;
        const e = etcdctl(endpoint, ['txn'], input);
        const compare = target === 'value'
          ? { key: b(cmpKey), target, result: results[op], value: b(operand) }
          : target === 'version'
            ? { key: b(cmpKey), target, result: results[op], version: Number(operand) }
            : target === 'create'
              ? { key: b(cmpKey), target, result: results[op], createRevision: Number(operand) }
              : { key: b(cmpKey), target, result: results[op], modRevision: Number(operand) };
        const o = ours(() => store.txn({ compare: [compare], success: then.ops, failure: otherwise.ops }));
        const etcdResponses = e.ok
          ? ((e.json['responses'] as Norm[]) ?? []).map((resp) => {
              const inner = resp['Response'] as Norm;
              const [kindName, body] = Object.entries(inner)[0] as [string, Norm];
              return { kind: kindName, rev: (body['header'] as Norm)['revision'], kvs: ((body['kvs'] as Norm[]) ?? []).map(normKv), deleted: body['deleted'] ?? 0 };
            })
          : null;
        const ourResponses = o.ok
          ? (o.value as { responses: Record<string, { header: { revision: number }; kvs?: KeyValue[]; deleted?: number }>[] }).responses.map((resp) => {
              const [kindName, body] = Object.entries(resp)[0]!;
              const name = { range: 'ResponseRange', put: 'ResponsePut', deleteRange: 'ResponseDeleteRange' }[kindName as 'range'];
              return { kind: name, rev: body.header.revision, kvs: (body.kvs ?? []).map(normKv), deleted: body.deleted ?? 0 };
            })
          : null;
        same(`${label} txn ${JSON.stringify(input)}`,
          e.ok ? { rev: (e.json['header'] as Norm)['revision'], succeeded: e.json['succeeded'] ?? false, responses: etcdResponses } : e.message,
          o.ok ? { rev: (o.value as { header: { revision: number } }).header.revision, succeeded: (o.value as { succeeded: boolean }).succeeded, responses: ourResponses } : o.message);
      } else if (kind < 0.9) {
        const rev = Math.floor(r() * (store.revision + 2));
        const e = etcdctl(endpoint, ['compact', String(rev)]);
        const o = ours(() => store.compact({ revision: rev }));
        same(`${label} compact ${rev}`, e.ok ? 'ok' : e.message, o.ok ? 'ok' : o.message);
      } else if (kind < 0.96 || leases.length === 0) {
        // Long TTLs: expiry (the leader's clock) is not the store's business and must not race the run.
        const ttl = Math.floor(r() * 1000) + 3600;
        const out = execFileSync('etcdctl', ['--endpoints', endpoint, 'lease', 'grant', String(ttl)], { env: { ...process.env, ETCDCTL_API: '3' } }).toString();
        const hex = /lease ([0-9a-f]+) granted with TTL\((\d+)s\)/.exec(out)!;
        const o = store.leaseGrant({ id: BigInt(`0x${hex[1]}`), ttl });
        same(`${label} lease grant ${ttl}`, Number(hex[2]), o.ttl);
        leases.push(hex[1]!);
      } else {
        const lease = leases.splice(Math.floor(r() * leases.length), 1)[0]!;
        const e = etcdctl(endpoint, ['lease', 'revoke', lease]);
        const o = ours(() => store.leaseRevoke({ id: BigInt(`0x${lease}`) }));
        same(`${label} lease revoke`, e.ok ? (e.json['header'] as Norm)['revision'] : e.message, o.ok ? (o.value as { header: { revision: number } }).header.revision : o.message);
      }
    }
    const hash = etcdctl(endpoint, ['endpoint', 'hashkv']);
    const etcdHash = hash.ok ? (hash.json as unknown as { HashKV: { hash: number; compact_revision: number } }[])[0]!.HashKV : undefined;
    same(`seq ${seq} hashkv`, etcdHash ? { hash: etcdHash.hash, compact: etcdHash.compact_revision } : null, { hash: store.hashKV().hash, compact: store.compactRevision });
  } finally {
    store.close();
    proc.kill();
    await new Promise((r) => proc.once('exit', r));
    rmSync(dir, { recursive: true, force: true });
  }
}

for (let seq = 0; seq < sequences; seq++) await runSequence(seq);
console.log(`${sequences} sequences of ${steps} steps from seed ${seed0}: ${mismatches} mismatches`);
process.exitCode = mismatches === 0 ? 0 : 1;
