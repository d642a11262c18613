/**
 * Conf change helpers: v1/v2 views, joint consensus decisions (etcd's raftpb/confchange_test.go),
 * the text form, ConfState equivalence and the binary codec of conf change entries.
 */

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { asV1, confChangeAsV2, confStateEquivalent, decodeConfChange, decodeConfChangeV2, encodeConfChange, encodeConfChangeV2, enterJoint, isConfChangeV2, leaveJoint, marshalConfChange } from '../src/conf-change.js';
import { confChangesFromString, confChangesToString } from './support/conf-change-text.js';
import { ConfChangeError, DecodeError } from '../src/errors.js';
import {
  type ConfChange,
  ConfChangeTransition,
  ConfChangeType,
  type ConfChangeV2,
  EntryType,
} from '../src/types.js';

const { ConfChangeTransitionAuto: Auto, ConfChangeTransitionJointImplicit: Implicit, ConfChangeTransitionJointExplicit: Explicit } =
  ConfChangeTransition;
const add = (nodeId: number) => ({ type: ConfChangeType.ConfChangeAddNode, nodeId });
const rem = (nodeId: number) => ({ type: ConfChangeType.ConfChangeRemoveNode, nodeId });

describe('joint consensus decisions', () => {
  it('leaveJoint is true only for the zero ConfChangeV2 (context aside)', () => {
    const cases: [string, ConfChangeV2, boolean][] = [
      ['empty conf change', { transition: Auto, changes: [] }, true],
      ['empty changes with context', { transition: Auto, changes: [], context: new TextEncoder().encode('some context') }, true],
      ['non-empty changes', { transition: Auto, changes: [add(0)] }, false],
      ['joint implicit transition with empty changes', { transition: Implicit, changes: [] }, false],
      ['joint explicit transition with empty changes', { transition: Explicit, changes: [] }, false],
      ['auto transition with multiple changes', { transition: Auto, changes: [add(0), rem(0)] }, false],
    ];
    for (const [name, cc, want] of cases) expect(leaveJoint(cc), name).toBe(want);
  });

  it('enterJoint uses joint consensus when asked to or for more than one change', () => {
    expect(enterJoint({ transition: Auto, changes: [] })).toEqual({ autoLeave: false, ok: false });
    expect(enterJoint({ transition: Auto, changes: [add(2)] })).toEqual({ autoLeave: false, ok: false });
    expect(enterJoint({ transition: Auto, changes: [add(2), add(3)] })).toEqual({ autoLeave: true, ok: true });
    expect(enterJoint({ transition: Implicit, changes: [add(2)] })).toEqual({ autoLeave: true, ok: true });
    expect(enterJoint({ transition: Implicit, changes: [] })).toEqual({ autoLeave: true, ok: true });
    expect(enterJoint({ transition: Explicit, changes: [add(2)] })).toEqual({ autoLeave: false, ok: true });
    expect(enterJoint({ transition: Explicit, changes: [add(2), rem(3)] })).toEqual({ autoLeave: false, ok: true });
    expect(() => enterJoint({ transition: 7 as ConfChangeTransition, changes: [] })).toThrow(ConfChangeError);
  });

  it('views a v1 change as v2 and back', () => {
    const ctx = new Uint8Array([1, 2]);
    const v1: ConfChange = { type: ConfChangeType.ConfChangeAddLearnerNode, nodeId: 4, context: ctx };
    expect(isConfChangeV2(v1)).toBe(false);
    expect(asV1(v1)).toBe(v1);
    expect(confChangeAsV2(v1)).toEqual({ transition: Auto, changes: [{ type: ConfChangeType.ConfChangeAddLearnerNode, nodeId: 4 }], context: ctx });
    const v2: ConfChangeV2 = { transition: Explicit, changes: [add(1)] };
    expect(isConfChangeV2(v2)).toBe(true);
    expect(asV1(v2)).toBeUndefined();
    expect(confChangeAsV2(v2)).toBe(v2);
  });
});

describe('text form', () => {
  it('parses and prints v/l/r/u operations', () => {
    const ccs = confChangesFromString(' v1 l2 r3 u4 ');
    expect(ccs).toEqual([
      add(1),
      { type: ConfChangeType.ConfChangeAddLearnerNode, nodeId: 2 },
      rem(3),
      { type: ConfChangeType.ConfChangeUpdateNode, nodeId: 4 },
    ]);
    expect(confChangesToString(ccs)).toBe('v1 l2 r3 u4');
    expect(confChangesFromString('')).toEqual([]);
    expect(confChangesFromString('   ')).toEqual([]);
    expect(confChangesToString([])).toBe('');
  });

  it('refuses malformed operations', () => {
    for (const s of ['v', 'x1', 'v1  v2', 'v-1', 'v1a', 'v99999999999999999999']) {
      expect(() => confChangesFromString(s), s).toThrow(ConfChangeError);
    }
  });
});

describe('ConfState equivalence', () => {
  it('ignores order, not content', () => {
    const a = { voters: [3, 1, 2], learners: [5, 4], votersOutgoing: [2, 1], learnersNext: [], autoLeave: true };
    const b = { voters: [1, 2, 3], learners: [4, 5], votersOutgoing: [1, 2], learnersNext: [], autoLeave: true };
    expect(confStateEquivalent(a, b)).toBeUndefined();
    expect(a.voters).toEqual([3, 1, 2]); // inputs untouched
    expect(confStateEquivalent(a, { ...b, autoLeave: false })).toMatch(/not equivalent/);
    expect(confStateEquivalent(a, { ...b, learnersNext: [4] })).toMatch(/not equivalent/);
    expect(confStateEquivalent(a, { ...b, voters: [1, 2] })).toMatch(/not equivalent/);
  });
});

const bytes = fc.uint8Array({ maxLength: 40 });
const nodeId = fc.oneof(fc.integer({ min: 0, max: 300 }), fc.constant(Number.MAX_SAFE_INTEGER), fc.maxSafeNat());
const changeType = fc.constantFrom(
  ConfChangeType.ConfChangeAddNode,
  ConfChangeType.ConfChangeRemoveNode,
  ConfChangeType.ConfChangeUpdateNode,
  ConfChangeType.ConfChangeAddLearnerNode,
);
const confChangeV1: fc.Arbitrary<ConfChange> = fc
  .record({ type: changeType, nodeId, context: fc.option(bytes, { nil: undefined }) })
  .map(({ context, ...cc }) => (context === undefined ? cc : { ...cc, context }));
const confChangeV2: fc.Arbitrary<ConfChangeV2> = fc
  .record({
    transition: fc.constantFrom(Auto, Implicit, Explicit),
    changes: fc.array(fc.record({ type: changeType, nodeId }), { maxLength: 12 }),
    context: fc.option(bytes, { nil: undefined }),
  })
  .map(({ context, ...cc }) => (context === undefined ? cc : { ...cc, context }));

/** Runs `f` and reports whether it threw something other than DecodeError. */
function decodesOrDecodeError(f: () => unknown): void {
  try {
    f();
  } catch (e) {
    if (!(e instanceof DecodeError)) throw e;
  }
}

describe('conf change codec', () => {
  it('round-trips v1 changes, context included', () => {
    fc.assert(
      fc.property(confChangeV1, (cc) => {
        const b = encodeConfChange(cc);
        expect(decodeConfChange(b)).toEqual(cc);
        // Stable: re-encoding gives the same bytes.
        expect(encodeConfChange(decodeConfChange(b))).toEqual(b);
      }),
      { seed: 101, numRuns: 2000 },
    );
  });

  it('round-trips v2 changes, context included', () => {
    fc.assert(
      fc.property(confChangeV2, (cc) => {
        const b = encodeConfChangeV2(cc);
        expect(decodeConfChangeV2(b)).toEqual(cc);
        expect(encodeConfChangeV2(decodeConfChangeV2(b))).toEqual(b);
      }),
      { seed: 102, numRuns: 2000 },
    );
  });

  it('keeps an empty context apart from no context, and does not alias the input', () => {
    const withEmpty = decodeConfChange(encodeConfChange({ ...add(1), context: new Uint8Array(0) }));
    expect(withEmpty.context).toEqual(new Uint8Array(0));
    expect(decodeConfChange(encodeConfChange(add(1))).context).toBeUndefined();
    const b = encodeConfChangeV2({ transition: Auto, changes: [], context: new Uint8Array([9, 9]) });
    const cc = decodeConfChangeV2(b);
    b.fill(0);
    expect(cc.context).toEqual(new Uint8Array([9, 9]));
  });

  it('decodes an empty payload as the zero change (how raft leaves joint consensus)', () => {
    expect(decodeConfChangeV2(new Uint8Array(0))).toEqual({ transition: Auto, changes: [] });
    expect(leaveJoint(decodeConfChangeV2(new Uint8Array(0)))).toBe(true);
    expect(decodeConfChange(new Uint8Array(0))).toEqual(add(0));
  });

  it('throws only DecodeError on garbage', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (b) => {
        decodesOrDecodeError(() => decodeConfChange(b));
        decodesOrDecodeError(() => decodeConfChangeV2(b));
      }),
      { seed: 103, numRuns: 20_000 },
    );
  });

  it('throws only DecodeError on corrupted encodings', () => {
    // Valid encodings with a byte flipped, truncated or extended are the likeliest garbage.
    fc.assert(
      fc.property(
        confChangeV2,
        fc.nat(),
        fc.integer({ min: 0, max: 255 }),
        fc.constantFrom('flip', 'truncate', 'extend'),
        (cc, pos, v, how) => {
          const b = encodeConfChangeV2(cc);
          let g: Uint8Array;
          if (how === 'flip') {
            g = b.slice();
            g[pos % g.length] = v;
          } else if (how === 'truncate') {
            g = b.slice(0, pos % b.length);
          } else {
            g = new Uint8Array([...b, v]);
          }
          decodesOrDecodeError(() => decodeConfChangeV2(g));
          decodesOrDecodeError(() => decodeConfChange(g));
        },
      ),
      { seed: 104, numRuns: 20_000 },
    );
  });

  it('refuses specific malformed inputs', () => {
    const v1 = encodeConfChange(add(5));
    const v2 = encodeConfChangeV2({ transition: Auto, changes: [add(5)] });
    const bad: [string, Uint8Array, (b: Uint8Array) => unknown][] = [
      ['v2 bytes as v1', v2, decodeConfChange],
      ['v1 bytes as v2', v1, decodeConfChangeV2],
      ['unknown format', new Uint8Array([9, 0, 0, 0]), decodeConfChange],
      ['trailing byte', new Uint8Array([...v1, 0]), decodeConfChange],
      ['truncated', v1.subarray(0, 2), decodeConfChange],
      ['unknown change type', new Uint8Array([1, 4, 5, 0]), decodeConfChange],
      ['unknown transition', new Uint8Array([2, 3, 0, 0]), decodeConfChangeV2],
      ['non-minimal varint', new Uint8Array([1, 0, 0x85, 0x00, 0]), decodeConfChange],
      ['node id beyond 2^53', new Uint8Array([1, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, 0]), decodeConfChange],
      ['huge change count', new Uint8Array([2, 0, 0xff, 0xff, 0xff, 0x7f]), decodeConfChangeV2],
      ['context longer than input', new Uint8Array([1, 0, 5, 10, 1, 2]), decodeConfChange],
    ];
    for (const [name, b, dec] of bad) expect(() => dec(b), name).toThrow(DecodeError);
  });

  it('refuses to encode ids that are not safe integers', () => {
    expect(() => encodeConfChange({ type: ConfChangeType.ConfChangeAddNode, nodeId: -1 })).toThrow(ConfChangeError);
    expect(() => encodeConfChange({ type: ConfChangeType.ConfChangeAddNode, nodeId: 2 ** 53 })).toThrow(ConfChangeError);
    expect(() => encodeConfChangeV2({ transition: Auto, changes: [{ type: ConfChangeType.ConfChangeAddNode, nodeId: 1.5 }] })).toThrow(
      ConfChangeError,
    );
  });

  it('marshals proposals with their entry type', () => {
    const v1 = add(3);
    const m1 = marshalConfChange(v1);
    expect(m1.type).toBe(EntryType.EntryConfChange);
    expect(decodeConfChange(m1.data)).toEqual(v1);
    const v2: ConfChangeV2 = { transition: Implicit, changes: [add(3), rem(1)] };
    const m2 = marshalConfChange(v2);
    expect(m2.type).toBe(EntryType.EntryConfChangeV2);
    expect(decodeConfChangeV2(m2.data)).toEqual(v2);
    const none = marshalConfChange();
    expect(none).toEqual({ type: EntryType.EntryConfChangeV2, data: new Uint8Array(0) });
  });
});
