/**
 * One KvMember in a process of its own, for the SIGKILL tests (sigkill-writes.process.test.ts):
 * its store (`kv.db`) and Raft log (`raft/`) in its data directory, Raft over TCP on a fixed
 * port, driven by its parent over the IPC channel. A SIGKILL ends it at any instruction.
 *
 * Before the member opens, the process reads what its files hold and reports it (`opened`):
 * the position the store recorded with its data (applied index and term), the store's revision,
 * HashKV at that revision, the number of keys and the highest version among them, and the
 * revision the Raft log implies at that index: 1 plus the puts among entries 1..index (the
 * parent only ever puts a key once, so every put raises the revision by one). An applied index
 * written apart from the data it covers makes the two revisions differ; an entry applied twice
 * makes a version 2 and a revision above 1 + keys.
 *
 *   kv-member-process.ts <id> <dataDir> <members: id=host:port,...> <tickMs>
 *
 * Requests (`{ req, op, ... }`), each answered with `{ req, ... }` or `{ req, error, message }`:
 * `put` key value; `status`; `hashKV` revision; `dump` (every key with its value and version).
 * Events: `opened` (above), `started` (the member runs). The process exits when the IPC channel
 * closes, so it never outlives its parent.
 */
import { EntryType, type Member } from '@pontoon/raft';
import { SqliteLogStore } from '@pontoon/storage-sqlite';
import { TcpTransport } from '@pontoon/transport-tcp';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { decodeCommand } from '../../src/command.js';
import { type KvMember, openKvMember } from '../../src/kv-member.js';
import { KvStateMachine } from '../../src/kv-state-machine.js';
import { LocalPeerNetwork } from '../../src/peer-link.js';

/** What the files of a member hold before it opens (see the file's comment). */
export interface OpenedReport {
  event: 'opened';
  id: number;
  appliedIndex: number;
  appliedTerm: number;
  revision: number;
  hash: number;
  keys: number;
  maxVersion: number;
  /** 1 + the puts among log entries 1..appliedIndex. */
  impliedRevision: number;
  /** The log's first index (1 while it was never compacted, as the test's members never are). */
  logFirstIndex: number;
}

export interface StatusAnswer {
  role: string;
  leaderId: number | undefined;
  term: number;
  commitIndex: number;
  appliedIndex: number;
  revision: number;
}

export interface DumpAnswer {
  revision: number;
  hash: number;
  appliedIndex: number;
  kvs: Array<{ key: string; value: string; version: number; createRevision: number; modRevision: number }>;
}

type Request =
  | { req: number; op: 'put'; key: string; value: string }
  | { req: number; op: 'status' }
  | { req: number; op: 'hashKV'; revision: number }
  | { req: number; op: 'dump' };

const text = (b: Uint8Array): string => Buffer.from(b).toString();
const EVERY_KEY = { key: Uint8Array.of(0), rangeEnd: Uint8Array.of(0) };

/**
 * The KV command an entry carries for the state machine, as RaftNode unwraps it (its
 * command-envelope.ts, restated here so that this check does not trust the code it checks):
 * a first byte 0xC1 marks an envelope, kind 0 an escaped plain command, kind 1 a command a
 * follower forwarded (34-byte header, the term it was forwarded in at offset 26), which applies
 * only if the entry is of that term. Undefined: nothing applies (an empty entry, a skipped copy).
 */
function commandOf(data: Uint8Array, entryTerm: number): Uint8Array | undefined {
  if (data.length === 0) return undefined;
  if (data[0] !== 0xc1) return data;
  if (data[1] === 0) return data.subarray(2);
  if (data[1] !== 1 || data.length <= 34) throw new Error(`an entry with a malformed envelope (kind ${data[1]}, ${data.length} bytes)`);
  const forwardedTerm = new DataView(data.buffer, data.byteOffset, data.byteLength).getFloat64(26);
  return forwardedTerm === entryTerm ? data.subarray(34) : undefined;
}

async function inspect(id: number, dataDir: string): Promise<OpenedReport> {
  mkdirSync(dataDir, { recursive: true });
  const kv = await KvStateMachine.open(join(dataDir, 'kv.db'));
  let report: OpenedReport;
  try {
    const store = kv.store;
    const { index, term } = kv.position();
    const all = store.range(EVERY_KEY).kvs;
    report = {
      event: 'opened',
      id,
      appliedIndex: index,
      appliedTerm: term,
      revision: store.revision,
      hash: store.hashKV(store.revision).hash,
      keys: all.length,
      maxVersion: all.reduce((m, kv) => Math.max(m, kv.version), 0),
      impliedRevision: 1,
      logFirstIndex: 1,
    };
  } finally {
    kv.close();
  }
  if (!existsSync(join(dataDir, 'raft'))) return report;
  const log = await SqliteLogStore.open(join(dataDir, 'raft'));
  try {
    report.logFirstIndex = log.firstIndex();
    let puts = 0;
    for (let lo = log.firstIndex(); lo <= report.appliedIndex; ) {
      const entries = log.entries(lo, report.appliedIndex + 1, 4 << 20);
      for (const e of entries) {
        const command = e.type === EntryType.EntryNormal ? commandOf(e.data, e.term) : undefined;
        if (command !== undefined && decodeCommand(command).op === 'put') puts++;
      }
      lo += entries.length;
    }
    report.impliedRevision = 1 + puts;
  } finally {
    await log.close();
  }
  return report;
}

async function main(): Promise<void> {
  const [idArg, dataDir, membersArg, tickArg] = process.argv.slice(2);
  if (idArg === undefined || dataDir === undefined || membersArg === undefined || tickArg === undefined) {
    throw new Error('usage: kv-member-process.ts <id> <dataDir> <id=host:port,...> <tickMs>');
  }
  const id = Number(idArg);
  const members: Member[] = membersArg.split(',').map((m) => {
    const [mid, address] = m.split('=');
    return { id: Number(mid), address: address! };
  });
  const self = members.find((m) => m.id === id)!;
  const [host, port] = self.address.split(':');
  process.on('disconnect', () => process.exit(0));

  process.send!(await inspect(id, dataDir));

  // Requests that arrive while the member opens wait for it.
  let memberReady!: (m: KvMember) => void;
  const ready = new Promise<KvMember>((resolve) => (memberReady = resolve));
  process.on('message', (msg: Request) => {
    void ready
      .then((member) => serve(member, msg))
      .then(
        (answer) => process.send!({ req: msg.req, ...answer }),
        (err: unknown) => {
          const e = err as { code?: unknown; message?: unknown };
          process.send!({ req: msg.req, error: typeof e.code === 'string' ? e.code : 'ERROR', message: String(e.message ?? err) });
        },
      );
  });

  const transport = new TcpTransport({ id, clusterId: 'kv-sigkill', listen: { host: host!, port: Number(port) } });
  await transport.listen();
  const member: KvMember = await openKvMember({
    id,
    dataDir,
    transport,
    // Writes need no peer link (RaftNode forwards proposals); these members grant no leases.
    peers: new LocalPeerNetwork().link(id),
    initialMembers: members,
    // No snapshots: the log keeps every entry, so that `opened` can count them from index 1.
    raft: { tickMs: Number(tickArg), electionTicks: 10, heartbeatTicks: 1, snapshot: false },
    requestTimeoutMs: 5_000,
  });
  member.raft.on('error', (err) => {
    process.stderr.write(`member ${id} failed: ${err.stack ?? err.message}\n`);
    process.exit(3);
  });

  memberReady(member);
  process.send!({ event: 'started', id });
}

async function serve(member: KvMember, msg: Request): Promise<Record<string, unknown>> {
  switch (msg.op) {
    case 'put': {
      const r = await member.put(msg.key, msg.value);
      return { revision: r.header.revision };
    }
    case 'status': {
      const s = member.raft.status();
      const answer: StatusAnswer = {
        role: s.role,
        leaderId: s.leaderId,
        term: s.term,
        commitIndex: s.commitIndex,
        appliedIndex: s.appliedIndex,
        revision: member.revision,
      };
      return { ...answer };
    }
    case 'hashKV':
      return { hash: member.hashKV(msg.revision).hash };
    case 'dump': {
      const r = await member.get('', { prefix: true, serializable: true });
      const answer: DumpAnswer = {
        revision: member.revision,
        hash: member.hashKV(member.revision).hash,
        appliedIndex: member.raft.status().appliedIndex,
        kvs: r.kvs.map((kv) => ({
          key: text(kv.key),
          value: text(kv.value),
          version: kv.version,
          createRevision: kv.createRevision,
          modRevision: kv.modRevision,
        })),
      };
      return { ...answer };
    }
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`kv-member-process: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
