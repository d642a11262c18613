/**
 * One member of a replicated SQLite map over TCP: the Raft log in SqliteLogStore (<data>/log),
 * the state in SqliteMap (<data>/map). Same arguments and IPC protocol as the counter's node.ts,
 * so examples/counter/cluster.ts runs it (`program` option) for the tests and the benchmark:
 *
 *   tsx node.ts --id 1 --data /tmp/map/1 --peers 1=127.0.0.1:4001,2=127.0.0.1:4002 [--join]
 *
 * Commands: `put <key> <value>`, `get <key>`, `fill <count> <bytes> [from]` (writes keys
 * f<from>.. with values of that size, derived from the key, 16 in flight), `verify` (checks every
 * f-key's value), `status`, `snapshot`, `add-learner <id> <host:port>`, `promote <id>`.
 * `status` reports the process's resident memory, now and its peak since start (the kernel's).
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { RaftNode } from '@pontoon/raft';
import { SqliteLogStore } from '@pontoon/storage-sqlite';
import { TcpTransport } from '@pontoon/transport-tcp';
import { SqliteMap, encodeCommand } from './sqlite-map.js';

const { values: args } = parseArgs({
  options: {
    id: { type: 'string' },
    data: { type: 'string' },
    peers: { type: 'string' },
    join: { type: 'boolean', default: false },
    'tick-ms': { type: 'string', default: '100' },
    'snapshot-every': { type: 'string', default: '10000' },
  },
});
if (args.id === undefined || args.data === undefined || args.peers === undefined) {
  console.error('usage: node.ts --id 1 --data <dir> --peers 1=127.0.0.1:4001,2=... [--join]');
  process.exit(2);
}
const id = Number(args.id);
const members = args.peers.split(',').map((p) => ({ id: Number(p.split('=')[0]), address: p.split('=')[1] ?? '' }));
const [host, port] = (members.find((m) => m.id === id)?.address ?? '').split(':');

const map = SqliteMap.open(path.join(args.data, 'map'));
const logStore = await SqliteLogStore.open(path.join(args.data, 'log'));
const transport = new TcpTransport({ id, clusterId: 'sqlite-map', listen: { host, port: Number(port) } });
await transport.listen();
const every = Number(args['snapshot-every']);
const node = new RaftNode({
  id, logStore, transport, stateMachine: map, initialMembers: members, join: args.join, tickMs: Number(args['tick-ms']),
  snapshot: { everyEntries: every, keepEntries: Math.min(every, 1000) },
});

/** The value `fill` writes for key number `i`: derived from `i`, so that `verify` can check it. */
function fillValue(i: number, bytes: number): string {
  return `${i}:`.padEnd(bytes, String.fromCharCode(97 + (i % 26)));
}

const say = (msg: object): unknown => (process.send ? process.connected && process.send(msg) : console.log(JSON.stringify(msg)));
node.on('leaderChanged', ({ leaderId, term }) => say({ event: 'leaderChanged', leaderId, term }));
node.on('snapshotInstalled', ({ index, bytes }) => say({ event: 'snapshotInstalled', index, bytes }));
node.on('error', (err) => (console.error(err), process.exit(1)));

async function run(line: string): Promise<object> {
  const [command, a = '', b = '', c = '0'] = line.trim().split(/\s+/);
  try {
    switch (command) {
      case 'put': return { previous: await node.propose(encodeCommand({ key: a, value: b })) };
      case 'get': return { value: await node.read((m) => m.get(a)) };
      case 'fill': {
        const [count, bytes, from] = [Number(a), Number(b), Number(c)];
        let next = from;
        const worker = async (): Promise<void> => {
          while (next < from + count) {
            const i = next++;
            await node.propose(encodeCommand({ key: `f${i}`, value: fillValue(i, bytes) }));
          }
        };
        await Promise.all(Array.from({ length: 16 }, worker));
        return { filled: count };
      }
      case 'verify': {
        const bad: string[] = [];
        const size = map.size();
        for (const { key, value } of map.entries('f')) {
          const i = Number(key.slice(1));
          if (value !== fillValue(i, value.length)) bad.push(key);
        }
        return { size, bad: bad.slice(0, 10), badCount: bad.length };
      }
      case 'status': {
        const { role, term, leaderId, commitIndex, appliedIndex, snapshotIndex, membership } = node.status();
        const { voters, learners } = membership;
        return {
          id, role, term, leaderId, commitIndex, appliedIndex, snapshotIndex, voters, learners,
          position: map.position().index, size: map.size(), rss: process.memoryUsage.rss(),
          peakRss: process.resourceUsage().maxRSS * 1024, // the kernel's high-water mark, in bytes
          log: { firstIndex: logStore.firstIndex(), lastIndex: logStore.lastIndex() },
        };
      }
      case 'snapshot': return await node.snapshot();
      case 'add-learner': return { ...(await node.addLearner(Number(a), b)), addresses: undefined };
      case 'promote': return { ...(await node.promote(Number(a))), addresses: undefined };
      default: return { error: 'ERR_USAGE', message: 'put | get | fill | verify | status | snapshot | add-learner | promote' };
    }
  } catch (err) {
    const { code = 'ERR', message, leaderId } = err as { code?: string; message: string; leaderId?: number };
    return { error: code, message, leaderId };
  }
}

const stop = (): void => void node.stop().finally(() => (map.close(), process.exit(0)));
process.on('message', (m: { req: number; command: string }) => void run(m.command).then((answer) => say({ req: m.req, ...answer })));
process.on('disconnect', stop);
process.on('SIGINT', stop).on('SIGTERM', stop);
say({ event: 'started', id, address: `${host}:${port}` });
