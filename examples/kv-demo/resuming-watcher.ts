/**
 * A watch on a key prefix that outlives the member it watches through. It talks to one member
 * at a time; when that member's stream breaks, it opens the watch on another member from the
 * revision after the last event it received. Revisions are the cluster's (every member
 * applies the same log), so the history it sees has no gap and nothing twice: it checks that
 * every event's revision is above the one before.
 *
 * etcd3's own watcher does the same on a client given several endpoints; this one does it in
 * the open, so that the demo can say where it resumed.
 */
import { Etcd3, type Watcher } from 'etcd3';

export interface WatchedMember {
  readonly name: string;
  /** `host:port`. */
  readonly endpoint: string;
}

export interface WatchedEvent {
  readonly kind: 'put' | 'delete';
  readonly key: string;
  readonly revision: number;
}

export interface Resumption {
  readonly from: string;
  readonly to: string;
  /** The revision of the last event received before the stream broke. */
  readonly lastRevision: number;
  /** The revision the watch was opened from on the new member. */
  readonly startRevision: number;
  readonly at: number;
}

/** How long a member gets to accept the watch before the next one is tried. */
const CONNECT_TIMEOUT_MS = 3_000;
const RETRY_PAUSE_MS = 200;

export class ResumingWatcher {
  readonly events: WatchedEvent[] = [];
  readonly resumptions: Resumption[] = [];
  /** Events that arrived out of revision order or twice; empty when all is well. */
  readonly problems: string[] = [];
  private client: Etcd3 | undefined;
  private watcher: Watcher | undefined;
  private current: WatchedMember;
  private stopped = false;
  private resuming = false;

  private constructor(
    private readonly members: readonly WatchedMember[],
    private readonly prefix: string,
    private readonly startRevision: number,
    first: WatchedMember,
    private readonly onResumed: (r: Resumption) => void,
  ) {
    this.current = first;
  }

  /** Watches `prefix` from `startRevision` through `first`; `members` are the ones to resume on. */
  static async start(options: {
    members: readonly WatchedMember[];
    first: WatchedMember;
    prefix: string;
    startRevision: number;
    onResumed: (r: Resumption) => void;
  }): Promise<ResumingWatcher> {
    const w = new ResumingWatcher(options.members, options.prefix, options.startRevision, options.first, options.onResumed);
    if (!(await w.open(options.first, options.startRevision))) throw new Error(`could not watch ${options.prefix} on ${options.first.name}`);
    return w;
  }

  /** The member it watches through now. */
  get member(): string {
    return this.current.name;
  }

  /** The revision of the last event received (the start revision minus one before any). */
  get lastRevision(): number {
    return this.events.at(-1)?.revision ?? this.startRevision - 1;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.close();
  }

  /** Opens the watch on `member` from `fromRevision`; false if the member did not accept it in time. */
  private async open(member: WatchedMember, fromRevision: number): Promise<boolean> {
    const client = new Etcd3({ hosts: [member.endpoint] });
    const builder = client.watch().prefix(this.prefix).startRevision(String(fromRevision));
    const watcher = builder.watcher();
    // Before it is created, a broken stream means this member cannot serve the watch now.
    const created = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), CONNECT_TIMEOUT_MS);
      watcher.once('connected', () => (clearTimeout(timer), resolve(true)));
      watcher.once('disconnected', () => (clearTimeout(timer), resolve(false)));
      watcher.once('error', () => (clearTimeout(timer), resolve(false)));
    });
    if (!created || this.stopped) {
      watcher.removeAllListeners();
      watcher.on('error', () => {});
      client.close();
      return false;
    }
    this.client = client;
    this.watcher = watcher;
    this.current = member;
    watcher.on('put', (kv) => this.received('put', kv.key.toString(), Number(kv.mod_revision)));
    watcher.on('delete', (kv) => this.received('delete', kv.key.toString(), Number(kv.mod_revision)));
    watcher.on('disconnected', () => void this.resume());
    watcher.on('error', () => void this.resume());
    return true;
  }

  private received(kind: 'put' | 'delete', key: string, revision: number): void {
    const last = this.events.at(-1);
    if (last !== undefined && revision <= last.revision) {
      // Writers here put one key per revision, so an event at or below the last revision is one
      // received twice or out of order.
      this.problems.push(`event ${kind} ${key} at revision ${revision} after revision ${last.revision} on ${this.current.name}`);
    }
    this.events.push({ kind, key, revision });
  }

  /** Stops listening on the broken member and opens the watch on the next that accepts it. */
  private async resume(): Promise<void> {
    if (this.resuming || this.stopped) return;
    this.resuming = true;
    const from = this.current;
    const lastRevision = this.lastRevision;
    this.close();
    const i = this.members.findIndex((m) => m.name === from.name);
    // The others in turn, the broken one last (it may come back).
    const order = [...this.members.slice(i + 1), ...this.members.slice(0, i), from];
    while (!this.stopped) {
      for (const m of order) {
        if (await this.open(m, lastRevision + 1)) {
          this.resuming = false;
          const resumption = { from: from.name, to: m.name, lastRevision, startRevision: lastRevision + 1, at: performance.now() };
          this.resumptions.push(resumption);
          this.onResumed(resumption);
          return;
        }
        if (this.stopped) return;
      }
      await new Promise((r) => setTimeout(r, RETRY_PAUSE_MS));
    }
  }

  private close(): void {
    const w = this.watcher;
    this.watcher = undefined;
    if (w !== undefined) {
      w.removeAllListeners();
      w.on('error', () => {});
    }
    this.client?.close();
    this.client = undefined;
  }
}
