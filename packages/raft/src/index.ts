/**
 * @pontoon/raft: a pure, deterministic Raft consensus core.
 *
 * Start with RawNode (see the package README); the types below are what it consumes and emits.
 */
export * from './types.js';
export * from './errors.js';
export type { Logger } from './logger.js';
export { silentLogger } from './logger.js';
export type { Rand } from './rand.js';
export { SeededRand } from './rand.js';
export type { Config, ResolvedConfig } from './config.js';
export { ReadOnlyOption, validateConfig } from './config.js';
export type { Storage } from './storage.js';
export { MemoryStorage } from './storage.js';
export type { Ready } from './ready.js';
export { mustSync } from './ready.js';
export type { ReadState } from './read-only.js';
export type { BasicStatus, Status } from './status.js';
export { RawNode, SnapshotStatus, ProgressType } from './raw-node.js';
export type { Peer } from './raw-node.js';
export type { RaftLogView } from './log/raft-log-view.js';
export { Raft, CampaignType, decodeConfChangeEntry } from './raft.js';
export { LocalAppendThread, LocalApplyThread, isLocalMsgTarget } from './local-threads.js';
export * from './conf-change.js';
export { Progress } from './tracker/progress.js';
export { ProgressStateType } from './tracker/state.js';
export { ProgressTracker, TrackerConfig } from './tracker/progress-tracker.js';
export { VoteResult } from './quorum/quorum.js';
export { MajorityConfig } from './quorum/majority.js';
export { JointConfig } from './quorum/joint.js';
export { validateMessage } from './message-validation.js';
export * from './describe.js';
export type { LogStore, LogWrite } from './log-store.js';
export type { Transport, SnapshotSendStatus, SnapshotStreamHandler } from './transport.js';
// The node driver: RaftNode and what it is built from.
export { RaftNode } from './node/raft-node.js';
export type { CallOptions, MembershipChange, PeerProgress, RaftNodeStatus } from './node/raft-node.js';
export type { MembershipStatus, NodeFailure } from './node/raft-node.js';
export type { RaftNodeOptions, Member, SnapshotPolicy } from './node/options.js';
export type { RaftMetrics, ProposalOutcome } from './node/metrics.js';
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
export { forceNewCluster } from './node/force-new-cluster.js';
export type { ForceNewClusterOptions, ForceNewClusterResult } from './node/force-new-cluster.js';
export type { RaftNodeEvents, Role, Membership } from './node/events.js';
export type { Clock, ClockTimer } from './node/clock.js';
export { realClock } from './node/clock.js';
export {
  NotLeaderError,
  ProposalOutcomeUnknownError,
  TimeoutError,
  NodeStoppedError,
  CommandTooLargeError,
  InvalidCommandError,
  RecoveryError,
  StateMachineBehindError,
  NodeFailedError,
  TransportListenError,
} from './node/errors.js';
export type { OutcomeUnknownReason } from './node/errors.js';
export { MemoryLogStore } from './node/memory-log-store.js';
export type { MemoryLogStoreOptions } from './node/memory-log-store.js';
export { MemoryNetwork, MemoryTransport } from './node/memory-transport.js';
export type { MemoryNetworkOptions, MemoryNetworkStats } from './node/memory-transport.js';
