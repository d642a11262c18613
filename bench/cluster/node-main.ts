/**
 * One node of the benchmark cluster, as its own process: a RaftNode over SqliteLogStore
 * (synchronous=FULL) and TcpTransport, replicating the workload's state machine, and a server
 * on 127.0.0.1 speaking the client protocol (client-protocol.ts). Driven by the parent over
 * IPC (ipc.ts); exits when the parent goes away.
 *
 *   node --import tsx --conditions=@pontoon/source node-main.ts '<NodeConfig JSON>'
 */
import net from 'node:net';
import { RaftNode } from '@pontoon/raft';
import { SqliteLogStore } from '@pontoon/storage-sqlite';
import { TcpTransport } from '@pontoon/transport-tcp';
import { RecordKind, RecordReader, RecordWriter } from './client-protocol.js';
import { epochMs } from './ipc.js';
import type { AppendTimes, FromNode, NodeConfig, NodeStatusReply, ToNode, WaitAppliedReply } from './ipc.js';
import { loadWorkload } from './workload.js';
import type { BenchStateMachine } from './workload.js';

const EMPTY = new Uint8Array(0);

function say(m: FromNode): void {
  if (process.connected) process.send!(m);
}

function errorText(err: unknown): string {
  if (err instanceof Error) return `${(err as { code?: string }).code ?? err.name} ${err.message}`;
  return String(err);
}

// The parent is gone (it exited, or was killed): nothing is left to serve.
process.on('disconnect', () => process.exit(0));

const config = JSON.parse(process.argv[2] ?? '') as NodeConfig;
const workload = await loadWorkload(config.workloadModule);
const self = config.members.find((m) => m.id === config.id);
if (self === undefined) throw new Error(`node ${config.id} is not among the members`);
const [host, port] = self.address.split(':');

const logStore = await SqliteLogStore.open(config.dataDir, { synchronous: config.synchronous });
// Times every append (the group commit and its fsync, as the node waits for it): where a
// commit's latency goes is the first question when a figure disappoints.
let appendMs: number[] = [];
let appendedEntries = 0;
const storeAppend = logStore.append.bind(logStore);
logStore.append = (write) => {
  const t0 = performance.now();
  const durable = storeAppend(write);
  appendedEntries += write.entries.length;
  durable.then(
    // Bounded: nobody may ask for a long while (a failover loop), and the node runs on.
    () => appendMs.length < 1 << 20 && appendMs.push(performance.now() - t0),
    () => {},
  );
  return durable;
};

function takeAppendTimes(): AppendTimes {
  const xs = appendMs.sort((a, b) => a - b);
  const at = (p: number): number => (xs.length === 0 ? NaN : xs[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!);
  const r = { appends: xs.length, entriesPerAppend: appendedEntries / Math.max(1, xs.length), p50Ms: at(50), p99Ms: at(99) };
  appendMs = [];
  appendedEntries = 0;
  return r;
}

const transport = new TcpTransport({ id: config.id, clusterId: config.clusterId, listen: { host, port: Number(port) } });
await transport.listen();
const node = new RaftNode<BenchStateMachine>({
  id: config.id,
  logStore,
  transport,
  stateMachine: workload.createStateMachine(),
  initialMembers: config.members,
  ...config.raft,
});
const startedAt = epochMs();
let snapshotsInstalled = 0;
node.on('leaderChanged', ({ leaderId, term }) => say({ kind: 'leader', id: config.id, leaderId, term, at: epochMs() }));
node.on('snapshotInstalled', () => snapshotsInstalled++);
node.on('error', (err) => {
  say({ kind: 'fatal', id: config.id, message: errorText(err) });
  process.exit(1);
});

/** Waiters for an applied index, settled from the `applied` event. */
const appliedWaiters: Array<{ index: number; resolve: (r: WaitAppliedReply) => void }> = [];
node.on('applied', ({ index }) => {
  for (let i = appliedWaiters.length - 1; i >= 0; i--) {
    const w = appliedWaiters[i]!;
    if (index < w.index) continue;
    appliedWaiters.splice(i, 1);
    w.resolve({ at: epochMs(), startedAt, snapshotsInstalled });
  }
});

function status(): NodeStatusReply {
  const s = node.status();
  const store = logStore.stats();
  let wireBytesOut = 0;
  let wireBytesIn = 0;
  let wireMessagesOut = 0;
  for (const p of Object.values(transport.stats().peers)) {
    wireBytesOut += p.bytesOut;
    wireBytesIn += p.bytesIn;
    wireMessagesOut += p.messagesOut;
  }
  const cpu = process.cpuUsage();
  return {
    id: config.id,
    role: s.role,
    term: s.term,
    leaderId: s.leaderId,
    commitIndex: s.commitIndex,
    appliedIndex: s.appliedIndex,
    snapshotIndex: s.snapshotIndex,
    firstIndex: logStore.firstIndex(),
    lastIndex: logStore.lastIndex(),
    snapshotsInstalled,
    storeCommits: store.commits,
    storeSyncedCommits: store.syncedCommits,
    wireBytesOut,
    wireBytesIn,
    wireMessagesOut,
    cpuUserUs: cpu.user,
    cpuSystemUs: cpu.system,
  };
}

// The client server: the answers settled by one apply batch go out in one write. The flush is a
// microtask queued behind them (a batch settles its proposals synchronously, so their callbacks
// are all queued before it), not a setImmediate, which from inside RaftNode's own setImmediate
// would wait for the next turn of the event loop.
const clients = new Set<net.Socket>();
const server = net.createServer((socket) => {
  clients.add(socket);
  socket.setNoDelay(true);
  const writer = new RecordWriter(socket);
  let flushScheduled = false;
  const flush = (): void => {
    flushScheduled = false;
    writer.flush();
  };
  const answer = (kind: RecordKind, id: number, bytes: Uint8Array): void => {
    writer.add(kind, id, bytes);
    if (!flushScheduled) {
      flushScheduled = true;
      queueMicrotask(flush);
    }
  };
  const fail = (id: number) => (err: unknown): void => answer(RecordKind.Error, id, Buffer.from(errorText(err)));
  const reader = new RecordReader((kind, id, bytes) => {
    if (kind === RecordKind.Write) {
      // A copy: `bytes` is a view of the receive buffer, and the log keeps the command.
      node.propose(new Uint8Array(bytes)).then(() => answer(RecordKind.Ok, id, EMPTY), fail(id));
    } else if (kind === RecordKind.Read) {
      const q = new Uint8Array(bytes);
      node.read((sm) => sm.query(q)).then((a) => answer(RecordKind.Ok, id, a), fail(id));
    } else {
      socket.destroy(new Error(`client protocol: unexpected record kind ${kind}`));
    }
  });
  socket.on('data', (chunk: Buffer) => {
    try {
      reader.push(chunk);
    } catch (err) {
      socket.destroy(err as Error);
    }
  });
  socket.on('error', () => {});
  socket.on('close', () => clients.delete(socket));
});
await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
const clientPort = (server.address() as net.AddressInfo).port;

async function exit(): Promise<void> {
  server.close();
  for (const c of clients) c.destroy();
  await node.stop();
  process.exit(0);
}

process.on('message', (m: ToNode) => {
  const reply = (value: NodeStatusReply | WaitAppliedReply | AppendTimes | null): void => say({ kind: 'reply', req: m.req, value });
  switch (m.op) {
    case 'status':
      reply(status());
      return;
    case 'waitApplied':
      if (node.status().appliedIndex >= m.index) reply({ at: epochMs(), startedAt, snapshotsInstalled });
      else appliedWaiters.push({ index: m.index, resolve: reply });
      return;
    case 'takeAppendTimes':
      reply(takeAppendTimes());
      return;
    case 'exit':
      reply(null);
      void exit();
      return;
  }
});
process.on('SIGTERM', () => void exit());
say({ kind: 'started', id: config.id, clientPort, at: startedAt });
