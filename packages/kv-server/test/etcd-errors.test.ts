import { status } from '@grpc/grpc-js';
import { PontoonError } from '@pontoon/raft';
import { describe, expect, it } from 'vitest';
import { ETCD_ERRORS, EtcdError, etcdErrorOf, type EtcdErrorName } from '../src/etcd-errors.js';

describe('etcd errors', () => {
  it('carry etcd\'s code and text to the wire and a stable Pontoon code', () => {
    const e = new EtcdError('Compacted');
    expect(e).toBeInstanceOf(PontoonError);
    expect(e.code).toBe('ERR_ETCD_COMPACTED');
    expect(e.toStatus()).toMatchObject({
      code: status.OUT_OF_RANGE,
      details: 'etcdserver: mvcc: required revision has been compacted',
    });
    expect(new EtcdError('LeaseTTLTooLarge').code).toBe('ERR_ETCD_LEASE_TTL_TOO_LARGE');
    expect(new EtcdError('PeerURLExist').code).toBe('ERR_ETCD_PEER_URL_EXIST');
  });

  it('have distinct messages and Pontoon codes, so a status names one error', () => {
    const names = Object.keys(ETCD_ERRORS) as EtcdErrorName[];
    expect(new Set(names.map((n) => ETCD_ERRORS[n][1])).size).toBe(names.length);
    expect(new Set(names.map((n) => new EtcdError(n).code)).size).toBe(names.length);
    for (const n of names) {
      const s = new EtcdError(n).toStatus();
      expect(etcdErrorOf(s)).toBe(n);
    }
  });

  it('are not recognized with the right text but another code', () => {
    expect(etcdErrorOf({ code: status.UNKNOWN, details: 'etcdserver: no leader' })).toBeUndefined();
    expect(etcdErrorOf({ code: status.UNAVAILABLE, details: 'etcdserver: no leader' })).toBe('NoLeader');
  });
});
