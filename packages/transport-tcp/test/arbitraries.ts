/** fast-check arbitraries of wire-valid Raft messages (shapes, not Raft semantics). */
import fc from 'fast-check';
import { EntryType, MessageType, newMessage } from '@pontoon/raft/core';
import type { Entry, Message } from '@pontoon/raft';

const u = fc.oneof(fc.nat(300), fc.nat(), fc.maxSafeNat());
const bytes = fc.uint8Array({ maxLength: 64 });
const ids = fc.array(fc.integer({ min: 1, max: 1000 }), { maxLength: 5 });

export const entryArb: fc.Arbitrary<Entry> = fc.record({
  term: u,
  index: u,
  type: fc.constantFrom(EntryType.EntryNormal, EntryType.EntryConfChange, EntryType.EntryConfChangeV2),
  data: bytes,
});

export const messageArb: fc.Arbitrary<Message> = fc
  .record({
    type: fc.integer({ min: 0, max: 23 }),
    to: u,
    from: u,
    term: u,
    logTerm: u,
    index: u,
    commit: u,
    vote: u,
    reject: fc.boolean(),
    rejectHint: u,
    entries: fc.array(entryArb, { maxLength: 4 }),
    context: fc.option(bytes, { nil: undefined }),
    snapshot: fc.option(
      fc.record({
        data: fc.uint8Array({ maxLength: 300 }),
        metadata: fc.record({
          index: u,
          term: u,
          confState: fc.record({ voters: ids, learners: ids, votersOutgoing: ids, learnersNext: ids, autoLeave: fc.boolean() }),
        }),
      }),
      { nil: undefined },
    ),
  })
  .map((r) => newMessage({ ...r, type: r.type as MessageType }));

/** A message in the shape the codec returns (plain Uint8Array views compare equal by content). */
export function normalize(m: Message): unknown {
  const b = (x: Uint8Array | undefined): number[] | undefined => (x === undefined ? undefined : [...x]);
  return {
    ...m,
    responses: undefined,
    entries: m.entries.map((e) => ({ ...e, data: b(e.data) })),
    context: b(m.context),
    snapshot: m.snapshot === undefined ? undefined : { metadata: m.snapshot.metadata, data: b(m.snapshot.data) },
  };
}
