/**
 * Discovery: the instances registered under a prefix, kept current. A get of the prefix gives
 * the instances and the revision they are true at; a watch from that revision + 1 then gives
 * every change after it, so nothing that happens between the get and the watch is missed. This
 * is what etcd's gRPC naming resolver for Go does, and what Kubernetes' informers do.
 */
import type { Etcd3, IWatchResponse, Watcher } from 'etcd3';
import { decodeEndpoint } from './registry-keys.js';

/** The registered instances at one revision. */
export interface DiscoveryUpdate {
  /** The store revision this view is true at. */
  readonly revision: number;
  /** Instance key -> the address to dial. */
  readonly instances: ReadonlyMap<string, string>;
}

/** Options of ServiceDiscovery.start. */
export interface DiscoveryOptions {
  /** Called with the whole view after the first read and after every change. */
  readonly onUpdate: (update: DiscoveryUpdate) => void;
  /** A read or watch failed; it is retried. For logging. */
  readonly onError?: (err: unknown) => void;
}

const RETRY_MS = 500;

/** Follows the instances under one key prefix. Start it with `ServiceDiscovery.start`. */
export class ServiceDiscovery {
  readonly #etcd: Etcd3;
  readonly #prefix: string;
  readonly #options: DiscoveryOptions;
  readonly #instances = new Map<string, string>();
  /** Every change up to this revision is in #instances. */
  #revision = 0;
  #watcher: Watcher | undefined;
  #closed = false;

  private constructor(etcd: Etcd3, prefix: string, options: DiscoveryOptions) {
    this.#etcd = etcd;
    this.#prefix = prefix;
    this.#options = options;
  }

  /**
   * Reads the instances under `prefix` (`/services/echo/`) and follows them. Resolves after the
   * first read, once `onUpdate` has had the first view; rejects if that read fails.
   */
  static async start(etcd: Etcd3, prefix: string, options: DiscoveryOptions): Promise<ServiceDiscovery> {
    const discovery = new ServiceDiscovery(etcd, prefix, options);
    await discovery.#list();
    return discovery;
  }

  /** The view as of the last update. */
  current(): DiscoveryUpdate {
    return { revision: this.#revision, instances: new Map(this.#instances) };
  }

  /** Stops following. No update is delivered after it resolves. */
  async close(): Promise<void> {
    this.#closed = true;
    const watcher = this.#watcher;
    this.#watcher = undefined;
    await watcher?.cancel();
  }

  /** Replaces the view with a fresh read of the prefix, then watches from just after it. */
  async #list(): Promise<void> {
    const read = await this.#etcd.getAll().prefix(this.#prefix).exec();
    if (this.#closed) return;
    this.#instances.clear();
    for (const kv of read.kvs) this.#put(kv.key.toString(), kv.value.toString());
    this.#revision = Number(read.header.revision);
    this.#options.onUpdate(this.current());
    this.#watchFrom(this.#revision + 1);
  }

  #watchFrom(startRevision: number): void {
    const watcher = this.#etcd.watch().prefix(this.#prefix).startRevision(String(startRevision)).watcher();
    this.#watcher = watcher;
    watcher.on('data', (response) => this.#apply(response));
    // etcd3 would re-attach the watch by itself, but from the revision after the header of its
    // creation answer, which is past events still in flight when the stream broke: resume from
    // what was applied instead.
    watcher.on('disconnected', () => void this.#replace(watcher, () => this.#watchFrom(this.#revision + 1)));
    // A watch is cancelled when its start revision has been compacted away (the events to catch
    // up on are gone): only a new read can tell what changed, then a watch from after it.
    watcher.on('error', (err) => {
      this.#options.onError?.(cancelled(this.#prefix, startRevision, err));
      void this.#replace(watcher, () => this.#list(), { alreadyCancelled: true });
    });
  }

  /**
   * Drops `watcher` (if it is still the current one) and runs `next` until it succeeds. A watch
   * the server cancelled is already gone from etcd3's books: cancelling it again would wait for
   * an answer that never comes.
   */
  async #replace(watcher: Watcher, next: () => void | Promise<void>, how = { alreadyCancelled: false }): Promise<void> {
    if (this.#watcher !== watcher || this.#closed) return;
    this.#watcher = undefined;
    if (!how.alreadyCancelled) await watcher.cancel();
    while (!this.#closed) {
      try {
        await next();
        return;
      } catch (err) {
        this.#options.onError?.(err);
        await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
      }
    }
  }

  #apply(response: IWatchResponse): void {
    if (this.#closed) return;
    if (response.events.length === 0) {
      // A progress notification: etcd sends one only to a watcher that has every event up to
      // the header's revision, so the view is true at that revision.
      this.#revision = Math.max(this.#revision, Number(response.header.revision));
      return;
    }
    for (const event of response.events) {
      const key = event.kv.key.toString();
      if (event.type === 'Put') this.#put(key, event.kv.value.toString());
      else this.#instances.delete(key);
      this.#revision = Number(event.kv.mod_revision);
    }
    // etcd never splits one revision's events across responses, so the view is whole here.
    this.#options.onUpdate(this.current());
  }

  #put(key: string, value: string): void {
    const address = decodeEndpoint(value);
    if (address === undefined) this.#instances.delete(key);
    else this.#instances.set(key, address);
  }
}

/** What etcd3's "Watcher canceled: <reason>" means here (etcd 3.4 gives no reason for compaction). */
function cancelled(prefix: string, startRevision: number, err: Error): Error {
  const reason = err.message.replace(/^Watcher canceled:\s*/, '') || 'no reason given, as for a compacted start revision';
  return new Error(`the watch of ${prefix} from revision ${startRevision} was cancelled (${reason}): reading again`, { cause: err });
}
