/**
 * The replicator's follower process: it hands every batch that arrived in one turn of its event
 * loop to its own SQLite log (durable-log.ts, group commit) and tells the leader each index as
 * soon as it is durable.
 *
 *   follower.ts <main|worker> <dir>   (driven over IPC by floor.ts)
 */
import net from 'node:net';
import { openDurableLog } from './durable-log.js';
import { FrameReader } from '../lib/length-prefixed-frames.js';
import { indexFrame } from './wire.js';
import type { FromReplica, ToReplica, WriterKind } from './wire.js';

const writer = process.argv[2] as WriterKind;
const dir = process.argv[3]!;
const send = (m: FromReplica): void => void process.send!(m);
process.on('disconnect', () => process.exit(0));

let leader: net.Socket | undefined;
let pending: Buffer[] = [];
let turnScheduled = false;

let durableIndex = 0;
const log = openDurableLog(writer, dir, (last) => {
  durableIndex = last;
  leader?.write(indexFrame(last));
});

function turn(): void {
  turnScheduled = false;
  const bodies = pending;
  pending = [];
  log.append(bodies);
}

const server = net.createServer((s) => {
  s.setNoDelay(true);
  leader = s;
  const reader = new FrameReader((body) => pending.push(body));
  s.on('data', (c: Buffer) => {
    reader.push(c);
    if (!turnScheduled && pending.length > 0) {
      turnScheduled = true;
      setImmediate(turn);
    }
  });
  s.on('error', () => {});
});
server.listen(0, '127.0.0.1', () => send({ kind: 'listening', port: (server.address() as net.AddressInfo).port }));
process.on('message', (m: ToReplica) => {
  if (m.kind === 'stats') send(stats());
});

function stats(): FromReplica {
  const cpu = process.cpuUsage();
  return { kind: 'stats', cpuMicros: cpu.user + cpu.system, transactions: log.transactions, entries: durableIndex };
}
