import { describe, expect, it } from 'vitest';
import { encodeConfChange, encodeConfChangeV2 } from '../src/conf-change.js';
import {
  describeConfState,
  describeEntries,
  describeEntry,
  describeHardState,
  describeMessage,
  describeReady,
  describeSnapshot,
  describeSoftState,
  describeTarget,
  goQuote,
} from './support/describe.js';
import { LocalAppendThread, LocalApplyThread, isLocalMsgTarget } from '../src/local-threads.js';
import {
  ConfChangeTransition,
  ConfChangeType,
  EntryType,
  MessageType,
  StateType,
  emptySnapshot,
  newMessage,
  type Entry,
  type Snapshot,
} from '../src/types.js';

const utf8 = new TextEncoder();
const ent = (term: number, index: number, data = '', type = EntryType.EntryNormal): Entry => ({
  term,
  index,
  type,
  data: utf8.encode(data),
});

describe('goQuote (Go %q of a byte slice)', () => {
  it('quotes ASCII with Go escapes', () => {
    expect(goQuote(new Uint8Array())).toBe('""');
    expect(goQuote(utf8.encode('prop_1_12'))).toBe('"prop_1_12"');
    expect(goQuote(utf8.encode('a"b\\c\n\t\r\x07\x08\x0c\x0b'))).toBe('"a\\"b\\\\c\\n\\t\\r\\a\\b\\f\\v"');
    expect(goQuote(Uint8Array.of(0, 1, 0x1f, 0x7f, 0x20, 0x7e))).toBe('"\\x00\\x01\\x1f\\x7f ~"');
  });
  it('keeps printable UTF-8 and escapes the rest', () => {
    expect(goQuote(utf8.encode('héllo, 世界 😀'))).toBe('"héllo, 世界 😀"');
    expect(goQuote(utf8.encode('\u00a0\u200b\ue000'))).toBe('"\\u00a0\\u200b\\ue000"');
    expect(goQuote(utf8.encode('\u{10ffff}'))).toBe('"\\U0010ffff"');
    // Invalid UTF-8: stray continuation, truncated sequence, overlong encoding, surrogate.
    expect(goQuote(Uint8Array.of(0x80, 0xff, 0xe4, 0xb8, 0x41, 0xc0, 0xaf, 0xed, 0xa0, 0x80))).toBe(
      '"\\x80\\xff\\xe4\\xb8A\\xc0\\xaf\\xed\\xa0\\x80"',
    );
  });
});

describe('describe*', () => {
  const snap: Snapshot = {
    data: new Uint8Array(),
    metadata: {
      index: 11,
      term: 1,
      confState: { voters: [1, 2, 3], votersOutgoing: [1], learners: [], learnersNext: [4], autoLeave: true },
    },
  };

  it('renders state', () => {
    expect(describeHardState({ term: 1, vote: 0, commit: 10 })).toBe('Term:1 Commit:10');
    expect(describeHardState({ term: 2, vote: 3, commit: 10 })).toBe('Term:2 Vote:3 Commit:10');
    expect(describeSoftState({ lead: 1, raftState: StateType.StateLeader })).toBe('Lead:1 State:StateLeader');
    expect(describeConfState(snap.metadata.confState)).toBe(
      'Voters:[1 2 3] VotersOutgoing:[1] Learners:[] LearnersNext:[4] AutoLeave:true',
    );
    expect(describeSnapshot(snap)).toBe(
      'Index:11 Term:1 ConfState:Voters:[1 2 3] VotersOutgoing:[1] Learners:[] LearnersNext:[4] AutoLeave:true',
    );
  });

  it('renders entries, conf changes included', () => {
    expect(describeEntry(ent(1, 11))).toBe('1/11 EntryNormal ""');
    expect(describeEntry(ent(1, 12, 'foo'), (d) => `<${d.length}>`)).toBe('1/12 EntryNormal <3>');
    const v1 = encodeConfChange({ type: ConfChangeType.ConfChangeRemoveNode, nodeId: 1 });
    expect(describeEntry({ term: 1, index: 3, type: EntryType.EntryConfChange, data: v1 })).toBe(
      '1/3 EntryConfChange r1',
    );
    const v2 = encodeConfChangeV2({
      transition: ConfChangeTransition.ConfChangeTransitionAuto,
      changes: [
        { type: ConfChangeType.ConfChangeAddNode, nodeId: 2 },
        { type: ConfChangeType.ConfChangeAddLearnerNode, nodeId: 3 },
      ],
    });
    expect(describeEntry({ term: 1, index: 4, type: EntryType.EntryConfChangeV2, data: v2 })).toBe(
      '1/4 EntryConfChangeV2 v2 l3',
    );
    // Leaving a joint configuration: an empty ConfChangeV2 shows no changes.
    expect(describeEntry(ent(1, 9, '', EntryType.EntryConfChangeV2))).toBe('1/9 EntryConfChangeV2');
    // A payload that is not a conf change shows the decoding error instead.
    expect(describeEntry(ent(1, 5, 'garbage', EntryType.EntryConfChangeV2))).toMatch(/^1\/5 EntryConfChangeV2 \S/);
    expect(describeEntries([ent(1, 1), ent(1, 2, 'x')])).toBe('1/1 EntryNormal ""\n1/2 EntryNormal "x"\n');
  });

  it('renders targets', () => {
    expect(describeTarget(0)).toBe('None');
    expect(describeTarget(7)).toBe('7');
    expect(describeTarget(26)).toBe('1a');
    expect(describeTarget(LocalAppendThread)).toBe('AppendThread');
    expect(describeTarget(LocalApplyThread)).toBe('ApplyThread');
    expect(isLocalMsgTarget(LocalApplyThread)).toBe(true);
    expect(isLocalMsgTarget(3)).toBe(false);
  });

  it('renders messages with entries, snapshots and responses', () => {
    expect(
      describeMessage(
        newMessage({ type: MessageType.MsgApp, from: 1, to: 2, term: 1, logTerm: 1, index: 10, commit: 10, entries: [ent(1, 11)] }),
      ),
    ).toBe('1->2 MsgApp Term:1 Log:1/10 Commit:10 Entries:[1/11 EntryNormal ""]');
    expect(
      describeMessage(
        newMessage({ type: MessageType.MsgAppResp, from: 2, to: 1, term: 1, logTerm: 1, index: 10, reject: true, rejectHint: 7 }),
      ),
    ).toBe('2->1 MsgAppResp Term:1 Log:1/10 Rejected (Hint: 7)');
    expect(
      describeMessage(
        newMessage({ type: MessageType.MsgApp, from: 1, to: 2, term: 1, logTerm: 1, index: 10, entries: [ent(1, 11, 'a'), ent(1, 12, 'b')] }),
      ),
    ).toBe('1->2 MsgApp Term:1 Log:1/10 Entries:[\n  1/11 EntryNormal "a"\n  1/12 EntryNormal "b"\n]');
    expect(describeMessage(newMessage({ type: MessageType.MsgSnap, from: 1, to: 3, term: 1, snapshot: snap }))).toBe(
      '1->3 MsgSnap Term:1 Log:0/0\n  Snapshot: ' + describeSnapshot(snap),
    );
    expect(describeMessage(newMessage({ type: MessageType.MsgSnap, from: 1, to: 3, term: 1, snapshot: emptySnapshot() }))).toBe(
      '1->3 MsgSnap Term:1 Log:0/0',
    );
    const append = newMessage({
      type: MessageType.MsgStorageAppend,
      from: 1,
      to: LocalAppendThread,
      term: 1,
      commit: 10,
      vote: 1,
      entries: [ent(1, 11), ent(1, 12)],
      responses: [
        newMessage({ type: MessageType.MsgVoteResp, from: 1, to: 1, term: 1 }),
        newMessage({ type: MessageType.MsgStorageAppendResp, from: LocalAppendThread, to: 1, term: 1, logTerm: 1, index: 11 }),
      ],
    });
    expect(describeMessage(append)).toBe(
      [
        '1->AppendThread MsgStorageAppend Term:1 Log:0/0 Commit:10 Vote:1 Entries:[',
        '  1/11 EntryNormal ""',
        '  1/12 EntryNormal ""',
        '] Responses:[',
        '  1->1 MsgVoteResp Term:1 Log:0/0',
        '  AppendThread->1 MsgStorageAppendResp Term:1 Log:1/11',
        ']',
      ].join('\n'),
    );
  });

  it('renders Readys', () => {
    const empty = {
      hardState: { term: 0, vote: 0, commit: 0 },
      readStates: [],
      entries: [],
      snapshot: emptySnapshot(),
      committedEntries: [],
      messages: [],
      mustSync: false,
    };
    expect(describeReady(empty)).toBe('<empty Ready>');
    expect(
      describeReady({
        ...empty,
        softState: { lead: 0, raftState: StateType.StateCandidate },
        hardState: { term: 1, vote: 1, commit: 10 },
        readStates: [{ index: 12, requestCtx: utf8.encode('ab') }],
        entries: [ent(1, 11)],
        snapshot: snap,
        committedEntries: [ent(1, 10, 'x')],
        messages: [newMessage({ type: MessageType.MsgVote, from: 1, to: 2, term: 1, logTerm: 1, index: 10 })],
        mustSync: true,
      }),
    ).toBe(
      [
        'Ready MustSync=true:',
        'Lead:0 State:StateCandidate',
        'HardState Term:1 Vote:1 Commit:10',
        'ReadStates [{12 [97 98]}]',
        'Entries:',
        '1/11 EntryNormal ""',
        `Snapshot ${describeSnapshot(snap)}`,
        'CommittedEntries:',
        '1/10 EntryNormal "x"',
        'Messages:',
        '1->2 MsgVote Term:1 Log:1/10',
        '',
      ].join('\n'),
    );
  });
});
