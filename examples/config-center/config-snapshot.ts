/**
 * Reading a program's configuration: one get of its prefix, which returns every setting as of
 * one revision. That revision is what makes the read followable: a watch from it + 1 sees every
 * change after the read and nothing before it (config-follower.ts).
 */
import type { Etcd3 } from 'etcd3';
import { configPrefix } from './config-keys.js';

/** An app's settings as of one store revision. */
export interface ConfigSnapshot {
  /** The store revision the settings are true at. */
  readonly revision: number;
  /** Setting name (the key after `/config/<app>/`) -> value. */
  readonly settings: ReadonlyMap<string, string>;
}

/** Reads every setting of `app` (linearizably: no older than any write acknowledged before). */
export async function readConfig(etcd: Etcd3, app: string): Promise<ConfigSnapshot> {
  const prefix = configPrefix(app);
  const read = await etcd.getAll().prefix(prefix).exec();
  const settings = new Map<string, string>();
  for (const kv of read.kvs) settings.set(kv.key.toString().slice(prefix.length), kv.value.toString());
  return { revision: Number(read.header.revision), settings };
}
