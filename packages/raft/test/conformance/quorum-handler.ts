/**
 * The handler of etcd raft's quorum scenarios (quorum/datadriven_test.go): `committed` and
 * `vote` against a majority configuration `cfg`, joint with `cfgj` when given (`cfgj=zero`: an
 * empty outgoing half). Alternative computations that must agree are cross-checked, and any
 * disagreement shows in the output, as etcd's harness does.
 */
import { JointConfig } from '../../src/quorum/joint.js';
import { MajorityConfig } from '../../src/quorum/majority.js';
import {
  INDEX_INFINITY,
  MapAckIndexer,
  indexToString,
  voteResultToString,
  type AckedIndexer,
  type Index,
} from '../../src/quorum/quorum.js';
import { DatadrivenError, parseIntStrict, type DatadrivenHandler, type TestData } from './datadriven.js';

/** A fresh handler (quorum scenarios keep no state between directives). */
export function quorumHandler(): DatadrivenHandler {
  return runQuorumDirective;
}

function fail(d: TestData, msg: string): never {
  throw new DatadrivenError(`${d.pos}: ${d.cmd}: ${msg}`);
}

export function runQuorumDirective(d: TestData): string {
  let joint = false;
  const ids: number[] = [];
  const idsj: number[] = [];
  // Per voter of (ids, idsj) in order and without repetition: the acknowledged index, or for
  // votes 1 (no) / 2 (yes); 0 stands for `_`, no information.
  const idxs: Index[] = [];
  const votes: Index[] = [];
  const uint = (v: string): number => {
    const n = parseIntStrict(v);
    if (n === undefined || n < 0) fail(d, `not an unsigned integer: ${v}`);
    return n;
  };

  for (const arg of d.cmdArgs) {
    for (const v of arg.vals) {
      switch (arg.key) {
        case 'cfg':
          ids.push(uint(v));
          break;
        case 'cfgj':
          joint = true;
          if (v === 'zero') {
            if (arg.vals.length !== 1) fail(d, "cannot mix 'zero' into configuration");
          } else {
            idsj.push(uint(v));
          }
          break;
        case 'idx': {
          let n = 0;
          if (v !== '_') {
            n = uint(v);
            // 0 is how `_` is recorded.
            if (n === 0) fail(d, 'cannot use 0 as idx');
          }
          idxs.push(n);
          break;
        }
        case 'votes':
          if (v === 'y') votes.push(2);
          else if (v === 'n') votes.push(1);
          else if (v === '_') votes.push(0);
          else fail(d, `unknown vote: ${v}`);
          break;
        default:
          fail(d, `unknown arg ${arg.key}`);
      }
    }
  }

  const c = new MajorityConfig(ids);
  const cj = new MajorityConfig(idsj);

  // Maps the values to the voters in the order they appear, a voter of both halves once.
  const makeLookuper = (vals: readonly Index[]): MapAckIndexer => {
    const l = new MapAckIndexer();
    let p = 0;
    for (const id of [...ids, ...idsj]) {
      if (l.indexes.has(id)) continue;
      if (p < vals.length) l.indexes.set(id, vals[p++]!);
    }
    // "No entry" differs from "acknowledged 0": placeholders leave no entry.
    for (const [id, v] of l.indexes) if (v === 0) l.indexes.delete(id);
    return l;
  };

  const input = d.cmd === 'vote' ? votes : idxs;
  const voters = new JointConfig(c, cj).ids();
  if (voters.size !== input.length) {
    const sorted = [...voters].sort((a, b) => a - b);
    return (
      `error: mismatched input (explicit or _) for voters map[${sorted.map((id) => `${id}:{}`).join(' ')}]: ` +
      `[${input.map(indexToString).join(' ')}]`
    );
  }

  let buf = '';
  switch (d.cmd) {
    case 'committed': {
      const l = makeLookuper(idxs);
      if (!joint) {
        const idx = c.committedIndex(l);
        buf += c.describe(l);
        const aIdx = alternativeMajorityCommittedIndex(c, l);
        if (aIdx !== idx) buf += `${indexToString(aIdx)} <-- via alternative computation\n`;
        // Joint with the empty majority, or with itself: the same quorum.
        const zIdx = new JointConfig(c, new MajorityConfig()).committedIndex(l);
        if (zIdx !== idx) buf += `${indexToString(zIdx)} <-- via zero-joint quorum\n`;
        const sIdx = new JointConfig(c, c).committedIndex(l);
        if (sIdx !== idx) buf += `${indexToString(sIdx)} <-- via self-joint quorum\n`;
        const overlay = (id: number, v: Index): AckedIndexer => {
          const ll = new MapAckIndexer();
          for (const iid of c) {
            if (iid === id) {
              ll.indexes.set(iid, v);
            } else {
              const x = l.ackedIndex(iid);
              if (x !== undefined) ll.indexes.set(iid, x);
            }
          }
          return ll;
        };
        for (const id of c) {
          const iidx = l.ackedIndex(id) ?? 0;
          if (idx > iidx && iidx > 0) {
            // The committed index is above this voter's: lowering the voter further must not
            // move it.
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
        // Which half is incoming must not matter.
        const aIdx = new JointConfig(cj, c).committedIndex(l);
        if (aIdx !== idx) buf += `${indexToString(aIdx)} <-- via symmetry\n`;
        buf += `${indexToString(idx)}\n`;
      }
      break;
    }
    case 'vote': {
      const ll = makeLookuper(votes);
      const l = new Map<number, boolean>();
      for (const [id, v] of ll.indexes) l.set(id, v !== 1);
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
      fail(d, `unknown command: ${d.cmd}`);
  }
  return buf;
}

/**
 * A deliberately naive committed index, etcd's alternativeMajorityCommittedIndex line for line:
 * the largest acknowledged index that at least a quorum of voters has reached. Also the oracle
 * of the committed-index properties in quorum.test.ts.
 */
export function alternativeMajorityCommittedIndex(c: MajorityConfig, l: AckedIndexer): Index {
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
