/**
 * An informer as Kubernetes' reflector runs one: list the prefix, remember the list's revision
 * as the resourceVersion, then watch from resourceVersion + 1, so that every change after the
 * list arrives exactly once and none is missed. The local cache is the list with the watch's
 * events applied.
 *
 * When the connection drops, the informer watches again from its resourceVersion + 1. If that
 * revision has been compacted away meanwhile, etcd cancels the watch with its compact revision
 * (the Go client's "etcdserver: mvcc: required revision has been compacted", which
 * kube-apiserver turns into "too old resource version"): the history needed to catch up is gone,
 * so the informer lists again, replaces its cache, and watches from the new list's revision.
 */
import { CompactedError, type KvMember } from '@pontoon/kv';
import { decodeObject, type StoredObject } from './registry.js';

/** A change to the cache, as an informer's event handlers receive it. */
export interface InformerEvent<T> {
  readonly type: 'added' | 'modified' | 'deleted';
  readonly key: string;
  /** The object after the change; for a delete, the last one cached. */
  readonly object: T;
  readonly resourceVersion: number;
}

export interface InformerOptions<T> {
  /** Called for every change to the cache, from the watch and from a relist alike. */
  readonly onEvent?: (event: InformerEvent<T>) => void;
  /** Called before every list: `reason` is undefined for the first, the error for a relist. */
  readonly onList?: (reason: CompactedError | undefined) => void;
}

export class Informer<T> {
  private readonly objects = new Map<string, StoredObject<T>>();
  private revision = 0;
  private relists = 0;
  private connected = true;
  private stopped = false;
  private watchAbort: AbortController | undefined;
  private wakeWatch: (() => void) | undefined;
  private readonly progressListeners = new Set<() => void>();
  private loop: Promise<void> | undefined;

  /** An informer over every key under `prefix`, listing and watching through `member`. */
  constructor(
    private readonly member: KvMember,
    private readonly prefix: string,
    private readonly options: InformerOptions<T> = {},
  ) {}

  /** The cache: key -> object and its resourceVersion. */
  get cache(): ReadonlyMap<string, StoredObject<T>> {
    return this.objects;
  }

  /** The revision the cache is complete up to. */
  get resourceVersion(): number {
    return this.revision;
  }

  /** How many times the informer had to list again after its revision was compacted. */
  get relistCount(): number {
    return this.relists;
  }

  /** Lists, then keeps watching in the background until stop(). Resolves after the first list. */
  async start(): Promise<void> {
    await this.list(undefined);
    this.loop = this.watchLoop();
    // A failure of the loop surfaces in stop(); until then the informer simply stops updating.
    this.loop.catch(() => undefined);
  }

  /** What a dropped connection does: the watch ends; the informer waits for reconnect(). */
  disconnect(): void {
    this.connected = false;
    this.watchAbort?.abort(new Error('connection dropped'));
  }

  /** The connection is back: watch again from resourceVersion + 1. */
  reconnect(): void {
    this.connected = true;
    this.wakeWatch?.();
  }

  /** Resolves once the cache is complete up to `revision`; rejects after `timeoutMs`. */
  waitForResourceVersion(revision: number, timeoutMs: number): Promise<void> {
    if (this.revision >= revision) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (this.revision < revision) return;
        clearTimeout(timer);
        this.progressListeners.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        this.progressListeners.delete(check);
        reject(new Error(`informer at resourceVersion ${this.revision}, not ${revision}, after ${timeoutMs} ms`));
      }, timeoutMs);
      this.progressListeners.add(check);
    });
  }

  /** Stops watching; rejects if the watch loop had failed. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.watchAbort?.abort(new Error('informer stopped'));
    this.wakeWatch?.();
    await this.loop;
  }

  private async watchLoop(): Promise<void> {
    while (!this.stopped) {
      if (!this.connected) {
        await new Promise<void>((resolve) => (this.wakeWatch = resolve));
        this.wakeWatch = undefined;
        continue;
      }
      const compacted = await this.watchOnce();
      if (compacted !== undefined && !this.stopped) await this.list(compacted);
    }
  }

  /** Watches until the watch ends; returns the error if it was cancelled by compaction. */
  private async watchOnce(): Promise<CompactedError | undefined> {
    const abort = new AbortController();
    this.watchAbort = abort;
    const from = this.revision + 1;
    for await (const response of this.member.watch(this.prefix, { prefix: true, startRevision: from, signal: abort.signal })) {
      if (response.canceled) {
        // The Go client reports this response as ErrCompacted; so do we.
        return response.compactRevision > 0 ? new CompactedError(response.compactRevision, from) : undefined;
      }
      for (const event of response.events) {
        const key = Buffer.from(event.kv.key).toString();
        if (event.type === 'delete') {
          const last = this.objects.get(key);
          this.objects.delete(key);
          if (last !== undefined) this.emit({ type: 'deleted', key, object: last.object, resourceVersion: event.kv.modRevision });
        } else {
          const type = this.objects.has(key) ? 'modified' : 'added';
          const stored = { object: decodeObject<T>(event.kv.value), resourceVersion: event.kv.modRevision };
          this.objects.set(key, stored);
          this.emit({ type, key, ...stored });
        }
      }
      this.advance(response.revision);
    }
    return undefined;
  }

  /** Lists the prefix and replaces the cache with it, telling handlers what changed. */
  private async list(reason: CompactedError | undefined): Promise<void> {
    if (reason !== undefined) this.relists++;
    this.options.onList?.(reason);
    const listed = await this.member.get(this.prefix, { prefix: true });
    const seen = new Set<string>();
    for (const kv of listed.kvs) {
      const key = Buffer.from(kv.key).toString();
      seen.add(key);
      const before = this.objects.get(key);
      if (before?.resourceVersion === kv.modRevision) continue;
      const stored = { object: decodeObject<T>(kv.value), resourceVersion: kv.modRevision };
      this.objects.set(key, stored);
      this.emit({ type: before === undefined ? 'added' : 'modified', key, ...stored });
    }
    for (const [key, last] of this.objects) {
      if (seen.has(key)) continue;
      // Deleted while the informer could not see it: the exact revision of the delete is gone
      // with the compacted history, so the list's revision stands for it.
      this.objects.delete(key);
      this.emit({ type: 'deleted', key, object: last.object, resourceVersion: listed.header.revision });
    }
    this.advance(listed.header.revision);
  }

  private advance(revision: number): void {
    this.revision = revision;
    for (const listener of [...this.progressListeners]) listener();
  }

  private emit(event: InformerEvent<T>): void {
    this.options.onEvent?.(event);
  }
}
