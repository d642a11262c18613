/**
 * The Ready loop of a node in an InteractionEnv (etcd rafttest's process-ready,
 * process-append-thread, process-apply-thread): persist to the node's MemoryStorage, apply to
 * an "appender" state machine whose state is the concatenation of all applied payloads, and
 * queue messages on the env's network. With asyncStorageWrites the local storage work arrives
 * as messages for the append and apply threads, which run only when a command says so.
 */
import { decodeConfChange, decodeConfChangeV2 } from '../../src/conf-change.js';
import { describeMessage, describeReady } from '../support/describe.js';
import { isLocalMsgTarget } from '../../src/local-threads.js';
import {
  EMPTY_BYTES,
  EntryType,
  MessageType,
  emptySnapshot,
  isEmptyHardState,
  isEmptySnap,
  type ConfState,
  type Entry,
  type HardState,
  type Message,
  type Snapshot,
} from '../../src/types.js';
import { nodeIdxs, type Cmd, type InteractionEnv, type InteractionNode } from './interaction-env.js';
import { HarnessError } from './interaction-errors.js';

/** process-ready <id>...: handles one Ready on each node (with headers when more than one). */
export function handleProcessReady(env: InteractionEnv, c: Cmd): void {
  forEachNode(env, c, 'handling Ready', (idx) => processReady(env, idx));
}

/** process-append-thread <id>...: runs one unit of work on each node's append thread. */
export function handleProcessAppendThread(env: InteractionEnv, c: Cmd): void {
  forEachNode(env, c, 'processing append thread', (idx) => processAppendThread(env, idx));
}

/** process-apply-thread <id>...: runs one unit of work on each node's apply thread. */
export function handleProcessApplyThread(env: InteractionEnv, c: Cmd): void {
  forEachNode(env, c, 'processing apply thread', (idx) => processApplyThread(env, idx));
}

function forEachNode(env: InteractionEnv, c: Cmd, what: string, f: (idx: number) => void): void {
  const idxs = nodeIdxs(c);
  for (const idx of idxs) {
    if (idxs.length > 1) {
      env.output.write(`> ${idx + 1} ${what}\n`);
      env.output.withIndent(() => f(idx));
    } else {
      f(idx);
    }
  }
}

/** Handles one Ready of the node at `idx`: print, persist, apply, send, advance. */
export function processReady(env: InteractionEnv, idx: number): void {
  const n = env.node(idx);
  const rd = n.rawNode.ready();
  env.output.write(describeReady(rd));
  const async = n.config.asyncStorageWrites === true;
  if (!async) {
    processAppend(n, rd.hardState, rd.entries, rd.snapshot);
    processApply(n, rd.committedEntries);
  }
  for (const m of rd.messages) {
    if (isLocalMsgTarget(m.to)) {
      if (!async) throw new Error(`unexpected local msg target in a synchronous Ready: ${describeMessage(m)}`);
      switch (m.type) {
        case MessageType.MsgStorageAppend:
          n.appendWork.push(m);
          break;
        case MessageType.MsgStorageApply:
          n.applyWork.push(m);
          break;
        default:
          throw new Error(`unexpected message type ${MessageType[m.type]}`);
      }
    } else {
      env.messages.push(m);
    }
  }
  if (!async) n.rawNode.advance(rd);
}

/**
 * Processes the oldest MsgStorageAppend of the node's append thread: persist, then release
 * the responses it carries onto the network.
 */
export function processAppendThread(env: InteractionEnv, idx: number): void {
  const n = env.node(idx);
  const work = n.appendWork.shift();
  if (work === undefined) {
    env.output.write('no append work to perform');
    return;
  }
  const resps = work.responses ?? [];
  const m: Message = { ...work, responses: undefined };
  env.output.write('Processing:\n');
  env.output.write(`${describeMessage(m)}\n`);
  const st: HardState = { term: m.term, vote: m.vote, commit: m.commit };
  processAppend(n, st, m.entries, m.snapshot ?? emptySnapshot());
  env.output.write('Responses:\n');
  for (const r of resps) env.output.write(`${describeMessage(r)}\n`);
  env.messages.push(...resps);
}

/**
 * Processes the oldest MsgStorageApply of the node's apply thread: apply the entries, then
 * release the responses it carries onto the network.
 */
export function processApplyThread(env: InteractionEnv, idx: number): void {
  const n = env.node(idx);
  const work = n.applyWork.shift();
  if (work === undefined) {
    env.output.write('no apply work to perform');
    return;
  }
  const resps = work.responses ?? [];
  const m: Message = { ...work, responses: undefined };
  env.output.write('Processing:\n');
  env.output.write(`${describeMessage(m)}\n`);
  processApply(n, m.entries);
  env.output.write('Responses:\n');
  for (const r of resps) env.output.write(`${describeMessage(r)}\n`);
  env.messages.push(...resps);
}

/** Persists a hard state and either a snapshot or entries to the node's storage. */
function processAppend(n: InteractionNode, st: HardState, ents: readonly Entry[], snap: Snapshot): void {
  const s = n.storage;
  if (!isEmptyHardState(st)) s.setHardState(st);
  if (!isEmptySnap(snap)) {
    if (ents.length > 0) throw new HarnessError("can't apply snapshot and entries at the same time");
    s.applySnapshot(snap);
    return;
  }
  s.append(ents);
}

/**
 * Applies committed entries: conf changes to the RawNode, every payload (a conf change's
 * context) appended to the state machine, whose state after each entry joins the history.
 */
function processApply(n: InteractionNode, ents: readonly Entry[]): void {
  for (const ent of ents) {
    let update: Uint8Array;
    let cs: ConfState | undefined;
    switch (ent.type) {
      case EntryType.EntryConfChange: {
        const cc = decodeConfChange(ent.data);
        update = cc.context ?? EMPTY_BYTES;
        cs = n.rawNode.applyConfChange(cc);
        break;
      }
      case EntryType.EntryConfChangeV2: {
        const cc = decodeConfChangeV2(ent.data);
        cs = n.rawNode.applyConfChange(cc);
        update = cc.context ?? EMPTY_BYTES;
        break;
      }
      default:
        update = ent.data;
    }
    const last = n.history[n.history.length - 1]!;
    const data = new Uint8Array(last.data.length + update.length);
    data.set(last.data, 0);
    data.set(update, last.data.length);
    n.history.push({
      data,
      metadata: { index: ent.index, term: ent.term, confState: cs ?? last.metadata.confState },
    });
  }
}
