/**
 * A cluster of RaftNodes on a MemoryNetwork, with MemoryLogStores and a small key-value state
 * machine, for the node tests. Real timers with 5 ms ticks.
 */
import { MemoryLogStore, MemoryNetwork, RaftNode } from '../../src/index.js';
import type { Entry, MemoryTransport, RaftNodeOptions, StateMachine } from '../../src/index.js';

const enc = new TextEncoder();
const dec = new TextDecoder();

/** `set key value`, answered with the previous value. */
export function set(key: string, value: string): Uint8Array {
  return enc.encode(JSON.stringify({ key, value }));
}

export class KvStateMachine implements StateMachine<string | null> {
  data = new Map<string, string>();
  appliedIndexes: number[] = [];
  restoredSnapshots = 0;
  apply(e: Readonly<Entry>): string | null {
    const { key, value } = JSON.parse(dec.decode(e.data)) as { key: string; value: string };
    const prev = this.data.get(key) ?? null;
    this.data.set(key, value);
    this.appliedIndexes.push(e.index);
    return prev;
  }
  snapshot(): Uint8Array {
    return enc.encode(JSON.stringify([...this.data]));
  }
  restore(data: Uint8Array): void {
    this.restoredSnapshots++;
    this.data = new Map(JSON.parse(dec.decode(data)) as Array<[string, string]>);
  }
}

export type TestNode = RaftNode<KvStateMachine>;
type Extra = Partial<Omit<RaftNodeOptions<KvStateMachine>, 'id' | 'logStore' | 'transport' | 'stateMachine'>>;

export const fastTiming = { tickMs: 5, electionTicks: 10, heartbeatTicks: 1 } as const;

export class TestCluster {
  readonly network = new MemoryNetwork();
  readonly nodes = new Map<number, TestNode>();
  readonly stores = new Map<number, MemoryLogStore>();
  readonly transports = new Map<number, MemoryTransport>();
  readonly sms = new Map<number, KvStateMachine>();
  readonly members: Array<{ id: number; address: string }>;

  constructor(ids: number[], readonly extra: Extra = {}) {
    this.members = ids.map((id) => ({ id, address: `mem://${id}` }));
  }

  /** Starts every initial member. */
  startAll(): this {
    for (const m of this.members) this.start(m.id);
    return this;
  }

  /** Starts (or restarts, over its existing store) node `id`. */
  start(id: number, extra: Extra = {}): TestNode {
    let store = this.stores.get(id);
    if (store === undefined) {
      store = new MemoryLogStore();
      this.stores.set(id, store);
    }
    const sm = new KvStateMachine();
    const transport = this.network.transport(id);
    const node: TestNode = new RaftNode({
      id,
      logStore: store,
      transport,
      stateMachine: sm,
      initialMembers: this.members,
      ...fastTiming,
      ...this.extra,
      ...extra,
    });
    this.nodes.set(id, node);
    this.sms.set(id, sm);
    this.transports.set(id, transport);
    return node;
  }

  node(id: number): TestNode {
    const n = this.nodes.get(id);
    if (n === undefined) throw new Error(`no node ${id}`);
    return n;
  }

  running(): TestNode[] {
    return [...this.nodes.values()].filter((n) => !n.isStopped);
  }

  /** Waits until the running nodes agree on one leader (among them), and returns it. */
  async leader(among: TestNode[] = this.running(), timeoutMs = 5000): Promise<TestNode> {
    return waitFor(
      () => {
        const leaders = among.filter((n) => n.isLeader);
        if (leaders.length !== 1) return undefined;
        const l = leaders[0]!;
        return among.every((n) => n.leaderId === l.id) ? l : undefined;
      },
      { timeoutMs, what: 'a leader' },
    );
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.nodes.values()].map((n) => n.stop()));
    this.network.clear();
  }
}

/** Polls `fn` every few ms until it returns something other than undefined/false. */
export async function waitFor<T>(
  fn: () => T | undefined | false,
  { timeoutMs = 5000, what = 'condition' }: { timeoutMs?: number; what?: string } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 3));
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
