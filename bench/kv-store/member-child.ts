/**
 * A fresh process that restarts a one-member cluster from its data directory and reports, over
 * IPC: how long the start took (store open, then until it leads and answers a linearizable
 * read), its resident memory before and after, and the latency of single-key gets of random
 * stored keys, serializable (the store alone) and linearizable (through ReadIndex).
 *
 *   member-child.ts <dataDir> <keys> <verify: quick|meta> <samples>
 */
import { openKvMember, LocalPeerNetwork, type KvMember } from '@pontoon/kv';
import { TcpTransport } from '@pontoon/transport-tcp';
import { encodeIntoCompressedBase64 } from 'hdr-histogram-js';
import path from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';
import { SampleBuffer } from '../lib/histogram.js';
import { filledKey } from './fill.js';
import { BENCH_KV_RAFT } from './members.js';

export interface MemberChildReport {
  /** openKvMember(): the store's open and check, the Raft log's open. */
  openMs: number;
  /** From openKvMember() until it leads and has answered a linearizable read. */
  readyMs: number;
  rssBeforeBytes: number;
  rssAfterOpenBytes: number;
  rssAfterReadsBytes: number;
  heapUsedAfterReadsBytes: number;
  /** Compressed base64 HDR histograms (ns). */
  serializable: string;
  linearizable: string;
  /** Every get found its key (none, with no keys stored). */
  allFound: boolean;
}

// The child is forked without --expose-gc; a collection before each RSS reading steadies it.
v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

async function main(): Promise<void> {
  const [dataDir, keysArg, verify, samplesArg] = process.argv.slice(2);
  if (dataDir === undefined || keysArg === undefined || (verify !== 'quick' && verify !== 'meta') || samplesArg === undefined) {
    throw new Error('usage: member-child.ts <dataDir> <keys> <quick|meta> <samples>');
  }
  const keys = Number(keysArg);
  const samples = Number(samplesArg);
  gc();
  const rssBeforeBytes = process.memoryUsage().rss;
  const transport = new TcpTransport({ id: 1, clusterId: 'kv-store-bench' });
  await transport.listen();
  const started = performance.now();
  const member: KvMember = await openKvMember({
    id: 1,
    dataDir: path.join(dataDir, 'm1'),
    transport,
    peers: new LocalPeerNetwork().link(1),
    initialMembers: [{ id: 1, address: transport.address! }],
    raft: BENCH_KV_RAFT,
    store: { verify },
    requestTimeoutMs: 60_000,
  });
  const openMs = performance.now() - started;
  while (!member.isLeader) await new Promise((r) => setTimeout(r, 1));
  await member.get(filledKey(0));
  const readyMs = performance.now() - started;
  const rssAfterOpenBytes = process.memoryUsage().rss;

  const serializable = new SampleBuffer();
  const linearizable = new SampleBuffer();
  let allFound = true;
  // A fixed sequence of keys (a multiplicative hash of the sample number): the same each run.
  const keyAt = (i: number): Uint8Array => filledKey(Number((BigInt(i) * 2654435761n) % BigInt(Math.max(1, keys))));
  // With no keys stored the same gets run (and find nothing): the memory baseline does the same work.
  const found = (n: number): boolean => n === (keys > 0 ? 1 : 0);
  for (let i = 0; i < samples; i++) {
    const key = keyAt(i);
    const t = performance.now();
    const r = await member.get(key, { serializable: true });
    serializable.push(performance.now() - t);
    if (!found(r.kvs.length)) allFound = false;
  }
  for (let i = 0; i < samples; i++) {
    const key = keyAt(samples + i);
    const t = performance.now();
    const r = await member.get(key);
    linearizable.push(performance.now() - t);
    if (!found(r.kvs.length)) allFound = false;
  }
  gc();
  const mem = process.memoryUsage();
  const report: MemberChildReport = {
    openMs,
    readyMs,
    rssBeforeBytes,
    rssAfterOpenBytes,
    rssAfterReadsBytes: mem.rss,
    heapUsedAfterReadsBytes: mem.heapUsed,
    serializable: encodeIntoCompressedBase64(serializable.toHistogram()),
    linearizable: encodeIntoCompressedBase64(linearizable.toHistogram()),
    allFound,
  };
  await member.close();
  process.send!(report, () => process.exit(0));
}

main().catch((err: unknown) => {
  process.stderr.write(`member-child: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
