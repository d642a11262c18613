/**
 * A linearizability model of etcd's KV for @pontoon/sim's checker, revisions included: one store
 * revision (+1 per write that changes something), and per key its value, create and mod
 * revisions and version. Puts, deletes, linearizable gets (their header revision too) and a
 * compare-and-swap txn (compare a key's value, or its absence, then put, else read it). The
 * revision couples every key, so histories are not partitioned by key.
 */
import type { Model } from '@pontoon/sim';

export interface KeyState {
  readonly value: string;
  readonly createRevision: number;
  readonly modRevision: number;
  readonly version: number;
}

export interface EtcdKvState {
  readonly revision: number;
  readonly keys: ReadonlyMap<string, KeyState>;
}

export type EtcdKvInput =
  | { readonly op: 'put'; readonly key: string; readonly value: string }
  | { readonly op: 'get'; readonly key: string }
  | { readonly op: 'delete'; readonly key: string }
  /** Txn: compare value(key) == expected (undefined: version(key) == 0), then put, else range. */
  | { readonly op: 'cas'; readonly key: string; readonly expected: string | undefined; readonly value: string };

export type EtcdKvOutput =
  | { readonly op: 'put'; readonly revision: number }
  | { readonly op: 'get'; readonly revision: number; readonly kv: KeyState | undefined }
  | { readonly op: 'delete'; readonly revision: number; readonly deleted: number }
  | { readonly op: 'cas'; readonly revision: number; readonly succeeded: boolean; readonly kv: KeyState | undefined };

function sameKv(a: KeyState | undefined, b: KeyState | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return a.value === b.value && a.createRevision === b.createRevision && a.modRevision === b.modRevision && a.version === b.version;
}

function put(state: EtcdKvState, key: string, value: string): EtcdKvState {
  const revision = state.revision + 1;
  const old = state.keys.get(key);
  const keys = new Map(state.keys);
  keys.set(key, { value, createRevision: old?.createRevision ?? revision, modRevision: revision, version: (old?.version ?? 0) + 1 });
  return { revision, keys };
}

export const etcdKvModel: Model<EtcdKvState, EtcdKvInput, EtcdKvOutput> = {
  name: 'etcd-kv',
  init: () => ({ revision: 1, keys: new Map() }),
  step(state, input, output) {
    if (output !== undefined && output.op !== input.op) return undefined;
    switch (input.op) {
      case 'put': {
        const next = put(state, input.key, input.value);
        return output === undefined || (output as { revision: number }).revision === next.revision ? next : undefined;
      }
      case 'get': {
        if (output === undefined) return state;
        const o = output as Extract<EtcdKvOutput, { op: 'get' }>;
        return o.revision === state.revision && sameKv(o.kv, state.keys.get(input.key)) ? state : undefined;
      }
      case 'delete': {
        const exists = state.keys.has(input.key);
        let next = state;
        if (exists) {
          const keys = new Map(state.keys);
          keys.delete(input.key);
          next = { revision: state.revision + 1, keys };
        }
        if (output === undefined) return next;
        const o = output as Extract<EtcdKvOutput, { op: 'delete' }>;
        return o.revision === next.revision && o.deleted === (exists ? 1 : 0) ? next : undefined;
      }
      case 'cas': {
        const current = state.keys.get(input.key);
        const holds = input.expected === undefined ? current === undefined : current?.value === input.expected;
        const next = holds ? put(state, input.key, input.value) : state;
        if (output === undefined) return next;
        const o = output as Extract<EtcdKvOutput, { op: 'cas' }>;
        if (o.succeeded !== holds || o.revision !== next.revision) return undefined;
        return holds || sameKv(o.kv, current) ? next : undefined;
      }
    }
  },
  key(state) {
    const keys = [...state.keys.keys()].sort();
    return `${state.revision}|${keys.map((k) => {
      const s = state.keys.get(k)!;
      return `${k}=${s.value}/${s.createRevision}/${s.modRevision}/${s.version}`;
    }).join(',')}`;
  },
  describe(input, output) {
    const out = output === undefined ? '?' : JSON.stringify(output);
    switch (input.op) {
      case 'put':
        return `put(${input.key}, ${input.value}) -> ${out}`;
      case 'get':
        return `get(${input.key}) -> ${out}`;
      case 'delete':
        return `delete(${input.key}) -> ${out}`;
      case 'cas':
        return `cas(${input.key}, ${input.expected ?? '<absent>'} -> ${input.value}) -> ${out}`;
    }
  },
};
