/**
 * Pontoon demo: a 3-node Raft cluster in one process (RawNode + MemoryStorage, messages passed
 * in memory, one tick per simulated 10 ms). It elects a leader, replicates writes to a counter,
 * crashes the leader, shows the new election, keeps writing, restarts the crashed node from
 * what it had persisted and shows it catch up.
 */
import {
  EntryType,
  MemoryStorage,
  RawNode,
  StateType,
  decodeConfChangeEntry,
  type Message,
  type Ready,
} from '@pontoon/raft';

const TICK_MS = 10;
const ids = [1, 2, 3];

interface Member {
  id: number;
  storage: MemoryStorage;
  node: RawNode;
  counter: number;
  up: boolean;
}

let now = 0;
const inbox: Message[] = [];
const members = new Map<number, Member>();
const decoder = new TextDecoder();
const encoder = new TextEncoder();

function start(id: number, storage: MemoryStorage, applied: number): RawNode {
  return new RawNode({
    id,
    storage,
    applied,
    electionTick: 10,
    heartbeatTick: 1,
    preVote: true,
    checkQuorum: true,
    maxInflightMsgs: 256,
    rand: { intn: (n) => Math.floor(Math.random() * n) },
  });
}

function handleReady(m: Member, rd: Ready): void {
  // Persist first, then send, then apply: the order the Ready contract requires.
  if (rd.snapshot.metadata.index !== 0) m.storage.applySnapshot(rd.snapshot);
  if (rd.hardState.term !== 0 || rd.hardState.commit !== 0) m.storage.setHardState(rd.hardState);
  m.storage.append(rd.entries);
  inbox.push(...rd.messages);
  for (const e of rd.committedEntries) {
    if (e.type === EntryType.EntryNormal && e.data.length > 0) {
      m.counter += Number(decoder.decode(e.data));
    } else if (e.type !== EntryType.EntryNormal) {
      m.node.applyConfChange(decodeConfChangeEntry(e));
    }
  }
  m.node.advance(rd);
}

function step(): void {
  now += TICK_MS;
  for (const m of members.values()) if (m.up) m.node.tick();
  // Deliver until quiet: messages produced by one delivery go out in the same simulated tick.
  for (let round = 0; round < 50; round++) {
    for (const m of members.values()) {
      if (m.up && m.node.hasReady()) handleReady(m, m.node.ready());
    }
    if (inbox.length === 0) break;
    const batch = inbox.splice(0);
    for (const msg of batch) {
      const to = members.get(msg.to);
      if (to?.up) to.node.step(msg);
    }
  }
}

function leader(): Member | undefined {
  for (const m of members.values()) {
    if (m.up && m.node.basicStatus().softState.raftState === StateType.StateLeader) return m;
  }
  return undefined;
}

function line(): string {
  return [...members.values()]
    .map((m) => {
      if (!m.up) return `n${m.id}: DOWN`;
      const s = m.node.basicStatus();
      const role = StateType[s.softState.raftState].replace('State', '').toLowerCase();
      return `n${m.id}: ${role.padEnd(9)} term=${s.hardState.term} commit=${s.hardState.commit} counter=${m.counter}`;
    })
    .join(' | ');
}

function say(msg: string): void {
  process.stdout.write(`[${String(now).padStart(6)} ms] ${msg}\n`);
}

function waitFor(what: string, cond: () => boolean, maxTicks = 2000): number {
  const t0 = now;
  for (let i = 0; i < maxTicks && !cond(); i++) step();
  if (!cond()) throw new Error(`timed out waiting for ${what}`);
  return now - t0;
}

function write(n: number): void {
  for (let i = 0; i < n; i++) {
    const l = leader();
    if (l === undefined) {
      waitFor('a leader', () => leader() !== undefined);
      i--;
      continue;
    }
    l.node.propose(encoder.encode('1'));
    step();
  }
}

for (const id of ids) {
  const storage = new MemoryStorage();
  const node = start(id, storage, 0);
  node.bootstrap(ids.map((p) => ({ id: p })));
  members.set(id, { id, storage, node, counter: 0, up: true });
}

say('3 nodes started (in-process, memory storage); waiting for an election');
const electionMs = waitFor('a leader', () => leader() !== undefined);
say(`leader elected: n${leader()!.id} after ${electionMs} ms`);
say(line());

write(20);
waitFor('replication', () => [...members.values()].every((m) => m.counter === 20));
say('20 writes committed and applied on every node');
say(line());

const dead = leader()!;
dead.up = false;
say(`crashing the leader n${dead.id}`);
const failoverMs = waitFor('a new leader', () => leader() !== undefined);
say(`new leader: n${leader()!.id}, elected ${failoverMs} ms after the crash`);

write(20);
say('20 more writes committed by the remaining two nodes');
say(line());

// Restart from what was persisted: a new RawNode over the same storage, state machine rebuilt.
dead.node = start(dead.id, dead.storage, 0);
dead.counter = 0;
dead.up = true;
say(`restarting n${dead.id} from its storage`);
const catchUpMs = waitFor('catch-up', () => dead.counter === 40);
say(`n${dead.id} caught up in ${catchUpMs} ms`);
say(line());

const counters = new Set([...members.values()].map((m) => m.counter));
if (counters.size !== 1) {
  say('ERROR: state machines differ');
  process.exit(1);
}
say('all state machines agree: counter = 40. Done.');
