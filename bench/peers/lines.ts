/**
 * Newline-delimited JSON over TCP: the wire the JS peers' node processes use between each other
 * (liferaft ships no transport) and with the client process. Its cost is far below what these
 * libraries spend per entry, so it does not bound their numbers.
 */
import type net from 'node:net';

/** Calls `onMessage` with each JSON value that arrives on `socket`, one per line. */
export function readLines(socket: net.Socket, onMessage: (m: unknown) => void): void {
  let buffered = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => {
    buffered += chunk;
    let nl = buffered.indexOf('\n');
    while (nl !== -1) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      if (line.length > 0) onMessage(JSON.parse(line));
      nl = buffered.indexOf('\n');
    }
  });
}

export function writeLine(socket: net.Socket, m: unknown): void {
  socket.write(`${JSON.stringify(m)}\n`);
}

/** A client's write: the key (per worker) and the payload, base64. */
export interface ClientRequest {
  id: number;
  key: string;
  value: string;
}

/** The answer once the write committed, or why it did not. */
export interface ClientReply {
  id: number;
  error?: string;
}
