/**
 * Majority and joint quorums: etcd's quorum scenario files (with the cross-checks of etcd's
 * quorum/datadriven_test.go) and the property of quorum/quick_test.go.
 */

import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { JointConfig } from '../src/quorum/joint.js';
import { MajorityConfig } from '../src/quorum/majority.js';
import {
  type AckedIndexer,
  type Index,
  INDEX_INFINITY,
  indexToString,
  MapAckIndexer,
  VoteResult,
  voteResultToString,
} from '../src/quorum/quorum.js';
import {
  describeMismatch,
  parseIntStrict,
  runDatadrivenFile,
  type TestData,
} from './conformance/datadriven.js';

const DATA_DIR = fileURLToPath(new URL('../../../../shared/conformance/etcd-raft/quorum', import.meta.url));

/**
 * A deliberately naive committed index: the largest acknowledged index that at least a quorum
 * of voters has reached (etcd's alternativeMajorityCommittedIndex).
 */
function alternativeMajorityCommittedIndex(c: MajorityConfig, l: AckedIndexer): Index {
  if (c.size === 0) return INDEX_INFINITY;
  const idToIdx = new Map<number, Index>();
  for (const id of c) {
    const idx = l.ackedIndex(id);
    if (idx !== undefined) idToIdx.set(id, idx);
  }
  // For every acknowledged index, the number of voters that acknowledged it or more.
  const idxToVotes = new Map<Index, number>();
  for (const idx of idToIdx.values()) idxToVotes.set(idx, 0);
  for (const idx of idToIdx.values()) {
    for (const [idy, n] of idxToVotes) if (idy <= idx) idxToVotes.set(idy, n + 1);
  }
  const q = Math.floor(c.size / 2) + 1;
  let maxQuorumIdx = 0;
  for (const [idx, n] of idxToVotes) if (n >= q && idx > maxQuorumIdx) maxQuorumIdx = idx;
  return maxQuorumIdx;
}

/** The semantics of etcd's quorum/datadriven_test.go. */
function runQuorumCase(d: TestData): string {
  let joint = false;
  const ids: number[] = [];
  const idsj: number[] = [];
  // Acknowledged indexes (or votes: 1 = no, 2 = yes) for the voters of (ids, idsj) in order,
  // without repetition; 0 stands for "_", no information.
  const idxs: Index[] = [];
  const votes: Index[] = [];
  const num = (v: string): number => {
    const n = parseIntStrict(v);
    if (n === undefined || n < 0) throw new Error(`${d.pos}: not a number: ${v}`);
    return n;
  };

  for (const arg of d.cmdArgs) {
    for (const v of arg.vals) {
      switch (arg.key) {
        case 'cfg':
          ids.push(num(v));
          break;
        case 'cfgj':
          joint = true;
          if (v === 'zero') {
            if (arg.vals.length !== 1) throw new Error(`${d.pos}: cannot mix 'zero' into configuration`);
          } else {
            idsj.push(num(v));
          }
          break;
        case 'idx': {
          let n = 0;
          if (v !== '_') {
            n = num(v);
            if (n === 0) throw new Error(`${d.pos}: cannot use 0 as idx`);
          }
          idxs.push(n);
          break;
        }
        case 'votes':
          if (v === 'y') votes.push(2);
          else if (v === 'n') votes.push(1);
          else if (v === '_') votes.push(0);
          else throw new Error(`${d.pos}: unknown vote: ${v}`);
          break;
        default:
          throw new Error(`${d.pos}: unknown arg ${arg.key}`);
      }
    }
  }

  const c = new MajorityConfig(ids);
  const cj = new MajorityConfig(idsj);

  const makeLookuper = (vals: Index[]): MapAckIndexer => {
    const l = new MapAckIndexer();
    let p = 0;
    for (const id of [...ids, ...idsj]) {
      if (l.indexes.has(id)) continue;
      if (p < vals.length) l.indexes.set(id, vals[p++]!);
    }
    // Placeholders were recorded as 0; "no entry" is not the same as "acknowledged 0".
    for (const [id, v] of l.indexes) if (v === 0) l.indexes.delete(id);
    return l;
  };

  {
    const input = d.cmd === 'vote' ? votes : idxs;
    const voters = new JointConfig(c, cj).ids();
    if (voters.size !== input.length) {
      return `error: mismatched input (explicit or _) for voters ${[...voters].join(' ')}: ${input.join(' ')}`;
    }
  }

  let buf = '';
  switch (d.cmd) {
    case 'committed': {
      const l = makeLookuper(idxs);
      if (!joint) {
        const idx = c.committedIndex(l);
        buf += c.describe(l);
        // Alternative computations that must agree; any disagreement shows in the output.
        const aIdx = alternativeMajorityCommittedIndex(c, l);
        if (aIdx !== idx) buf += `${indexToString(aIdx)} <-- via alternative computation\n`;
        const zIdx = new JointConfig(c, new MajorityConfig()).committedIndex(l);
        if (zIdx !== idx) buf += `${indexToString(zIdx)} <-- via zero-joint quorum\n`;
        const sIdx = new JointConfig(c, c).committedIndex(l);
        if (sIdx !== idx) buf += `${indexToString(sIdx)} <-- via self-joint quorum\n`;
        const overlay = (id: number, v: Index): AckedIndexer => {
          const ll = new MapAckIndexer();
          for (const iid of c) {
            if (iid === id) ll.indexes.set(iid, v);
            else {
              const x = l.ackedIndex(iid);
              if (x !== undefined) ll.indexes.set(iid, x);
            }
          }
          return ll;
        };
        for (const id of c) {
          const iidx = l.ackedIndex(id) ?? 0;
          if (idx > iidx && iidx > 0) {
            // With the committed index above this voter's, lowering the voter's index further
            // must not change it.
            const lo = c.committedIndex(overlay(id, iidx - 1));
            if (lo !== idx) buf += `${indexToString(lo)} <-- overlaying ${id}->${iidx}`;
            const lo0 = c.committedIndex(overlay(id, 0));
            if (lo0 !== idx) buf += `${indexToString(lo0)} <-- overlaying ${id}->0`;
          }
        }
        buf += `${indexToString(idx)}\n`;
      } else {
        const cc = new JointConfig(c, cj);
        buf += cc.describe(l);
        const idx = cc.committedIndex(l);
        // Swapping the halves must not matter.
        const aIdx = new JointConfig(cj, c).committedIndex(l);
        if (aIdx !== idx) buf += `${indexToString(aIdx)} <-- via symmetry\n`;
        buf += `${indexToString(idx)}\n`;
      }
      break;
    }
    case 'vote': {
      const ll = makeLookuper(votes);
      const l = new Map<number, boolean>();
      for (const [id, v] of ll.indexes) l.set(id, v !== 1); // 1 = no, 2 = yes
      if (!joint) {
        buf += `${voteResultToString(c.voteResult(l))}\n`;
      } else {
        const r = new JointConfig(c, cj).voteResult(l);
        const ar = new JointConfig(cj, c).voteResult(l);
        if (ar !== r) buf += `${voteResultToString(ar)} <-- via symmetry\n`;
        buf += `${voteResultToString(r)}\n`;
      }
      break;
    }
    default:
      throw new Error(`${d.pos}: unknown command: ${d.cmd}`);
  }
  return buf;
}

describe('quorum conformance (etcd-raft/quorum)', () => {
  const files = readdirSync(DATA_DIR)
    .filter((f) => f.endsWith('.txt'))
    .sort();

  it('finds the scenario files', () => {
    expect(files.length).toBeGreaterThan(0);
  });

  for (const file of files) {
    it(file, () => {
      const results = runDatadrivenFile(`${DATA_DIR}/${file}`, runQuorumCase);
      const failed = results.filter((r) => !r.ok);
      console.log(`quorum/${file}: ${results.length - failed.length}/${results.length} cases passed`);
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

  it('the empty configuration commits everything and wins every vote', () => {
    const c = new MajorityConfig();
    expect(c.committedIndex(new MapAckIndexer())).toBe(INDEX_INFINITY);
    expect(c.voteResult(new Map())).toBe(VoteResult.VoteWon);
  });
});
