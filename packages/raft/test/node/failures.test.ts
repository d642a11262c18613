import { describe, expect, it } from 'vitest';
import { MemoryLogStore, MemoryNetwork, NodeFailedError, NodeStoppedError, ProposalOutcomeUnknownError, RaftNode } from '../../src/index.js';
import type { LogWrite } from '../../src/index.js';
import { KvStateMachine, fastTiming, set, waitFor } from './support.js';

describe('RaftNode: unrecoverable failures', () => {
  it('emits error and stops when the log store fails a write', async () => {
    const store = new MemoryLogStore();
    let failWrites = false;
    const append = store.append.bind(store);
    store.append = (w: LogWrite) => (failWrites ? Promise.reject(new Error('disk on fire')) : append(w));
    const network = new MemoryNetwork();
    const node = new RaftNode({
      id: 1,
      logStore: store,
      transport: network.transport(1),
      stateMachine: new KvStateMachine(),
      initialMembers: [{ id: 1, address: 'a' }],
      ...fastTiming,
    });
    await waitFor(() => node.isLeader, { what: 'single-node leader' });
    expect(await node.propose(set('a', '1'))).toBeNull();
    const errors: Error[] = [];
    node.on('error', (e) => errors.push(e));
    failWrites = true;
    const err = await node.propose(set('a', '2')).catch((e: unknown) => e);
    // The entry was in the log when the node stopped: it is not known to have failed.
    expect(err).toBeInstanceOf(ProposalOutcomeUnknownError);
    expect(errors.map((e) => e.message)).toEqual(['disk on fire']);
    expect(node.isStopped).toBe(true);
    await expect(node.stop()).rejects.toBeInstanceOf(NodeFailedError);
    await expect(node.propose(set('b', '1'))).rejects.toBeInstanceOf(NodeStoppedError);
  });

  it('emits error and stops when the state machine throws', async () => {
    const sm = new KvStateMachine();
    const network = new MemoryNetwork();
    const node = new RaftNode({
      id: 1,
      logStore: new MemoryLogStore(),
      transport: network.transport(1),
      stateMachine: sm,
      initialMembers: [{ id: 1, address: 'a' }],
      ...fastTiming,
    });
    await waitFor(() => node.isLeader, { what: 'single-node leader' });
    const errors: Error[] = [];
    node.on('error', (e) => errors.push(e));
    const err = await node.propose(new TextEncoder().encode('not json')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProposalOutcomeUnknownError);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(SyntaxError);
    await expect(node.stop()).rejects.toBeInstanceOf(NodeFailedError);
  });
});
