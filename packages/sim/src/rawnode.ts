/**
 * @pontoon/sim/rawnode: a deterministic cluster of RawNodes (etcd's rafttest, as a package). Each
 * node has its own MemoryStorage for a disk; nothing happens unless the test asks (ticks,
 * deliveries, drops, partitions, crashes, stalled disks). Every step is checked against the
 * Raft paper's invariants. Fault schedules are plain data that fast-check generates and shrinks.
 *
 * For clusters of RaftNodes under virtual time, with client histories and a linearizability
 * checker, use `@pontoon/sim`.
 */
export { SimNetwork, SimNode, defaultSimOptions } from './rawnode/sim-network.js';
export type { PlantedBug, SimOptions } from './rawnode/sim-network.js';
export { SafetyChecker, SafetyViolation, entryKey } from './rawnode/safety-checker.js';
export type { Invariant, LogView, NodeView } from './rawnode/safety-checker.js';
export { raftLogView, storageView, arrayLogView } from './rawnode/log-views.js';
export type { RaftLogInternals } from './rawnode/raw-node-internals.js';
export { ReplicatedList } from './rawnode/replicated-list.js';
export type { AppliedCommand } from './rawnode/replicated-list.js';
export { stepArb, scheduleArb, simOptionsArb, foldNode, formatStep, formatSchedule } from './rawnode/fault-schedule.js';
export type { Step } from './rawnode/fault-schedule.js';
export { runSchedule, applyStep, failedStep, healAll, checkLiveness, defaultRunLimits } from './rawnode/schedule-runner.js';
export type { RunLimits, RunStats } from './rawnode/schedule-runner.js';
