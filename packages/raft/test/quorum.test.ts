/**
 * Majority and joint quorums: etcd's quorum scenario files (with the cross-checks of etcd's
 * quorum/datadriven_test.go) and the property of quorum/quick_test.go.
 */

import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { JointConfig } from '../src/quorum/joint.js';
import { MajorityConfig } from '../src/quorum/majority.js';
import { INDEX_INFINITY, indexToString, MapAckIndexer, VoteResult, voteResultToString } from '../src/quorum/quorum.js';
import { describeMismatch, runDatadrivenText } from './conformance/datadriven.js';
import { alternativeMajorityCommittedIndex } from './conformance/quorum-handler.js';
import { runSuiteFile, suiteFiles, suites } from './conformance/suites.js';

const DATA_DIR = fileURLToPath(new URL('../../../../shared/conformance/etcd-raft/quorum', import.meta.url));

// The handler (with etcd's cross-checks) is the conformance suite's: conformance/quorum-handler.ts.
describe('quorum conformance (etcd-raft/quorum)', () => {
  const files = suiteFiles(DATA_DIR);

  it('finds the scenario files', () => {
    expect(files.length).toBeGreaterThan(0);
  });

  for (const file of files) {
    it(basename(file), () => {
      const results = runSuiteFile(suites.quorum!, file);
      const failed = results.filter((r) => !r.ok);
      console.log(`quorum/${basename(file)}: ${results.length - failed.length}/${results.length} cases passed`);
      expect(failed.map((r) => describeMismatch(r)).join('\n\n')).toBe('');
      expect(results.length).toBeGreaterThan(0);
    });
  }
});

/** A small map of ids to indexes, shaped like etcd's smallRandIdxMap: n < 10 distinct ids < 2n. */
const smallIdxMap = fc
  .integer({ min: 0, max: 9 })
  .chain((n) =>
    fc.tuple(
      fc.shuffledSubarray(
        Array.from({ length: 2 * n }, (_, i) => i),
        { minLength: n, maxLength: n },
      ),
      fc.array(fc.integer({ min: 0, max: Math.max(0, n - 1) }), { minLength: n, maxLength: n }),
    ),
  )
  .map(([ids, idxs]) => new Map(ids.map((id, i) => [id, idxs[i]!] as const)));

describe('quorum properties (etcd quorum/quick_test.go)', () => {
  it('committedIndex agrees with a naive computation', () => {
    fc.assert(
      fc.property(smallIdxMap, smallIdxMap, (members, acked) => {
        const c = new MajorityConfig(members.keys());
        const l = new MapAckIndexer(acked);
        expect(c.committedIndex(l)).toBe(alternativeMajorityCommittedIndex(c, l));
      }),
      { seed: 20190601, numRuns: 50_000 },
    );
  });

  it('committedIndex agrees with a naive computation on large configurations', () => {
    // Larger than any scratch buffer preallocation, with shared and missing acknowledgements.
    const big = fc.uniqueArray(fc.integer({ min: 1, max: 60 }), { minLength: 0, maxLength: 40 });
    fc.assert(
      fc.property(big, fc.array(fc.option(fc.integer({ min: 0, max: 20 }), { nil: undefined })), (ids, acks) => {
        const c = new MajorityConfig(ids);
        const l = new MapAckIndexer();
        ids.forEach((id, i) => {
          const a = acks[i];
          if (a !== undefined) l.indexes.set(id, a);
        });
        expect(c.committedIndex(l)).toBe(alternativeMajorityCommittedIndex(c, l));
      }),
      { seed: 7, numRuns: 5_000 },
    );
  });

  it('a joint configuration is symmetric and no more permissive than either half', () => {
    fc.assert(
      fc.property(smallIdxMap, smallIdxMap, smallIdxMap, (m1, m2, acked) => {
        const c1 = new MajorityConfig(m1.keys());
        const c2 = new MajorityConfig(m2.keys());
        const l = new MapAckIndexer(acked);
        const j = new JointConfig(c1, c2).committedIndex(l);
        expect(new JointConfig(c2, c1).committedIndex(l)).toBe(j);
        expect(j).toBe(Math.min(c1.committedIndex(l), c2.committedIndex(l)));
        const votes = new Map([...acked].map(([id, v]) => [id, v % 2 === 0] as const));
        expect(new JointConfig(c1, c2).voteResult(votes)).toBe(new JointConfig(c2, c1).voteResult(votes));
      }),
      { seed: 4242, numRuns: 5_000 },
    );
  });
});

describe('quorum basics', () => {
  it('prints configurations as etcd does', () => {
    expect(new MajorityConfig([3, 1, 2]).toString()).toBe('(1 2 3)');
    expect(new MajorityConfig().toString()).toBe('()');
    expect(new JointConfig(new MajorityConfig([1, 2]), new MajorityConfig([3, 2])).toString()).toBe('(1 2)&&(2 3)');
    expect(new JointConfig(new MajorityConfig([2, 1])).toString()).toBe('(1 2)');
    expect(new MajorityConfig([10, 9, 100]).slice()).toEqual([9, 10, 100]);
    expect(voteResultToString(VoteResult.VotePending)).toBe('VotePending');
    expect(indexToString(INDEX_INFINITY)).toBe('∞');
  });

  it('the scenario handler reports input that does not match the voters as etcd does', () => {
    const text =
      'committed cfg=(1,2) cfgj=(2,3) idx=(5,_)\n----\n' +
      'error: mismatched input (explicit or _) for voters map[1:{} 2:{} 3:{}]: [5 0]\n';
    const results = runDatadrivenText(text, 'synthetic', suites.quorum!.newHandler());
    expect(results).toHaveLength(1);
    expect(results[0]!.ok, describeMismatch(results[0]!)).toBe(true);
  });

  it('the empty configuration commits everything and wins every vote', () => {
    const c = new MajorityConfig();
    expect(c.committedIndex(new MapAckIndexer())).toBe(INDEX_INFINITY);
    expect(c.voteResult(new Map())).toBe(VoteResult.VoteWon);
  });
});
