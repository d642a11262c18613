/**
 * @pontoon/sim: deterministic simulation of Pontoon clusters in virtual time, fault schedules as
 * fast-check arbitraries, safety checkers, and a linearizability checker for client histories.
 */
export type { Operation, History } from './linearizability/history.js';
export type { Model } from './linearizability/model.js';
// linearizability
export { checkLinearizability, checkLinearizabilitySync } from './linearizability/check.js';
export type { CheckOptions, CheckResult, StopReason, Verdict } from './linearizability/check.js';
export { formatCounterexample, describeOperation } from './linearizability/counterexample.js';
export type { Counterexample, CounterexampleOperation } from './linearizability/counterexample.js';
export { InvalidHistoryError } from './linearizability/invalid-history-error.js';
export { registerModel } from './linearizability/models/register.js';
export type { RegisterInput, RegisterOutput, RegisterState, RegisterValue } from './linearizability/models/register.js';
export { kvModel } from './linearizability/models/kv.js';
export type { KvInput, KvOutput, KvState } from './linearizability/models/kv.js';
export { parseJepsenLog } from './history-formats/jepsen-log.js';
export { parseEdnKvHistory } from './history-formats/edn-kv.js';
export { detectHistoryFormat } from './history-formats/detect-format.js';
export type { HistoryFormat } from './history-formats/detect-format.js';
export { HistoryParseError } from './history-formats/history-parse-error.js';
// simulation
export { simulate } from './sim/simulation.js';
export type { SimulationConfig, SimulationResult, SimulationStats, SimulateOptions } from './sim/simulation.js';
export { explore, shrink, replay, scheduleOf, faultOptionsOf, formatFailure } from './sim/explore.js';
export type { ExploreOptions, ExploreReport, Failure } from './sim/explore.js';
export type { Workload, ClientOperation, WriteOperation, ReadOperation } from './sim/workload.js';
export type { ClientOptions, OperationFate } from './sim/clients.js';
export { ClientPool } from './sim/clients.js';
export { SimCluster, SimNode } from './sim/cluster.js';
export type { ClusterOptions, ClusterObserver, SimRaftOptions } from './sim/cluster.js';
export { Scheduler } from './sim/scheduler.js';
export type { SimEvent, SchedulerStats } from './sim/scheduler.js';
export { NodeClock } from './sim/node-clock.js';
export { SimNetwork, SimTransport } from './sim/network.js';
export type { NetworkOptions, NetworkStats } from './sim/network.js';
export { SimDisk, SimLogStore } from './sim/log-store.js';
export type { DiskOptions } from './sim/log-store.js';
export { SimRandom } from './sim/random.js';
export { Tracer } from './sim/trace.js';
export type { Fault, FaultSchedule, FaultTarget } from './faults/schedule.js';
export { describeFault, formatSchedule } from './faults/schedule.js';
export { faultScheduleArbitrary, scheduleForSeed, ALL_FAULT_KINDS, LEASE_CLOCK_DRIFT } from './faults/arbitraries.js';
export type { FaultKind, FaultOptions } from './faults/arbitraries.js';
export { FaultInjector } from './faults/injector.js';
export type { Violation } from './checkers/violation.js';
export { ElectionSafety } from './checkers/election-safety.js';
export { StateMachineSafety, checkReplicaStates } from './checkers/state-machine-safety.js';
export type { CommittedEntry } from './checkers/state-machine-safety.js';
export { LeaderCompleteness } from './checkers/leader-completeness.js';
export { checkLogMatching } from './checkers/log-matching.js';
export { checkCommittedRetained } from './checkers/committed-retained.js';
export { KvStateMachine } from './kv/kv-state-machine.js';
export type { KvWriteResult, KvBugs } from './kv/kv-state-machine.js';
export { encodeKvWrite, decodeKvWrite } from './kv/kv-command.js';
export type { KvWrite } from './kv/kv-command.js';
export { kvWorkload } from './kv/kv-workload.js';
export type { KvWorkloadOptions } from './kv/kv-workload.js';
export { kvSimulation } from './kv/kv-simulation.js';
export type { KvSimulationOptions } from './kv/kv-simulation.js';
// property runs that cannot pass by giving up
export { assertProperty, assertAsyncProperty, freshSeed } from './property/assert-property.js';
export type { PropertyRuns } from './property/assert-property.js';
