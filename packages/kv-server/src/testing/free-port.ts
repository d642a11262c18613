import net from 'node:net';

/**
 * Ports are drawn from below Linux's default ephemeral range (32768-60999): a port picked from
 * that range is free now but is the kind the kernel hands to the next outgoing connection of
 * any process, which then holds it when the caller binds it. Below it, only another caller
 * picking the same random port can collide.
 */
const LOW = 10_000;
const HIGH = 32_000;
const ATTEMPTS = 50;

/**
 * Every port this process has handed out. A caller picks several ports before binding any (a
 * cluster's client, peer and metrics URLs), so a port that is still free must not be picked
 * twice: two members given the same URL fail before they start ("has duplicate url").
 */
const handedOut = new Set<number>();

/**
 * A TCP port on 127.0.0.1 that was free a moment ago and that this process has not been given
 * before. Another process may take it before the caller binds it; callers that start servers on
 * it retry with fresh ports on EADDRINUSE.
 */
export async function freePort(): Promise<number> {
  for (let i = 0; i < ATTEMPTS; i++) {
    const port = LOW + Math.floor(Math.random() * (HIGH - LOW));
    if (!handedOut.has(port) && (await canBind(port))) return handOut(port);
  }
  for (let i = 0; i < ATTEMPTS; i++) {
    const port = await bindAny();
    if (!handedOut.has(port)) return handOut(port);
  }
  throw new Error(`no port on 127.0.0.1 that this process has not already handed out (${handedOut.size} so far)`);
}

function handOut(port: number): number {
  handedOut.add(port);
  return port;
}

function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen({ host: '127.0.0.1', port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

function bindAny(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: 0 }, () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error('no port assigned'))));
    });
  });
}
