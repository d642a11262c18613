/**
 * A node of `@markwylde/liferaft`. The library ships no transport: this one keeps one TCP
 * connection per peer, sends each packet as a JSON line tagged with an id and routes the
 * receiver's reply (liferaft answers some packets through a callback) back to the sender's.
 *
 * What its code does, read for this benchmark (1.4.0):
 * - The log is a levelup/leveldown database written with plain `put`s (leveldown's default
 *   `sync: false`): an acknowledged entry may be only in the OS page cache, so it is not
 *   durable against a power loss. The term and vote are never written at all.
 * - `command()` reads the last entry to choose the next index, then writes: two concurrent
 *   calls pick the same index and one entry overwrites the other. This node serializes its
 *   `command()` calls (the next starts once the previous one's entry is written and its append
 *   sent), which is what a user must do; commits still overlap.
 * - Each entry travels in its own append packet, and a follower acknowledges each one.
 * - Its packet handler is async and called through emit(), which does not wait: packets that
 *   arrive together are handled interleaved. This node calls the handler itself, one packet at
 *   a time in arrival order.
 */
import { createRequire } from 'node:module';
import net from 'node:net';
import path from 'node:path';
import { ELECTION_MAX_MS, ELECTION_MIN_MS } from './js-raft.js';
import type { JsRaftNode, JsRaftNodeConfig } from './js-raft.js';
import { readLines, writeLine } from './lines.js';

type Packet = Record<string, unknown>;
type ReplyFn = (err?: Error, reply?: Packet) => void;

/** The part of liferaft's API this node uses. */
interface LifeRaft {
  state: number;
  on(event: 'commit', fn: (command: { id: string }) => void): void;
  on(event: 'error', fn: (err: Error) => void): void;
  listeners(event: 'data'): ((packet: Packet, reply: (packet?: Packet) => void) => Promise<void> | void)[];
  join(address: string, write: (packet: Packet, fn: ReplyFn) => void): unknown;
  command(command: { id: string; key: string; value: string }): Promise<void>;
  end(): boolean;
}
interface LifeRaftConstructor {
  new (address: string, options: Record<string, unknown>): LifeRaft;
  LEADER: number;
}

/** How long one packet's handling may hold the next back (see handlePacket). */
const HANDLER_WAIT_MS = 2000;

/** Packets liferaft answers through the callback get their reply within this; others never do. */
const REPLY_WAIT_MS = 5000;

/** The link to one peer: a persistent connection, re-dialled after an error. */
class PeerLink {
  private socket: net.Socket | undefined;
  private nextId = 1;
  private readonly waiting = new Map<number, { fn: ReplyFn; at: number }>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(private readonly port: number) {
    this.sweeper = setInterval(() => {
      const old = Date.now() - REPLY_WAIT_MS;
      for (const [id, w] of this.waiting) if (w.at < old) this.waiting.delete(id);
    }, REPLY_WAIT_MS);
  }

  write(packet: Packet, fn: ReplyFn): void {
    const socket = this.connect();
    const id = this.nextId++;
    this.waiting.set(id, { fn, at: Date.now() });
    writeLine(socket, { id, p: packet });
  }

  private connect(): net.Socket {
    if (this.socket !== undefined) return this.socket;
    const socket = net.connect(this.port, '127.0.0.1');
    socket.setNoDelay(true);
    readLines(socket, (m) => {
      const { re, p } = m as { re: number; p?: Packet };
      const w = this.waiting.get(re);
      if (w === undefined) return;
      this.waiting.delete(re);
      w.fn(undefined, p);
    });
    const drop = (): void => {
      if (this.socket === socket) this.socket = undefined;
      socket.destroy();
    };
    socket.on('error', drop);
    socket.on('close', drop);
    this.socket = socket;
    return socket;
  }

  close(): void {
    clearInterval(this.sweeper);
    this.socket?.destroy();
  }
}

export async function startLiferaft(config: JsRaftNodeConfig, fault: (error: string) => void): Promise<JsRaftNode> {
  const require = createRequire(path.join(config.prefix, 'package.json'));
  const LifeRaft = require('@markwylde/liferaft') as LifeRaftConstructor;
  const Log = require('@markwylde/liferaft/log') as unknown;
  const address = (port: number): string => `127.0.0.1:${port}`;
  const myPort = config.raftPorts[config.index]!;

  const raft = new LifeRaft(address(myPort), {
    Log,
    path: path.join(config.dataDir, 'log'),
    'election min': ELECTION_MIN_MS,
    'election max': ELECTION_MAX_MS,
    heartbeat: 200,
  });
  // liferaft reports stale-term packets and the like as 'error' events; they are part of its
  // normal operation, not failures of the run.
  raft.on('error', () => {});

  // liferaft's 'data' listener is async and emit() does not wait for it: two appends that
  // arrive together are handled interleaved, and the second then finds the log without the
  // first and fails. Calling the listener directly and awaiting it gives the library the
  // in-order delivery a TCP connection promises.
  const [listener] = raft.listeners('data');
  if (listener === undefined) throw new Error('liferaft registered no data listener');
  // A handler that never settles would hold every later packet back, and the stall would be
  // ours: after HANDLER_WAIT_MS the next packet goes ahead, and the fault is reported.
  const handlePacket = (p: Packet, reply: (r?: Packet) => void): Promise<void> => {
    let timer: NodeJS.Timeout | undefined;
    const handled = Promise.resolve(listener.call(raft, p, reply)).catch(() => {});
    const late = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        fault(`liferaft's handler of a '${String(p['type'])}' packet still running after ${HANDLER_WAIT_MS} ms`);
        resolve();
      }, HANDLER_WAIT_MS);
    });
    return Promise.race([handled, late]).finally(() => clearTimeout(timer));
  };
  let handling: Promise<void> = Promise.resolve();

  const server = net.createServer((socket) => {
    socket.setNoDelay(true);
    socket.on('error', () => socket.destroy());
    readLines(socket, (m) => {
      const { id, p } = m as { id: number; p: Packet };
      const reply = (r?: Packet): void => {
        if (!socket.destroyed) writeLine(socket, { re: id, p: r });
      };
      // One packet at a time, in arrival order (see the header).
      handling = handling.then(() => handlePacket(p, reply));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(myPort, '127.0.0.1', () => resolve());
  });

  const links: PeerLink[] = [];
  for (const port of config.raftPorts) {
    if (port === myPort) continue;
    const link = new PeerLink(port);
    links.push(link);
    raft.join(address(port), (packet, fn) => link.write(packet, fn));
  }

  const committed = new Map<string, () => void>();
  raft.on('commit', (command) => {
    const done = committed.get(command.id);
    if (done === undefined) return;
    committed.delete(command.id);
    done();
  });

  let nextCommand = 1;
  let proposing: Promise<unknown> = Promise.resolve();
  return {
    isLeader: () => raft.state === LifeRaft.LEADER,
    submit: (key, value) =>
      new Promise<void>((resolve, reject) => {
        const id = `${config.index}-${nextCommand++}`;
        committed.set(id, resolve);
        proposing = proposing.then(() =>
          raft.command({ id, key, value }).catch((err: unknown) => {
            committed.delete(id);
            reject(err instanceof Error ? err : new Error(String(err)));
          }),
        );
      }),
    close: async () => {
      for (const l of links) l.close();
      raft.end();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
