/**
 * InteractionEnv: whole-cluster scenarios against RawNodes in one process, with the semantics
 * of etcd raft's rafttest.InteractionEnv, so that etcd's interaction scenario files (and ours,
 * in test/scenarios/interaction/) run unchanged. Every node runs in this process; messages sit
 * in one in-flight list until a command delivers or drops them, and nothing happens unless a
 * command says so: no timers, no randomness beyond the seeded generator.
 *
 * The commands, grouped by concept:
 * - nodes (interaction-nodes.ts): add-nodes, campaign, propose, propose-conf-change,
 *   tick-election, tick-heartbeat, transfer-leadership, forget-leader, report-unreachable,
 *   set-randomized-election-timeout, compact, raft-log, raft-state, status; and, ours rather
 *   than etcd's, read-index
 * - the Ready loop (interaction-ready.ts): process-ready, process-append-thread,
 *   process-apply-thread
 * - the network (interaction-network.ts): deliver-msgs, send-snapshot, stabilize
 * - the harness: log-level
 */
import type { Config } from '../../src/config.js';
import type { RawNode } from '../../src/raw-node.js';
import type { Message, Snapshot } from '../../src/types.js';
import type { CmdArg, TestData } from './datadriven.js';
import { DatadrivenError, parseLine, parseIntStrict } from './datadriven.js';
import { HarnessError, etcdErrorText, isReportableError } from './interaction-errors.js';
import { InteractionOutput, LOG_LEVELS } from './interaction-output.js';
import type { InteractionStorage } from './interaction-storage.js';
import * as nodes from './interaction-nodes.js';
import * as ready from './interaction-ready.js';
import * as network from './interaction-network.js';

/** Options of an InteractionEnv. */
export interface InteractionOpts {
  /** Adjusts each node's Config before its RawNode is created (must not change the id). */
  onConfig?: (cfg: Config) => void;
}

/** A member of the cluster under test. */
export interface InteractionNode {
  rawNode: RawNode;
  storage: InteractionStorage;
  config: Config;
  /** MsgStorageAppend messages not yet processed by the append thread (asyncStorageWrites). */
  appendWork: Message[];
  /** MsgStorageApply messages not yet processed by the apply thread (asyncStorageWrites). */
  applyWork: Message[];
  /** The states of the node's appender state machine, one per applied entry (newest last). */
  history: Snapshot[];
}

export class InteractionEnv {
  readonly options: InteractionOpts;
  readonly nodes: InteractionNode[] = [];
  /** Messages sent and neither delivered nor dropped yet, in the order they were sent. */
  messages: Message[] = [];
  readonly output = new InteractionOutput();

  constructor(opts: InteractionOpts = {}) {
    this.options = opts;
  }

  /**
   * Runs one directive and returns its output, as etcd's Handle: "ok" when the command printed
   * nothing; an error is printed after the output, or alone when the output is quiet.
   */
  handle(d: TestData): string {
    this.output.reset();
    let err: Error | undefined;
    try {
      if (d.cmd === 'propose-conf-change') {
        nodes.handleProposeConfChange(this, d);
      } else {
        this.handleMultiCommand(d);
      }
    } catch (e) {
      if (!isReportableError(e)) throw e;
      err = e;
    }
    if (err !== undefined) {
      if (this.output.quiet()) return etcdErrorText(err);
      this.output.write(etcdErrorText(err));
    }
    if (this.output.length === 0) return 'ok';
    return this.output.toString();
  }

  /** The directive, then each line of its input as a further command. */
  private handleMultiCommand(d: TestData): void {
    this.handleSingle(d, d.cmd, d.cmdArgs);
    let commands = d.input;
    while (commands.length !== 0) {
      let command = commands;
      const next = commands.indexOf('\n');
      if (next === -1) {
        commands = '';
      } else {
        command = commands.slice(0, next);
        commands = commands.slice(next + 1);
      }
      const { cmd, cmdArgs } = parseLine(command);
      try {
        this.handleSingle(d, cmd, cmdArgs);
      } catch (e) {
        if (!isReportableError(e)) throw e;
        if (this.output.quiet()) throw e;
        this.output.write(etcdErrorText(e));
      }
    }
  }

  private handleSingle(d: TestData, cmd: string, args: CmdArg[]): void {
    const c: Cmd = { d, cmd, args };
    switch (cmd) {
      case '_breakpoint':
        return;
      case 'add-nodes':
        return nodes.handleAddNodes(this, c);
      case 'campaign':
        return nodes.handleCampaign(this, c);
      case 'compact':
        return nodes.handleCompact(this, c);
      case 'deliver-msgs':
        return network.handleDeliverMsgs(this, c);
      case 'process-ready':
        return ready.handleProcessReady(this, c);
      case 'process-append-thread':
        return ready.handleProcessAppendThread(this, c);
      case 'process-apply-thread':
        return ready.handleProcessApplyThread(this, c);
      case 'log-level':
        return this.logLevel(firstKey(c));
      case 'raft-log':
        return nodes.raftLog(this, firstAsNodeIdx(c));
      case 'raft-state':
        return nodes.raftState(this);
      case 'set-randomized-election-timeout':
        return nodes.handleSetRandomizedElectionTimeout(this, c);
      case 'stabilize':
        return network.handleStabilize(this, c);
      case 'status':
        return nodes.status(this, firstAsNodeIdx(c));
      case 'tick-election':
        return nodes.handleTickElection(this, c);
      case 'tick-heartbeat':
        return nodes.handleTickHeartbeat(this, c);
      case 'transfer-leadership':
        return nodes.handleTransferLeadership(this, c);
      case 'forget-leader':
        return nodes.forgetLeader(this, firstAsNodeIdx(c));
      case 'send-snapshot':
        return network.handleSendSnapshot(this, c);
      case 'propose':
        return nodes.handlePropose(this, c);
      case 'read-index':
        return nodes.handleReadIndex(this, c);
      case 'report-unreachable':
        return nodes.handleReportUnreachable(this, c);
      default:
        throw new HarnessError('unknown command');
    }
  }

  /** Sets the output level by name (DEBUG ... NONE, any case). */
  logLevel(name: string): void {
    if (!this.output.setLevel(name)) {
      throw new HarnessError(`log levels must be either of [${LOG_LEVELS.join(' ')}]`);
    }
  }

  /** The node at index `idx` (id idx+1); a scenario naming a node that does not exist is broken. */
  node(idx: number): InteractionNode {
    const n = this.nodes[idx];
    if (n === undefined) throw new DatadrivenError(`no node with id ${idx + 1}`);
    return n;
  }
}

/** One command: the directive it came from (for positions in errors) and its own arguments. */
export interface Cmd {
  d: TestData;
  cmd: string;
  args: CmdArg[];
}

/** A broken scenario (bad arguments): etcd's harness calls t.Fatal, so do we (throw). */
export function fatal(c: Cmd, msg: string): never {
  throw new DatadrivenError(`${c.d.pos}: ${c.cmd}: ${msg}`);
}

function firstKey(c: Cmd): string {
  const a = c.args[0];
  if (a === undefined) fatal(c, 'missing first argument');
  return a.key;
}

/** The first argument as an integer (etcd's firstAsInt). */
export function firstAsInt(c: Cmd): number {
  const n = parseIntStrict(firstKey(c));
  if (n === undefined) fatal(c, `first argument is not an integer: ${firstKey(c)}`);
  return n;
}

/** The first argument as a node id, returned as an index into env.nodes. */
export function firstAsNodeIdx(c: Cmd): number {
  return firstAsInt(c) - 1;
}

/** The arguments without values (`stabilize 1 3`) as node indexes (etcd's nodeIdxs). */
export function nodeIdxs(c: Cmd): number[] {
  const out: number[] = [];
  for (const a of c.args) {
    if (a.vals.length !== 0) continue;
    const n = parseIntStrict(a.key);
    if (n === undefined) fatal(c, `not a node id: ${a.key}`);
    out.push(n - 1);
  }
  return out;
}

/** The i-th value of an argument as an unsigned integer (datadriven's arg.Scan into a uint). */
export function scanUint(c: Cmd, a: CmdArg, i: number): number {
  const n = parseIntStrict(a.vals[i] ?? '');
  if (n === undefined || n < 0) fatal(c, `argument ${a.key}: not an unsigned integer: ${a.vals[i]}`);
  return n;
}

/** The i-th value of an argument as a boolean (Go's strconv.ParseBool). */
export function scanBool(c: Cmd, a: CmdArg, i: number): boolean {
  switch (a.vals[i]) {
    case '1':
    case 't':
    case 'T':
    case 'true':
    case 'TRUE':
    case 'True':
      return true;
    case '0':
    case 'f':
    case 'F':
    case 'false':
    case 'FALSE':
    case 'False':
      return false;
    default:
      return fatal(c, `argument ${a.key}: not a boolean: ${a.vals[i]}`);
  }
}

/** Builds the datadriven handler of an interaction scenario file: one env per file. */
export function interactionHandler(opts?: InteractionOpts): (d: TestData) => string {
  const env = new InteractionEnv(opts);
  return (d) => env.handle(d);
}
