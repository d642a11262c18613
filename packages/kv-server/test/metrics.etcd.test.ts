/**
 * `/metrics` on --listen-metrics-urls, side by side with a real etcd 3.4: the same etcdctl
 * traffic goes to a one-member etcd and a one-member pontoon-kv, and the gRPC counters
 * (go-grpc-prometheus's names and labels) move the same way on both; the disk histograms
 * (`etcd_disk_wal_fsync_duration_seconds`, `etcd_disk_backend_commit_duration_seconds`) have
 * etcd's help, type and buckets and count pontoon-kv's log syncs and store commits.
 */
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  etcdBinary,
  freePort,
  runEtcdctl,
  startEtcdCluster,
  startPontoonKvCluster,
  type EtcdCluster,
  type PontoonKvCluster,
} from '../src/testing/index.js';

const LONG = 300_000;

let etcd: EtcdCluster;
let etcdMetrics: string;
let pontoon: PontoonKvCluster;

/** Samples of a Prometheus text page: `name{labels}` to value. */
async function scrape(url: string): Promise<{ text: string; samples: Map<string, number> }> {
  const res = await fetch(`${url}/metrics`);
  expect(res.status).toBe(200);
  const text = await res.text();
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    samples.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return { text, samples };
}

/** The grpc_server_* samples that changed between two scrapes, with how much. */
function grpcDeltas(before: Map<string, number>, after: Map<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of after) {
    if (!k.startsWith('grpc_server_')) continue;
    const d = v - (before.get(k) ?? 0);
    if (d !== 0) out[k] = d;
  }
  return out;
}

/** The `# HELP` and `# TYPE` lines and the bucket bounds of histogram `name`. */
function histogramShape(text: string, name: string): { meta: string[]; buckets: string[] } {
  const lines = text.split('\n');
  return {
    meta: lines.filter((l) => l.startsWith(`# HELP ${name} `) || l.startsWith(`# TYPE ${name} `)),
    buckets: lines.filter((l) => l.startsWith(`${name}_bucket{`)).map((l) => /le="([^"]+)"/.exec(l)![1]!),
  };
}

async function ctl(endpoint: string, args: string[]): Promise<string> {
  const r = await runEtcdctl([endpoint], args, { timeoutMs: 60_000 });
  return r.stdout + r.stderr;
}

/** The same calls on one endpoint: puts, reads (one refused), a lease and its keepalive, a watch replaying the puts. */
async function traffic(endpoint: string): Promise<void> {
  for (let i = 0; i < 3; i++) expect(await ctl(endpoint, ['put', `m/${i}`, 'v'])).toContain('OK');
  expect(await ctl(endpoint, ['get', 'm/', '--prefix', '--keys-only'])).toContain('m/2');
  expect(await ctl(endpoint, ['get', 'm/0', '--rev=100000'])).toContain('required revision is a future revision');
  const lease = /lease ([0-9a-f]+) granted/.exec(await ctl(endpoint, ['lease', 'grant', '60']))?.[1];
  expect(lease).toBeDefined();
  expect(await ctl(endpoint, ['lease', 'keep-alive', '--once', lease!])).toContain('keepalived');
  // From revision 1, so that what it sees does not depend on when it starts.
  const watch = spawn(etcdBinary('etcdctl'), [`--endpoints=${endpoint}`, 'watch', 'm/', '--prefix', '--rev=1'], { env: { ...process.env, ETCDCTL_API: '3' } });
  let out = '';
  watch.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  try {
    const deadline = Date.now() + 60_000;
    while (!out.includes('m/2') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    expect(out).toContain('m/2');
  } finally {
    const exited = new Promise((r) => watch.once('exit', r));
    watch.kill('SIGTERM');
    await exited;
  }
}

describe('/metrics: etcd names, labels and buckets', () => {
  beforeAll(async () => {
    etcdMetrics = `http://127.0.0.1:${await freePort()}`;
    [etcd, pontoon] = await Promise.all([
      startEtcdCluster({ size: 1, extraFlags: [`--listen-metrics-urls=${etcdMetrics}`] }),
      startPontoonKvCluster({ size: 1 }),
    ]);
  }, LONG);
  afterAll(async () => {
    await Promise.all([etcd?.stop(), pontoon?.stop()]);
  }, LONG);

  it('lists the same gRPC methods as etcd from the start, and counts the same calls, messages and codes', async () => {
    const pontoonMetrics = pontoon.members[0]!.metricsUrl;
    const [etcdBefore, pontoonBefore] = await Promise.all([scrape(etcdMetrics), scrape(pontoonMetrics)]);
    const grpcSeries = (m: Map<string, number>): string[] => [...m.keys()].filter((k) => k.startsWith('grpc_server_')).sort();
    expect(grpcSeries(etcdBefore.samples).length).toBeGreaterThan(700);
    expect(grpcSeries(pontoonBefore.samples)).toEqual(grpcSeries(etcdBefore.samples));
    for (const name of ['grpc_server_started_total', 'grpc_server_handled_total', 'grpc_server_msg_received_total', 'grpc_server_msg_sent_total']) {
      const meta = (text: string): string[] => text.split('\n').filter((l) => l.startsWith(`# HELP ${name} `) || l.startsWith(`# TYPE ${name} `));
      expect(meta(pontoonBefore.text)).toEqual(meta(etcdBefore.text));
    }

    await traffic(etcd.endpoints[0]!);
    await traffic(pontoon.endpoints[0]!);
    const [etcdAfter, pontoonAfter] = await Promise.all([scrape(etcdMetrics), scrape(pontoonMetrics)]);
    const expected = grpcDeltas(etcdBefore.samples, etcdAfter.samples);
    // The traffic shows: Put 3, Range OK and OutOfRange, a bidi keepalive, a watch canceled.
    expect(expected['grpc_server_handled_total{grpc_code="OK",grpc_method="Put",grpc_service="etcdserverpb.KV",grpc_type="unary"}']).toBe(3);
    expect(expected['grpc_server_handled_total{grpc_code="OutOfRange",grpc_method="Range",grpc_service="etcdserverpb.KV",grpc_type="unary"}']).toBe(1);
    expect(grpcDeltas(pontoonBefore.samples, pontoonAfter.samples)).toEqual(expected);
  }, LONG);

  it('has the disk histograms with etcd buckets, fed by the log syncs and store commits', async () => {
    const pontoonMetrics = pontoon.members[0]!.metricsUrl;
    const before = await scrape(pontoonMetrics);
    for (let i = 0; i < 5; i++) await ctl(pontoon.endpoints[0]!, ['put', `disk/${i}`, 'v']);
    const [after, reference] = await Promise.all([scrape(pontoonMetrics), scrape(etcdMetrics)]);
    for (const name of ['etcd_disk_wal_fsync_duration_seconds', 'etcd_disk_backend_commit_duration_seconds']) {
      const shape = histogramShape(after.text, name);
      expect(shape).toEqual(histogramShape(reference.text, name));
      expect(shape.buckets).toHaveLength(15);
      // Every put is at least one durable log write and one applied batch.
      expect((after.samples.get(`${name}_count`) ?? 0) - (before.samples.get(`${name}_count`) ?? 0)).toBeGreaterThanOrEqual(5);
      expect(after.samples.get(`${name}_sum`)).toBeGreaterThan(before.samples.get(`${name}_sum`) ?? 0);
    }
    expect(after.samples.get('etcd_server_has_leader')).toBe(1);
    expect(after.samples.get('etcd_server_is_leader')).toBe(1);
    expect(after.samples.get('etcd_server_leader_changes_seen_total')).toBe(1);
    expect(after.samples.get('etcd_server_proposals_applied_total')).toBeGreaterThan(before.samples.get('etcd_server_proposals_applied_total')!);
    expect(after.samples.get('etcd_debugging_mvcc_current_revision')).toBeGreaterThan(before.samples.get('etcd_debugging_mvcc_current_revision')!);
  }, LONG);
});
