/**
 * forceNewCluster() on a store: the configuration it computes from the log (through the core's
 * own changer), the uncommitted tail it drops, and the membership changes it appends, for a
 * voter, a learner and a member of a joint configuration; then a RaftNode over the rewritten
 * store leads alone and keeps every committed command.
 */
import { describe, expect, it } from 'vitest';
import {
  ConfChangeTransition,
  ConfChangeType,
  EntryType,
  MemoryLogStore,
  MemoryNetwork,
  RaftNode,
  RecoveryError,
  decodeConfChangeEntry,
  forceNewCluster,
  marshalConfChange,
  confChangeAsV2,
  type ConfChangeI,
  type Entry,
  type StateMachine,
} from '../../src/index.js';

function confEntry(index: number, term: number, cc: ConfChangeI): Entry {
  const { type, data } = marshalConfChange(cc);
  return { index, term, type, data };
}
const add = (nodeId: number): ConfChangeI => ({ type: ConfChangeType.ConfChangeAddNode, nodeId });
const addLearner = (nodeId: number): ConfChangeI => ({ type: ConfChangeType.ConfChangeAddLearnerNode, nodeId });
const cmd = (index: number, term: number, text: string): Entry => ({ index, term, type: EntryType.EntryNormal, data: new TextEncoder().encode(text) });

/** A store holding `entries`, committed up to `commit`, in term `term`. */
async function storeWith(entries: Entry[], commit: number, term: number): Promise<MemoryLogStore> {
  const store = new MemoryLogStore();
  await store.append({ hardState: { term, vote: 1, commit }, entries });
  return store;
}

/** The single changes appended after `from`, as `remove 2`, `add 3`, `leave-joint`. */
function appended(store: MemoryLogStore, from: number): string[] {
  return store.entries(from + 1, store.lastIndex() + 1, Number.MAX_SAFE_INTEGER).map((e) => {
    const v2 = confChangeAsV2(decodeConfChangeEntry(e));
    if (v2.changes.length === 0) return 'leave-joint';
    return v2.changes.map((c) => `${ConfChangeType[c.type]} ${c.nodeId}`).join(', ');
  });
}

class Log implements StateMachine<number> {
  readonly applied: string[] = [];
  apply(e: Entry): number {
    this.applied.push(new TextDecoder().decode(e.data));
    return this.applied.length;
  }
  snapshot(): Uint8Array {
    return new TextEncoder().encode(JSON.stringify(this.applied));
  }
  restore(data: Uint8Array): void {
    this.applied.splice(0, this.applied.length, ...(JSON.parse(new TextDecoder().decode(data)) as string[]));
  }
}

describe('forceNewCluster', () => {
  it('drops the uncommitted tail, removes the other members, and a node over the store leads alone', async () => {
    const store = await storeWith([confEntry(1, 1, add(1)), confEntry(2, 1, add(2)), confEntry(3, 1, add(3)), cmd(4, 2, 'a'), cmd(5, 2, 'b'), cmd(6, 2, 'lost')], 5, 2);
    const result = await forceNewCluster(store, { id: 1 });
    expect(result).toEqual({ removed: [2, 3], discarded: 1, keptIndex: 5, commitIndex: 7 });
    expect(appended(store, 5)).toEqual(['ConfChangeRemoveNode 2', 'ConfChangeRemoveNode 3']);
    expect(store.initialState().hardState).toEqual({ term: 2, vote: 1, commit: 7 });

    const sm = new Log();
    const node = new RaftNode({ id: 1, logStore: store, transport: new MemoryNetwork().transport(1), stateMachine: sm, tickMs: 5 });
    try {
      const deadline = Date.now() + 10_000;
      while (!node.isLeader) {
        if (Date.now() > deadline) throw new Error('no leader');
        await new Promise((r) => setTimeout(r, 5));
      }
      expect(node.membership().voters).toEqual([1]);
      expect(await node.propose(new TextEncoder().encode('c'))).toBe(3);
      expect(sm.applied).toEqual(['a', 'b', 'c']);
    } finally {
      await node.stop();
    }
    // Idempotent: the store is a one-member cluster already.
    expect(await forceNewCluster(store, { id: 1 })).toMatchObject({ removed: [], discarded: 0 });
  });

  it('makes a surviving learner a voter first (with its address), then removes the rest', async () => {
    const store = await storeWith([confEntry(1, 1, add(1)), confEntry(2, 1, add(2)), confEntry(3, 1, addLearner(3)), cmd(4, 1, 'a')], 4, 1);
    const result = await forceNewCluster(store, { id: 3, address: '127.0.0.1:4003' });
    expect(result.removed).toEqual([1, 2]);
    expect(appended(store, 4)).toEqual(['ConfChangeAddNode 3', 'ConfChangeRemoveNode 1', 'ConfChangeRemoveNode 2']);
    const addSelf = confChangeAsV2(decodeConfChangeEntry(store.entries(5, 6, Infinity)[0]!));
    expect(new TextDecoder().decode(addSelf.context)).toBe('{"3":"127.0.0.1:4003"}');
  });

  it('leaves a joint configuration first', async () => {
    const joint: ConfChangeI = {
      transition: ConfChangeTransition.ConfChangeTransitionJointExplicit,
      changes: [
        { type: ConfChangeType.ConfChangeAddNode, nodeId: 4 },
        { type: ConfChangeType.ConfChangeRemoveNode, nodeId: 3 },
      ],
    };
    const store = await storeWith([confEntry(1, 1, add(1)), confEntry(2, 1, add(2)), confEntry(3, 1, add(3)), confEntry(4, 1, joint)], 4, 1);
    const result = await forceNewCluster(store, { id: 2 });
    expect(result.removed).toEqual([1, 3, 4]);
    expect(appended(store, 4)).toEqual(['leave-joint', 'ConfChangeRemoveNode 1', 'ConfChangeRemoveNode 3', 'ConfChangeRemoveNode 4']);
  });

  it('refuses an empty store and a node that is not a member', async () => {
    await expect(forceNewCluster(new MemoryLogStore(), { id: 1 })).rejects.toThrow(RecoveryError);
    const store = await storeWith([confEntry(1, 1, add(1)), confEntry(2, 1, add(2))], 2, 1);
    await expect(forceNewCluster(store, { id: 9 })).rejects.toMatchObject({ code: 'ERR_RECOVERY' });
  });
});
