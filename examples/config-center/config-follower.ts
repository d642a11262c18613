/**
 * Following a program's configuration after it read it: a watch of the prefix from the read's
 * revision + 1, so that a change made between the read and the watch's start is delivered, not
 * lost (a watch from "now" would miss it, and the program would run on a stale setting until
 * the next change). Changes are delivered one revision at a time: a transaction that changed
 * several settings is one update, so the program never runs on half of it.
 */
import type { Etcd3, IWatchResponse, Watcher } from 'etcd3';
import { configPrefix } from './config-keys.js';
import { type ConfigSnapshot, readConfig } from './config-snapshot.js';

/** The settings after one revision, and what that revision changed. */
export interface ConfigUpdate extends ConfigSnapshot {
  /** Setting -> its new value, or undefined where the revision deleted it. */
  readonly changed: ReadonlyMap<string, string | undefined>;
  /**
   * `watch`: the changes of one revision, as the watch delivered them. `reread`: the watch could
   * not go on (its history was compacted away), so the settings were read again and `changed`
   * is the difference, possibly of several revisions.
   */
  readonly source: 'watch' | 'reread';
}

/** Options of followConfig. */
export interface FollowOptions {
  /** Called once per revision that changed a setting, in revision order. */
  readonly onUpdate: (update: ConfigUpdate) => void;
  /** A watch or read failed; it is retried. For logging. */
  readonly onError?: (err: unknown) => void;
}

/** A running follower. */
export interface ConfigFollower {
  /** The settings as of the last update delivered (or the snapshot, before any). */
  current(): ConfigSnapshot;
  /** Stops following. No update is delivered after it resolves. */
  close(): Promise<void>;
}

const RETRY_MS = 500;

/**
 * Follows `app`'s settings from `snapshot` (a readConfig result) on: every change after the
 * snapshot's revision reaches `onUpdate`, once, in order, a revision at a time.
 */
export function followConfig(etcd: Etcd3, app: string, snapshot: ConfigSnapshot, options: FollowOptions): ConfigFollower {
  const prefix = configPrefix(app);
  let settings = new Map(snapshot.settings);
  /** Every change up to this revision is in `settings`. */
  let revision = snapshot.revision;
  let watcher: Watcher | undefined;
  let closed = false;

  const watchFrom = (startRevision: number): void => {
    const current = etcd.watch().prefix(prefix).startRevision(String(startRevision)).watcher();
    watcher = current;
    current.on('data', (response) => apply(response));
    // etcd3 re-attaches a broken watch by itself, but from the revision after its creation
    // answer's header, which is past events still in flight when the stream broke: resume from
    // what was applied instead.
    current.on('disconnected', () => void replace(current, () => watchFrom(revision + 1)));
    // Cancelled: the start revision was compacted away (a program that read long before it
    // watched, or was cut off for long). The missed events are gone; a new read is the truth.
    current.on('error', (err) => {
      options.onError?.(cancelled(prefix, startRevision, err));
      void replace(current, reread, { alreadyCancelled: true });
    });
  };

  /**
   * Drops `stale` (if it is still the current watch) and runs `next` until it succeeds. A watch
   * the server cancelled is already gone from etcd3's books: cancelling it again would wait for
   * an answer that never comes.
   */
  const replace = async (stale: Watcher, next: () => void | Promise<void>, how = { alreadyCancelled: false }): Promise<void> => {
    if (watcher !== stale || closed) return;
    watcher = undefined;
    if (!how.alreadyCancelled) await stale.cancel();
    while (!closed) {
      try {
        await next();
        return;
      } catch (err) {
        options.onError?.(err);
        await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
      }
    }
  };

  const reread = async (): Promise<void> => {
    const fresh = await readConfig(etcd, app);
    if (closed) return;
    const changed = new Map<string, string | undefined>();
    for (const [setting, value] of fresh.settings) if (settings.get(setting) !== value) changed.set(setting, value);
    for (const setting of settings.keys()) if (!fresh.settings.has(setting)) changed.set(setting, undefined);
    settings = new Map(fresh.settings);
    revision = fresh.revision;
    if (changed.size > 0) deliver(changed, 'reread');
    watchFrom(revision + 1);
  };

  const apply = (response: IWatchResponse): void => {
    if (closed) return;
    if (response.events.length === 0) {
      // A progress notification: etcd sends one only to a watcher that has every event up to
      // the header's revision.
      revision = Math.max(revision, Number(response.header.revision));
      return;
    }
    // etcd never splits a revision's events across responses; a response may hold several.
    let changed = new Map<string, string | undefined>();
    for (const event of response.events) {
      const eventRevision = Number(event.kv.mod_revision);
      if (eventRevision !== revision && changed.size > 0) {
        deliver(changed, 'watch');
        changed = new Map();
      }
      const setting = event.kv.key.toString().slice(prefix.length);
      const value = event.type === 'Put' ? event.kv.value.toString() : undefined;
      if (value === undefined) settings.delete(setting);
      else settings.set(setting, value);
      changed.set(setting, value);
      revision = eventRevision;
    }
    deliver(changed, 'watch');
  };

  const deliver = (changed: ReadonlyMap<string, string | undefined>, source: ConfigUpdate['source']): void => {
    options.onUpdate({ revision, settings: new Map(settings), changed, source });
  };

  watchFrom(revision + 1);
  return {
    current: () => ({ revision, settings: new Map(settings) }),
    async close() {
      closed = true;
      const last = watcher;
      watcher = undefined;
      await last?.cancel();
    },
  };
}

/**
 * What a program does at start: reads its settings and follows them. Resolves with the first
 * snapshot (to configure itself from) and the follower delivering every change after it.
 */
export async function openConfig(
  etcd: Etcd3,
  app: string,
  options: FollowOptions,
): Promise<{ snapshot: ConfigSnapshot; follower: ConfigFollower }> {
  const snapshot = await readConfig(etcd, app);
  return { snapshot, follower: followConfig(etcd, app, snapshot, options) };
}

/** What etcd3's "Watcher canceled: <reason>" means here (etcd 3.4 gives no reason for compaction). */
function cancelled(prefix: string, startRevision: number, err: Error): Error {
  const reason = err.message.replace(/^Watcher canceled:\s*/, '') || 'no reason given, as for a compacted start revision';
  return new Error(`the watch of ${prefix} from revision ${startRevision} was cancelled (${reason}): reading again`, { cause: err });
}
