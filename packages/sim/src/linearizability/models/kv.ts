/**
 * A key-value store with get, put and append on string keys, as in Porcupine's kv tests (and
 * the MIT 6.824 labs they come from). A key never written reads as the empty string.
 * Operations on different keys are independent, so the model partitions histories by key.
 */
import type { Operation } from '../history.js';
import type { Model } from '../model.js';

/** A kv operation, as the client asked it. */
export type KvInput =
  | { readonly op: 'get'; readonly key: string }
  | { readonly op: 'put'; readonly key: string; readonly value: string }
  | { readonly op: 'append'; readonly key: string; readonly value: string };

/** What came back: the value for a get, nothing for put and append. */
export type KvOutput = { readonly op: 'get'; readonly value: string } | { readonly op: 'put' } | { readonly op: 'append' };

/**
 * The store's state. After partitioning, a part has a single key, so the map has at most one
 * entry; the model stays correct on an unpartitioned history too, only slower.
 */
export type KvState = ReadonlyMap<string, string>;

const EMPTY: KvState = new Map();

function keyOf(state: KvState): string {
  if (state.size === 0) return '';
  if (state.size === 1) {
    for (const [k, v] of state) return `${k.length}:${k}${v}`;
  }
  const keys = [...state.keys()].sort();
  return keys.map((k) => `${k.length}:${k}${state.get(k)!.length}:${state.get(k)!}`).join('');
}

function set(state: KvState, key: string, value: string): KvState {
  const copy = new Map(state);
  copy.set(key, value);
  return copy;
}

/** Splits a history by key, keys in sorted order. */
function partitionByKey(history: readonly Operation<KvInput, KvOutput>[]): Operation<KvInput, KvOutput>[][] {
  const byKey = new Map<string, Operation<KvInput, KvOutput>[]>();
  for (const op of history) {
    let part = byKey.get(op.input.key);
    if (part === undefined) {
      part = [];
      byKey.set(op.input.key, part);
    }
    part.push(op);
  }
  return [...byKey.keys()].sort().map((k) => byKey.get(k)!);
}

/** The key-value model: get/put/append, partitioned by key. */
export const kvModel: Model<KvState, KvInput, KvOutput> = {
  name: 'kv',
  init: () => EMPTY,
  step(state, input, output) {
    if (output !== undefined && output.op !== input.op) return undefined;
    switch (input.op) {
      case 'get': {
        if (output === undefined) return state;
        return (output as { value: string }).value === (state.get(input.key) ?? '') ? state : undefined;
      }
      case 'put':
        return set(state, input.key, input.value);
      case 'append':
        return set(state, input.key, (state.get(input.key) ?? '') + input.value);
    }
  },
  key: keyOf,
  partition: partitionByKey,
  describe(input, output) {
    switch (input.op) {
      case 'get':
        return `get(${JSON.stringify(input.key)}) -> ${output === undefined ? '?' : JSON.stringify((output as { value: string }).value)}`;
      case 'put':
        return `put(${JSON.stringify(input.key)}, ${JSON.stringify(input.value)})`;
      case 'append':
        return `append(${JSON.stringify(input.key)}, ${JSON.stringify(input.value)})`;
    }
  },
};
