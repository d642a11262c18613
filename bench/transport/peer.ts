/**
 * The other process of bench/transport: a sink that counts messages, or an echo that returns
 * them, over TcpTransport or a bare socket. Driven over IPC by bench/transport/index.ts.
 *
 *   tsx --conditions=@pontoon/source bench/transport/peer.ts <pontoon|bare> <sink|echo>
 */
import net from 'node:net';
import { MessageType, newMessage } from '@pontoon/raft/core';
import { TcpTransport } from '@pontoon/transport-tcp';
import { FrameReader } from '../lib/length-prefixed-frames.js';
import { CHILD_ID, CLUSTER_ID, PARENT_ID } from './shared.js';
import type { FromChild, Impl, Mode, ToChild } from './shared.js';

const impl = process.argv[2] as Impl;
const mode = process.argv[3] as Mode;
const send = (m: FromChild): void => {
  process.send!(m);
};

let messages = 0;
/** CPU time of this process (every thread) when the count was last reset. */
let cpuAtReset = process.cpuUsage();
let firstNs = 0;
let lastNs = 0;
let stampPending = false;
/** Time of the last message: taken once per read, after its messages, not once per message. */
function stampLast(): void {
  stampPending = false;
  lastNs = Number(process.hrtime.bigint());
}
/**
 * Counts a received message. A clock read per message would cost the sink more than parsing a
 * bare frame does (a BigInt each): the last-message time is taken in a microtask instead, which
 * runs once the socket read that delivered the message has been handled.
 */
function received(n: number): void {
  if (messages === 0) firstNs = Number(process.hrtime.bigint());
  messages += n;
  if (!stampPending) {
    stampPending = true;
    queueMicrotask(stampLast);
  }
}

async function main(): Promise<void> {
  let onPeer: (address: string) => void = () => {};
  let close: () => Promise<void>;
  if (impl === 'pontoon') {
    const t = new TcpTransport({ id: CHILD_ID, clusterId: CLUSTER_ID });
    t.onMessage((m) => {
      received(1);
      if (mode === 'echo') {
        t.send([newMessage({ type: MessageType.MsgAppResp, from: CHILD_ID, to: PARENT_ID, term: m.term, index: m.index + m.entries.length })]);
      }
    });
    const { port } = await t.listen();
    onPeer = (address) => t.addPeer(PARENT_ID, address);
    close = () => t.close();
    send({ kind: 'ready', port });
  } else {
    const sockets = new Set<net.Socket>();
    /** In echo-back mode: the connection this process dialled to the sender, for the answers. */
    let back: net.Socket | undefined;
    onPeer = (address) => {
      if (mode !== 'echo-back') return;
      const [host, port] = [address.slice(0, address.lastIndexOf(':')), Number(address.slice(address.lastIndexOf(':') + 1))];
      back = net.connect({ host, port });
      back.setNoDelay(true);
      back.on('error', () => {});
      sockets.add(back);
    };
    const server = net.createServer((s) => {
      sockets.add(s);
      s.setNoDelay(true);
      const counter = new FrameReader((frame) => {
        received(1);
        if (mode === 'echo') s.write(frame);
        else if (mode === 'echo-back') back?.write(frame);
      }, { withPrefix: true });
      s.on('data', (c: Buffer) => counter.push(c));
      s.on('error', () => {});
      s.on('close', () => sockets.delete(s));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    close = async () => {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    };
    send({ kind: 'ready', port: (server.address() as net.AddressInfo).port });
  }
  process.on('message', (m: ToChild) => {
    if (m.kind === 'peer') onPeer(m.address);
    else if (m.kind === 'reset') {
      messages = 0;
      cpuAtReset = process.cpuUsage();
      send({ kind: 'reset' });
    } else if (m.kind === 'report') {
      const cpu = process.cpuUsage(cpuAtReset);
      send({ kind: 'report', messages, firstNs, lastNs, cpuNs: (cpu.user + cpu.system) * 1000 });
    }
  });
  process.on('disconnect', () => void close().then(() => process.exit(0)));
}

void main();
