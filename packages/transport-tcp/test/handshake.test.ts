import { describe, expect, it } from 'vitest';
import { Packr } from 'msgpackr';
import { HandshakeError } from '../src/errors.js';
import { checkHello, decodeHello, decodeRefusal, encodeHello, encodeRefusal, PROTOCOL_VERSION } from '../src/handshake.js';
import { Backoff } from '../src/backoff.js';

const ctx = { clusterId: 'c1', selfId: 2, isKnownPeer: (id: number) => id === 1 || id === 3 };
const hello = { version: PROTOCOL_VERSION, clusterId: 'c1', from: 1, to: 2 };

function refusal(h: typeof hello): string | undefined {
  try {
    checkHello(decodeHello(encodeHello(h)), ctx);
    return undefined;
  } catch (e) {
    expect(e).toBeInstanceOf(HandshakeError);
    return (e as HandshakeError).reason;
  }
}

describe('handshake', () => {
  it('accepts a known peer of our cluster speaking our version', () => {
    expect(refusal(hello)).toBeUndefined();
  });
  it('refuses another version, another cluster, an unknown sender, another receiver', () => {
    expect(refusal({ ...hello, version: 99 })).toBe('version');
    expect(refusal({ ...hello, clusterId: 'c2' })).toBe('cluster');
    expect(refusal({ ...hello, from: 7 })).toBe('unknown-sender');
    expect(refusal({ ...hello, to: 3 })).toBe('wrong-receiver');
  });
  it('refuses hellos that are not ours as malformed', () => {
    const p = new Packr();
    for (const v of [[], ['pontoon', 1, 'c1', 1], ['other', 1, 'c1', 1, 2], ['pontoon', 1, 5, 1, 2], ['pontoon', 1, 'c1', 0, 2], { a: 1 }]) {
      expect(() => decodeHello(p.pack(v))).toThrow(HandshakeError);
    }
    expect(() => decodeHello(Uint8Array.of(0xc1))).toThrow(HandshakeError);
  });
  it('carries the refusal reason to the client', () => {
    const e = decodeRefusal(encodeRefusal(new HandshakeError('cluster', 'not ours')));
    expect([e.reason, e.message]).toEqual(['cluster', 'not ours']);
    expect(decodeRefusal(Uint8Array.of(1, 2)).reason).toBe('malformed');
  });
});

describe('Backoff', () => {
  it('grows exponentially to the ceiling, jittered within [base/2, base], and resets', () => {
    const lo = new Backoff({ initialMs: 100, maxMs: 1000, random: () => 0 });
    const hi = new Backoff({ initialMs: 100, maxMs: 1000, random: () => 0.999999 });
    expect(Array.from({ length: 6 }, () => lo.next())).toEqual([50, 100, 200, 400, 500, 500]);
    expect(Array.from({ length: 6 }, () => hi.next())).toEqual([100, 200, 400, 800, 1000, 1000]);
    lo.reset();
    expect(lo.next()).toBe(50);
  });
});
