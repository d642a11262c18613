/**
 * The other end of the floor's loopback round trip: it writes back every byte it reads, as soon
 * as it reads it.
 *
 *   echo.ts   (driven over IPC by floor.ts)
 */
import net from 'node:net';
import type { FromReplica } from './wire.js';

process.on('disconnect', () => process.exit(0));
const server = net.createServer((s) => {
  s.setNoDelay(true);
  s.on('data', (c: Buffer) => s.write(c));
  s.on('error', () => {});
});
server.listen(0, '127.0.0.1', () => process.send!({ kind: 'listening', port: (server.address() as net.AddressInfo).port } satisfies FromReplica));
