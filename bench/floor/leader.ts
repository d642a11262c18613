/**
 * The replicator's leader process: the least work any leader of a replicated log must do, and
 * nothing more (no terms, no elections, no log matching, no retries).
 *
 * Each turn of its event loop it takes every entry the client sent since the last turn, gives
 * them the next indexes, sends them to both followers in one write each, and hands them to its
 * own SQLite log (durable-log.ts: group commit, everything handed over while the previous commit
 * synced goes into one transaction). An entry is committed once it is durable here and on one
 * follower (a majority of three); committed entries are acknowledged to the client, as a count,
 * in one write per turn.
 *
 *   leader.ts <main|worker> <dir>   (driven over IPC by floor.ts)
 */
import net from 'node:net';
import { openDurableLog } from './durable-log.js';
import { FrameReader } from '../lib/length-prefixed-frames.js';
import { countFrame } from './wire.js';
import type { FromReplica, ToReplica, WriterKind } from './wire.js';

const writer = process.argv[2] as WriterKind;
const dir = process.argv[3]!;
const send = (m: FromReplica): void => void process.send!(m);
process.on('disconnect', () => process.exit(0));

/** Entries received from the client and not yet sent on, with their total frame bytes. */
let incoming: Buffer[] = [];
let incomingBytes = 0;
let nextIndex = 1;
let durableIndex = 0;
/** The highest index each follower reported durable. */
const followerMatch = [0, 0];
/** The highest index acknowledged to the client. */
let acked = 0;
let client: net.Socket | undefined;
const followers: net.Socket[] = [];
let turnScheduled = false;

const log = openDurableLog(writer, dir, (last) => {
  durableIndex = last;
  // The worker writer reports from outside a turn; the main-thread one from inside replicate().
  scheduleTurn();
});

function scheduleTurn(): void {
  if (turnScheduled) return;
  turnScheduled = true;
  setImmediate(turn);
}

function turn(): void {
  turnScheduled = false;
  if (incoming.length > 0) {
    const batch = Buffer.allocUnsafe(12 + incomingBytes);
    batch.writeUInt32BE(8 + incomingBytes, 0);
    batch.writeDoubleBE(nextIndex, 4);
    let off = 12;
    for (const e of incoming) {
      batch.writeUInt32BE(e.length, off);
      off += 4 + e.copy(batch, off + 4);
    }
    nextIndex += incoming.length;
    incoming = [];
    incomingBytes = 0;
    // Followers first: their fsyncs run while this process makes its own.
    for (const f of followers) f.write(batch);
    acknowledge();
    log.append([batch.subarray(4)]);
  }
  acknowledge();
}

function acknowledge(): void {
  const commit = Math.min(durableIndex, Math.max(followerMatch[0]!, followerMatch[1]!));
  if (commit > acked && client !== undefined) {
    client.write(countFrame(commit - acked));
    acked = commit;
  }
}

async function connectFollower(port: number, i: number): Promise<net.Socket> {
  const s = net.connect({ host: '127.0.0.1', port });
  s.setNoDelay(true);
  await new Promise<void>((r, j) => s.once('connect', () => r()).once('error', j));
  const reader = new FrameReader((body) => {
    followerMatch[i] = body.readDoubleBE(0);
    scheduleTurn();
  });
  s.on('data', (c: Buffer) => reader.push(c));
  return s;
}

const server = net.createServer((s) => {
  s.setNoDelay(true);
  client = s;
  const reader = new FrameReader((body) => {
    incoming.push(body);
    incomingBytes += 4 + body.length;
  });
  s.on('data', (c: Buffer) => {
    reader.push(c);
    scheduleTurn();
  });
  s.on('error', () => {});
});
server.listen(0, '127.0.0.1', () => send({ kind: 'listening', port: (server.address() as net.AddressInfo).port }));

process.on('message', (m: ToReplica) => {
  if (m.kind === 'stats') send(stats());
  else
    void Promise.all(m.followers.map(connectFollower)).then((sockets) => {
      followers.push(...sockets);
      send({ kind: 'started' });
    });
});

function stats(): FromReplica {
  const cpu = process.cpuUsage();
  return { kind: 'stats', cpuMicros: cpu.user + cpu.system, transactions: log.transactions, entries: durableIndex };
}

