/**
 * The benchmark cluster as processes: three nodes (node-main.ts) and a client (client-main.ts),
 * each a child of the benchmark run, under one temporary folder. Every child is SIGKILLed and
 * the folder removed on close(), and, failing that, when the parent exits; children also exit
 * by themselves when their IPC channel closes (the parent died).
 */
import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Member } from '@pontoon/raft';
import type { SyncMode } from '@pontoon/storage-sqlite';
import { freePort } from 'pontoon-kv/testing';
import { epochMs } from './ipc.js';
import type {
  AppendTimes,
  BenchRaftOptions,
  ClientRunResult,
  ClientRunSpec,
  FromClient,
  FromNode,
  NodeConfig,
  NodeStatusReply,
  ToClient,
  ToNode,
  WaitAppliedReply,
} from './ipc.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const benchDir = path.dirname(here);

/** Where the children's CPU profiles go, when set (`--cpu-prof-dir` of every node and the client). */
export const CPU_PROF_ENV = 'PONTOON_BENCH_CPU_PROF';

/** Every live child of every cluster, for the exit hook. */
const liveChildren = new Set<ChildProcess>();
const liveDirs = new Set<string>();
process.once('exit', () => {
  for (const c of liveChildren) c.kill('SIGKILL');
  for (const d of liveDirs) fs.rmSync(d, { recursive: true, force: true });
});

/**
 * Node's default for SIGINT and SIGTERM ends the process without 'exit' handlers: while children
 * live, exit instead, so that the hook above kills them and removes the folders.
 */
const onSignal = (signal: NodeJS.Signals): void => process.exit(signal === 'SIGINT' ? 130 : 143);
function trackChild(child: ChildProcess): void {
  if (liveChildren.size === 0) {
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  }
  liveChildren.add(child);
}
function untrackChild(child: ChildProcess): void {
  if (!liveChildren.delete(child) || liveChildren.size > 0) return;
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
}

type Reply = { kind: 'reply'; req: number; value?: unknown; error?: string };

/** A request without its id (distributes over the union of requests). */
type Unnumbered<T> = T extends unknown ? Omit<T, 'req'> : never;

/** A child process with request/reply over IPC and an event stream. */
class Child<In extends { req: number }, Out extends { kind: string }> {
  readonly proc: ChildProcess;
  readonly exited: Promise<void>;
  stderr = '';
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private nextReq = 1;
  private alive = true;

  constructor(
    readonly name: string,
    program: string,
    args: string[],
    onEvent: (m: Out) => void,
  ) {
    const prof = process.env[CPU_PROF_ENV];
    const execArgv = ['--import', 'tsx', '--conditions=@pontoon/source'];
    if (prof !== undefined && prof !== '') execArgv.push('--cpu-prof', `--cpu-prof-dir=${prof}`);
    this.proc = fork(program, args, {
      cwd: benchDir, // where `--import tsx` resolves
      execArgv,
      serialization: 'advanced',
      stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
    });
    trackChild(this.proc);
    this.proc.stderr!.on('data', (c: Buffer) => (this.stderr = (this.stderr + c.toString()).slice(-4096)));
    this.proc.on('message', (m: Out | Reply) => {
      if (m.kind === 'reply') {
        const r = m as Reply;
        const p = this.pending.get(r.req);
        this.pending.delete(r.req);
        if (r.error !== undefined) p?.reject(new Error(`${this.name}: ${r.error}`));
        else p?.resolve(r.value);
      } else {
        onEvent(m as Out);
      }
    });
    this.exited = new Promise((resolve) => {
      this.proc.once('close', (code, signal) => {
        this.alive = false;
        untrackChild(this.proc);
        const why = new Error(`${this.name} exited (${code ?? signal})${this.stderr === '' ? '' : `: ${this.stderr.trim()}`}`);
        for (const p of this.pending.values()) p.reject(why);
        this.pending.clear();
        resolve();
      });
    });
  }

  get running(): boolean {
    return this.alive;
  }

  request<T>(m: Unnumbered<In>): Promise<T> {
    if (!this.alive || !this.proc.connected) return Promise.reject(new Error(`${this.name} is not running`));
    const req = this.nextReq++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(req, { resolve: resolve as (v: unknown) => void, reject });
      this.proc.send({ ...m, req });
    });
  }

  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (this.alive) this.proc.kill(signal);
    await this.exited;
  }

  /** Asks the child to exit cleanly (so that a CPU profile gets written); kills it after `graceMs`. */
  async exit(graceMs = 5000): Promise<void> {
    if (!this.alive) return;
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), graceMs);
    await this.request({ op: 'exit' } as unknown as Unnumbered<In>).catch(() => {});
    await this.exited;
    clearTimeout(timer);
  }
}

type LeaderEvent = Extract<FromNode, { kind: 'leader' }>;

/** One member: its fixed peer address and data directory, and its current process. */
class NodeSlot {
  child: Child<ToNode, FromNode> | undefined;
  clientPort = 0;
  startedAt = 0;
  constructor(
    readonly id: number,
    readonly address: string,
    readonly dataDir: string,
  ) {}
  get running(): boolean {
    return this.child?.running ?? false;
  }
}

export interface ProcessClusterOptions {
  raft: BenchRaftOptions;
  workloadModule: string;
  /** Default `full`. */
  synchronous?: SyncMode;
  size?: number;
}

export class ProcessCluster {
  readonly dir: string;
  private readonly slots = new Map<number, NodeSlot>();
  private readonly leaderListeners = new Set<(e: LeaderEvent) => void>();
  private fatal: string | undefined;
  private closed = false;
  private readonly clusterId = `bench-${process.pid}-${Date.now()}`;

  private constructor(private readonly options: ProcessClusterOptions) {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pontoon-bench-cluster-'));
    liveDirs.add(this.dir);
  }

  /** Starts every member and waits for a leader. */
  static async start(options: ProcessClusterOptions): Promise<ProcessCluster> {
    const c = new ProcessCluster(options);
    try {
      for (let id = 1; id <= (options.size ?? 3); id++) {
        c.slots.set(id, new NodeSlot(id, `127.0.0.1:${await freePort()}`, path.join(c.dir, `node-${id}`)));
      }
      await Promise.all([...c.slots.keys()].map((id) => c.startNode(id)));
      await c.waitForLeader();
      return c;
    } catch (err) {
      await c.close();
      throw err;
    }
  }

  get electionTimeoutMs(): number {
    return this.options.raft.electionTicks * this.options.raft.tickMs;
  }

  get ids(): number[] {
    return [...this.slots.keys()];
  }

  private slot(id: number): NodeSlot {
    const s = this.slots.get(id);
    if (s === undefined) throw new Error(`no node ${id}`);
    return s;
  }

  /** Starts (or restarts over its data) node `id`; resolves once it serves clients. */
  async startNode(id: number): Promise<void> {
    if (this.closed) throw new Error('cluster closed');
    const slot = this.slot(id);
    if (slot.running) throw new Error(`node ${id} is already running`);
    const members: Member[] = [...this.slots.values()].map((s) => ({ id: s.id, address: s.address }));
    const config: NodeConfig = {
      id,
      clusterId: this.clusterId,
      dataDir: slot.dataDir,
      members,
      workloadModule: this.options.workloadModule,
      raft: this.options.raft,
      synchronous: this.options.synchronous ?? 'full',
    };
    let started!: (e: Extract<FromNode, { kind: 'started' }>) => void;
    const startedEvent = new Promise<Extract<FromNode, { kind: 'started' }>>((r) => (started = r));
    const child = new Child<ToNode, FromNode>(`node ${id}`, path.join(here, 'node-main.ts'), [JSON.stringify(config)], (m) => {
      if (m.kind === 'started') started(m);
      else if (m.kind === 'leader') for (const l of [...this.leaderListeners]) l(m);
      else if (m.kind === 'fatal') this.fatal ??= `node ${m.id}: ${m.message}`;
    });
    slot.child = child;
    const e = await Promise.race([
      startedEvent,
      child.exited.then(() => {
        throw new Error(`node ${id} exited while starting: ${child.stderr.trim()}`);
      }),
    ]);
    slot.clientPort = e.clientPort;
    slot.startedAt = e.at;
  }

  /** SIGKILLs node `id` (no chance to flush anything) and waits for it to be gone. Returns when the signal went (epoch ms). */
  async kill(id: number): Promise<number> {
    const child = this.slot(id).child;
    const at = epochMs();
    if (child !== undefined) await child.kill('SIGKILL');
    return at;
  }

  /** The process ids of the running nodes. */
  pids(): number[] {
    return [...this.slots.values()].flatMap((s) => (s.running && s.child!.proc.pid !== undefined ? [s.child!.proc.pid] : []));
  }

  clientPort(id: number): number {
    return this.slot(id).clientPort;
  }

  private checkFatal(): void {
    if (this.fatal !== undefined) throw new Error(`a node failed: ${this.fatal}`);
  }

  status(id: number): Promise<NodeStatusReply> {
    const child = this.slot(id).child;
    if (child === undefined) return Promise.reject(new Error(`node ${id} is not running`));
    return child.request<NodeStatusReply>({ op: 'status' });
  }

  /** Node `id`'s store append durations since the last call. */
  takeAppendTimes(id: number): Promise<AppendTimes> {
    const child = this.slot(id).child;
    if (child === undefined) return Promise.reject(new Error(`node ${id} is not running`));
    return child.request<AppendTimes>({ op: 'takeAppendTimes' });
  }

  /** Resolves when node `id` has applied `index`; rejects after `timeoutMs`. */
  waitApplied(id: number, index: number, timeoutMs = 120_000): Promise<WaitAppliedReply> {
    const child = this.slot(id).child;
    if (child === undefined) return Promise.reject(new Error(`node ${id} is not running`));
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`node ${id} did not apply index ${index} within ${timeoutMs} ms`)), timeoutMs);
    });
    return Promise.race([child.request<WaitAppliedReply>({ op: 'waitApplied', index }), timeout]).finally(() => clearTimeout(timer));
  }

  /** Waits for a running node that says it leads and returns its status. */
  async waitForLeader(timeoutMs = 20 * this.electionTimeoutMs): Promise<NodeStatusReply> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      this.checkFatal();
      const running = [...this.slots.values()].filter((s) => s.running);
      const statuses = await Promise.all(running.map((s) => this.status(s.id).catch(() => undefined)));
      const leaders = statuses.filter((s): s is NodeStatusReply => s?.role === 'leader');
      // Two nodes may briefly both think they lead (the old one has not heard of the new term).
      const leader = leaders.sort((a, b) => b.term - a.term)[0];
      if (leader !== undefined) return leader;
      if (performance.now() > deadline) throw new Error(`no leader within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  /** The first leader reported (by any node) other than `excluding`, in a term above `afterTerm`. */
  nextLeader(afterTerm: number, excluding: number, timeoutMs = 20 * this.electionTimeoutMs): Promise<LeaderEvent> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.leaderListeners.delete(listener);
        reject(new Error(`no new leader within ${timeoutMs} ms`));
      }, timeoutMs);
      const listener = (e: LeaderEvent): void => {
        if (e.leaderId === undefined || e.leaderId === excluding || e.term <= afterTerm) return;
        this.leaderListeners.delete(listener);
        clearTimeout(timer);
        resolve(e);
      };
      this.leaderListeners.add(listener);
    });
  }

  /** Waits until every running node applied the leader's commit index. */
  async waitConverged(): Promise<void> {
    const leader = await this.waitForLeader();
    const running = [...this.slots.values()].filter((s) => s.running);
    await Promise.all(running.map((s) => this.waitApplied(s.id, leader.commitIndex)));
  }

  /** Stops every node (cleanly when `clean`, so CPU profiles are written) and removes the folder. */
  async close(clean = false): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const children = [...this.slots.values()].map((s) => s.child).filter((c): c is Child<ToNode, FromNode> => c !== undefined);
    await Promise.all(children.map((c) => (clean ? c.exit() : c.kill())));
    fs.rmSync(this.dir, { recursive: true, force: true });
    liveDirs.delete(this.dir);
  }
}

/** The client process. */
export class BenchClient {
  private constructor(private readonly child: Child<ToClient, FromClient>) {}

  static async start(workloadModule: string): Promise<BenchClient> {
    let started!: () => void;
    const ready = new Promise<void>((r) => (started = r));
    const child = new Child<ToClient, FromClient>('client', path.join(here, 'client-main.ts'), [workloadModule], (m) => {
      if (m.kind === 'started') started();
    });
    await Promise.race([
      ready,
      child.exited.then(() => {
        throw new Error(`the client exited while starting: ${child.stderr.trim()}`);
      }),
    ]);
    return new BenchClient(child);
  }

  connect(port: number): Promise<void> {
    return this.child.request<null>({ op: 'connect', port }).then(() => undefined);
  }

  run(spec: ClientRunSpec): Promise<ClientRunResult> {
    return this.child.request<ClientRunResult>({ op: 'run', spec });
  }

  close(clean = false): Promise<void> {
    return clean ? this.child.exit() : this.child.kill();
  }
}
