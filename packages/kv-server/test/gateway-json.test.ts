import fc from 'fast-check';
import { assertProperty, freshSeed } from '@pontoon/sim';
import { describe, expect, it } from 'vitest';
import { loadEtcdProtos } from '../src/etcd-protos.js';
import { decodeGoBase64 } from '../src/gateway/go-base64.js';
import { GoJsonError, decodeNext, goJsonString, unmarshalWhole } from '../src/gateway/go-json.js';
import { ProtoJson, protoJsonName } from '../src/gateway/proto-json.js';

/**
 * The gateway's JSON layer on its own. Its agreement with etcd's gateway, error texts included,
 * is checked against a real etcd in grpc-gateway.etcd.test.ts; here, properties over many
 * messages and bodies: what it writes it reads back to the same bytes on the wire, and no body
 * makes it fail in any way but with Go's kind of error.
 */

const { packageDefinition } = loadEtcdProtos();
const json = new ProtoJson(packageDefinition);

interface Codec {
  serialize(m: unknown): Buffer;
  deserialize(b: Buffer): Record<string, unknown>;
}
const codec = (name: string): Codec => packageDefinition[name] as unknown as Codec;

const SEEDS = (): { seed: number; numRuns: number }[] => [
  { seed: 20_261_207, numRuns: 300 },
  { seed: freshSeed(), numRuns: 300 },
];

const bytes = fc.uint8Array({ maxLength: 40 }).map((a) => Buffer.from(a));
const int64 = fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map(String);
const revision = fc.bigInt({ min: 0n, max: 2n ** 63n - 1n }).map(String);

const requestOp = fc.oneof(
  fc.record({ request_range: fc.record({ key: bytes, range_end: bytes, limit: int64, revision, sort_order: fc.constantFrom('NONE', 'ASCEND', 'DESCEND'), keys_only: fc.boolean() }) }),
  fc.record({ request_put: fc.record({ key: bytes, value: bytes, lease: int64, prev_kv: fc.boolean() }) }),
  fc.record({ request_delete_range: fc.record({ key: bytes, range_end: bytes, prev_kv: fc.boolean() }) }),
);
const compare = fc.record({
  key: bytes,
  result: fc.constantFrom('EQUAL', 'GREATER', 'LESS', 'NOT_EQUAL'),
  target: fc.constantFrom('VERSION', 'CREATE', 'MOD', 'VALUE', 'LEASE'),
  value: bytes,
});
const txnRequest = fc.record({ compare: fc.array(compare, { maxLength: 3 }), success: fc.array(requestOp, { maxLength: 3 }), failure: fc.array(requestOp, { maxLength: 3 }) });

const keyValue = fc.record({ key: bytes, create_revision: revision, mod_revision: revision, version: int64, value: bytes, lease: int64 });
const rangeResponse = fc.record({
  header: fc.record({ cluster_id: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }).map(String), member_id: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }).map(String), revision, raft_term: revision }),
  kvs: fc.array(keyValue, { maxLength: 4 }),
  more: fc.boolean(),
  count: int64,
});

describe('the gateway JSON of etcd messages', () => {
  it('reads back what it writes: the same message (requests and responses)', () => {
    let runs = 0;
    const roundTrip = (name: string, message: unknown): void => {
      runs++;
      const c = codec(name);
      const wire = c.serialize(message);
      const text = json.fromMessage(name, c.deserialize(wire));
      const parsed = decodeNext(Buffer.from(text), 0);
      expect(parsed?.end).toBe(Buffer.byteLength(text));
      // proto3 may put a zero value on the wire or leave it off: compare what the bytes mean.
      expect(c.deserialize(c.serialize(json.toMessage(name, parsed!.value)))).toEqual(c.deserialize(wire));
      // JSON any parser accepts, with Go's escapes: no raw <, > or &.
      expect(() => JSON.parse(text) as unknown).not.toThrow();
      expect(text).not.toMatch(/[<>&]/);
    };
    for (const runsOf of SEEDS()) {
      assertProperty(fc.property(txnRequest, (m) => roundTrip('etcdserverpb.TxnRequest', m)), runsOf);
      assertProperty(fc.property(rangeResponse, (m) => roundTrip('etcdserverpb.RangeResponse', m)), runsOf);
    }
    expect(runs).toBe(4 * 300);
  });

  it('fails on any body only with Go\'s kind of error', () => {
    let refused = 0;
    let accepted = 0;
    const body = fc.oneof(
      fc.string({ maxLength: 60 }),
      fc.json({ maxDepth: 3 }),
      // Valid requests with one byte changed.
      fc.tuple(txnRequest, fc.nat(), fc.integer({ min: 0, max: 255 })).map(([m, at, byte]) => {
        const c = codec('etcdserverpb.TxnRequest');
        const text = Buffer.from(json.fromMessage('etcdserverpb.TxnRequest', c.deserialize(c.serialize(m))));
        text[at % text.length] = byte;
        return text.toString('latin1');
      }),
    );
    for (const runsOf of SEEDS()) {
      assertProperty(
        fc.property(body, (text) => {
          try {
            const parsed = decodeNext(Buffer.from(text, 'latin1'), 0);
            if (parsed !== undefined) codec('etcdserverpb.TxnRequest').serialize(json.toMessage('etcdserverpb.TxnRequest', parsed.value));
            accepted++;
          } catch (err) {
            if (!(err instanceof GoJsonError)) throw err;
            expect(err.message).not.toBe('');
            refused++;
          }
        }),
        runsOf,
      );
    }
    expect(accepted + refused).toBe(600);
    // Both outcomes were exercised.
    expect(accepted).toBeGreaterThan(20);
    expect(refused).toBeGreaterThan(20);
  });

  it('reads base64 as Go does: any bytes, with line breaks anywhere', () => {
    let runs = 0;
    for (const runsOf of SEEDS()) {
      assertProperty(
        fc.property(fc.uint8Array({ maxLength: 64 }), fc.array(fc.nat(), { maxLength: 4 }), (data, breaks) => {
          runs++;
          const chars = [...Buffer.from(data).toString('base64')];
          for (const at of breaks) chars.splice(at % (chars.length + 1), 0, '\n');
          expect(decodeGoBase64(Buffer.from(chars.join('')))).toEqual(Buffer.from(data));
        }),
        runsOf,
      );
    }
    expect(runs).toBe(600);
    // Go's offsets for what it refuses (checked against etcd 3.4.23's gateway).
    const offset = (s: string): string => {
      try {
        decodeGoBase64(Buffer.from(s));
        return 'accepted';
      } catch (err) {
        return (err as Error).message;
      }
    };
    expect(offset('Zm9')).toBe('illegal base64 data at input byte 0');
    expect(offset('Zm9v_-')).toBe('illegal base64 data at input byte 4');
    expect(offset('Z===')).toBe('illegal base64 data at input byte 1');
    expect(offset('Zg==Zg==')).toBe('illegal base64 data at input byte 4');
    expect(offset('Zg=')).toBe('illegal base64 data at input byte 3');
    expect(offset('Zm9v')).toBe('accepted');
  });

  it('parses as Go\'s decoder: one value, Go\'s texts for the rest', () => {
    const error = (s: string): string => {
      try {
        decodeNext(Buffer.from(s), 0);
        return 'accepted';
      } catch (err) {
        return (err as Error).message;
      }
    };
    expect(decodeNext(Buffer.from('  \n'), 0)).toBeUndefined();
    expect(decodeNext(Buffer.from('{"a":1} rest'), 0)?.end).toBe(7);
    expect(error('{"a":1,}')).toBe('invalid character \'}\' looking for beginning of object key string');
    expect(error('[1 2]')).toBe('invalid character \'2\' after array element');
    expect(error('"\\u12x4"')).toBe('invalid character \'x\' in \\u hexadecimal character escape');
    expect(error('nul')).toBe('unexpected EOF');
    expect(error('\u00e9')).toBe('invalid character \'Ã\' looking for beginning of value');
    expect(error('\'')).toBe('invalid character \'\\\'\' looking for beginning of value');
    expect(() => unmarshalWhole(Buffer.from(''))).toThrow('unexpected end of JSON input');
    expect(() => unmarshalWhole(Buffer.from('1 2'))).toThrow('invalid character \'2\' after top-level value');
  });

  it('names fields as protoc does and escapes strings as Go does', () => {
    expect(protoJsonName('range_end')).toBe('rangeEnd');
    expect(protoJsonName('ID')).toBe('ID');
    expect(protoJsonName('peerURLs')).toBe('peerURLs');
    expect(protoJsonName('prev_kv')).toBe('prevKv');
    expect(goJsonString('a<b>&\u2028"\\\n\u0001\u007f')).toBe('"a\\u003cb\\u003e\\u0026\\u2028\\"\\\\\\n\\u0001\u007f"');
  });
});
