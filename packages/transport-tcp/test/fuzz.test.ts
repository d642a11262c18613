/**
 * Bad input at scale: thousands of connections sending random bytes, truncated frames, huge
 * length prefixes, handshakes for another cluster, and (after a valid handshake) frames that
 * hold garbage or invalid messages. Each must be closed by the server with a counter moved,
 * while a good peer keeps exchanging messages throughout.
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MessageType, SeededRand, newMessage } from '@pontoon/raft/core';
import type { Message } from '@pontoon/raft';
import { encodeFrame, FRAME_HEADER_BYTES, FrameKind, writeFrameHeader } from '../src/frame-codec.js';
import { encodeHello, PROTOCOL_VERSION } from '../src/handshake.js';
import { MessageEncoder, writeBody } from '../src/message-codec.js';
import { heartbeat, node, waitFor } from './helpers.js';
import type { Node } from './helpers.js';

const CONNECTIONS = 3000;
const CONCURRENCY = 32;
/** Fuzzing clients handshake as these ids (one per concurrent slot, so they never overlap). */
const FUZZ_ID_BASE = 100;
const SEED = Number(process.env.FUZZ_SEED ?? Date.now() % 1_000_000);

const gen = new SeededRand(SEED);
const rand = (): number => gen.next();
const randInt = (n: number): number => Math.floor(rand() * n);
const randomBytes = (n: number): Buffer => Buffer.from(Array.from({ length: n }, () => randInt(256)));

const encoder = new MessageEncoder();
function messagesFrame(ms: Message[]): Buffer {
  const body = encoder.encode(ms);
  const out = Buffer.allocUnsafe(FRAME_HEADER_BYTES + body.length);
  writeFrameHeader(out, 0, FrameKind.Messages, body.length);
  writeBody(out, FRAME_HEADER_BYTES, body);
  return out;
}
const hello = (from: number, cluster = 'test', version = PROTOCOL_VERSION): Buffer =>
  encodeFrame(FrameKind.Hello, encodeHello({ version, clusterId: cluster, from, to: 1 }));

/** A bad connection: what it sends, and whether it counts as refused (pre-handshake) or not. */
interface Case {
  name: string;
  bytes: (fuzzId: number) => Buffer;
  phase: 'refused' | 'protocol';
}

const CASES: Case[] = [
  { name: 'random bytes', phase: 'refused', bytes: () => randomBytes(1 + randInt(300)) },
  { name: 'truncated hello', phase: 'refused', bytes: (id) => hello(id).subarray(0, 1 + randInt(hello(id).length - 1)) },
  { name: 'huge length prefix', phase: 'refused', bytes: () => Buffer.concat([Buffer.from([0xff, 0xff, 0xff, 0xf0, 1]), randomBytes(randInt(50))]) },
  { name: 'other cluster', phase: 'refused', bytes: (id) => hello(id, 'another-cluster') },
  { name: 'other version', phase: 'refused', bytes: (id) => hello(id, 'test', 99) },
  { name: 'unknown sender', phase: 'refused', bytes: () => hello(5000 + randInt(1000)) },
  { name: 'not a hello first', phase: 'refused', bytes: (id) => messagesFrame([heartbeat(id, 1)]) },
  {
    name: 'garbage after handshake',
    phase: 'protocol',
    bytes: (id) => Buffer.concat([hello(id), encodeFrame(FrameKind.Messages, randomBytes(1 + randInt(200)))]),
  },
  {
    name: 'huge prefix after handshake',
    phase: 'protocol',
    bytes: (id) => Buffer.concat([hello(id), Buffer.from([0x7f, 0xff, 0xff, 0xff, FrameKind.Messages])]),
  },
  {
    name: 'truncated frame after handshake',
    phase: 'protocol',
    bytes: (id) => {
      const f = messagesFrame([heartbeat(id, 1)]);
      return Buffer.concat([hello(id), f.subarray(0, 1 + randInt(f.length - 1))]);
    },
  },
  { name: 'unknown frame kind', phase: 'protocol', bytes: (id) => Buffer.concat([hello(id), encodeFrame(99 as FrameKind, randomBytes(4))]) },
  {
    name: 'local-only message type',
    phase: 'protocol',
    bytes: (id) => Buffer.concat([hello(id), messagesFrame([newMessage({ type: MessageType.MsgHup, from: id, to: 1 })])]),
  },
  { name: 'spoofed sender', phase: 'protocol', bytes: (id) => Buffer.concat([hello(id), messagesFrame([heartbeat(2, 1)])]) },
  {
    name: 'invalid MsgApp (gap in entries)',
    phase: 'protocol',
    bytes: (id) => {
      const m = newMessage({ type: MessageType.MsgApp, from: id, to: 1, term: 2, index: 5, logTerm: 1, entries: [{ term: 2, index: 9, type: 0, data: new Uint8Array(0) }] });
      return Buffer.concat([hello(id), messagesFrame([heartbeat(id, 1), m])]);
    },
  },
  {
    name: 'stream larger than allowed',
    phase: 'protocol',
    bytes: (id) => {
      const begin = Buffer.alloc(FRAME_HEADER_BYTES + 8);
      writeFrameHeader(begin, 0, FrameKind.StreamBegin, 8);
      begin.writeUInt32BE(1, FRAME_HEADER_BYTES);
      begin.writeUInt32BE(0xffff_fff0, FRAME_HEADER_BYTES + 4);
      return Buffer.concat([hello(id), begin]);
    },
  },
];

/** Opens a connection, sends `bytes`, half-closes, and resolves once the server has closed it. */
function attack(port: number, bytes: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port });
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error(`server did not close a connection that sent ${bytes.toString('hex').slice(0, 80)}`));
    }, 5000);
    s.on('error', () => {}); // resets are expected: the server closes on us
    s.on('data', () => {});
    s.on('close', () => {
      clearTimeout(timer);
      resolve();
    });
    s.on('connect', () => {
      s.write(bytes);
      s.end();
    });
  });
}

describe(`fuzz (seed ${SEED}; rerun with FUZZ_SEED=${SEED})`, () => {
  let server: Node;
  let good: Node;
  beforeAll(async () => {
    server = await node(1, { handshakeTimeoutMs: 2000, backoff: { initialMs: 5000, maxMs: 10_000 } });
    good = await node(2);
    server.t.addPeer(2, good.t.address!);
    good.t.addPeer(1, server.t.address!);
    // The fuzzing ids are known peers (at an address where nothing listens).
    for (let k = 0; k < CONCURRENCY; k++) server.t.addPeer(FUZZ_ID_BASE + k, '127.0.0.1:1');
    await waitFor(() => server.t.isConnected(2) && good.t.isConnected(1), 'good peers connected');
  });
  afterAll(async () => {
    await Promise.all([server?.t.close(), good?.t.close()]);
  });

  it(`closes each of ${CONNECTIONS} bad connections, counts it, and keeps serving a good peer`, async () => {
    const expected = { refused: 0, protocol: 0 };
    const perCase = new Map<string, number>();
    let next = 0;
    let goodSent = 0;
    const port = Number(server.t.address!.split(':')[1]);
    const chatter = setInterval(() => {
      good.t.send([heartbeat(2, 1, 1 + goodSent)]);
      server.t.send([heartbeat(1, 2, 1 + goodSent)]);
      goodSent++;
    }, 2);
    try {
      await Promise.all(
        Array.from({ length: CONCURRENCY }, async (_, slot) => {
          while (next < CONNECTIONS) {
            next++;
            const c = CASES[randInt(CASES.length)]!;
            expected[c.phase]++;
            perCase.set(c.name, (perCase.get(c.name) ?? 0) + 1);
            await attack(port, c.bytes(FUZZ_ID_BASE + slot));
          }
        }),
      );
    } finally {
      clearInterval(chatter);
    }
    const stats = server.t.stats();
    expect(perCase.size).toBe(CASES.length);
    expect({ refused: stats.connectionsRefused, protocol: stats.protocolErrors }).toEqual(expected);
    expect(server.logger.has(/refused connection from 127\.0\.0\.1:\d+ \(cluster\): cluster id "another-cluster" is not ours/)).toBe(true);
    expect(server.logger.has(/closing connection from peer \d+ at .*: peer \d+ sent a message from 2/)).toBe(true);
    // The good peer was never disturbed, and still works both ways.
    const before = [server.received.length, good.received.length];
    good.t.send([heartbeat(2, 1, 999_999)]);
    server.t.send([heartbeat(1, 2, 999_999)]);
    await waitFor(() => server.received.at(-1)?.term === 999_999 && good.received.at(-1)?.term === 999_999, 'good traffic after the fuzz');
    expect(server.received.length).toBeGreaterThan(before[0]!);
    expect(server.t.stats().peers[2]!.messagesIn).toBe(good.t.stats().peers[1]!.messagesOut);
    expect(good.t.stats().peers[1]!.dropped).toBe(0);
    expect(goodSent).toBeGreaterThan(10);
    expect(server.received.every((m) => m.from === 2)).toBe(true);
  });
});
