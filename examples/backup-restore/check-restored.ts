/**
 * What a restore must give back: every put acknowledged before the save started, with its
 * value; and nothing that was never written (a put acknowledged after the save started, or in
 * flight, may or may not be in the snapshot).
 */
import type { Etcd3 } from 'etcd3';
import { LOAD_PREFIX } from './write-load.js';

export interface RestoreCheck {
  /** Keys of the load found in the restored cluster. */
  readonly restoredKeys: number;
  /** Acknowledged before the save, absent after the restore (must be empty). */
  readonly missing: readonly string[];
  /** Acknowledged before the save, restored with another value (must be empty). */
  readonly changed: readonly string[];
  /** Restored with a value that was never sent for that key (must be empty). */
  readonly unknown: readonly string[];
}

/** Reads the load's keys from the restored cluster through `client` and compares them. */
export async function checkRestored(client: Etcd3, ackedBeforeSave: ReadonlyMap<string, string>, sent: ReadonlyMap<string, string>): Promise<RestoreCheck> {
  const restored = new Map(Object.entries(await client.getAll().prefix(LOAD_PREFIX).strings()));
  const missing: string[] = [];
  const changed: string[] = [];
  for (const [key, value] of ackedBeforeSave) {
    const found = restored.get(key);
    if (found === undefined) missing.push(key);
    else if (found !== value) changed.push(key);
  }
  const unknown = [...restored].filter(([key, value]) => sent.get(key) !== value).map(([key]) => key);
  return { restoredKeys: restored.size, missing, changed, unknown };
}
