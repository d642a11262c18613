/** Test helpers: transports on 127.0.0.1, bounded waits, a logger that records. */
import { MessageType, newMessage } from '@pontoon/raft/core';
import type { Logger, Message } from '@pontoon/raft';
import { TcpTransport } from '../src/index.js';
import type { TcpTransportOptions } from '../src/index.js';

export class RecordingLogger implements Logger {
  lines: string[] = [];
  debug(): void {}
  info(msg: string): void {
    this.lines.push(`info ${msg}`);
  }
  warn(msg: string): void {
    this.lines.push(`warn ${msg}`);
  }
  error(msg: string): void {
    this.lines.push(`error ${msg}`);
  }
  has(re: RegExp): boolean {
    return this.lines.some((l) => re.test(l));
  }
}

/** Waits until `cond()` holds, polling; fails after `timeoutMs`. */
export async function waitFor(cond: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

export interface Node {
  t: TcpTransport;
  received: Message[];
  unreachable: number[];
  snapshots: Array<[number, string]>;
  logger: RecordingLogger;
}

/** A listening transport that records what it gets. */
export async function node(id: number, extra: Partial<TcpTransportOptions> = {}): Promise<Node> {
  const logger = new RecordingLogger();
  const t = new TcpTransport({ id, clusterId: 'test', logger, backoff: { initialMs: 10, maxMs: 100 }, ...extra });
  const n: Node = { t, received: [], unreachable: [], snapshots: [], logger };
  t.onMessage((m) => n.received.push(m));
  t.onUnreachable((id) => n.unreachable.push(id));
  t.onSnapshotStatus((id, s) => n.snapshots.push([id, s]));
  await t.listen();
  return n;
}

/** Nodes 1..count, each knowing every other. */
export async function cluster(count: number, extra: Partial<TcpTransportOptions> = {}): Promise<Node[]> {
  const nodes: Node[] = [];
  for (let i = 1; i <= count; i++) nodes.push(await node(i, extra));
  for (const a of nodes) for (const b of nodes) if (a !== b) a.t.addPeer(b.t.id, b.t.address!);
  return nodes;
}

export function heartbeat(from: number, to: number, term = 1): Message {
  return newMessage({ type: MessageType.MsgHeartbeat, from, to, term });
}

export function append(from: number, to: number, index: number, data: Uint8Array): Message {
  return newMessage({
    type: MessageType.MsgApp,
    from,
    to,
    term: 1,
    logTerm: index === 0 ? 0 : 1,
    index,
    commit: index,
    entries: [{ term: 1, index: index + 1, type: 0, data }],
  });
}

/** Handles (sockets, servers, timers) this process has open, by type. */
export function openHandles(): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of process.getActiveResourcesInfo()) out[r] = (out[r] ?? 0) + 1;
  return out;
}
