/**
 * Service discovery as etcd's naming resolver does it: read the prefix once, then watch it from
 * the revision after that read, so that no registration or expiry between the read and the
 * watch is missed. The live set of instance addresses follows every put and delete.
 */
import type { Etcd3 } from 'etcd3';

export interface DiscoveryChange {
  readonly kind: 'joined' | 'left';
  readonly address: string;
  /** The revision of the put or delete. */
  readonly revision: number;
  readonly instances: readonly string[];
}

export class Discovery {
  /** Why the watch ended, if the cluster ended it (it then no longer follows the prefix). */
  ended: string | undefined;
  private readonly live = new Set<string>();

  private constructor(private readonly prefix: string) {}

  /** Reads `/services/<service>/` and watches it; `onChange` hears every change after the read. */
  static async start(client: Etcd3, service: string, onChange: (change: DiscoveryChange) => void): Promise<{ discovery: Discovery; revision: number }> {
    const prefix = `/services/${service}/`;
    const read = await client.getAll().prefix(prefix).exec();
    const discovery = new Discovery(prefix);
    for (const kv of read.kvs) discovery.live.add(discovery.addressOf(kv.key));
    const revision = Number(read.header.revision);
    const watcher = await client.watch().prefix(prefix).startRevision(String(revision + 1)).create();
    // A broken stream etcd3 reopens by itself, on any endpoint, from the revision after the last
    // one it saw. An error is the cluster cancelling the watch (its start revision compacted).
    watcher.on('error', (err) => (discovery.ended = err.message));
    watcher.on('put', (kv) => discovery.apply('joined', discovery.addressOf(kv.key), Number(kv.mod_revision), onChange));
    watcher.on('delete', (kv) => discovery.apply('left', discovery.addressOf(kv.key), Number(kv.mod_revision), onChange));
    return { discovery, revision };
  }

  /** The instances known now, sorted. */
  get instances(): string[] {
    return [...this.live].sort();
  }

  private addressOf(key: Buffer): string {
    return key.toString().slice(this.prefix.length);
  }

  private apply(kind: 'joined' | 'left', address: string, revision: number, onChange: (change: DiscoveryChange) => void): void {
    // A put of a key already there (a lease re-attached, a value changed) changes nothing here.
    if (kind === 'joined' ? this.live.has(address) : !this.live.has(address)) return;
    if (kind === 'joined') this.live.add(address);
    else this.live.delete(address);
    onChange({ kind, address, revision, instances: this.instances });
  }
}
