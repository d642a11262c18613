/**
 * @pontoon/raft/core: the pure consensus core, for those who drive Raft themselves (as etcd's
 * raft users do): RawNode, the Storage it reads, and the messages and entries it exchanges. No
 * I/O, no clocks, no randomness: time is `tick()`, randomness the `rand` of Config.
 *
 * Also what storage and transport implementations need: entry sizes, message validation for
 * bytes from the network, the ids of the local append and apply threads (AsyncStorageWrites).
 */
export { RawNode, ProgressType } from './raw-node.js';
export type { Peer } from './raw-node.js';
export type { LeaseBasis } from './leader-lease.js';
export type { RaftLogView } from './log/raft-log-view.js';
export type { Config } from './config.js';
export { ReadOnlyOption } from './config.js';
export type { Ready } from './ready.js';
export { mustSync } from './ready.js';
export type { ReadState } from './read-only.js';
export type { BasicStatus, Status } from './status.js';
export type { Progress } from './tracker/progress.js';
export { ProgressStateType } from './tracker/state.js';
export type { TrackerConfig } from './tracker/progress-tracker.js';
export type { Storage } from './storage.js';
export { MemoryStorage } from './storage.js';
export type { Rand } from './rand.js';
export { SeededRand } from './rand.js';
export type { Logger } from './logger.js';
export { silentLogger } from './logger.js';

// Messages, entries and state.
export type {
  ConfChange,
  ConfChangeSingle,
  ConfChangeV2,
  ConfState,
  Entry,
  HardState,
  Message,
  Snapshot,
  SnapshotMetadata,
  SnapshotStatus,
  SoftState,
} from './types.js';
export {
  ConfChangeTransition,
  ConfChangeType,
  EntryType,
  MessageType,
  StateType,
  None,
  EMPTY_BYTES,
  emptyConfState,
  emptySnapshot,
  isEmptySnap,
  isEmptyHardState,
  isLocalMsg,
  newMessage,
  entrySize,
} from './types.js';
export type { ConfChangeI } from './conf-change.js';
export { encodeConfChange, decodeConfChange, encodeConfChangeV2, decodeConfChangeV2 } from './conf-change.js';
export { decodeConfChangeEntry } from './raft.js';
export { LocalAppendThread, LocalApplyThread, isLocalMsgTarget } from './local-threads.js';
export { validateMessage } from './message-validation.js';

// Errors the core raises (the same classes as in @pontoon/raft).
export {
  PontoonError,
  ConfigError,
  ConfChangeError,
  ProposalDroppedError,
  StepError,
  StepPeerNotFoundError,
  CompactedError,
  SnapOutOfDateError,
  UnavailableError,
  SnapshotTemporarilyUnavailableError,
  DecodeError,
  AssertionError,
} from './errors.js';
