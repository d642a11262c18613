import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { readLines, writeLine } from '../lines.js';

let server: net.Server | undefined;
afterEach(() => {
  server?.close();
  server = undefined;
});

async function pair(): Promise<[net.Socket, net.Socket]> {
  const accepted = new Promise<net.Socket>((resolve) => {
    server = net.createServer(resolve);
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', () => resolve()));
  const client = net.connect((server!.address() as net.AddressInfo).port, '127.0.0.1');
  return [client, await accepted];
}

describe('JSON lines', () => {
  it('delivers each value once, whole, whatever the chunks the bytes arrive in', async () => {
    const [client, peer] = await pair();
    const got: unknown[] = [];
    const all = new Promise<void>((resolve) =>
      readLines(peer, (m) => {
        got.push(m);
        if (got.length === 3) resolve();
      }),
    );
    const text = `${JSON.stringify({ id: 1, value: 'a\nb' })}\n${JSON.stringify({ id: 2 })}\n`;
    // Split inside a value and between values.
    client.write(text.slice(0, 7));
    await new Promise((r) => setTimeout(r, 10));
    client.write(text.slice(7));
    writeLine(client, { id: 3, error: 'not the leader' });
    await all;
    expect(got).toEqual([{ id: 1, value: 'a\nb' }, { id: 2 }, { id: 3, error: 'not the leader' }]);
    client.destroy();
    peer.destroy();
  });
});
