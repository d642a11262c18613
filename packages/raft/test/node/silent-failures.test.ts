import { describe, expect, it } from 'vitest';
import {
  MemoryLogStore,
  MemoryNetwork,
  NodeFailedError,
  NodeStoppedError,
  ProposalOutcomeUnknownError,
  RaftNode,
  TransportListenError,
} from '../../src/index.js';
import type { Logger, Transport } from '../../src/index.js';
import { KvStateMachine, TestCluster, fastTiming, set, waitFor } from './support.js';

/** A logger that keeps what it is given. */
function recordingLogger(): Logger & { lines: Array<{ level: string; msg: string; args: unknown[] }> } {
  const lines: Array<{ level: string; msg: string; args: unknown[] }> = [];
  const at =
    (level: string) =>
    (msg: string, ...args: unknown[]): void => {
      lines.push({ level, msg, args });
    };
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

describe('RaftNode: nothing fails silently', () => {
  it('surfaces a throwing state machine with no error listener: pending calls, stop(), status(), logger', async () => {
    const logger = recordingLogger();
    const sm = new KvStateMachine();
    const node = new RaftNode({
      id: 1,
      logStore: new MemoryLogStore(),
      transport: new MemoryNetwork().transport(1),
      stateMachine: sm,
      initialMembers: [{ id: 1, address: 'a' }],
      logger,
      ...fastTiming,
    });
    await waitFor(() => node.isLeader, { what: 'single-node leader' });
    expect(node.listenerCount('error')).toBe(0);
    expect(node.status().failure).toBeUndefined();

    // The poison entry and a good one behind it: both are in the log when the first throws.
    const poison = node.propose(new TextEncoder().encode('not json')).catch((e: unknown) => e);
    const behind = node.propose(set('a', '1')).catch((e: unknown) => e);
    const read = node.read((s) => s.data.get('a'), { timeoutMs: 60_000 }).catch((e: unknown) => e);
    const [e1, e2, e3] = await Promise.all([poison, behind, read]);

    for (const e of [e1, e2]) {
      expect(e).toBeInstanceOf(ProposalOutcomeUnknownError);
      expect((e as ProposalOutcomeUnknownError).reason).toBe('stopped');
      expect((e as Error).cause).toBeInstanceOf(SyntaxError);
    }
    // The read was served before the poison applied, or it was pending and carries the cause.
    if (e3 instanceof Error) {
      expect(e3).toBeInstanceOf(NodeStoppedError);
      expect(e3.cause).toBeInstanceOf(SyntaxError);
    }

    const st = node.status();
    expect(st.stopped).toBe(true);
    expect(st.failure).toMatchObject({ name: 'SyntaxError', code: undefined });
    expect(JSON.parse(JSON.stringify(st)).failure.name).toBe('SyntaxError');

    const errors = logger.lines.filter((l) => l.level === 'error');
    expect(errors).toHaveLength(1);
    expect(errors[0]!.msg).toContain('stopping after an unrecoverable error');
    expect(errors[0]!.args[0]).toBeInstanceOf(SyntaxError);

    const late = await node.propose(set('b', '1')).catch((e: unknown) => e);
    expect(late).toBeInstanceOf(NodeStoppedError);
    expect((late as Error).cause).toBeInstanceOf(SyntaxError);

    const stopped = await node.stop().catch((e: unknown) => e);
    expect(stopped).toBeInstanceOf(NodeFailedError);
    expect((stopped as NodeFailedError).code).toBe('ERR_NODE_FAILED');
    expect((stopped as Error).cause).toBeInstanceOf(SyntaxError);
    // Every later stop() says the same.
    await expect(node.stop()).rejects.toBeInstanceOf(NodeFailedError);
  });

  it('a clean stop() resolves and status() says stopped without a failure', async () => {
    const cluster = new TestCluster([1]).startAll();
    const node = await cluster.leader();
    await node.stop();
    expect(node.status()).toMatchObject({ stopped: true, failure: undefined });
  });

  it('reports a node that hears from no peer, then that it hears again', async () => {
    const logger = recordingLogger();
    const cluster = new TestCluster([1, 2, 3]);
    // Node 1 alone: its peers are not running, as when their transports never listen.
    const n1 = cluster.start(1, { logger });
    const isolated: Array<{ silentMs: number; peers: number[] }> = [];
    const reconnected: number[] = [];
    n1.on('isolated', (e) => isolated.push(e));
    n1.on('reconnected', (e) => reconnected.push(e.peerId));
    await waitFor(() => isolated.length > 0, { what: 'isolated' });
    expect(isolated[0]!.peers).toEqual([2, 3]);
    // Three election timeouts of ticks, at least.
    expect(isolated[0]!.silentMs).toBeGreaterThanOrEqual(3 * fastTiming.electionTicks * fastTiming.tickMs);
    expect(logger.lines.some((l) => l.level === 'warn' && l.msg.includes('no message from any peer'))).toBe(true);

    cluster.start(2);
    await waitFor(() => reconnected.length > 0, { what: 'reconnected' });
    expect(reconnected[0]).toBe(2);
    expect(isolated).toHaveLength(1);
    await cluster.leader([n1, cluster.node(2)]);
    await cluster.stopAll();
  });

  it('a single-member cluster is never isolated', async () => {
    const cluster = new TestCluster([1]);
    const n1 = cluster.start(1);
    let isolated = 0;
    n1.on('isolated', () => isolated++);
    await cluster.leader();
    // Well past three election timeouts of ticks.
    await new Promise((r) => setTimeout(r, 5 * fastTiming.electionTicks * fastTiming.tickMs));
    expect(isolated).toBe(0);
    await cluster.stopAll();
  });

  it("starts the transport's listen() itself, and stops with TransportListenError when it fails", async () => {
    const network = new MemoryNetwork();
    let listens = 0;
    const listening: Transport = Object.assign(network.transport(1), {
      listen: () => {
        listens++;
        return Promise.resolve();
      },
    });
    const ok = new RaftNode({
      id: 1,
      logStore: new MemoryLogStore(),
      transport: listening,
      stateMachine: new KvStateMachine(),
      initialMembers: [{ id: 1, address: 'a' }],
      ...fastTiming,
    });
    expect(listens).toBe(1);
    await waitFor(() => ok.isLeader, { what: 'leader' });
    await ok.stop();

    const deaf: Transport = Object.assign(network.transport(2), {
      listen: () => Promise.reject(new Error('EADDRINUSE')),
    });
    const failed = new RaftNode({
      id: 2,
      logStore: new MemoryLogStore(),
      transport: deaf,
      stateMachine: new KvStateMachine(),
      initialMembers: [{ id: 2, address: 'b' }],
      ...fastTiming,
    });
    await waitFor(() => failed.isStopped, { what: 'stopped' });
    expect(failed.status().failure).toMatchObject({ name: 'TransportListenError', code: 'ERR_TRANSPORT_LISTEN' });
    const err = await failed.stop().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NodeFailedError);
    expect((err as Error).cause).toBeInstanceOf(TransportListenError);
  });
});
