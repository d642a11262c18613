/**
 * KvMembers as child processes (kv-member-process.ts under tsx), for tests that SIGKILL them:
 * one temporary folder with a data directory per member, a fixed TCP port per member on
 * 127.0.0.1 (the same across restarts), requests over the IPC channel. close() kills every
 * process and removes the folder; the children also exit when their parent does (their IPC
 * channel closes).
 */
import { type ChildProcess, fork } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DumpAnswer, OpenedReport, StatusAnswer } from './kv-member-process.js';

const program = fileURLToPath(new URL('./kv-member-process.ts', import.meta.url));
const packageDir = path.resolve(path.dirname(program), '../..');

/** The process died (or was not running) before it answered. */
export class MemberDownError extends Error {
  readonly code = 'ERR_MEMBER_DOWN';
  constructor(readonly memberId: number) {
    super(`member ${memberId} is not running or died before answering`);
  }
}

/** A request the member answered with an error (`code`: the error class's code). */
export class MemberRequestError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(`${code}: ${message}`);
  }
}

type Answer = Record<string, unknown> & { req: number; error?: string; message?: string };

/** One member: its address, its data directory, and the process running it if any. */
export class MemberProcess {
  child: ChildProcess | undefined;
  /** Resolves once the current process has exited. */
  exited: Promise<void> = Promise.resolve();
  /** Every `opened` report of every incarnation, in order. */
  readonly opened: OpenedReport[] = [];
  /** The tail of what the processes wrote to stderr. */
  stderr = '';
  /** Exits other than the test's own SIGKILLs (a member failing is a finding). */
  readonly unexpectedExits: string[] = [];
  private readonly pending = new Map<number, { resolve: (a: Answer) => void; reject: (e: Error) => void }>();
  private nextReq = 1;
  private killing = false;

  constructor(
    readonly id: number,
    readonly address: string,
    readonly dataDir: string,
  ) {}

  get alive(): boolean {
    return this.child !== undefined;
  }

  /** Starts the process; resolves with it once forked (use `started()` to wait for the member). */
  spawn(members: string, tickMs: number, onEvent: (m: MemberProcess, event: Record<string, unknown>) => void): void {
    if (this.child !== undefined) throw new Error(`member ${this.id} is already running`);
    const child = fork(program, [String(this.id), this.dataDir, members, String(tickMs)], {
      cwd: packageDir,
      execArgv: ['--import', 'tsx', '--conditions=@pontoon/source'],
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    this.child = child;
    this.killing = false;
    child.stderr!.on('data', (chunk: Buffer) => (this.stderr = (this.stderr + chunk.toString()).slice(-8192)));
    child.on('message', (msg: Answer | Record<string, unknown>) => {
      if (typeof msg.req === 'number') {
        const p = this.pending.get(msg.req);
        this.pending.delete(msg.req);
        p?.resolve(msg as Answer);
        return;
      }
      if (msg.event === 'opened') this.opened.push(msg as unknown as OpenedReport);
      onEvent(this, msg);
    });
    this.exited = new Promise((resolve) => {
      child.once('close', (code, signal) => {
        if (this.child === child) this.child = undefined;
        if (!(this.killing && signal === 'SIGKILL')) this.unexpectedExits.push(`member ${this.id} exited (code ${code}, signal ${signal})`);
        const pending = [...this.pending.values()];
        this.pending.clear();
        for (const p of pending) p.reject(new MemberDownError(this.id));
        resolve();
      });
    });
  }

  /** SIGKILL: no chance to flush, close or answer. Resolves once the process is gone. */
  async kill(): Promise<void> {
    if (this.child === undefined) return;
    this.killing = true;
    this.child.kill('SIGKILL');
    await this.exited;
  }

  /** Sends a request; rejects with MemberDownError or MemberRequestError. */
  async request<T>(message: Record<string, unknown>): Promise<T> {
    const child = this.child;
    if (child === undefined || !child.connected) throw new MemberDownError(this.id);
    const req = this.nextReq++;
    const answer = await new Promise<Answer>((resolve, reject) => {
      this.pending.set(req, { resolve, reject });
      child.send({ ...message, req }, (err) => {
        if (err !== null && this.pending.delete(req)) reject(new MemberDownError(this.id));
      });
    });
    if (answer.error !== undefined) throw new MemberRequestError(answer.error, String(answer.message));
    return answer as unknown as T;
  }

  status(): Promise<StatusAnswer> {
    return this.request<StatusAnswer>({ op: 'status' });
  }

  put(key: string, value: string): Promise<{ revision: number }> {
    return this.request({ op: 'put', key, value });
  }

  hashKV(revision: number): Promise<number> {
    return this.request<{ hash: number }>({ op: 'hashKV', revision }).then((a) => a.hash);
  }

  dump(): Promise<DumpAnswer> {
    return this.request<DumpAnswer>({ op: 'dump' });
  }
}

/** A port on 127.0.0.1 free now, below Linux's ephemeral range, so no outgoing connection takes it while its member is down. */
async function freePort(taken: Set<number>): Promise<number> {
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    if (taken.has(port)) continue;
    const free = await new Promise<boolean>((resolve) => {
      const server = net.createServer();
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
    });
    if (free) return port;
  }
}

export class KvProcessCluster {
  readonly members = new Map<number, MemberProcess>();
  private readonly listeners = new Set<(m: MemberProcess, event: Record<string, unknown>) => void>();
  private readonly onExit = (): void => {
    for (const m of this.members.values()) m.child?.kill('SIGKILL');
  };

  private constructor(
    readonly dir: string,
    readonly tickMs: number,
  ) {
    process.once('exit', this.onExit);
  }

  /** Creates `size` members (not started). */
  static async create(size: number, tickMs: number): Promise<KvProcessCluster> {
    const cluster = new KvProcessCluster(fs.mkdtempSync(path.join(os.tmpdir(), 'kv-sigkill-')), tickMs);
    const ports = new Set<number>();
    for (let id = 1; id <= size; id++) {
      const port = await freePort(ports);
      ports.add(port);
      cluster.members.set(id, new MemberProcess(id, `127.0.0.1:${port}`, path.join(cluster.dir, `m${id}`)));
    }
    return cluster;
  }

  member(id: number): MemberProcess {
    const m = this.members.get(id);
    if (m === undefined) throw new Error(`no member ${id}`);
    return m;
  }

  /** Forks member `id` over its data directory; resolves once it reports `until`. */
  async start(id: number, until: 'opened' | 'started' = 'started'): Promise<void> {
    const m = this.member(id);
    const members = [...this.members.values()].map((x) => `${x.id}=${x.address}`).join(',');
    m.spawn(members, this.tickMs, (from, event) => {
      for (const l of [...this.listeners]) l(from, event);
    });
    const exited = m.exited;
    await new Promise<void>((resolve, reject) => {
      const listener = (from: MemberProcess, event: Record<string, unknown>): void => {
        if (from !== m || event.event !== until) return;
        this.listeners.delete(listener);
        resolve();
      };
      this.listeners.add(listener);
      void exited.then(() => {
        if (this.listeners.delete(listener)) reject(new Error(`member ${id} exited before '${until}': ${m.stderr}`));
      });
    });
  }

  /** The statuses of the running members that answer. */
  async statuses(): Promise<Array<StatusAnswer & { id: number }>> {
    const all = await Promise.all(
      [...this.members.values()].filter((m) => m.alive).map((m) => m.status().then((s) => ({ ...s, id: m.id }), () => undefined)),
    );
    return all.filter((s) => s !== undefined);
  }

  /** The leader all running members agree on, once there is one. */
  async waitForLeader(timeoutMs = 60_000): Promise<number> {
    let leader: number | undefined;
    await waitUntil(
      'a leader',
      async () => {
        const s = await this.statuses();
        const l = s.find((x) => x.role === 'leader');
        leader = l !== undefined && s.every((x) => x.leaderId === l.id) ? l.id : undefined;
        return leader !== undefined;
      },
      timeoutMs,
    );
    return leader!;
  }

  /** Kills every process and removes the folder. */
  async close(): Promise<void> {
    await Promise.all([...this.members.values()].map((m) => m.kill()));
    process.off('exit', this.onExit);
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Polls `cond` every 25 ms until it holds; rejects after `timeoutMs`, naming `what`. */
export async function waitUntil(what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await cond())) {
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
