/**
 * The loop that runs the core: the tick timer, and once per turn of the event loop a pass that
 * hands queued proposals and reads to the core and dispatches its Readies (appends to the log
 * writer, committed entries to the applier, messages to the transport). Received messages and
 * the storage threads' responses are stepped here too.
 *
 * Batching. Proposals, reads and received messages are only recorded when they arrive; the pass
 * runs once per turn of the event loop (Clock.setTimeout 0, setImmediate for real time), so
 * whatever arrived in one turn becomes one Ready and one LogStore.append().
 */
import { PontoonError } from '../errors.js';
import { LocalAppendThread, LocalApplyThread, isLocalMsgTarget } from '../local-threads.js';
import { MessageType, isLocalMsg } from '../types.js';
import type { Message } from '../types.js';
import type { ClockTimer } from './clock.js';
import type { NodeContext } from './node-context.js';
import type { AnyStateMachine } from './state-machine.js';

export class ReadyLoop<SM extends AnyStateMachine> {
  /** Ticks since the node started: the reads' clock for retries. */
  ticks = 0;
  private tickTimer: ClockTimer | undefined;
  private readyTimer: ClockTimer | undefined;

  constructor(private readonly ctx: NodeContext<SM>) {}

  /** Starts the tick timer and a first pass. */
  start(): void {
    this.tickTimer = this.ctx.clock.setTimeout(this.onTick, this.ctx.opts.tickMs);
    this.schedule();
  }

  /** Clears both timers; nothing runs after this. */
  stopTimers(): void {
    const clock = this.ctx.clock;
    if (this.tickTimer !== undefined) clock.clearTimeout(this.tickTimer);
    if (this.readyTimer !== undefined) clock.clearTimeout(this.readyTimer);
    this.tickTimer = undefined;
    this.readyTimer = undefined;
  }

  schedule(): void {
    if (this.readyTimer === undefined && !this.ctx.stopped) {
      this.readyTimer = this.ctx.clock.setTimeout(this.processReady, 0);
    }
  }

  private readonly onTick = (): void => {
    this.tickTimer = undefined;
    const ctx = this.ctx;
    if (ctx.stopped) return;
    this.ticks++;
    ctx.rawNode.tick();
    ctx.reads.retry();
    ctx.peerContact.onTick();
    this.schedule();
    this.tickTimer = ctx.clock.setTimeout(this.onTick, ctx.opts.tickMs);
  };

  private readonly processReady = (): void => {
    this.readyTimer = undefined;
    const ctx = this.ctx;
    if (ctx.stopped) return;
    try {
      ctx.proposals.flush();
      ctx.reads.flush();
      while (!ctx.stopped && ctx.rawNode.hasReady()) {
        const rd = ctx.rawNode.ready();
        if (rd.softState !== undefined) ctx.roles.onSoftState(rd.softState);
        for (const rs of rd.readStates) ctx.reads.onReadState(rs);
        let outgoing: Message[] | undefined;
        for (const m of rd.messages) {
          if (m.to === LocalAppendThread) ctx.logWrites.persist(m);
          else if (m.to === LocalApplyThread) ctx.applying.enqueue(m);
          else if (m.type === MessageType.MsgSnap && ctx.applying.onDisk) ctx.snapshots.send(m);
          else (outgoing ??= []).push(m);
        }
        if (outgoing !== undefined && !ctx.stopped) ctx.transport.send(outgoing);
      }
    } catch (err) {
      ctx.fail(err);
    }
  };

  /** Steps a message from the transport. */
  receive(m: Message): void {
    const ctx = this.ctx;
    if (ctx.stopped) return;
    // The core trusts `from` on storage-thread responses: nothing from the network may pose
    // as one of our own threads.
    if (m.to !== ctx.id || isLocalMsg(m.type) || isLocalMsgTarget(m.from)) {
      ctx.logger.warn(`raft node ${ctx.id}: dropped a message that is not for it or is local-only (type ${MessageType[m.type] ?? m.type}, from ${m.from}, to ${m.to})`);
      return;
    }
    ctx.peerContact.heard(m.from);
    // On the leader, forwarded commands it must not append are dropped first (forwarding.ts).
    const admitted = ctx.forwarding.admit(m);
    if (admitted === undefined) return;
    try {
      ctx.rawNode.step(admitted);
      ctx.forwarding.admitted();
    } catch (err) {
      ctx.forwarding.refused();
      if (!(err instanceof PontoonError)) {
        ctx.fail(err);
        return;
      }
      ctx.logger.warn(`raft node ${ctx.id}: refused a message from ${m.from}: ${err.message}`);
    }
    this.schedule();
  }

  /** Steps the responses addressed to this node (a storage thread's work is done) and sends the rest. */
  deliver(responses: readonly Message[] | undefined): void {
    if (responses === undefined) return;
    const ctx = this.ctx;
    let outgoing: Message[] | undefined;
    for (const r of responses) {
      if (r.to === ctx.id) {
        try {
          ctx.rawNode.step(r);
        } catch (err) {
          // A self-addressed response can be refused once the configuration moved on
          // (a leader that removed itself no longer tracks its own progress).
          if (!(err instanceof PontoonError)) throw err;
          ctx.logger.debug(`raft node ${ctx.id}: own response refused: ${err.message}`);
        }
      } else {
        (outgoing ??= []).push(r);
      }
    }
    if (outgoing !== undefined) ctx.transport.send(outgoing);
  }
}
