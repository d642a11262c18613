/**
 * The network of an InteractionEnv (etcd rafttest's deliver-msgs, send-snapshot, stabilize):
 * one list of in-flight messages, delivered or dropped per recipient in the order they were
 * sent, and stabilize, which runs every node's Ready loop and delivers until nothing moves.
 */
import { describeMessage } from '../support/describe.js';
import { isLocalMsgTarget } from '../../src/local-threads.js';
import { MessageType, newMessage, type Message } from '../../src/types.js';
import { nodeIdxs, fatal, scanUint, type Cmd, type InteractionEnv, type InteractionNode } from './interaction-env.js';
import { etcdErrorText, isReportableError } from './interaction-errors.js';
import { processAppendThread, processApplyThread, processReady } from './interaction-ready.js';
import { parseIntStrict } from './datadriven.js';

/** A recipient of deliver-msgs: its messages are delivered, or dropped when `drop`. */
export interface Recipient {
  id: number;
  drop: boolean;
}

/** deliver-msgs <id>... [drop=(<id>,...)] [type=MsgApp] */
export function handleDeliverMsgs(env: InteractionEnv, c: Cmd): void {
  let typ: MessageType | -1 = -1;
  const rs: Recipient[] = [];
  for (const arg of c.args) {
    if (arg.vals.length === 0) {
      const id = parseIntStrict(arg.key);
      if (id === undefined || id < 0) fatal(c, `not a node id: ${arg.key}`);
      rs.push({ id, drop: false });
    }
    for (let i = 0; i < arg.vals.length; i++) {
      switch (arg.key) {
        case 'drop': {
          const id = scanUint(c, arg, i);
          if (rs.some((r) => r.id === id)) fatal(c, `can't both deliver and drop msgs to ${id}`);
          rs.push({ id, drop: true });
          break;
        }
        case 'type': {
          const s = arg.vals[i]!;
          const v = (MessageType as unknown as Record<string, number | undefined>)[s];
          if (typeof v !== 'number') fatal(c, `unknown message type ${s}`);
          typ = v;
          break;
        }
      }
    }
  }
  if (deliverMsgs(env, typ, rs) === 0) env.output.write('no messages\n');
}

/**
 * Delivers (or drops) the in-flight messages of each recipient, of type `typ` (-1: all).
 * Returns how many messages were handled; handled messages leave the in-flight list.
 */
export function deliverMsgs(env: InteractionEnv, typ: MessageType | -1, rs: readonly Recipient[]): number {
  let n = 0;
  for (const r of rs) {
    const [msgs, rest] = splitMsgs(env.messages, r.id, typ, r.drop);
    env.messages = rest;
    n += msgs.length;
    for (const msg of msgs) {
      if (r.drop) env.output.write('dropped: ');
      env.output.write(`${describeMessage(msg)}\n`);
      // Messages to nodes that do not exist yet may be dropped: msg.to is not used then.
      if (r.drop) continue;
      try {
        env.node(msg.to - 1).rawNode.step(msg);
      } catch (e) {
        if (!isReportableError(e)) throw e;
        env.output.write(`${etcdErrorText(e)}\n`);
      }
    }
  }
  return n;
}

/**
 * The messages to `to` of type `typ` (-1: any), and the rest, both in their original order.
 * When dropping, local messages (to self or a storage thread) are kept: they need reliable
 * delivery.
 */
export function splitMsgs(
  msgs: readonly Message[],
  to: number,
  typ: MessageType | -1,
  drop: boolean,
): [Message[], Message[]] {
  const toMsgs: Message[] = [];
  const rest: Message[] = [];
  for (const m of msgs) {
    if (m.to === to && !(drop && isLocalMsg(m)) && (typ < 0 || m.type === typ)) toMsgs.push(m);
    else rest.push(m);
  }
  return [toMsgs, rest];
}

function isLocalMsg(m: Message): boolean {
  return m.from === m.to || isLocalMsgTarget(m.from) || isLocalMsgTarget(m.to);
}

/** send-snapshot <from> <to>: queues a MsgSnap of <from>'s latest snapshot (not delivered). */
export function handleSendSnapshot(env: InteractionEnv, c: Cmd): void {
  const idxs = nodeIdxs(c);
  if (idxs.length !== 2) fatal(c, 'expected exactly two node ids');
  const [fromIdx, toIdx] = idxs as [number, number];
  const from = env.node(fromIdx);
  const snap = from.storage.snapshot();
  const msg = newMessage({
    type: MessageType.MsgSnap,
    term: from.rawNode.term,
    from: fromIdx + 1,
    to: toIdx + 1,
    snapshot: snap,
  });
  env.messages.push(msg);
  env.output.write(describeMessage(msg));
}

/** stabilize [<id>...] [log-level=<level>]: the level applies while stabilizing only. */
export function handleStabilize(env: InteractionEnv, c: Cmd): void {
  const idxs = nodeIdxs(c);
  const old = env.output.lvl;
  try {
    for (const arg of c.args) {
      for (const val of arg.vals) {
        if (arg.key === 'log-level') env.logLevel(val);
      }
    }
    stabilize(env, idxs);
  } finally {
    env.output.lvl = old;
  }
}

/**
 * Runs Ready handling, message delivery and the storage threads on the given nodes (all when
 * none are given) until a round makes no progress.
 */
export function stabilize(env: InteractionEnv, idxs: readonly number[]): void {
  const nodes: InteractionNode[] = idxs.length > 0 ? idxs.map((i) => env.node(i)) : [...env.nodes];
  for (;;) {
    let done = true;
    for (const n of nodes) {
      if (n.rawNode.hasReady()) {
        const idx = n.config.id - 1;
        env.output.write(`> ${idx + 1} handling Ready\n`);
        env.output.withIndent(() => processReady(env, idx));
        done = false;
      }
    }
    for (const n of nodes) {
      const id = n.config.id;
      // Only to decide whether to print the header; deliverMsgs splits them again.
      const [msgs] = splitMsgs(env.messages, id, -1, false);
      if (msgs.length > 0) {
        env.output.write(`> ${id} receiving messages\n`);
        env.output.withIndent(() => deliverMsgs(env, -1, [{ id, drop: false }]));
        done = false;
      }
    }
    for (const n of nodes) {
      const idx = n.config.id - 1;
      if (n.appendWork.length > 0) {
        env.output.write(`> ${idx + 1} processing append thread\n`);
        while (n.appendWork.length > 0) env.output.withIndent(() => processAppendThread(env, idx));
        done = false;
      }
    }
    for (const n of nodes) {
      const idx = n.config.id - 1;
      if (n.applyWork.length > 0) {
        env.output.write(`> ${idx + 1} processing apply thread\n`);
        while (n.applyWork.length > 0) env.output.withIndent(() => processApplyThread(env, idx));
        done = false;
      }
    }
    if (done) return;
  }
}
