/**
 * A cluster of counter nodes as child processes, for the demo and the tests: each node is
 * node.ts under tsx, with its own SQLite directory under one temporary folder and its own TCP
 * port on 127.0.0.1. The parent sends commands over the IPC channel, kills nodes with SIGKILL,
 * restarts them over their data, and on close() removes every process and the folder.
 *
 * Children never outlive the parent: node.ts stops when the IPC channel closes, which happens
 * when the parent exits for any reason, SIGKILL included. The folder is removed by close() and,
 * failing that, when the parent exits; only a SIGKILL of the parent leaves it behind.
 */
import { type ChildProcess, fork } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const exampleDir = path.dirname(fileURLToPath(import.meta.url));
const nodeProgram = path.join(exampleDir, 'node.ts');

/** What node.ts answers; `error` is set (a PontoonError's code) when the command failed. */
export interface Answer {
  error?: string;
  message?: string;
  leaderId?: number;
  value?: number;
  voters?: number[];
  learners?: number[];
}

/** node.ts's answer to `status`. */
export interface NodeStatus {
  id: number;
  role: 'follower' | 'preCandidate' | 'candidate' | 'leader';
  term: number;
  leaderId: number | undefined;
  commitIndex: number;
  appliedIndex: number;
  snapshotIndex: number;
  value: number;
  log: { firstIndex: number; lastIndex: number };
  voters: number[];
  learners: number[];
}

/** An event a node reported, stamped with who reported it and when (ms since the cluster started). */
export type NodeEvent =
  | { event: 'started'; node: number; at: number; address: string }
  | { event: 'leaderChanged'; node: number; at: number; leaderId: number | undefined; term: number }
  | { event: 'snapshotInstalled'; node: number; at: number; index: number }
  | { event: 'exited'; node: number; at: number; code: number | null; signal: string | null };

/** The node process died (or was not running) before it answered. */
export class NodeDownError extends Error {
  readonly code = 'ERR_NODE_DOWN';
  constructor(
    readonly nodeId: number,
    readonly sent: boolean,
  ) {
    super(sent ? `node ${nodeId} exited before answering` : `node ${nodeId} is not running`);
  }
}

export interface ClusterOptions {
  /** Ids 1..size are the initial members. Default 3. */
  size?: number;
  /** node.ts --tick-ms: the election timeout is 10-20 ticks. Default 50. */
  tickMs?: number;
  /** node.ts --snapshot-every. Default: node.ts's. */
  snapshotEvery?: number;
  /** node.ts --lease-reads: `get` is served from the leader's lease. Default false. */
  leaseReads?: boolean;
  /** Prefix of the temporary folder. */
  prefix?: string;
  /**
   * The node program to run, if not the counter's node.ts: one that takes the same arguments and
   * speaks the same IPC protocol (examples/sqlite-map/node.ts does).
   */
  program?: string;
}

interface Pending {
  resolve: (a: Answer) => void;
  reject: (e: Error) => void;
}

/** One member: its address and data directory, and the process running it (if any). */
export class NodeProcess {
  child: ChildProcess | undefined;
  /** Resolves once the current process exited. */
  exited: Promise<void> = Promise.resolve();
  /** The last few KiB the process wrote to stderr, for failure reports. */
  stderr = '';
  private readonly pending = new Map<number, Pending>();
  private nextRequest = 1;

  constructor(
    readonly id: number,
    readonly address: string,
    readonly dataDir: string,
  ) {}

  get alive(): boolean {
    return this.child !== undefined;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Sends a command line; rejects with NodeDownError if the process is gone or dies first. */
  command(line: string): Promise<Answer> {
    const child = this.child;
    if (child === undefined || !child.connected) return Promise.reject(new NodeDownError(this.id, false));
    const id = this.nextRequest++;
    return new Promise<Answer>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      child.send({ req: id, command: line }, (err) => {
        if (err === null || !this.pending.delete(id)) return;
        reject(new NodeDownError(this.id, false));
      });
    });
  }

  /** @internal */
  attach(child: ChildProcess, onEvent: (msg: Record<string, unknown>) => void): void {
    this.child = child;
    this.stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => (this.stderr = (this.stderr + chunk.toString()).slice(-4096)));
    child.stdout?.resume();
    child.on('message', (msg: Record<string, unknown>) => {
      if (typeof msg.req === 'number') {
        const p = this.pending.get(msg.req);
        this.pending.delete(msg.req);
        p?.resolve(msg as Answer);
      } else {
        onEvent(msg);
      }
    });
    this.exited = new Promise((resolve) => {
      // 'close', not 'exit': by then everything the process wrote to stderr has been read.
      child.once('close', () => {
        if (this.child === child) this.child = undefined;
        const pending = [...this.pending.values()];
        this.pending.clear();
        for (const p of pending) p.reject(new NodeDownError(this.id, true));
        resolve();
      });
    });
  }
}

/** Ports already handed out here: a cluster picks all its ports before any node binds one. */
const handedOut = new Set<number>();

/** A port on 127.0.0.1 that is free now, below Linux's ephemeral range (32768+), so no outgoing
 * connection takes it while its node is down between a kill and a restart. */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    if (handedOut.has(port)) continue;
    const free = await new Promise<boolean>((resolve) => {
      const server = net.createServer();
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
    });
    if (free) {
      handedOut.add(port);
      return port;
    }
  }
}

export class Cluster {
  readonly dir: string;
  readonly nodes = new Map<number, NodeProcess>();
  /** Every event every node reported, in arrival order. */
  readonly events: NodeEvent[] = [];
  readonly tickMs: number;
  private readonly startedAt = performance.now();
  private readonly listeners = new Set<(e: NodeEvent) => void>();
  private closed = false;
  private readonly onExit = (): void => this.killAllNow();

  private constructor(private readonly options: ClusterOptions) {
    this.tickMs = options.tickMs ?? 50;
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), options.prefix ?? 'pontoon-counter-'));
    process.once('exit', this.onExit);
  }

  /** Creates the folder and the members 1..size, and starts them all. */
  static async start(options: ClusterOptions = {}): Promise<Cluster> {
    const cluster = new Cluster(options);
    try {
      for (let id = 1; id <= (options.size ?? 3); id++) await cluster.addMember(id);
      await Promise.all([...cluster.nodes.keys()].map((id) => cluster.start(id)));
      return cluster;
    } catch (err) {
      await cluster.close();
      throw err;
    }
  }

  /** Whether close() was called. */
  get isClosed(): boolean {
    return this.closed;
  }

  /** Milliseconds since the cluster was created. */
  now(): number {
    return performance.now() - this.startedAt;
  }

  /** The longest election timeout (20 ticks), for bounding waits. */
  get electionTimeoutMs(): number {
    return 20 * this.tickMs;
  }

  /** Registers a new member (not started): a port and a data directory. */
  async addMember(id: number): Promise<NodeProcess> {
    const node = new NodeProcess(id, `127.0.0.1:${await freePort()}`, path.join(this.dir, `node-${id}`));
    this.nodes.set(id, node);
    return node;
  }

  node(id: number): NodeProcess {
    const n = this.nodes.get(id);
    if (n === undefined) throw new Error(`no node ${id}`);
    return n;
  }

  /** The ids of the running nodes. */
  live(): number[] {
    return [...this.nodes.values()].filter((n) => n.alive).map((n) => n.id);
  }

  /** Calls `fn` with every event from now on; returns the unsubscribe function. */
  onEvent(fn: (e: NodeEvent) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /**
   * Starts (or restarts, over its data directory) node `id` and resolves once it listens.
   * `join`: start empty and wait to be added (node.ts --join). `forceNewCluster`: recover as a
   * one-member cluster from its own data (node.ts --force-new-cluster). Its peers: every member.
   */
  async start(id: number, opts: { join?: boolean; forceNewCluster?: boolean } = {}): Promise<NodeProcess> {
    if (this.closed) throw new Error('cluster closed');
    const node = this.node(id);
    if (node.alive) throw new Error(`node ${id} is already running`);
    const peers = [...this.nodes.values()].map((n) => `${n.id}=${n.address}`).join(',');
    const args = ['--id', String(id), '--data', node.dataDir, '--peers', peers, '--tick-ms', String(this.tickMs)];
    if (this.options.snapshotEvery !== undefined) args.push('--snapshot-every', String(this.options.snapshotEvery));
    if (opts.join === true) args.push('--join');
    if (opts.forceNewCluster === true) args.push('--force-new-cluster');
    if (this.options.leaseReads === true) args.push('--lease-reads');
    const program = this.options.program ?? nodeProgram;
    const child = fork(program, args, {
      cwd: path.dirname(program), // where `--import tsx` resolves
      execArgv: ['--import', 'tsx', '--conditions=@pontoon/source'],
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    const started = new Promise<void>((resolve, reject) => {
      const off = this.onEvent((e) => {
        if (e.node === id && e.event === 'started') (off(), resolve());
        if (e.node === id && e.event === 'exited') (off(), reject(new Error(`node ${id} exited while starting (${e.code ?? e.signal}): ${node.stderr}`)));
      });
    });
    node.attach(child, (msg) => this.record({ ...msg, node: id, at: this.now() } as NodeEvent));
    child.once('close', (code, signal) => this.record({ event: 'exited', node: id, at: this.now(), code, signal }));
    await started;
    return node;
  }

  /** Sends a signal (default SIGKILL: no chance to flush or say goodbye) and waits for the exit. */
  async kill(id: number, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const node = this.node(id);
    node.child?.kill(signal);
    await node.exited;
  }

  /** Sends a command line to node `id`. */
  command(id: number, line: string): Promise<Answer> {
    return this.node(id).command(line);
  }

  status(id: number): Promise<NodeStatus> {
    return this.command(id, 'status') as Promise<Answer & NodeStatus>;
  }

  /** The status of every running node that answers. */
  async statuses(): Promise<NodeStatus[]> {
    const all = await Promise.all(this.live().map((id) => this.status(id).catch(() => undefined)));
    return all.filter((s): s is NodeStatus => s !== undefined);
  }

  /** Waits for a running node that says it is the leader (polling status), and returns its status. */
  async waitForLeader(opts: { timeoutMs?: number } = {}): Promise<NodeStatus> {
    let found: NodeStatus | undefined;
    const isLeader = async (): Promise<boolean> => {
      found = (await this.statuses()).find((s) => s.role === 'leader');
      return found !== undefined;
    };
    await this.waitUntil('a leader', isLeader, opts.timeoutMs ?? 10 * this.electionTimeoutMs);
    return found!;
  }

  /** Resolves with the next event of this kind (from now on) that `match` accepts; rejects after `timeoutMs`. */
  nextEvent<K extends NodeEvent['event']>(
    kind: K,
    match: (e: Extract<NodeEvent, { event: K }>) => boolean,
    timeoutMs = 30_000,
  ): Promise<Extract<NodeEvent, { event: K }>> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => (off(), reject(new Error(`timed out after ${timeoutMs} ms waiting for ${kind}`))), timeoutMs);
      const off = this.onEvent((e) => {
        if (e.event !== kind || !match(e as Extract<NodeEvent, { event: K }>)) return;
        off();
        clearTimeout(timer);
        resolve(e as Extract<NodeEvent, { event: K }>);
      });
    });
  }

  /**
   * The next leader that a node reports, other than `excluding`, in a term above `afterTerm`.
   * Subscribe before causing the change (a kill) to time it from then.
   */
  async nextLeader(opts: { afterTerm: number; excluding?: number }): Promise<{ leaderId: number; term: number; at: number }> {
    const e = await this.nextEvent(
      'leaderChanged',
      (e) => e.leaderId !== undefined && e.leaderId !== opts.excluding && e.term > opts.afterTerm,
      10 * this.electionTimeoutMs,
    );
    return { leaderId: e.leaderId!, term: e.term, at: e.at };
  }

  /**
   * Sends a command to the leader, following leader changes: retried while the answer says it
   * certainly did not take effect (not the leader; another membership change in progress; timed
   * out before reaching the log, or a leadership transfer that did not happen in time).
   * Throws on any other error.
   */
  async leaderCommand(line: string, timeoutMs = 30_000): Promise<Answer> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const leader = await this.waitForLeader({ timeoutMs: Math.max(0, deadline - performance.now()) });
      const answer = await this.command(leader.id, line);
      if (answer.error === undefined) return answer;
      if (!['ERR_NOT_LEADER', 'ERR_PROPOSAL_DROPPED', 'ERR_TIMEOUT'].includes(answer.error) || performance.now() > deadline) {
        throw new Error(`'${line}' on the leader n${leader.id}: ${answer.error}: ${answer.message}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /**
   * Once writes have stopped: waits until every running node applied the leader's commit
   * index, then reads the counter on each (`get`, linearizable). By node id.
   */
  async values(timeoutMs = 30_000): Promise<Map<number, number>> {
    const leader = await this.waitForLeader({ timeoutMs });
    await this.waitUntil(
      'every node to apply the last write',
      async () => (await this.statuses()).every((s) => s.appliedIndex >= leader.commitIndex),
      timeoutMs,
    );
    const values = new Map<number, number>();
    for (const id of this.live()) {
      const answer = await this.command(id, 'get');
      if (answer.value === undefined) throw new Error(`get on n${id}: ${answer.error}: ${answer.message}`);
      values.set(id, answer.value);
    }
    return values;
  }

  /** Polls `cond` every 20 ms until it holds; rejects after `timeoutMs`, naming `what`. */
  async waitUntil(what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    while (!(await cond())) {
      if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Every term in which more than one node was reported leader (by itself or by others). */
  termsWithTwoLeaders(): Array<{ term: number; leaders: number[] }> {
    const byTerm = new Map<number, Set<number>>();
    for (const e of this.events) {
      if (e.event !== 'leaderChanged' || e.leaderId === undefined) continue;
      const set = byTerm.get(e.term) ?? new Set<number>();
      set.add(e.leaderId);
      byTerm.set(e.term, set);
    }
    return [...byTerm].filter(([, s]) => s.size > 1).map(([term, s]) => ({ term, leaders: [...s] }));
  }

  /** Kills every process, waits for them, removes the folder. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const nodes = [...this.nodes.values()];
    for (const n of nodes) n.child?.kill('SIGKILL');
    await Promise.all(nodes.map((n) => n.exited));
    fs.rmSync(this.dir, { recursive: true, force: true });
    process.off('exit', this.onExit);
  }

  /** The last resort when the parent exits without close(): synchronous, so it runs in 'exit'. */
  private killAllNow(): void {
    for (const n of this.nodes.values()) n.child?.kill('SIGKILL');
    fs.rmSync(this.dir, { recursive: true, force: true });
  }

  private record(e: NodeEvent): void {
    this.events.push(e);
    for (const fn of [...this.listeners]) fn(e);
  }
}
