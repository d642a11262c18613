/**
 * bench/transport: TcpTransport between two processes, side by side in the same run with a bare
 * node:net socket carrying the same number of bytes per message and per write.
 *
 * - Throughput: messages/s one way (MsgApp of one entry, 100 B or 4 KiB of data), the sender
 *   putting `batch` messages in each turn of its event loop and pausing while more than 1 MiB
 *   waits for the socket; counted at the receiver, from its first message to its last.
 * - Round trip: one MsgApp out and its MsgAppResp back, one at a time (p50 and p99).
 *
 * The bare socket's frames are `[u32 length][bytes]` of the size TcpTransport's frames take per
 * message (measured in the same run), and its receiver parses the length prefixes: the least
 * any framed protocol must do. Targets (issue 4): >= 0.8x the bare messages/s, RTT p50 within
 * 20 us of the bare one.
 *
 * The receiving process reports its CPU time per message, and for batched configurations the
 * codec's cost per message is measured alone (codec-cost.ts): together they bound the ratio a
 * receiver that must build the core's Message objects can reach (the note under the table).
 */
import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { MessageType } from '@pontoon/raft';
import type { Message } from '@pontoon/raft';
import { TcpTransport } from '@pontoon/transport-tcp';
import { newHistogram, summarize, merged } from '../lib/histogram.js';
import type { Histogram } from '../lib/histogram.js';
import { formatCount, formatNs, formatTable, median } from '../lib/report.js';
import type { Suite, SuiteOptions, SuiteReport } from '../lib/suite.js';
import { measureCodecCost } from './codec-cost.js';
import type { CodecCost } from './codec-cost.js';
import { FrameReader, repeatedFrames } from '../lib/length-prefixed-frames.js';
import { appendMessage, CHILD_ID, CLUSTER_ID, PARENT_ID } from './shared.js';
import type { FromChild, Impl, Mode, ToChild } from './shared.js';

const HIGH_WATER = 1 << 20;
const here = path.dirname(fileURLToPath(import.meta.url));

interface Config {
  name: string;
  kind: 'throughput' | 'rtt';
  payloadBytes: number;
  batch: number;
}

const CONFIGS: Config[] = [
  { name: '100 B, 64 per write', kind: 'throughput', payloadBytes: 100, batch: 64 },
  { name: '100 B, 1 per write', kind: 'throughput', payloadBytes: 100, batch: 1 },
  { name: '4 KiB, 64 per write', kind: 'throughput', payloadBytes: 4096, batch: 64 },
  { name: '4 KiB, 1 per write', kind: 'throughput', payloadBytes: 4096, batch: 1 },
  { name: '100 B round trip', kind: 'rtt', payloadBytes: 100, batch: 1 },
];

/** A child process (sink or echo) and the IPC to drive it. */
class Child {
  readonly proc: ChildProcess;
  private waiting: Array<(m: FromChild) => void> = [];
  constructor(impl: Impl, mode: Mode) {
    this.proc = fork(path.join(here, 'peer.ts'), [impl, mode], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.proc.on('message', (m: FromChild) => this.waiting.shift()?.(m));
  }
  next(): Promise<FromChild> {
    return new Promise((r) => this.waiting.push(r));
  }
  send(m: ToChild): void {
    this.proc.send(m);
  }
  async request(m: ToChild): Promise<FromChild> {
    const p = this.next();
    this.send(m);
    return p;
  }
  async stop(): Promise<void> {
    const exited = new Promise((r) => this.proc.once('exit', r));
    this.proc.disconnect();
    await exited;
  }
}

/** One side of a connection from the parent's point of view. */
interface Sender {
  /** Queues `batch` messages if there is room; returns how many were queued. */
  sendBatch(): number;
  /** Sends one message and resolves when its answer is back. */
  ping(): Promise<void>;
  idle(): boolean;
  /** Wire bytes per message so far (for sizing the bare frames). */
  bytesPerMessage(): number;
  close(): Promise<void>;
}

async function pontoonSender(port: number, child: Child, cfg: Config): Promise<Sender> {
  const t = new TcpTransport({ id: PARENT_ID, clusterId: CLUSTER_ID });
  const address = (await t.listen()) && t.address!;
  child.send({ kind: 'peer', address });
  t.addPeer(CHILD_ID, `127.0.0.1:${port}`);
  const deadline = Date.now() + 5000;
  while (!t.isConnected(CHILD_ID)) {
    if (Date.now() > deadline) throw new Error('pontoon: no connection to the child');
    await new Promise((r) => setTimeout(r, 5));
  }
  const data = new Uint8Array(cfg.payloadBytes).fill(7);
  const batch: Message[] = Array.from({ length: cfg.batch }, (_, i) => appendMessage(PARENT_ID, CHILD_ID, 100 + i, data));
  let answer: (() => void) | undefined;
  t.onMessage((m) => {
    if (m.type === MessageType.MsgAppResp) answer?.();
  });
  return {
    sendBatch: () => {
      if (t.queuedBytes(CHILD_ID) >= HIGH_WATER) return 0;
      t.send(batch);
      return batch.length;
    },
    ping: () =>
      new Promise<void>((r) => {
        answer = r;
        t.send(batch);
      }),
    idle: () => t.queuedBytes(CHILD_ID) === 0,
    bytesPerMessage: () => {
      const s = t.stats().peers[CHILD_ID]!;
      if (s.dropped > 0) throw new Error(`pontoon dropped ${s.dropped} messages: the bench's flow control is wrong`);
      return s.bytesOut / s.messagesOut;
    },
    close: () => t.close(),
  };
}

/**
 * The bare socket. With `echoBack`, the answers come back over a second connection, which that
 * echo dials to a listener here: TcpTransport's topology (each node sends over the connection it
 * dialled), so that the round trip shows what that costs by itself.
 */
async function bareSender(port: number, count: number, frameBytes: number, echoBack?: Child): Promise<Sender> {
  let answer: (() => void) | undefined;
  const counter = new FrameReader(() => answer?.(), { withPrefix: true });
  let server: net.Server | undefined;
  let backSocket: net.Socket | undefined;
  let connectedBack = Promise.resolve();
  if (echoBack !== undefined) {
    const listener = net.createServer();
    server = listener;
    connectedBack = new Promise<void>((resolve) => {
      listener.once('connection', (s: net.Socket) => {
        backSocket = s;
        s.setNoDelay(true);
        s.on('data', (c: Buffer) => counter.push(c));
        s.on('error', () => {});
        resolve();
      });
    });
    await new Promise<void>((r) => listener.listen(0, '127.0.0.1', () => r()));
    echoBack.send({ kind: 'peer', address: `127.0.0.1:${(listener.address() as net.AddressInfo).port}` });
  }
  const socket = net.connect({ host: '127.0.0.1', port });
  socket.setNoDelay(true);
  await new Promise<void>((r, j) => socket.once('connect', () => r()).once('error', j));
  if (echoBack === undefined) socket.on('data', (c: Buffer) => counter.push(c));
  await connectedBack;
  const batch = repeatedFrames(count, frameBytes - 4, 7);
  return {
    sendBatch: () => {
      if (socket.writableLength >= HIGH_WATER) return 0;
      socket.write(batch);
      return count;
    },
    ping: () =>
      new Promise<void>((r) => {
        answer = r;
        socket.write(batch);
      }),
    idle: () => socket.writableLength === 0,
    bytesPerMessage: () => frameBytes,
    close: async () => {
      const closed = new Promise((r) => socket.once('close', r));
      socket.destroy();
      backSocket?.destroy();
      await closed;
      if (server !== undefined) await new Promise((r) => server.close(r));
    },
  };
}

interface Throughput {
  /** Messages/s counted at the receiver. */
  rate: number;
  /** CPU time of the receiving process per message (every thread, user and system). */
  receiverCpuNs: number;
}

async function measureThroughput(sender: Sender, child: Child, durationMs: number): Promise<Throughput> {
  await child.request({ kind: 'reset' });
  const end = Date.now() + durationMs;
  await new Promise<void>((resolve) => {
    const turn = (): void => {
      if (Date.now() >= end) return resolve();
      sender.sendBatch();
      setImmediate(turn);
    };
    turn();
  });
  while (!sender.idle()) await new Promise((r) => setTimeout(r, 1));
  await new Promise((r) => setTimeout(r, 50));
  const rep = await child.request({ kind: 'report' });
  if (rep.kind !== 'report' || rep.messages < 2) throw new Error('child received nothing');
  return { rate: (rep.messages - 1) / ((rep.lastNs - rep.firstNs) / 1e9), receiverCpuNs: rep.cpuNs / rep.messages };
}

/** Round trips one at a time; also the echoing process's CPU time per round trip. */
async function measureRtt(sender: Sender, child: Child, durationMs: number): Promise<{ h: Histogram; echoCpuNs: number }> {
  await child.request({ kind: 'reset' });
  const h = newHistogram();
  const end = Date.now() + durationMs;
  while (Date.now() < end) {
    const t0 = process.hrtime.bigint();
    await sender.ping();
    h.recordValue(Number(process.hrtime.bigint() - t0));
  }
  const rep = await child.request({ kind: 'report' });
  if (rep.kind !== 'report' || rep.messages === 0) throw new Error('echo received nothing');
  return { h, echoCpuNs: rep.cpuNs / rep.messages };
}

interface ImplResult {
  rates: number[];
  receiverCpuNs: number[];
  rtts: Histogram[];
  bytesPerMessage: number;
}

/** What runs side by side: TcpTransport, the bare socket, and (round trips) the bare socket answering over a second connection. */
type Variant = Impl | 'bare-back';

async function runConfig(cfg: Config, o: SuiteOptions, log: (l: string) => void): Promise<Partial<Record<Variant, ImplResult>>> {
  const rtt = cfg.kind === 'rtt';
  const mode: Mode = rtt ? 'echo' : 'sink';
  const variants: Variant[] = rtt ? ['pontoon', 'bare', 'bare-back'] : ['pontoon', 'bare'];
  const out: Partial<Record<Variant, ImplResult>> = {};
  const children: Partial<Record<Variant, Child>> = {};
  for (const v of variants) {
    out[v] = { rates: [], receiverCpuNs: [], rtts: [], bytesPerMessage: 0 };
    children[v] = v === 'bare-back' ? new Child('bare', 'echo-back') : new Child(v, mode);
  }
  const senders: Partial<Record<Variant, Sender>> = {};
  try {
    const ports = await Promise.all(variants.map((v) => children[v]!.next()));
    const portOf = (v: Variant): number => (ports[variants.indexOf(v)] as { port: number }).port;
    const pontoon = await pontoonSender(portOf('pontoon'), children.pontoon!, cfg);
    senders.pontoon = pontoon;
    // Size the bare frames as TcpTransport's: one warmup batch tells the bytes per message.
    await measureThroughput(pontoon, children.pontoon!, 50);
    const frameBytes = Math.round(pontoon.bytesPerMessage());
    out.pontoon!.bytesPerMessage = pontoon.bytesPerMessage();
    senders.bare = await bareSender(portOf('bare'), cfg.batch, frameBytes);
    out.bare!.bytesPerMessage = frameBytes;
    if (rtt) {
      senders['bare-back'] = await bareSender(portOf('bare-back'), cfg.batch, frameBytes, children['bare-back']!);
      out['bare-back']!.bytesPerMessage = frameBytes;
    }
    for (let run = 0; run < o.warmupRuns + o.runs; run++) {
      const measured = run >= o.warmupRuns;
      // Rotate which goes first, so that none always runs on a warmer (or hotter) machine.
      const order = variants.map((_, i) => variants[(i + run) % variants.length]!);
      for (const v of order) {
        const result = out[v]!;
        if (cfg.kind === 'throughput') {
          const { rate, receiverCpuNs } = await measureThroughput(senders[v]!, children[v]!, o.durationMs);
          if (measured) {
            result.rates.push(rate);
            result.receiverCpuNs.push(receiverCpuNs);
          }
          log(`  ${cfg.name} ${v}${measured ? '' : ' (warmup)'}: ${formatCount(rate)} msg/s, receiver CPU ${receiverCpuNs.toFixed(0)} ns/msg`);
        } else {
          const { h, echoCpuNs } = await measureRtt(senders[v]!, children[v]!, o.durationMs);
          if (measured) {
            result.rtts.push(h);
            result.receiverCpuNs.push(echoCpuNs);
          }
          log(`  ${cfg.name} ${v}${measured ? '' : ' (warmup)'}: p50 ${formatNs(h.getValueAtPercentile(50))}, echo CPU ${formatNs(echoCpuNs)}/msg`);
        }
      }
    }
    pontoon.bytesPerMessage(); // throws if anything was dropped
  } finally {
    await Promise.all(variants.map((v) => senders[v]?.close()));
    await Promise.all(variants.map((v) => children[v]!.stop()));
  }
  return out;
}

interface Row {
  config: string;
  wireBytes: number;
  pontoon: string;
  bare: string;
  ratio: string;
  target: string;
  /** Throughput rows: CPU per message of the receiving process, TcpTransport / bare. */
  receiverCpu: string;
}

export const transportSuite: Suite = {
  name: 'transport',
  description: 'TcpTransport vs a bare socket between two processes: messages/s one way, round-trip latency',
  defaults: { runs: 5, durationMs: 1000, warmupRuns: 1 },
  async run(options: SuiteOptions, log: (line: string) => void): Promise<SuiteReport> {
    const rows: Row[] = [];
    const results: unknown[] = [];
    const notes: string[] = [];
    for (const cfg of CONFIGS) {
      if (options.filter !== undefined && !cfg.name.includes(options.filter)) continue;
      const r = await runConfig(cfg, options, log);
      const pr = r.pontoon!;
      const br = r.bare!;
      if (cfg.kind === 'throughput') {
                const p = median(pr.rates);
        const b = median(br.rates);
        rows.push({
          config: cfg.name,
          wireBytes: br.bytesPerMessage,
          pontoon: `${formatCount(p)} msg/s`,
          bare: `${formatCount(b)} msg/s`,
          ratio: `${(p / b).toFixed(2)}x`,
          target: p / b >= 0.8 ? '>= 0.8x: met' : '>= 0.8x: NOT met',
          receiverCpu: `${median(pr.receiverCpuNs).toFixed(0)} / ${median(br.receiverCpuNs).toFixed(0)} ns`,
        });
        let codec: CodecCost | undefined;
        if (cfg.batch > 1) {
          codec = measureCodecCost(cfg.payloadBytes, cfg.batch);
          // A receiver that reads its socket like the bare one and then decodes and checks like
          // TcpTransport's: where one core runs out for it.
          const readNs = median(br.receiverCpuNs);
          const bound = 1e9 / (readNs + codec.decodeNs);
          notes.push(
            `${cfg.name}: the bare receiver spends ${readNs.toFixed(0)} ns of CPU per message; TcpTransport's also decodes and ` +
              `checks each one (${codec.decodeNs.toFixed(0)} ns, measured alone) and its sender encodes it (${codec.encodeNs.toFixed(0)} ns). ` +
              `Reading like the bare receiver and decoding, one core receives at most ${formatCount(bound)} msg/s = ${(bound / b).toFixed(2)}x the bare rate.`,
          );
        }
        results.push({
          config: cfg,
          pontoonRates: pr.rates,
          bareRates: br.rates,
          pontoonReceiverCpuNs: pr.receiverCpuNs,
          bareReceiverCpuNs: br.receiverCpuNs,
          codec,
          wireBytesPerMessage: br.bytesPerMessage,
        });
      } else {
        const p = summarize(merged(pr.rtts));
        const b = summarize(merged(br.rtts));
        const diff = p.p50Ns - b.p50Ns;
        rows.push({
          config: cfg.name,
          wireBytes: br.bytesPerMessage,
          pontoon: `p50 ${formatNs(p.p50Ns)}, p99 ${formatNs(p.p99Ns)}`,
          bare: `p50 ${formatNs(b.p50Ns)}, p99 ${formatNs(b.p99Ns)}`,
          ratio: `p50 +${formatNs(diff)}`,
          target: diff <= 20_000 ? 'p50 within 20 µs: met' : 'p50 within 20 µs: NOT met',
          receiverCpu: `${formatNs(median(pr.receiverCpuNs))} / ${formatNs(median(br.receiverCpuNs))}`,
        });
        const back = r['bare-back'];
        let bareBack: ReturnType<typeof summarize> | undefined;
        if (back !== undefined) {
          bareBack = summarize(merged(back.rtts));
          notes.push(
            `${cfg.name}: the bare socket answering over a second connection (TcpTransport's topology: each node sends over ` +
              `the connection it dialled) has p50 ${formatNs(bareBack.p50Ns)}, p99 ${formatNs(bareBack.p99Ns)}: ` +
              `+${formatNs(bareBack.p50Ns - b.p50Ns)} over one connection; TcpTransport is +${formatNs(p.p50Ns - bareBack.p50Ns)} over it. ` +
              `Echo CPU per round trip: ${formatNs(median(back.receiverCpuNs))}.`,
          );
        }
        results.push({ config: cfg, pontoon: p, bare: b, bareBack, pontoonEchoCpuNs: pr.receiverCpuNs, bareEchoCpuNs: br.receiverCpuNs });
      }
    }
    const text = formatTable(rows, [
      { header: 'configuration', align: 'left', cell: (r) => r.config },
      { header: 'wire B/msg', cell: (r) => String(r.wireBytes) },
      { header: 'TcpTransport', cell: (r) => r.pontoon },
      { header: 'bare socket', cell: (r) => r.bare },
      { header: 'vs bare', cell: (r) => r.ratio },
      { header: 'target', align: 'left', cell: (r) => r.target },
      { header: 'receiver CPU/msg', cell: (r) => r.receiverCpu },
    ]);
    return { text: notes.length > 0 ? `${text}\n\n${notes.join('\n')}` : text, results };
  },
};
