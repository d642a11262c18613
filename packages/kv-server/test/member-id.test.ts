import { describe, expect, it } from 'vitest';
import { InvalidUrlError, MemberIdError } from '../src/errors.js';
import { parseEtcdUrlsMap, parseEtcdUrls } from '../src/etcd-urls.js';
import {
  computeClusterId,
  computeMemberId,
  formatMemberId,
  initialClusterIds,
  parseMemberId,
} from '../src/member-id.js';

describe('member and cluster ids', () => {
  it('match ids etcd 3.4.23 reported for a recorded one-member cluster', () => {
    // etcd --name a --initial-cluster a=http://127.0.0.1:23801 (token etcd-cluster), then
    // `etcdctl member list -w json`: member 13668033151171901709, cluster 15118495548433857066.
    const { members, clusterId } = initialClusterIds('a=http://127.0.0.1:23801', 'etcd-cluster');
    expect(members).toEqual([{ name: 'a', peerUrls: ['http://127.0.0.1:23801'], id: 13668033151171901709n }]);
    expect(clusterId).toBe(15118495548433857066n);
    expect(formatMemberId(members[0]!.id)).toBe('bdae9bbc11dd390d');
  });

  it('hash the peer URLs in sorted order, so the order given does not matter', () => {
    const a = computeMemberId(['http://10.0.0.2:2380', 'http://10.0.0.1:2380'], 't');
    const b = computeMemberId(['http://10.0.0.1:2380', 'http://10.0.0.2:2380'], 't');
    expect(a).toBe(b);
    expect(computeMemberId(['http://10.0.0.1:2380'], 't')).not.toBe(a);
  });

  it('change with the token and with the time of a runtime add', () => {
    const urls = ['http://127.0.0.1:2380'];
    const ids = new Set([
      computeMemberId(urls, 'etcd-cluster'),
      computeMemberId(urls, 'other'),
      computeMemberId(urls, 'etcd-cluster', 1_700_000_000),
      computeMemberId(urls, 'etcd-cluster', 1_700_000_001),
    ]);
    expect(ids.size).toBe(4);
  });

  it('give a cluster id that does not depend on the order of members', () => {
    expect(computeClusterId([1n, 2n, 3n])).toBe(computeClusterId([3n, 1n, 2n]));
    expect(computeClusterId([1n, 2n])).not.toBe(computeClusterId([1n, 2n, 3n]));
  });

  it('refuse two members with the same peer URLs, as etcd does', () => {
    expect(() => initialClusterIds('a=http://h:1,b=http://h:1', 't')).toThrow(MemberIdError);
    expect(() => initialClusterIds('a=http://h:1,b=http://h:1', 't')).toThrow(/member exists with identical ID/);
  });

  it('take a member listed with several URLs as one member', () => {
    const { members } = initialClusterIds('a=http://h:2,a=http://h:1,b=http://h:3', 't');
    expect(members.map((m) => [m.name, m.peerUrls])).toEqual(
      expect.arrayContaining([
        ['a', ['http://h:1', 'http://h:2']],
        ['b', ['http://h:3']],
      ]),
    );
    expect(members).toHaveLength(2);
  });

  it('print and parse ids as etcd does (hex, unpadded)', () => {
    expect(formatMemberId(0x0123n)).toBe('123');
    expect(parseMemberId('00bdae9bbc11dd390d'.slice(2))).toBe(13668033151171901709n);
    expect(() => parseMemberId('xyz')).toThrow(MemberIdError);
  });
});

describe('etcd URL lists', () => {
  it('sort, trim and print URLs as Go does: scheme lower-cased, host kept', () => {
    expect(parseEtcdUrls([' HTTP://B:1', 'http://A:2 '])).toEqual(['http://A:2', 'http://B:1']);
    expect(parseEtcdUrls(['https://[::1]:2379', 'unix://localhost:1'])).toEqual(['https://[::1]:2379', 'unix://localhost:1']);
  });

  it.each([
    [[], 'no valid URLs given'],
    [['ftp://h:1'], 'URL scheme must be http, https, unix, or unixs: ftp://h:1'],
    [['127.0.0.1:2379'], 'URL scheme must be http, https, unix, or unixs: 127.0.0.1:2379'],
    [['http://h'], 'URL address does not have the form "host:port": http://h'],
    [['http://::1:2379'], 'URL address does not have the form "host:port": http://::1:2379'],
    [['http://h:1/x'], 'URL must not contain a path: http://h:1/x'],
    [['http://h:1/'], 'URL must not contain a path: http://h:1/'],
  ])('refuse %j with etcd\'s message', (input, message) => {
    expect(() => parseEtcdUrls(input)).toThrow(InvalidUrlError);
    expect(() => parseEtcdUrls(input)).toThrow(message);
  });

  it('read name=url maps, skipping empty items', () => {
    expect([...parseEtcdUrlsMap('a=http://h:1,,b=http://h:2,')]).toEqual([
      ['a', ['http://h:1']],
      ['b', ['http://h:2']],
    ]);
    expect(() => parseEtcdUrlsMap('a')).toThrow('URL scheme must be');
  });
});
