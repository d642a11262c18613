/**
 * The driver loop of bench/core: RawNodes over MemoryStorage in one process, messages handed
 * from one node's Ready straight to the other's step(). It does with each Ready what a real
 * application does (persist, send, apply, advance) and nothing more, so that what is measured
 * is the consensus core and not the harness.
 */
import { EntryType, MessageType, type Entry, type Message, EMPTY_BYTES, MemoryStorage, RawNode, StateType, emptyConfState, isEmptyHardState, isEmptySnap, newMessage, type Ready } from '@pontoon/raft/core';
import type { SampleBuffer } from '../lib/histogram.js';

/** Entries kept in storage behind the applied index; beyond twice that, the log is compacted. */
const RETAINED_ENTRIES = 8192;

export interface BenchNode {
  id: number;
  rawNode: RawNode;
  storage: MemoryStorage;
  /** Normal entries with a payload applied so far (what the "state machine" counted). */
  appliedEntries: number;
  /** The index of the last applied entry. */
  appliedIndex: number;
  /** A fold over applied payloads, so that applying reads the data like a real state machine. */
  checksum: number;
}

export interface ClusterOptions {
  /** Bytes of entries per append message. */
  maxSizePerMsg: number;
  /** Append messages in flight per follower. */
  maxInflightMsgs: number;
}

/**
 * A cluster of `size` voters (ids 1..size) started from a snapshot that holds the
 * configuration, with node 1 elected leader.
 */
export function newCluster(size: number, opts: ClusterOptions): BenchNode[] {
  const ids = Array.from({ length: size }, (_, i) => i + 1);
  const nodes = ids.map((id): BenchNode => {
    const storage = new MemoryStorage();
    const confState = emptyConfState();
    confState.voters = ids.slice();
    storage.applySnapshot({ data: EMPTY_BYTES, metadata: { index: 1, term: 1, confState } });
    const rawNode = new RawNode({
      id,
      storage,
      electionTick: 10,
      heartbeatTick: 1,
      maxSizePerMsg: opts.maxSizePerMsg,
      maxInflightMsgs: opts.maxInflightMsgs,
      // Ticks never come in the measured loop, so neither elections nor CheckQuorum fire; the
      // options are set as a production deployment would set them.
      checkQuorum: true,
      preVote: true,
    });
    return { id, rawNode, storage, appliedEntries: 0, appliedIndex: 1, checksum: 0 };
  });
  nodes[0]!.rawNode.campaign();
  for (let turn = 0; turn < 100; turn++) {
    runTurn(nodes, undefined);
    if (nodes[0]!.rawNode.state === StateType.StateLeader && quiescent(nodes)) return nodes;
  }
  throw new Error('bench cluster: node 1 did not become leader');
}

/**
 * Persists, applies and advances one Ready, as an application would. The caller sends
 * `rd.messages` (after this returns: sending once the writes are done is always allowed).
 */
export function handleReady(n: BenchNode, rd: Ready): void {
  // Persist before sending: messages may acknowledge these writes (Raft §5.1). The order of
  // etcd's raftexample: snapshot, entries, then the hard state that may commit them.
  if (!isEmptySnap(rd.snapshot)) n.storage.applySnapshot(rd.snapshot);
  if (rd.entries.length > 0) n.storage.append(rd.entries);
  if (!isEmptyHardState(rd.hardState)) n.storage.setHardState(rd.hardState);

  const ents = rd.committedEntries;
  if (ents.length > 0) {
    for (let i = 0; i < ents.length; i++) {
      const e = ents[i]!;
      // The leader's empty entry of each term is applied too but carries no command.
      if (e.type === EntryType.EntryNormal && e.data.length > 0) {
        n.appliedEntries++;
        n.checksum = (n.checksum + e.data[0]!) | 0;
      }
    }
    n.appliedIndex = ents[ents.length - 1]!.index;
    maybeCompact(n);
  }
  n.rawNode.advance(rd);
}

/** Compacts like an application with a log retention policy, so memory stays bounded. */
function maybeCompact(n: BenchNode): void {
  const first = n.storage.firstIndex();
  if (n.appliedIndex - first > 2 * RETAINED_ENTRIES) {
    n.storage.compact(n.appliedIndex - RETAINED_ENTRIES);
  }
}

/**
 * One turn of the event loop of every node, in id order: a node with a Ready handles it and its
 * messages are delivered at once, so a follower can answer the leader's append in the same turn
 * (as it would over a fast network). With `readyTimes`, records the time of each node's Ready
 * (ready() through advance()) into `readyTimes[i]`. Returns the time (performance.now()) at the
 * end of the turn, reusing the last clock read when nothing ran after it: a clock read costs
 * about 0.1 µs, a sizeable part of a turn of one node.
 */
export function runTurn(nodes: readonly BenchNode[], readyTimes: readonly SampleBuffer[] | undefined): number {
  let end = NaN;
  for (let i = 0; i < nodes.length; i++) {
    const n = nodes[i]!;
    if (!n.rawNode.hasReady()) continue;
    let rd: Ready;
    if (readyTimes === undefined) {
      rd = n.rawNode.ready();
      handleReady(n, rd);
    } else {
      // ready() is part of the Ready's time: it is where the core collects the work.
      const t0 = performance.now();
      rd = n.rawNode.ready();
      handleReady(n, rd);
      end = performance.now();
      readyTimes[i]!.push(end - t0);
    }
    if (rd.messages.length > 0) {
      deliver(nodes, rd.messages);
      end = NaN;
    }
  }
  return Number.isNaN(end) ? performance.now() : end;
}

/** Steps every message into its recipient (ids are 1..n, so the recipient is nodes[to - 1]). */
export function deliver(nodes: readonly BenchNode[], msgs: readonly Message[]): void {
  for (let i = 0; i < msgs.length; i++) {
    const m = msgs[i]!;
    nodes[m.to - 1]!.rawNode.step(m);
  }
}

/** Whether no node has anything left to do. */
export function quiescent(nodes: readonly BenchNode[]): boolean {
  return nodes.every((n) => !n.rawNode.hasReady());
}

/**
 * Proposes `count` entries with the given payloads. One entry goes through propose(), the
 * public single-command API; several go as one MsgProp carrying them all, which is how a
 * batch of commands is proposed (etcd's node.Step(MsgProp)).
 */
export function proposeBatch(n: BenchNode, payloads: readonly Uint8Array[], start: number, count: number): void {
  const mask = payloads.length - 1;
  if (count === 1) {
    n.rawNode.propose(payloads[start & mask]!);
    return;
  }
  const entries: Entry[] = new Array<Entry>(count);
  for (let i = 0; i < count; i++) {
    entries[i] = { term: 0, index: 0, type: EntryType.EntryNormal, data: payloads[(start + i) & mask]! };
  }
  n.rawNode.step(newMessage({ type: MessageType.MsgProp, from: n.id, entries }));
}

/** `count` (a power of two) distinct payloads of `size` bytes, so that entries do not all share one. */
export function makePayloads(count: number, size: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    const p = new Uint8Array(size);
    for (let j = 0; j < size; j++) p[j] = (i * 31 + j) & 0xff;
    out.push(p);
  }
  return out;
}
