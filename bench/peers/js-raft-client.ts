/**
 * Client process for the JavaScript Raft libraries: one TCP connection to the leader's client
 * port, writes as JSON lines (the payload base64, the key per worker), answers matched by id.
 *
 *   js-raft-client.ts <leader client port>
 */
import net from 'node:net';
import { serveLoad } from './client-process.js';
import { readLines, writeLine } from './lines.js';
import type { ClientReply } from './lines.js';

const port = Number(process.argv[2]);

serveLoad(async () => {
  const socket = net.connect(port, '127.0.0.1');
  socket.setNoDelay(true);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  const waiting = new Map<number, { resolve: () => void; reject: (e: Error) => void }>();
  const failAll = (why: string): void => {
    for (const w of waiting.values()) w.reject(new Error(why));
    waiting.clear();
  };
  socket.on('error', (err) => failAll(err.message));
  socket.on('close', () => failAll('connection to the leader closed'));
  readLines(socket, (m) => {
    const reply = m as ClientReply;
    const w = waiting.get(reply.id);
    if (w === undefined) return;
    waiting.delete(reply.id);
    if (reply.error === undefined) w.resolve();
    else w.reject(new Error(reply.error));
  });
  let nextId = 1;
  return {
    write: (worker, value) =>
      new Promise<void>((resolve, reject) => {
        const id = nextId++;
        waiting.set(id, { resolve, reject });
        writeLine(socket, { id, key: `k${worker}`, value: value.toString('base64') });
      }),
    beforeLevel: async () => {},
    close: async () => {
      socket.destroy();
    },
  };
});
