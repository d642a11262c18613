/**
 * @pontoon/raft/testing: for authors of a LogStore. The conformance suite states what every store
 * must do, as etcd's MemoryStorage does it; run it against your store under any test runner.
 * For cluster-level tests of a state machine, see @pontoon/sim.
 */
export { logStoreConformance } from './testing/log-store-conformance.js';
export type { ConformanceCase, LogStoreHarness } from './testing/log-store-conformance.js';
