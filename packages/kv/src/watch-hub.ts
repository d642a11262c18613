/**
 * The watch hub (etcd's watchableStore) on one member, fed by the store's committed writes.
 *
 * A watcher is in exactly one place: the synced set (it has every revision up to the store's
 * and is sent each new revision as it commits), the unsynced set (it is behind: a past start
 * revision, or it was a victim; catch-up reads history in batches of revisions, then it rejoins
 * the synced set), or the victim set (its consumer did not read; its undelivered responses wait
 * there). Writes never wait for watchers: a full queue moves the watcher aside.
 *
 * What a watcher gets: every event of its range from its start revision on, in revision order,
 * once each, all events of one revision in one response; a start revision below the compact
 * revision cancels it with the compact revision; progress notifications carry the revision it
 * has seen everything up to.
 */
import { AssertionError } from 'node:assert';
import { CompactedError, InvalidRequestError, StoreClosedError } from './errors.js';
import type { Change, MvccStore } from './mvcc-store.js';
import type { KeyValue } from './types.js';
import { compareBytes } from './bytes.js';
import { checkRangeRequest, rangeEndOf } from './validate.js';
import { VictimSet } from './victims.js';
import { DEFAULT_WATCHER_BUFFER, type WatchEvent, type WatchRequest, type WatchResponse, Watcher } from './watcher.js';
import { WatcherGroup } from './watcher-group.js';

export interface WatchHubOptions {
  /** Unread responses per watcher before it is moved aside (etcd: 128). */
  bufferSize?: number;
  /** Revisions read from history per catch-up step and sent in one response (etcd: 1000). */
  batchRevisions?: number;
  /** Unsynced watchers caught up per step (etcd: 512). */
  maxWatchersPerSync?: number;
  /** Period of progress notifications for watchers that asked for them (etcd: 10 minutes). */
  progressIntervalMs?: number;
}

export class WatchHub {
  private readonly synced = new WatcherGroup();
  private readonly unsynced = new WatcherGroup();
  private readonly victims = new VictimSet();
  private readonly byId = new Map<number, Watcher>();
  private readonly bufferSize: number;
  private readonly batchRevisions: number;
  private readonly maxWatchersPerSync: number;
  private readonly progressIntervalMs: number;
  private readonly unsubscribe: () => void;
  private readonly unsubscribeRestored: () => void;
  private progressTimer: NodeJS.Timeout | undefined;
  private scheduled: NodeJS.Immediate | undefined;
  private nextId = 1;
  private closed = false;

  constructor(
    private readonly store: MvccStore,
    options: WatchHubOptions = {},
  ) {
    this.bufferSize = options.bufferSize ?? DEFAULT_WATCHER_BUFFER;
    this.batchRevisions = options.batchRevisions ?? 1000;
    this.maxWatchersPerSync = options.maxWatchersPerSync ?? 512;
    this.progressIntervalMs = options.progressIntervalMs ?? 10 * 60 * 1000;
    this.unsubscribe = store.onChanges((rev, changes) => this.notify(rev, changes));
    this.unsubscribeRestored = store.onRestored(() => this.restored());
  }

  /** Watchers in each set (for metrics and tests). */
  get sizes(): { synced: number; unsynced: number; victims: number } {
    return { synced: this.synced.size, unsynced: this.unsynced.size, victims: this.victims.size };
  }

  /**
   * Starts a watch. Iterate the returned watcher for its responses; cancel with cancel(w.id) or
   * by leaving the loop.
   */
  watch(req: WatchRequest): Watcher {
    if (this.closed) throw new StoreClosedError();
    checkRangeRequest({ key: req.key, ...(req.rangeEnd === undefined ? {} : { rangeEnd: req.rangeEnd }) });
    const end = rangeEndOf(req.rangeEnd);
    if (end !== undefined && end.length > 0 && compareBytes(end, req.key) <= 0) {
      throw new InvalidRequestError('watch.rangeEnd', 'is not above the key: the range is empty');
    }
    // etcd takes a negative start revision too: it is below any compaction, so the watcher is
    // cancelled as compacted once it syncs.
    const start = req.startRevision ?? 0;
    if (!Number.isSafeInteger(start)) {
      throw new InvalidRequestError('watch.startRevision', `must be a safe integer, got ${String(start)}`);
    }
    const current = this.store.revision;
    const synced = start === 0 || start > current;
    const w = new Watcher(
      this.nextId++,
      Uint8Array.from(req.key),
      rangeEndOf(req.rangeEnd),
      synced ? Math.max(current + 1, start) : start,
      req.prevKv === true,
      { ...req.filters },
      req.progressNotify === true,
      this.bufferSize,
      () => this.drained(),
      (watcher) => this.cancel(watcher.id),
    );
    this.byId.set(w.id, w);
    if (synced) this.synced.add(w);
    else {
      this.unsynced.add(w);
      this.schedule();
    }
    if (w.progressNotify) this.startProgressTimer();
    return w;
  }

  /** Cancels a watch: its stream ends after the responses already queued. */
  cancel(watchId: number): boolean {
    const w = this.byId.get(watchId);
    if (w === undefined) return false;
    this.remove(w);
    w.close();
    return true;
  }

  /**
   * Sends a progress notification (no events, the store's revision) to a synced watcher that has
   * nothing held back; returns whether it was sent (etcd's RequestProgress).
   */
  requestProgress(watchId: number): boolean {
    const w = this.byId.get(watchId);
    if (w === undefined || !this.synced.has(w)) return false;
    return w.trySend(this.progressResponse(w));
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.unsubscribe();
    this.unsubscribeRestored();
    if (this.progressTimer !== undefined) clearInterval(this.progressTimer);
    if (this.scheduled !== undefined) clearImmediate(this.scheduled);
    for (const w of [...this.byId.values()]) this.cancel(w.id);
  }

  /**
   * The store's whole state was replaced (a snapshot installed): as etcd does on restore, every
   * synced watcher goes back to catch up from the new history.
   */
  private restored(): void {
    for (const w of [...this.synced]) {
      this.synced.delete(w);
      this.unsynced.add(w);
    }
    this.schedule();
  }

  /** A committed revision: synced watchers of its keys get it now. */
  private notify(rev: number, changes: readonly Change[]): void {
    if (this.synced.size === 0) return;
    const perWatcher = new Map<Watcher, WatchEvent[]>();
    for (const change of changes) {
      for (const w of this.synced.watchersOf(change.kv.key)) {
        let events = perWatcher.get(w);
        if (events === undefined) perWatcher.set(w, (events = []));
        events.push(this.event(w, change));
      }
    }
    for (const [w, events] of perWatcher) {
      if (w.minRev > rev) continue; // Started in the future (start revision above this one).
      if (w.minRev !== rev) {
        throw new AssertionError({ message: `watch hub: synced watcher ${w.id} owed revision ${w.minRev}, notified ${rev}` });
      }
      w.minRev = rev + 1;
      const kept = filterEvents(w, events);
      if (kept.length === 0) continue;
      const resp: WatchResponse = { watchId: w.id, revision: rev, events: kept, compactRevision: 0, canceled: false };
      if (!w.trySend(resp)) {
        this.synced.delete(w);
        this.victims.add(w, resp);
      }
    }
    // Synced watchers without events of this revision are owed the next one.
    for (const w of this.synced) if (w.minRev === rev) w.minRev = rev + 1;
  }

  private event(w: Watcher, change: Change): WatchEvent {
    const ev: WatchEvent = { type: change.tombstone ? 'delete' : 'put', kv: change.kv };
    if (w.prevKv) {
      const prev = this.prevKv(change.kv.key, change.kv.modRevision - 1);
      if (prev !== undefined) ev.prevKv = prev;
    }
    return ev;
  }

  /** The key's kv as of `rev` (etcd's watch server reads it the same way); none if compacted. */
  private prevKv(key: Uint8Array, rev: number): KeyValue | undefined {
    if (rev < 1) return undefined;
    try {
      return this.store.range({ key, revision: rev }).kvs[0];
    } catch (err) {
      if (err instanceof CompactedError) return undefined;
      throw err;
    }
  }

  private progressResponse(w: Watcher): WatchResponse {
    return { watchId: w.id, revision: this.store.revision, events: [], compactRevision: 0, canceled: false };
  }

  private remove(w: Watcher): void {
    this.byId.delete(w.id);
    this.synced.delete(w);
    this.unsynced.delete(w);
    this.victims.delete(w);
  }

  /** A consumer read a response: victims may fit now. */
  private drained(): void {
    if (this.victims.size > 0) this.schedule();
  }

  private schedule(): void {
    if (this.closed || this.scheduled !== undefined) return;
    this.scheduled = setImmediate(() => {
      this.scheduled = undefined;
      this.run();
    });
  }

  private run(): void {
    if (this.closed) return;
    try {
      this.catchUp();
    } catch (err) {
      // The store is closed while a snapshot replaces its file (it tells restored() when it is
      // back, which sends every watcher to catch up again) or for good: nothing to read now.
      if (err instanceof StoreClosedError) return;
      throw err;
    }
  }

  private catchUp(): void {
    const current = this.store.revision;
    for (const w of this.victims.retry()) {
      if (w.canceled) continue;
      if (w.minRev <= current) this.unsynced.add(w);
      else this.synced.add(w);
    }
    if (this.unsynced.size > 0) this.syncUnsynced();
    if (this.unsynced.size > 0) this.schedule();
  }

  /** One catch-up step: up to batchRevisions revisions from history for up to maxWatchersPerSync watchers. */
  private syncUnsynced(): void {
    const current = this.store.revision;
    const compacted = this.store.compactRevision;
    const { chosen, minRev } = this.unsynced.choose(this.maxWatchersPerSync);
    const from = Math.max(minRev, compacted, 1);
    const upTo = Math.min(current, from + this.batchRevisions - 1);
    const history = from <= upTo ? this.store.changesBetween(from, upTo) : [];
    for (const w of chosen) {
      if (w.minRev < compacted) {
        // As etcd: a watcher owed a compacted revision is cancelled with the compact revision.
        this.remove(w);
        // etcd's compact revision is -1 until the first compaction (only a negative start is below it).
        w.trySend({ watchId: w.id, revision: current, events: [], compactRevision: compacted > 0 ? compacted : -1, canceled: true });
        continue;
      }
      const events: WatchEvent[] = [];
      for (const { revision, changes } of history) {
        if (revision < w.minRev) continue;
        for (const change of changes) if (w.contains(change.kv.key)) events.push(this.event(w, change));
      }
      // What this step covered for w: everything up to upTo (or nothing if it starts later).
      const seenUpTo = Math.max(upTo, w.minRev - 1);
      w.minRev = seenUpTo + 1;
      const kept = filterEvents(w, events);
      this.unsynced.delete(w);
      if (kept.length > 0) {
        const resp: WatchResponse = { watchId: w.id, revision: seenUpTo, events: kept, compactRevision: 0, canceled: false };
        if (!w.trySend(resp)) {
          this.victims.add(w, resp);
          continue;
        }
      }
      if (w.minRev <= current) this.unsynced.add(w);
      else this.synced.add(w);
    }
  }

  private startProgressTimer(): void {
    if (this.progressTimer !== undefined) return;
    this.progressTimer = setInterval(() => {
      for (const w of this.synced) if (w.progressNotify && w.pending === 0) w.trySend(this.progressResponse(w));
    }, this.progressIntervalMs);
    this.progressTimer.unref();
  }
}

function filterEvents(w: Watcher, events: WatchEvent[]): WatchEvent[] {
  if (w.filters.noPut !== true && w.filters.noDelete !== true) return events;
  return events.filter((e) => (e.type === 'put' ? w.filters.noPut !== true : w.filters.noDelete !== true));
}
