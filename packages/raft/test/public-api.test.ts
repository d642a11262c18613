/**
 * The values each entry point exports, spelled out: a name added to or dropped from the public API
 * is a decision, made here on purpose, not a side effect of an `export *`. (Types are checked by
 * the compiler and by the packed-tarball test, test/packed/ at the repository root.)
 */
import { expect, it } from 'vitest';
import * as core from '../src/core.js';
import * as main from '../src/index.js';
import * as testing from '../src/testing.js';

const MAIN = [
    'CommandTooLargeError', 'CompactedError', 'ConfChangeError', 'ConfigError', 'EntryType',
    'InvalidCommandError', 'MemoryLogStore', 'MemoryNetwork', 'MemoryTransport', 'MessageType',
    'NodeFailedError', 'NodeStoppedError', 'NotLeaderError', 'PontoonError',
    'ProposalDroppedError', 'ProposalOutcomeUnknownError', 'RaftNode', 'RecoveryError',
    'SnapOutOfDateError', 'SnapshotTemporarilyUnavailableError', 'StateMachineBehindError',
    'TimeoutError', 'TransportListenError', 'UnavailableError', 'forceNewCluster',
    'isOnDiskStateMachine', 'realClock', 'silentLogger',
  ];

const CORE = [
    'AssertionError', 'CompactedError', 'ConfChangeError', 'ConfChangeTransition',
    'ConfChangeType', 'ConfigError', 'DecodeError', 'EMPTY_BYTES', 'EntryType',
    'LocalAppendThread', 'LocalApplyThread', 'MemoryStorage', 'MessageType', 'None',
    'PontoonError', 'ProgressStateType', 'ProgressType', 'ProposalDroppedError', 'RawNode',
    'ReadOnlyOption', 'SeededRand', 'SnapOutOfDateError', 'SnapshotTemporarilyUnavailableError',
    'StateType', 'StepError', 'StepPeerNotFoundError', 'UnavailableError', 'decodeConfChange',
    'decodeConfChangeEntry', 'decodeConfChangeV2', 'emptyConfState', 'emptySnapshot',
    'encodeConfChange', 'encodeConfChangeV2', 'entrySize', 'isEmptyHardState', 'isEmptySnap',
    'isLocalMsg', 'isLocalMsgTarget', 'mustSync', 'newMessage', 'silentLogger', 'validateMessage',
  ];

it('@pontoon/raft exports what applications compose, and no internals', () => {
  expect(Object.keys(main).sort()).toEqual(MAIN);
});

it('@pontoon/raft/core exports what RawNode users and storage and transport authors need', () => {
  expect(Object.keys(core).sort()).toEqual(CORE);
});

it('@pontoon/raft/testing exports the LogStore conformance suite', () => {
  expect(Object.keys(testing).sort()).toEqual(['logStoreConformance']);
});

it('errors are one class each, the same from every entry point', () => {
  expect(core.PontoonError).toBe(main.PontoonError);
  expect(core.CompactedError).toBe(main.CompactedError);
  expect(new main.NotLeaderError(2, undefined)).toBeInstanceOf(core.PontoonError);
});
