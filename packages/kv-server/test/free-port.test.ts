import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { freePort } from '../src/testing/free-port.js';

describe('freePort', () => {
  // Without the process-wide memory, 2,000 draws from 22,000 ports repeat one about 90 times.
  it('never hands the same port out twice in one process, even while none is bound', async () => {
    const ports: number[] = [];
    for (let i = 0; i < 2_000; i++) ports.push(await freePort());
    expect(new Set(ports).size).toBe(ports.length);
  });

  it('hands out a port that can be bound on 127.0.0.1', async () => {
    const port = await freePort();
    const server = net.createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: '127.0.0.1', port, exclusive: true }, resolve);
    });
    expect((server.address() as net.AddressInfo).port).toBe(port);
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
});
