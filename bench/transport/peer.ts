/**
 * The other process of bench/transport: a sink that counts messages, or an echo that returns
 * them, over TcpTransport or a bare socket. Driven over IPC by bench/transport/index.ts.
 *
 *   tsx --conditions=@pontoon/source bench/transport/peer.ts <pontoon|bare> <sink|echo>
 */
import net from 'node:net';
import { MessageType, newMessage } from '@pontoon/raft';
import { TcpTransport } from '@pontoon/transport-tcp';
import { BareFrameCounter, CHILD_ID, CLUSTER_ID, PARENT_ID } from './shared.js';
import type { FromChild, Impl, Mode, ToChild } from './shared.js';

const impl = process.argv[2] as Impl;
const mode = process.argv[3] as Mode;
const send = (m: FromChild): void => {
  process.send!(m);
};

let messages = 0;
let firstNs = 0;
let lastNs = 0;
function received(n: number): void {
  const now = Number(process.hrtime.bigint());
  if (messages === 0) firstNs = now;
  messages += n;
  lastNs = now;
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
    const server = net.createServer((s) => {
      sockets.add(s);
      s.setNoDelay(true);
      const counter = new BareFrameCounter((frame) => {
        received(1);
        if (mode === 'echo') s.write(frame);
      });
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
      send({ kind: 'reset' });
    } else if (m.kind === 'report') send({ kind: 'report', messages, firstNs, lastNs });
  });
  process.on('disconnect', () => void close().then(() => process.exit(0)));
}

void main();
