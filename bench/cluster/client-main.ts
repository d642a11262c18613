/**
 * The benchmark client, as its own process: one TCP connection to the leader's client port,
 * closed-loop runs (a fixed number of requests outstanding; each answer sends the next), with
 * the requests of one turn of the event loop in one write. Driven by the parent over IPC.
 *
 *   node --import tsx --conditions=@pontoon/source client-main.ts <workload module>
 */
import net from 'node:net';
import { RecordKind, RecordReader, RecordWriter } from './client-protocol.js';
import { epochMs } from './ipc.js';
import type { ClientRunResult, ClientRunSpec, FromClient, ToClient } from './ipc.js';
import { loadWorkload } from './workload.js';

/** Distinct commands (and queries) precomputed and cycled through. */
const POOL = 1024;
/** Send times by request id modulo this: far more than any run keeps in flight. */
const RING = 1 << 16;
/** How long the outstanding requests may take to drain once a run stops issuing. */
const DRAIN_MS = 30_000;

process.on('disconnect', () => process.exit(0));

const workload = await loadWorkload(process.argv[2] ?? '');
const queries = Array.from({ length: POOL }, (_, i) => workload.query(i));
const commandPools = new Map<number, Uint8Array[]>();

function commands(payloadBytes: number): Uint8Array[] {
  let pool = commandPools.get(payloadBytes);
  if (pool === undefined) {
    pool = Array.from({ length: POOL }, (_, i) => workload.command(i, payloadBytes));
    commandPools.set(payloadBytes, pool);
  }
  return pool;
}

function say(m: FromClient): void {
  if (process.connected) process.send!(m);
}

let socket: net.Socket | undefined;
let writer: RecordWriter | undefined;
/** The answer handler of the run in progress. */
let onAnswer: ((kind: RecordKind, id: number, bytes: Uint8Array) => void) | undefined;
let onClose: ((err: Error) => void) | undefined;

async function connect(port: number): Promise<void> {
  socket?.destroy();
  const s = net.connect({ host: '127.0.0.1', port });
  s.setNoDelay(true);
  await new Promise<void>((resolve, reject) => s.once('connect', resolve).once('error', reject));
  const reader = new RecordReader((kind, id, bytes) => onAnswer?.(kind, id, bytes));
  s.on('data', (chunk: Buffer) => reader.push(chunk));
  s.on('error', () => {});
  s.on('close', () => {
    if (socket === s) onClose?.(new Error('the node closed the client connection'));
  });
  socket = s;
  writer = new RecordWriter(s);
}

let nextId = 1;

function run(spec: ClientRunSpec): Promise<ClientRunResult> {
  const w = writer;
  if (w === undefined) return Promise.reject(new Error('not connected'));
  const pool = spec.kind === 'write' ? commands(spec.payloadBytes) : queries;
  const kind = spec.kind === 'write' ? RecordKind.Write : RecordKind.Read;
  const sentAt = new Float64Array(RING);
  let latencies = new Float64Array(1 << 16);
  let completed = 0;
  let outstanding = 0;
  let seq = 0;
  let issuing = true;
  let measuring = false;
  let windowStart = 0;
  let windowEnd = 0;
  let startAt = 0;
  let endAt = 0;
  const cpuStart = process.cpuUsage();

  const issue = (): void => {
    const id = nextId++ >>> 0;
    sentAt[id % RING] = performance.now();
    w.add(kind, id, pool[seq++ % POOL]!);
    outstanding++;
  };

  return new Promise<ClientRunResult>((resolve, reject) => {
    let drainTimer: NodeJS.Timeout | undefined;
    const finish = (err?: Error): void => {
      onAnswer = undefined;
      onClose = undefined;
      clearTimeout(phaseTimer);
      clearTimeout(drainTimer);
      if (err !== undefined) return reject(err);
      const elapsedMs = windowEnd - windowStart;
      const cpu = process.cpuUsage(cpuStart);
      resolve({ completed, elapsedMs, latenciesMs: latencies.subarray(0, completed), startAt, endAt, cpuUs: cpu.user + cpu.system });
    };
    const stopIssuing = (): void => {
      issuing = false;
      measuring = false;
      windowEnd = performance.now();
      endAt = epochMs();
      if (outstanding === 0) finish();
      else drainTimer = setTimeout(() => finish(new Error(`${outstanding} requests unanswered ${DRAIN_MS} ms after the run`)), DRAIN_MS);
    };
    const maybeEnd = (): void => {
      if (measuring && windowDone && completed >= spec.minCount) stopIssuing();
    };
    let windowDone = false;
    let phaseTimer: NodeJS.Timeout = setTimeout(() => {
      measuring = true;
      windowStart = performance.now();
      startAt = epochMs();
      phaseTimer = setTimeout(() => {
        windowDone = true;
        maybeEnd();
      }, spec.durationMs);
    }, spec.warmupMs);

    onClose = finish;
    onAnswer = (k, id, bytes) => {
      outstanding--;
      if (k === RecordKind.Error) {
        finish(new Error(`request failed: ${Buffer.from(bytes).toString()}`));
        return;
      }
      if (measuring) {
        if (completed === latencies.length) {
          const bigger = new Float64Array(latencies.length * 2);
          bigger.set(latencies);
          latencies = bigger;
        }
        latencies[completed++] = performance.now() - sentAt[id % RING]!;
        maybeEnd();
      }
      if (issuing) issue();
      else if (outstanding === 0) finish();
    };
    // The answers of one chunk were all handled above: their follow-ups leave in one write.
    socket!.on('data', flushAfterData);
    for (let i = 0; i < spec.inFlight; i++) issue();
    w.flush();
  }).finally(() => socket?.off('data', flushAfterData));
}

function flushAfterData(): void {
  writer?.flush();
}

process.on('message', (m: ToClient) => {
  const reply = (p: Promise<ClientRunResult | null>): void =>
    void p.then(
      (value) => say({ kind: 'reply', req: m.req, value }),
      (err: unknown) => say({ kind: 'reply', req: m.req, error: err instanceof Error ? err.message : String(err) }),
    );
  switch (m.op) {
    case 'connect':
      reply(connect(m.port).then(() => null));
      return;
    case 'run':
      reply(run(m.spec));
      return;
    case 'exit':
      socket?.destroy();
      process.exit(0);
  }
});
say({ kind: 'started', at: epochMs() });
