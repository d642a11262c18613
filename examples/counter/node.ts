/**
 * A replicated counter: one node of a Pontoon cluster, its log in SQLite, its peers over TCP.
 * Start three from examples/counter, one per terminal, with the same --peers list:
 *
 *   pnpm start --id 1 --data /tmp/counter/1 --peers 1=127.0.0.1:4001,2=127.0.0.1:4002,3=127.0.0.1:4003
 *
 * and type `inc`, `inc 5`, `get`, `status` or `help` into any of them. Answers are JSON lines.
 * A parent with an IPC channel (the demo, the tests) sends `{ req, command }`, gets `{ req, ...answer }`.
 */
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { RaftNode, forceNewCluster, type Entry, type Membership, type StateMachine } from '@pontoon/raft';
import { SqliteLogStore } from '@pontoon/storage-sqlite';
import { TcpTransport } from '@pontoon/transport-tcp';

/** The replicated state. apply() is deterministic: the same log gives the same value everywhere. */
class Counter implements StateMachine<number> {
  value = 0;
  apply(entry: Entry): number {
    return (this.value += Number(new TextDecoder().decode(entry.data)));
  }
  snapshot(): Uint8Array {
    return new TextEncoder().encode(String(this.value));
  }
  restore(data: Uint8Array): void {
    this.value = Number(new TextDecoder().decode(data));
  }
}

const { values: args } = parseArgs({
  options: {
    id: { type: 'string' },
    data: { type: 'string' }, // this node's own directory (SQLite log and snapshots)
    peers: { type: 'string' }, // id=host:port of every member, this node included
    join: { type: 'boolean', default: false }, // start empty; the leader adds it (add-learner)
    'force-new-cluster': { type: 'boolean', default: false }, // quorum lost for good: go on alone (see the raft README)
    'tick-ms': { type: 'string', default: '100' }, // a leader is presumed dead after 10-20 ticks
    'snapshot-every': { type: 'string', default: '10000' }, // entries between snapshots
  },
});
if (args.id === undefined || args.data === undefined || args.peers === undefined) {
  console.error('usage: node.ts --id 1 --data <dir> --peers 1=127.0.0.1:4001,2=...,3=... [--join]');
  process.exit(2);
}
const id = Number(args.id);
const members = args.peers.split(',').map((p) => ({ id: Number(p.split('=')[0]), address: p.split('=')[1] ?? '' }));
const [host, port] = (members.find((m) => m.id === id)?.address ?? '').split(':');
const counter = new Counter();
const logStore = await SqliteLogStore.open(args.data);
if (args['force-new-cluster']) await forceNewCluster(logStore, { id, address: `${host}:${port}` });
const transport = new TcpTransport({ id, clusterId: 'counter', listen: { host, port: Number(port) } });
await transport.listen();
const every = Number(args['snapshot-every']);
const node = new RaftNode({
  id, logStore, transport, stateMachine: counter, initialMembers: members, join: args.join, tickMs: Number(args['tick-ms']),
  snapshot: { everyEntries: every, keepEntries: every }, // so the log stays under 2 x every entries
});

const say = (msg: object): unknown => (process.send ? process.connected && process.send(msg) : console.log(JSON.stringify(msg)));
node.on('leaderChanged', ({ leaderId, term }) => say({ event: 'leaderChanged', leaderId, term }));
node.on('snapshotInstalled', ({ index }) => say({ event: 'snapshotInstalled', index }));
node.on('error', (err) => (console.error(err), process.exit(1)));
const roster = ({ voters, learners }: Membership): object => ({ voters, learners });

async function run(line: string): Promise<object> {
  const [command, a = '', b = ''] = line.trim().split(/\s+/);
  try {
    switch (command) {
      case 'inc': {
        const by = a === '' ? 1 : Number(a);
        if (!Number.isSafeInteger(by)) return { error: 'ERR_USAGE', message: 'inc takes an integer' };
        return { value: await node.propose(new TextEncoder().encode(String(by))) };
      }
      case 'get': return { value: await node.read((c) => c.value) }; // sees every acknowledged write
      case 'status': {
        const { role, term, leaderId, commitIndex, appliedIndex, snapshotIndex } = node.status();
        const log = { firstIndex: logStore.firstIndex(), lastIndex: logStore.lastIndex() };
        return { id, role, term, leaderId, commitIndex, appliedIndex, snapshotIndex, value: counter.value, log, ...roster(node.membership()) };
      }
      case 'add-learner': return roster(await node.addLearner(Number(a), b));
      case 'promote': return roster(await node.promote(Number(a)));
      case 'remove': return roster(await node.remove(Number(a)));
      case 'transfer': return (await node.transferLeadership(Number(a)), { leaderId: Number(a) });
      default: return { error: 'ERR_USAGE', message: 'inc [n] | get | status | add-learner <id> <host:port> | promote <id> | remove <id> | transfer <id>' };
    }
  } catch (err) {
    const { code = 'ERR', message, leaderId } = err as { code?: string; message: string; leaderId?: number };
    return { error: code, message, leaderId };
  }
}

const stop = (): void => void node.stop().finally(() => process.exit(0));
if (process.send) {
  process.on('message', (m: { req: number; command: string }) => void run(m.command).then((answer) => say({ req: m.req, ...answer })));
  process.on('disconnect', stop); // the parent is gone
} else {
  createInterface({ input: process.stdin }).on('line', (line) => void run(line).then(say)).on('close', stop);
}
process.on('SIGINT', stop).on('SIGTERM', stop);
say({ event: 'started', id, address: `${host}:${port}` });
