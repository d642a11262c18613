/**
 * @pontoon/sim: deterministic simulation of Pontoon clusters in virtual time, fault schedules as
 * fast-check arbitraries, safety checkers, and a linearizability checker for client histories.
 */
export type { Operation, History } from './linearizability/history.js';
export type { Model } from './linearizability/model.js';
