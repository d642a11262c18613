import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type EtcdCluster,
  type PontoonKvCluster,
  startEtcdCluster,
  startPontoonKv,
  startPontoonKvCluster,
  freePort,
} from '../src/testing/index.js';

/**
 * The JSON gateway against etcd 3.4's: the same script of HTTP requests to a real etcd and to
 * pontoon-kv, each answer (status, content type, body) compared after the parts that differ by
 * design are masked (cluster and member ids, terms, remaining lease TTLs). The script covers
 * the KV, Lease, Lock and Election calls, the streams (Watch, LeaseKeepAlive) and the ways a
 * request can be wrong: JSON that does not parse, values a field cannot take, base64 that is
 * not, wrong methods and paths.
 */

const b64 = (s: string): string => Buffer.from(s).toString('base64');

/** What one request answered, as text to compare. */
interface Answer {
  readonly step: string;
  readonly status: number;
  readonly contentType: string | null;
  readonly body: string;
}

function mask(text: string): string {
  return text
    .replace(/"(cluster_id|member_id|raft_term)":"\d+"/g, '"$1":"X"')
    .replace(/"TTL":"\d+"/g, '"TTL":"X"');
}

async function request(base: string, step: string, path: string, body: string, method = 'POST'): Promise<Answer> {
  const res = await fetch(`${base}${path}`, { method, body: method === 'GET' ? undefined : body, signal: AbortSignal.timeout(10_000) });
  return { step, status: res.status, contentType: res.headers.get('content-type'), body: mask(await res.text()) };
}

/**
 * A stream's first `lines` lines (then the request is aborted), or all of them if it ends
 * first; `during` runs once the stream has answered all but the last.
 */
async function stream(base: string, step: string, path: string, body: string, lines: number, during?: () => Promise<void>): Promise<Answer> {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), 20_000);
  try {
    const res = await fetch(`${base}${path}`, { method: 'POST', body, signal: abort.signal });
    const reader = res.body!.getReader();
    let text = '';
    let ran = false;
    for (;;) {
      if (text.split('\n').length - 1 >= lines) break;
      // A stream still open after 5 s is compared as open.
      const next = await Promise.race([reader.read(), new Promise<'open'>((r) => setTimeout(() => r('open'), 5_000).unref())]);
      if (next === 'open') {
        text += '[still open]';
        break;
      }
      const { done, value } = next;
      if (done) break;
      text += Buffer.from(value).toString();
      if (!ran && during !== undefined && text.split('\n').length - 1 >= lines - 1) {
        ran = true;
        await during();
      }
    }
    abort.abort();
    return { step, status: res.status, contentType: res.headers.get('content-type'), body: mask(text) };
  } finally {
    clearTimeout(timer);
  }
}

async function script(base: string): Promise<Answer[]> {
  const out: Answer[] = [];
  const r = async (step: string, path: string, body: string, method?: string): Promise<void> => {
    out.push(await request(base, step, path, body, method));
  };
  // KV.
  await r('put', '/v3/kv/put', JSON.stringify({ key: b64('foo'), value: b64('bar') }));
  await r('put prev_kv', '/v3/kv/put', JSON.stringify({ key: b64('foo'), value: b64('baz'), prev_kv: true }));
  await r('put camelCase', '/v3/kv/put', JSON.stringify({ key: b64('foo/a'), value: b64('1'), prevKv: true }));
  await r('put <>&', '/v3/kv/put', JSON.stringify({ key: b64('foo/b'), value: b64('<&>') }));
  await r('range', '/v3/kv/range', JSON.stringify({ key: b64('foo') }));
  await r('range prefix sorted', '/v3/kv/range', JSON.stringify({ key: b64('foo'), range_end: b64('fop'), sort_order: 'DESCEND', sort_target: 'MOD' }));
  await r('range limit as string', '/v3/kv/range', JSON.stringify({ key: b64('foo'), range_end: b64('fop'), limit: '2' }));
  await r('range keys_only, count_only', '/v3/kv/range', JSON.stringify({ key: b64('foo'), rangeEnd: b64('fop'), keys_only: true }));
  await r('range count_only', '/v3/kv/range', JSON.stringify({ key: b64('foo'), range_end: b64('fop'), count_only: true }));
  await r('range at revision 2', '/v3/kv/range', JSON.stringify({ key: b64('foo'), revision: 2, serializable: true }));
  await r('range enum by number', '/v3/kv/range', JSON.stringify({ key: b64('foo'), range_end: b64('fop'), sort_order: 1, sort_target: 0 }));
  await r('range camel beats snake', '/v3/kv/range', JSON.stringify({ key: b64('nothing'), range_end: b64('x'), rangeEnd: b64('\0') }));
  await r('range unknown fields ignored', '/v3/kv/range', JSON.stringify({ key: b64('foo'), bogus: [1, { a: 2 }] }));
  await r('range null fields', '/v3/kv/range', JSON.stringify({ key: b64('foo'), range_end: null, limit: null }));
  await r('v3beta', '/v3beta/kv/range', JSON.stringify({ key: b64('foo') }));
  await r('txn', '/v3/kv/txn', JSON.stringify({
    compare: [{ key: b64('foo'), result: 'EQUAL', target: 'VALUE', value: b64('baz') }],
    success: [{ request_put: { key: b64('t'), value: b64('1') } }, { request_range: { key: b64('foo') } }],
    failure: [{ request_delete_range: { key: b64('foo') } }],
  }));
  await r('txn fails', '/v3/kv/txn', JSON.stringify({
    compare: [{ key: b64('foo'), result: 'GREATER', target: 'VERSION', version: '5' }],
    success: [{ request_put: { key: b64('t'), value: b64('2') } }],
    failure: [{ requestRange: { key: b64('t') } }, { request_delete_range: { key: b64('nothing') } }],
  }));
  await r('delete prev_kv', '/v3/kv/deleterange', JSON.stringify({ key: b64('foo/a'), prev_kv: true }));
  out.push(await stream(base, 'watch negative start, nothing compacted yet', '/v3/watch', JSON.stringify({ create_request: { key: b64('foo'), start_revision: -4 } }), 2));
  await r('compact', '/v3/kv/compaction', JSON.stringify({ revision: 3 }));
  await r('range compacted', '/v3/kv/range', JSON.stringify({ key: b64('foo'), revision: 2 }));
  await r('range future', '/v3/kv/range', JSON.stringify({ key: b64('foo'), revision: 1000 }));
  // etcd takes any int64 in a range: 0 or less is no limit, the latest revision, no filter;
  // a negative maximum filters every kv out but leaves the count.
  await r('range negatives', '/v3/kv/range', JSON.stringify({ key: b64('foo'), range_end: b64('fop'), limit: -5, revision: -100, min_mod_revision: -3, min_create_revision: -1 }));
  await r('range negative max_mod_revision', '/v3/kv/range', JSON.stringify({ key: b64('foo'), range_end: b64('fop'), max_mod_revision: -1 }));
  await r('range negative max_create_revision', '/v3/kv/range', JSON.stringify({ key: b64('foo'), range_end: b64('fop'), max_create_revision: '-2', limit: 1 }));
  await r('txn range negatives', '/v3/kv/txn', JSON.stringify({ success: [{ request_range: { key: b64('foo'), range_end: b64('fop'), limit: -1, max_mod_revision: -1 } }] }));
  await r('range end below key', '/v3/kv/range', JSON.stringify({ key: b64('foo'), range_end: b64('a') }));
  await r('compare end below key', '/v3/kv/txn', JSON.stringify({ compare: [{ key: b64('foo'), range_end: b64('a'), target: 'VERSION', result: 'EQUAL', version: 0 }] }));
  await r('delete end below key', '/v3/kv/deleterange', JSON.stringify({ key: b64('foo'), range_end: b64('a') }));
  await r('compact negative', '/v3/kv/compaction', JSON.stringify({ revision: -1 }));
  // The path of both Hash and HashKV: etcd's gateway serves Hash (of its own file: masked).
  out.push(await request(base, 'hash', '/v3/maintenance/hash', JSON.stringify({ revision: -1 })).then((a) => ({ ...a, body: a.body.replace(/"hash":\d+/, '"hash":H') })));
  await r('grant negative TTL', '/v3/lease/grant', JSON.stringify({ ID: 6000, TTL: -5 }));
  await r('revoke negative id', '/v3/lease/revoke', JSON.stringify({ ID: -5 }));
  await r('put negative lease', '/v3/kv/put', JSON.stringify({ key: b64('neg'), value: b64('v'), lease: -5 }));
  // Lease, Lock, Election (fixed lease ids: etcd's own are random).
  await r('grant', '/v3/lease/grant', JSON.stringify({ ID: 7000, TTL: 60 }));
  await r('grant again', '/v3/lease/grant', JSON.stringify({ ID: '7000', TTL: '60' }));
  await r('put with lease', '/v3/kv/put', JSON.stringify({ key: b64('leased'), value: b64('v'), lease: 7000 }));
  await r('timetolive', '/v3/lease/timetolive', JSON.stringify({ ID: 7000, keys: true }));
  await r('timetolive (kv alias)', '/v3/kv/lease/timetolive', JSON.stringify({ ID: 7000 }));
  await r('leases', '/v3/lease/leases', '{}');
  out.push(await stream(base, 'keepalive', '/v3/lease/keepalive', '{"ID":7000}\n{"ID":"7000"} {"ID":424242}', 100));
  await r('revoke', '/v3/lease/revoke', JSON.stringify({ ID: 7000 }));
  await r('revoke again', '/v3/kv/lease/revoke', JSON.stringify({ ID: 7000 }));
  await r('grant for lock', '/v3/lease/grant', JSON.stringify({ ID: 7100, TTL: 60 }));
  await r('lock', '/v3/lock/lock', JSON.stringify({ name: b64('mylock'), lease: 7100 }));
  await r('lock with a missing lease', '/v3/lock/lock', JSON.stringify({ name: b64('mylock'), lease: 424242 }));
  await r('campaign with a missing lease', '/v3/election/campaign', JSON.stringify({ name: b64('el2'), lease: 424242, value: b64('x') }));
  await r('proclaim without leadership', '/v3/election/proclaim', JSON.stringify({ leader: { name: b64('el3'), key: b64('el3/1'), rev: 99, lease: 7100 }, value: b64('v') }));
  await r('unlock', '/v3/lock/unlock', JSON.stringify({ key: b64(`mylock/${(7100).toString(16)}`) }));
  await r('campaign', '/v3/election/campaign', JSON.stringify({ name: b64('el'), lease: 7100, value: b64('me') }));
  await r('leader', '/v3/election/leader', JSON.stringify({ name: b64('el') }));
  await r('alarm list', '/v3/maintenance/alarm', '{}');
  await r('authenticate (authentication off)', '/v3/auth/authenticate', JSON.stringify({ name: 'root', password: 'x' }));
  // The members differ (names, URLs); the header must not (etcd's has no revision here).
  out.push(await request(base, 'member list', '/v3/cluster/member/list', '{}').then((a) => ({ ...a, body: a.body.replace(/"members":\[.*\]/, '"members":M') })));
  await r('defragment', '/v3/maintenance/defragment', '{}');
  // Watch: history from revision 1, then a put made while it is open.
  out.push(
    await stream(base, 'watch', '/v3/watch', JSON.stringify({ create_request: { key: b64('foo'), range_end: b64('fop'), start_revision: 4, prev_kv: true } }), 3, async () => {
      await request(base, 'put during watch', '/v3/kv/put', JSON.stringify({ key: b64('foo/c'), value: b64('new') }));
    }),
  );
  out.push(await stream(base, 'watch end below key', '/v3/watch', JSON.stringify({ create_request: { key: b64('foo'), range_end: b64('a') } }), 1));
  out.push(await stream(base, 'watch negative start', '/v3/watch', JSON.stringify({ create_request: { key: b64('foo'), start_revision: -4 } }), 2));
  out.push(await stream(base, 'watch compacted', '/v3/watch', JSON.stringify({ create_request: { key: b64('foo'), start_revision: 1 } }), 2));
  out.push(await stream(base, 'watch: first message bad', '/v3/watch', 'garbage', 5));
  out.push(await stream(base, 'keepalive: empty body', '/v3/lease/keepalive', '', 5));
  // Bodies the gateway refuses before calling, with Go's texts.
  const bad: [string, string, string?][] = [
    ['empty body', ''],
    ['null', 'null'],
    ['array', '[]'],
    ['number', '12'],
    ['garbage', 'garbage'],
    ['trailing garbage', '{"key":"Zm9v"} nonsense'],
    ['unterminated', '{"key":"Zm9v",'],
    ['missing colon', '{"key" "Zm9v"}'],
    ['bad literal', '{"key":tru}'],
    ['bad key', '{3:1}'],
    ['bad separator', '{"key":"Zm9v";}'],
    ['bad escape', '{"key":"\\q"}'],
    ['control character', '{"key":"a\u0001"}'],
    ['bad number', '{"limit":-x}'],
    ['bad fraction', '{"limit":1.x}'],
    ['bad exponent', '{"limit":1ex}'],
    ['base64 unpadded', '{"key":"Zm9"}'],
    ['base64 bad character', '{"key":"Zm9v_-"}'],
    ['base64 bad padding', '{"key":"Z==="}'],
    ['base64 trailing', '{"key":"Zg==Zg=="}'],
    ['base64 with newline', '{"key":"Zm\\n9v"}'],
    ['bool as string', '{"key":"Zm9v","serializable":"true"}'],
    ['int64 as word', '{"key":"Zm9v","limit":"abc"}'],
    ['int64 fraction', '{"key":"Zm9v","limit":1.5}'],
    ['int64 trailing', '{"key":"Zm9v","limit":"12x"}'],
    ['int64 empty string', '{"key":"Zm9v","limit":""}'],
    ['int64 overflow', '{"key":"Zm9v","limit":99999999999999999999}'],
    ['int64 as bool', '{"key":"Zm9v","limit":true}'],
    ['bytes as number', '{"key":5}'],
    ['message as string', '{"compare":["x"]}', '/v3/kv/txn'],
    ['repeated as object', '{"compare":{}}', '/v3/kv/txn'],
    ['oneof member bad', '{"success":[{"request_put":{"key":7}}]}', '/v3/kv/txn'],
    ['enum unknown name', '{"key":"Zm9v","sort_order":"NOPE"}'],
    ['enum as bool', '{"key":"Zm9v","sort_order":true}'],
    ['enum fraction', '{"key":"Zm9v","sort_order":1.5}'],
    ['string as number', '{"peerURLs":[5]}', '/v3/cluster/member/add'],
    ['repeated string as string', '{"peerURLs":"x"}', '/v3/cluster/member/add'],
  ];
  for (const [name, body, path] of bad) await r(name, path ?? '/v3/kv/range', body);
  await r('uint32 alarm enum by number', '/v3/maintenance/alarm', '{"action":0,"alarm":1}');
  await r('GET', '/v3/kv/range', '', 'GET');
  await r('unknown path', '/v3/kv/nope', '{}');
  await r('v3alpha', '/v3alpha/kv/range', '{}');
  await r('OPTIONS', '/v3/kv/range', '', 'OPTIONS');
  return out;
}

describe('the JSON gateway against etcd 3.4', () => {
  let etcd: EtcdCluster;
  let pontoon: PontoonKvCluster;
  beforeAll(async () => {
    [etcd, pontoon] = await Promise.all([startEtcdCluster({ size: 1 }), startPontoonKvCluster({ size: 3 })]);
  }, 120_000);
  afterAll(async () => {
    await Promise.all([etcd?.stop(), pontoon?.stop()]);
  });

  it('answers the script as etcd does, step by step', async () => {
    const expected = await script(etcd.endpoints[0]!);
    const actual = await script(pontoon.endpoints[1]!);
    expect(actual.map((a) => a.step)).toEqual(expected.map((e) => e.step));
    for (let i = 0; i < expected.length; i++) expect(actual[i], expected[i]!.step).toEqual(expected[i]);
    // The script did reach the server: history, a leased key and a live watch event.
    const watch = actual.find((a) => a.step === 'watch')!;
    expect(watch.body).toContain(b64('new'));
    expect(actual.find((a) => a.step === 'timetolive')!.body).toContain(b64('leased'));
  }, 60_000);

  it('refuses a body past 4x --max-request-bytes plus 1 MiB before reading it into a request', async () => {
    const limit = 4 * 1_572_864 + 1024 * 1024;
    const body = JSON.stringify({ key: b64('big'), value: 'A'.repeat(limit) });
    const res = await fetch(`${pontoon.endpoints[0]!}/v3/kv/put`, { method: 'POST', body });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: `request body larger than ${limit} bytes`, message: `request body larger than ${limit} bytes`, code: 3 });
    // A put over --max-request-bytes but under that bound gets the server's own answer, as etcd's.
    const over = await fetch(`${pontoon.endpoints[0]!}/v3/kv/put`, { method: 'POST', body: JSON.stringify({ key: b64('big'), value: Buffer.alloc(1_600_000).toString('base64') }) });
    expect(over.status).toBe(400);
    expect(((await over.json()) as { message: string }).message).toBe('etcdserver: request is too large');
  }, 60_000);

  it('cancels the call when the HTTP client goes away', async () => {
    const base = pontoon.endpoints[0]!;
    // Watch streams open on the member: started less ended (its grpc_server_* counters).
    const watchers = async (): Promise<number> => {
      const text = await (await fetch(`${pontoon.members[0]!.metricsUrl}/metrics`)).text();
      const sum = (name: string): number =>
        text
          .split('\n')
          .filter((l) => l.startsWith(`${name}{`) && l.includes('grpc_method="Watch"'))
          .reduce((n, l) => n + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
      return sum('grpc_server_started_total') - sum('grpc_server_handled_total');
    };
    const before = await watchers();
    const aborts = Array.from({ length: 20 }, () => new AbortController());
    await Promise.all(
      aborts.map(async (a, i) => {
        const res = await fetch(`${base}/v3/watch`, { method: 'POST', body: JSON.stringify({ create_request: { key: b64(`w${i}`) } }), signal: a.signal });
        await res.body!.getReader().read();
      }),
    );
    expect(await watchers()).toBe(before + 20);
    for (const a of aborts) a.abort();
    const deadline = Date.now() + 10_000;
    while ((await watchers()) !== before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(await watchers()).toBe(before);
  }, 60_000);
});

/** A member's client URL, its port and a way to stop it with SIGTERM. */
interface Stoppable {
  readonly base: string;
  readonly port: number;
  stop(): Promise<void>;
}

async function onePontoonKv(name: string, extra: readonly string[] = []): Promise<Stoppable> {
  const [client, peer] = [await freePort(), await freePort()];
  const dir = await mkdtemp(path.join(os.tmpdir(), `${name}-`));
  const member = await startPontoonKv(
    [
      `--name=${name}`,
      `--listen-client-urls=http://127.0.0.1:${client}`,
      `--advertise-client-urls=http://127.0.0.1:${client}`,
      `--listen-peer-urls=http://127.0.0.1:${peer}`,
      `--initial-advertise-peer-urls=http://127.0.0.1:${peer}`,
      `--initial-cluster=${name}=http://127.0.0.1:${peer}`,
      ...extra,
    ],
    { cwd: dir },
  );
  return {
    base: `http://127.0.0.1:${client}`,
    port: client,
    stop: async () => {
      if (member.process.exitCode === null) {
        const exited = new Promise((r) => member.process.once('exit', r));
        member.process.kill('SIGTERM');
        await exited;
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function oneEtcd(): Promise<Stoppable> {
  const cluster = await startEtcdCluster({ size: 1 });
  const base = cluster.endpoints[0]!;
  return { base, port: Number(new URL(base).port), stop: async () => { await cluster.stopMember(0); await cluster.stop(); } };
}

/** Two requests on one connection, `idleMs` apart: the status line of each. */
function twoRequestsOnOneConnection(port: number, idleMs: number): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    const lines: string[] = [];
    let text = '';
    const send = (): void => {
      socket.write('POST /v3/kv/range HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 14\r\n\r\n{"key":"Zm9v"}');
    };
    socket.on('data', (d: Buffer) => {
      text += d.toString();
      const statuses = text.match(/HTTP\/1\.1 \d+ [^\r]*/g) ?? [];
      if (statuses.length > lines.length) {
        lines.push(statuses[lines.length]!);
        if (lines.length === 1) setTimeout(send, idleMs);
        else {
          socket.destroy();
          resolve(lines);
        }
      }
    });
    socket.on('close', () => resolve([...lines, 'closed']));
    socket.on('error', reject);
    socket.on('connect', send);
  });
}

describe('the HTTP connection as etcd keeps it', () => {
  let etcd: Stoppable;
  let pontoon: Stoppable;
  beforeAll(async () => {
    [etcd, pontoon] = await Promise.all([oneEtcd(), onePontoonKv('conn')]);
  }, 120_000);
  afterAll(async () => {
    await Promise.all([etcd?.stop(), pontoon?.stop()]);
  });

  it('keeps an idle connection open (Node closes it after 5 s by default)', async () => {
    const [e, p] = await Promise.all([twoRequestsOnOneConnection(etcd.port, 6_000), twoRequestsOnOneConnection(pontoon.port, 6_000)]);
    expect(e).toEqual(['HTTP/1.1 200 OK', 'HTTP/1.1 200 OK']);
    expect(p).toEqual(e);
  }, 30_000);

  it('ends an open watch with etcd\'s last line when the member stops', async () => {
    const lastLines = await Promise.all(
      [etcd, pontoon].map(async (m) => {
        const res = await fetch(`${m.base}/v3/watch`, { method: 'POST', body: JSON.stringify({ create_request: { key: b64('k') } }), signal: AbortSignal.timeout(20_000) });
        const reader = res.body!.getReader();
        let text = '';
        const first = await reader.read();
        text += Buffer.from(first.value!).toString();
        const stopping = m.stop();
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          text += Buffer.from(value).toString();
        }
        await stopping;
        return text.split('\n').at(-1);
      }),
    );
    // etcd ends the stream with one of two lines, by which of its shutdown steps reaches the
    // gateway first; pontoon-kv with the first.
    const closing = '{"error":{"grpc_code":14,"http_code":503,"message":"transport is closing","http_status":"Service Unavailable"}}';
    // The second (a cancelled context: gRPC code 1, HTTP 408) was seen once in this test.
    const etcdLast = JSON.parse(lastLines[0]!) as { error: { grpc_code: number; http_code: number } };
    if (etcdLast.error.grpc_code === 14) expect(lastLines[0]).toBe(closing);
    else expect([etcdLast.error.grpc_code, etcdLast.error.http_code]).toEqual([1, 408]);
    expect(lastLines[1]).toBe(closing);
  }, 60_000);
});

describe('--enable-grpc-gateway=false', () => {
  it('leaves /v3/ unserved, as etcd does', async () => {
    const member = await onePontoonKv('nogw', ['--enable-grpc-gateway=false']);
    try {
      const res = await fetch(`${member.base}/v3/kv/range`, { method: 'POST', body: '{"key":"Zm9v"}' });
      expect(res.status).toBe(404);
      expect(await res.text()).toBe('404 page not found\n');
      expect((await fetch(`${member.base}/health`)).status).toBe(200);
    } finally {
      await member.stop();
    }
  }, 120_000);
});
