/**
 * @pontoon/raft: what an application composes. A RaftNode runs Raft for one member of a cluster
 * over a LogStore (its durable log), a Transport (its peers) and the application's StateMachine.
 *
 * Entry points:
 * - `@pontoon/raft` (this one): RaftNode, its options, events and errors, the interfaces storage
 *   and transport packages implement, and the in-memory store and network for tests.
 * - `@pontoon/raft/core`: RawNode, the pure consensus core, for those who drive Raft themselves.
 * - `@pontoon/raft/testing`: the LogStore conformance suite, for authors of a LogStore.
 */
// The node driver.
export { RaftNode } from './node/raft-node.js';
export type { CallOptions, MembershipChange, PeerProgress, RaftNodeStatus } from './node/raft-node.js';
export type { MembershipStatus, NodeFailure } from './node/raft-node.js';
export type { RaftNodeOptions, Member, SnapshotPolicy } from './node/options.js';
export type { RaftMetrics, ProposalOutcome } from './node/metrics.js';
export { forceNewCluster } from './node/force-new-cluster.js';
export type { ForceNewClusterOptions, ForceNewClusterResult } from './node/force-new-cluster.js';
export type { RaftNodeEvents, Role, Membership } from './node/events.js';
export type { RaftLogView } from './log/raft-log-view.js';
export type { Clock, ClockTimer } from './node/clock.js';
export { realClock } from './node/clock.js';
export type { Logger } from './logger.js';
export { silentLogger } from './logger.js';

// What an application and the storage and transport packages implement.
export type {
  StateMachine,
  OnDiskStateMachine,
  AnyStateMachine,
  LogPosition,
  SnapshotSource,
  SnapshotSink,
  ApplyResult,
} from './node/state-machine.js';
export { isOnDiskStateMachine } from './node/state-machine.js';
export type { LogStore, LogWrite } from './log-store.js';
export type { Storage } from './storage.js';
export type { Transport, SnapshotStreamHandler } from './transport.js';
export type { ConfState, Entry, HardState, Message, Snapshot, SnapshotMetadata, SnapshotStatus } from './types.js';
export { EntryType, MessageType } from './types.js';

// Errors: one class per condition a caller can react to, all extending PontoonError.
export {
  PontoonError,
  ConfigError,
  ConfChangeError,
  NotLeaderError,
  ProposalDroppedError,
  ProposalOutcomeUnknownError,
  TimeoutError,
  NodeStoppedError,
  CommandTooLargeError,
  InvalidCommandError,
  CompactedError,
  SnapOutOfDateError,
  UnavailableError,
  SnapshotTemporarilyUnavailableError,
  RecoveryError,
  StateMachineBehindError,
  NodeFailedError,
  TransportListenError,
} from './errors.js';
export type { OutcomeUnknownReason } from './errors.js';

// In-memory store and network, for tests and for trying things out.
export { MemoryLogStore } from './node/memory-log-store.js';
export type { MemoryLogStoreOptions } from './node/memory-log-store.js';
export { MemoryNetwork, MemoryTransport } from './node/memory-transport.js';
export type { MemoryNetworkOptions, MemoryNetworkStats } from './node/memory-transport.js';
