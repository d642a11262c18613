/**
 * The client port makes the URL-shaped `:authority` of etcd's Go clients (`http://host:port`,
 * sent by clientv3 when it dials one endpoint) acceptable to Node's HTTP/2 server, which resets
 * such streams. An HTTP/2 server behind a ClientPort stands in for the gRPC server; Node's HTTP/2
 * client sends the requests (nghttp2 encodes them, Huffman and dynamic table included).
 */
import fc from 'fast-check';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClientPort } from '../src/member/client-port.js';
import { decodeHuffman } from '../src/member/hpack-huffman.js';
import { RequestAuthorityFilter, rewriteAuthority } from '../src/member/request-authority.js';
import { freePort } from '../src/testing/index.js';

let backend: http2.Http2Server;
let backendPort: number;
let port: ClientPort;
let relayPort: number;

beforeAll(async () => {
  backend = http2.createServer();
  backend.on('stream', (stream, headers) => {
    stream.respond({ ':status': 200 });
    stream.end(JSON.stringify({ authority: headers[':authority'], big: String(headers['x-big'] ?? '').length }));
  });
  await new Promise<void>((resolve) => backend.listen(0, '127.0.0.1', resolve));
  backendPort = (backend.address() as AddressInfo).port;
  relayPort = await freePort();
  port = new ClientPort({
    host: '127.0.0.1',
    port: relayPort,
    // As grpc-js's connection injector does: the HTTP/2 server takes the stream it is handed.
    grpc: { injectConnection: (connection) => backend.emit('connection', connection) },
    http: (_req, res) => res.end('http/1.1'),
  });
  await port.listen();
});

afterAll(async () => {
  await port?.close();
  await new Promise<void>((resolve) => backend?.close(() => resolve()));
});

/** Sends one request per entry of `requests` on one session, in order; the answers or error codes. */
async function session(target: number, requests: ReadonlyArray<http2.OutgoingHttpHeaders>): Promise<Array<{ authority?: string; big?: number } | string>> {
  const client = http2.connect(`http://127.0.0.1:${target}`);
  client.on('error', () => undefined);
  const results: Array<{ authority?: string; big?: number } | string> = [];
  try {
    for (const headers of requests) {
      results.push(
        await new Promise((resolve) => {
          const req = client.request({ ':path': '/', ...headers });
          let body = '';
          req.setEncoding('utf8').on('data', (d: string) => (body += d));
          req.on('end', () => resolve(JSON.parse(body) as { authority?: string }));
          req.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
          req.end();
        }),
      );
    }
  } finally {
    client.close();
  }
  return results;
}

describe('URL-shaped :authority through the client port', () => {
  it('Node refuses it without the relay (the behaviour the relay works around)', async () => {
    const [r] = await session(backendPort, [{ ':authority': `http://127.0.0.1:${backendPort}` }]);
    expect(r).toBe('ERR_HTTP2_STREAM_ERROR');
  });

  it('every request of a session gets host:port, through the dynamic table and CONTINUATION frames', async () => {
    const url = `http://127.0.0.1:${relayPort}`;
    const big = 'b'.repeat(40_000);
    const results = await session(relayPort, [
      { ':authority': url, 'x-big': big },
      { ':authority': url },
      { ':authority': url },
      { ':authority': `https://127.0.0.1:${relayPort}/some/path` },
      { ':authority': url },
    ]);
    expect(results).toEqual([
      { authority: `127.0.0.1:${relayPort}`, big: 40_000 },
      { authority: `127.0.0.1:${relayPort}`, big: 0 },
      { authority: `127.0.0.1:${relayPort}`, big: 0 },
      { authority: `127.0.0.1:${relayPort}`, big: 0 },
      { authority: `127.0.0.1:${relayPort}`, big: 0 },
    ]);
  });

  it('keeps every character an authority may hold (Huffman-decoded from nghttp2)', async () => {
    const host = "AZaz09-._~!$&'()*+,;=@[]%2F:1";
    const [r] = await session(relayPort, [{ ':authority': `grpc+h2://${host}/x` }]);
    expect(r).toEqual({ authority: host, big: 0 });
  });

  it('leaves valid authorities alone', async () => {
    const results = await session(relayPort, [{ ':authority': `127.0.0.1:${relayPort}` }, { ':authority': 'localhost' }]);
    expect(results).toEqual([
      { authority: `127.0.0.1:${relayPort}`, big: 0 },
      { authority: 'localhost', big: 0 },
    ]);
  });
});

describe('RequestAuthorityFilter', () => {
  const preface = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');
  const frame = (type: number, flags: number, stream: number, payload: Buffer): Buffer => {
    const h = Buffer.alloc(9);
    h.writeUIntBE(payload.length, 0, 3);
    h[3] = type;
    h[4] = flags;
    h.writeUInt32BE(stream, 5);
    return Buffer.concat([h, payload]);
  };
  // HPACK: :method GET (static 2), :path / (static 4), :authority literal with indexing (name index 1).
  const block = (authority: string): Buffer => Buffer.concat([Buffer.from([0x82, 0x84, 0x41, authority.length]), Buffer.from(authority, 'latin1')]);
  const settings = frame(0x4, 0, 0, Buffer.alloc(0));

  it('passes a connection whose first request needs nothing, byte for byte, and stops looking', () => {
    const f = new RequestAuthorityFilter();
    const headers = frame(0x1, 0x5, 1, block('127.0.0.1:2379'));
    const input = Buffer.concat([preface, settings, headers]);
    // Split at every byte: frames straddle chunks.
    const out: Buffer[] = [];
    for (let i = 0; i < input.length; i++) out.push(...f.push(input.subarray(i, i + 1)));
    expect(Buffer.concat(out).equals(input)).toBe(true);
    expect(f.mode).toBe('passthrough');
    const later = frame(0x1, 0x5, 3, block('http://127.0.0.1:2379'));
    expect(Buffer.concat(f.push(later)).equals(later)).toBe(true);
  });

  it('rewrites a padded, prioritised HEADERS split over CONTINUATION, and keeps rewriting', () => {
    const f = new RequestAuthorityFilter();
    const b = block('http://127.0.0.1:2379');
    const priority = Buffer.from([0, 0, 0, 0, 15]);
    const headers = frame(0x1, 0x8 | 0x20 | 0x1, 1, Buffer.concat([Buffer.from([2]), priority, b.subarray(0, 5), Buffer.alloc(2)]));
    const continuation = frame(0x9, 0x4, 1, b.subarray(5));
    const data = frame(0x0, 0x1, 1, Buffer.from('payload'));
    const out = Buffer.concat(f.push(Buffer.concat([preface, settings, headers, continuation, data])));
    const expected = frame(0x1, 0x20 | 0x1 | 0x4, 1, Buffer.concat([priority, block('127.0.0.1:2379')]));
    expect(out.equals(Buffer.concat([preface, settings, expected, data]))).toBe(true);
    expect(f.mode).toBe('rewriting');
    const next = Buffer.concat(f.push(frame(0x1, 0x5, 3, block('http://10.0.0.1:2379'))));
    expect(next.equals(frame(0x1, 0x5, 3, block('10.0.0.1:2379')))).toBe(true);
  });

  it('holds a header block whose CONTINUATION comes in a later chunk, and sends it once', () => {
    for (const authority of ['127.0.0.1:2379', 'http://127.0.0.1:2379']) {
      const f = new RequestAuthorityFilter();
      const b = block(authority);
      const headers = frame(0x1, 0x1, 1, b.subarray(0, 4));
      const continuation = frame(0x9, 0x4, 1, b.subarray(4));
      const out = [...f.push(Buffer.concat([preface, settings, headers])), ...f.push(continuation)];
      const expected = authority.startsWith('http://') ? frame(0x1, 0x1 | 0x4, 1, block('127.0.0.1:2379')) : Buffer.concat([headers, continuation]);
      expect(Buffer.concat(out).equals(Buffer.concat([preface, settings, expected])), authority).toBe(true);
    }
  });

  // A fixed seed that always runs, plus a fresh one each run; fast-check's failure report
  // starts with the seed and path that replay it.
  it.each([['fixed', 20_261_207], ['fresh', Date.now() % 2 ** 31]])(
    'gives the same bytes however the stream is cut into chunks (%s seed %i)',
    (_kind, seed) => {
      const request = fc.record({
        url: fc.boolean(),
        // Where the block is cut into HEADERS and CONTINUATION frames.
        cuts: fc.uniqueArray(fc.integer({ min: 1, max: 20 }), { maxLength: 3 }),
        data: fc.uint8Array({ maxLength: 40 }),
      });
      const details = fc.check(
        fc.property(fc.array(request, { minLength: 1, maxLength: 6 }), fc.array(fc.integer({ min: 1, max: 400 }), { maxLength: 30 }), (requests, chunkEnds) => {
          const parts: Buffer[] = [preface, settings];
          const rewritten: Buffer[] = [preface, settings];
          requests.forEach((r, i) => {
            const stream = 2 * i + 1;
            const b = block(r.url ? `http://127.0.0.1:${2379 + i}` : `127.0.0.1:${2379 + i}`);
            const cuts = [0, ...r.cuts.filter((c) => c < b.length).sort((x, y) => x - y), b.length];
            const frames: Buffer[] = [];
            for (let k = 0; k + 1 < cuts.length; k++) {
              const last = k + 2 === cuts.length;
              frames.push(frame(k === 0 ? 0x1 : 0x9, last ? 0x4 : 0, stream, b.subarray(cuts[k], cuts[k + 1])));
            }
            const data = frame(0x0, 0x1, stream, Buffer.from(r.data));
            parts.push(...frames, data);
            // What goes on: the first request decides; on a rewriting connection a block with a
            // URL goes as one HEADERS frame, the others as they came.
            rewritten.push(...(r.url ? [frame(0x1, 0x4, stream, block(`127.0.0.1:${2379 + i}`))] : frames), data);
          });
          const input = Buffer.concat(parts);
          const expected = requests[0]!.url ? Buffer.concat(rewritten) : input;
          const f = new RequestAuthorityFilter();
          const out: Buffer[] = [];
          let from = 0;
          for (const end of [...new Set(chunkEnds)].sort((x, y) => x - y).filter((e) => e < input.length)) {
            out.push(...f.push(input.subarray(from, end)));
            from = end;
          }
          out.push(...f.push(input.subarray(from)));
          expect(Buffer.concat(out).equals(expected)).toBe(true);
        }),
        { seed, numRuns: 300 },
      );
      if (details.failed) throw new Error(fc.defaultReportMessage(details) ?? `failed with seed ${seed}`);
      expect(details.numRuns).toBe(300);
    },
  );

  it('gives up, unchanged, on a header block interrupted by another frame', () => {
    const f = new RequestAuthorityFilter();
    const headers = frame(0x1, 0x1, 1, block('http://127.0.0.1:2379'));
    const ping = frame(0x6, 0, 0, Buffer.alloc(8));
    const input = Buffer.concat([preface, headers, ping]);
    expect(Buffer.concat(f.push(input)).equals(input)).toBe(true);
    expect(f.mode).toBe('passthrough');
  });

  it('rewriteAuthority reads literal names and leaves malformed blocks alone', () => {
    const literalName = Buffer.concat([Buffer.from([0x00, 10]), Buffer.from(':authority'), Buffer.from([12]), Buffer.from('http://h:1/p')]);
    expect(rewriteAuthority(literalName)).toEqual(Buffer.concat([Buffer.from([0x00, 10]), Buffer.from(':authority'), Buffer.from([3]), Buffer.from('h:1')]));
    expect(rewriteAuthority(Buffer.from([0x41, 30, 0x68]))).toBeUndefined();
    expect(rewriteAuthority(block('no scheme here'))).toBeUndefined();
  });
});

describe('decodeHuffman', () => {
  it('decodes RFC 7541 C.4.1 and refuses bad padding', () => {
    const encoded = Buffer.from('f1e3c2e5f23a6ba0ab90f4ff', 'hex');
    expect(decodeHuffman(encoded)?.toString('latin1')).toBe('www.example.com');
    // 'a' is 00011: padded with ones it decodes, with zeros or with 8 bits of ones it does not.
    expect(decodeHuffman(Buffer.from([0x1f]))?.toString('latin1')).toBe('a');
    expect(decodeHuffman(Buffer.from([0x18]))).toBeUndefined();
    expect(decodeHuffman(Buffer.concat([encoded, Buffer.from([0xff])]))).toBeUndefined();
  });
});
