/**
 * A set of watchers (etcd's watcherGroup), used for the synced set (watchers that have every
 * revision up to the store's and get new ones as they are applied) and the unsynced set
 * (watchers behind the store, caught up from history).
 */
import type { Watcher } from './watcher.js';

export class WatcherGroup {
  private readonly watchers = new Set<Watcher>();

  add(w: Watcher): void {
    this.watchers.add(w);
  }

  delete(w: Watcher): boolean {
    return this.watchers.delete(w);
  }

  has(w: Watcher): boolean {
    return this.watchers.has(w);
  }

  get size(): number {
    return this.watchers.size;
  }

  /** The watchers whose range contains `key`. */
  watchersOf(key: Uint8Array): Watcher[] {
    const out: Watcher[] = [];
    for (const w of this.watchers) if (w.contains(key)) out.push(w);
    return out;
  }

  /**
   * Up to `max` watchers to catch up, and the lowest revision any of them needs (etcd's choose).
   * Watchers whose next revision is compacted are returned too: the caller cancels them.
   */
  choose(max: number): { chosen: Watcher[]; minRev: number } {
    const chosen: Watcher[] = [];
    let minRev = Number.MAX_SAFE_INTEGER;
    for (const w of this.watchers) {
      if (chosen.length >= max) break;
      chosen.push(w);
      minRev = Math.min(minRev, w.minRev);
    }
    return { chosen, minRev };
  }

  [Symbol.iterator](): IterableIterator<Watcher> {
    return this.watchers.values();
  }
}
