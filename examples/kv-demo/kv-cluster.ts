/**
 * pontoon-kv members as child processes, started the way an operator starts etcd: the
 * `pontoon-kv` command with etcd's flags, a data directory each in one temporary folder, ports
 * picked free on 127.0.0.1. A member is up once it logs etcd's "ready to serve client requests".
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { freePort } from 'pontoon-kv/testing';

/** The command the workspace install puts in this package's `node_modules/.bin`. */
const PONTOON_KV = path.join(path.dirname(fileURLToPath(import.meta.url)), 'node_modules', '.bin', 'pontoon-kv');

/** How long a member may take to start: generous, since a loaded machine compiles TypeScript slowly. */
const READY_TIMEOUT_MS = 120_000;
/** After SIGTERM, how long a member may take to stop before it gets SIGKILL. */
const STOP_GRACE_MS = 5_000;
/** Lines of a member's log kept for the error message when it fails. */
const LOG_LINES_KEPT = 40;

export interface ClusterOptions {
  /** Member names, one process each. */
  readonly names: readonly string[];
  /** etcd's `--initial-cluster-token`. */
  readonly token: string;
  /** Flags every member gets (`--heartbeat-interval=...`). */
  readonly extraFlags: readonly string[];
  /** Prefix of the temporary folder's name. */
  readonly folderPrefix: string;
}

/** One member: its addresses, its flags and, while it runs, its process. */
export class Member {
  process: ChildProcess | undefined;
  /** Set once it logged its readiness; cleared when it stops. */
  ready = false;
  private logTail: string[] = [];

  constructor(
    readonly name: string,
    /** `http://127.0.0.1:port`, as etcd's flags take it. */
    readonly clientUrl: string,
    readonly peerUrl: string,
    readonly dataDir: string,
    readonly flags: readonly string[],
  ) {}

  /** `127.0.0.1:port`: the form clients dial. */
  get endpoint(): string {
    return new URL(this.clientUrl).host;
  }

  get alive(): boolean {
    return this.process !== undefined && this.process.exitCode === null && this.process.signalCode === null;
  }

  get pid(): number | undefined {
    return this.process?.pid;
  }

  /** The last lines it logged (etcd's log goes to stderr). */
  log(): string {
    return this.logTail.join('\n');
  }

  /** Starts the process and resolves once the member is ready to serve clients. */
  async start(cwd: string): Promise<void> {
    const child = spawn(PONTOON_KV, [...this.flags], { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
    this.process = child;
    this.ready = false;
    this.logTail = [];
    let partial = '';
    child.stderr!.setEncoding('utf8');
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`${this.name} was not ready after ${READY_TIMEOUT_MS / 1000} s:\n${this.log()}`));
      }, READY_TIMEOUT_MS);
      child.stderr!.on('data', (chunk: string) => {
        const lines = (partial + chunk).split('\n');
        partial = lines.pop()!;
        this.logTail.push(...lines);
        this.logTail.splice(0, Math.max(0, this.logTail.length - LOG_LINES_KEPT));
        if (lines.some((l) => l.includes('ready to serve client requests'))) {
          this.ready = true;
          clearTimeout(timer);
          resolve();
        }
      });
      child.once('exit', (code, signal) => {
        this.ready = false;
        clearTimeout(timer);
        reject(new Error(`${this.name} exited (${signal ?? code}) before it was ready:\n${this.log()}`));
      });
    });
  }

  /** Sends `signal` and resolves when the process has exited; escalates to SIGKILL after a grace period. */
  async stop(signal: NodeJS.Signals): Promise<void> {
    const child = this.process;
    if (child === undefined || !this.alive) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill(signal);
    const grace = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
    await exited;
    clearTimeout(grace);
  }
}

/** Members started together as one cluster, all data in one temporary folder. */
export class KvCluster {
  readonly members: Member[] = [];
  private constructor(
    readonly dir: string,
    private readonly token: string,
    private readonly extraFlags: readonly string[],
  ) {}

  /**
   * Starts every member at once (a member of a new cluster is ready only once a leader is
   * elected, which takes a majority). `onCreated` hears of the cluster before its members
   * start, so that whoever must clean up (and remove the folder) has it whatever happens next.
   */
  static async start(options: ClusterOptions, onCreated: (cluster: KvCluster) => void): Promise<KvCluster> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), options.folderPrefix));
    const cluster = new KvCluster(dir, options.token, options.extraFlags);
    try {
      const addresses = [];
      for (const name of options.names) {
        addresses.push({ name, client: `http://127.0.0.1:${await freePort()}`, peer: `http://127.0.0.1:${await freePort()}` });
      }
      const initialCluster = addresses.map((a) => `${a.name}=${a.peer}`).join(',');
      for (const a of addresses) cluster.members.push(cluster.member(a.name, a.client, a.peer, initialCluster));
    } catch (err) {
      fs.rmSync(dir, { recursive: true, force: true });
      throw err;
    }
    onCreated(cluster);
    await Promise.all(cluster.members.map((m) => m.start(dir)));
    return cluster;
  }

  /**
   * Restores a snapshot file into a new one-member cluster (etcdctl's `snapshot restore`
   * flags, run by `pontoon-kv snapshot restore`) and starts that member with the same flags.
   */
  async restore(snapshotFile: string, name: string): Promise<Member> {
    const client = `http://127.0.0.1:${await freePort()}`;
    const peer = `http://127.0.0.1:${await freePort()}`;
    const member = this.member(name, client, peer, `${name}=${peer}`, `${this.token}-restored`);
    await promisify(execFile)(
      PONTOON_KV,
      [
        'snapshot',
        'restore',
        snapshotFile,
        `--name=${name}`,
        `--data-dir=${member.dataDir}`,
        `--initial-cluster=${name}=${peer}`,
        `--initial-cluster-token=${this.token}-restored`,
        `--initial-advertise-peer-urls=${peer}`,
      ],
      { cwd: this.dir },
    );
    this.members.push(member);
    await member.start(this.dir);
    return member;
  }

  /** Stops every member (SIGTERM, SIGKILL past a grace period) and removes the folder. */
  async close(): Promise<void> {
    await Promise.all(this.members.map((m) => m.stop('SIGTERM')));
    fs.rmSync(this.dir, { recursive: true, force: true });
  }

  private member(name: string, client: string, peer: string, initialCluster: string, token = this.token): Member {
    const dataDir = path.join(this.dir, `${name}.etcd`);
    return new Member(name, client, peer, dataDir, [
      `--name=${name}`,
      `--data-dir=${dataDir}`,
      `--listen-client-urls=${client}`,
      `--advertise-client-urls=${client}`,
      `--listen-peer-urls=${peer}`,
      `--initial-advertise-peer-urls=${peer}`,
      `--initial-cluster=${initialCluster}`,
      `--initial-cluster-token=${token}`,
      ...this.extraFlags,
    ]);
  }
}
