/**
 * The victim set (etcd's watchableStore.victims): watchers whose consumer fell behind, with the
 * responses they could not take. They leave the synced set so that a slow consumer never holds
 * up the store or the other watchers; once their queue has room again the held responses are
 * delivered, in order, and the watcher goes back to the unsynced set (to catch up from history)
 * or, if nothing happened meanwhile, straight to the synced set.
 */
import type { Watcher, WatchResponse } from './watcher.js';

export class VictimSet {
  private readonly held = new Map<Watcher, WatchResponse[]>();

  /** Holds `resp` for `w` (after the responses already held). */
  add(w: Watcher, resp: WatchResponse): void {
    w.victim = true;
    const list = this.held.get(w);
    if (list === undefined) this.held.set(w, [resp]);
    else list.push(resp);
  }

  delete(w: Watcher): void {
    this.held.delete(w);
    w.victim = false;
  }

  get size(): number {
    return this.held.size;
  }

  /**
   * Delivers what fits; returns the watchers whose held responses are all delivered (no longer
   * victims), for the caller to put back in a set.
   */
  retry(): Watcher[] {
    const freed: Watcher[] = [];
    for (const [w, list] of this.held) {
      while (list.length > 0 && w.trySend(list[0]!)) list.shift();
      if (list.length === 0) {
        this.held.delete(w);
        w.victim = false;
        freed.push(w);
      }
    }
    return freed;
  }
}
