/**
 * The simulation the project runs on itself: the test KV store, its workload, the kv model.
 */
import type { KvInput, KvOutput, KvState } from '../linearizability/models/kv.js';
import { kvModel } from '../linearizability/models/kv.js';
import type { FaultKind, FaultOptions } from '../faults/arbitraries.js';
import type { DiskOptions } from '../sim/log-store.js';
import type { SimulationConfig } from '../sim/simulation.js';
import type { KvBugs } from './kv-state-machine.js';
import { KvStateMachine } from './kv-state-machine.js';
import { kvWorkload } from './kv-workload.js';

/** Knobs of the KV simulation. */
export interface KvSimulationOptions {
  /** Voters. Default 3. */
  nodes?: number;
  /** Writes per run. Default 200. */
  writes?: number;
  /** Concurrent clients. Default 5. */
  clients?: number;
  /** Keys. Default 4. */
  keys?: number;
  /** Serve reads from the leader's lease instead of ReadIndex. Default false. */
  leaseReads?: boolean;
  /** Fault window, ms. Default 2000. */
  windowMs?: number;
  /** Most faults per schedule. Default 6. */
  maxFaults?: number;
  /** Fault kinds to draw from. Default: every kind (with lease reads, clocks within LEASE_CLOCK_DRIFT). */
  faultKinds?: readonly FaultKind[];
  /** Planted bugs in the state machine. */
  bugs?: KvBugs;
  /** Planted bug: clients read the local state machine without ReadIndex. */
  staleReads?: boolean;
  /** Planted bug: reads are never answered. */
  hangingReads?: boolean;
  /** Disk options for every node (planted bugs: `lyingFsync`). */
  disk?: DiskOptions;
  /** Snapshot every this many applied entries (keeping a fifth of that behind). Default 300. */
  snapshotEvery?: number;
  /** Budget of each linearizability check, in search steps (see SimulationConfig.checkMaxSteps). */
  checkMaxSteps?: number;
}

export function kvSimulation(o: KvSimulationOptions = {}): SimulationConfig<KvStateMachine, KvInput, KvOutput, KvState> {
  const faults: FaultOptions = { windowMs: o.windowMs ?? 2000, maxFaults: o.maxFaults ?? 6 };
  if (o.faultKinds !== undefined) faults.kinds = o.faultKinds;
  return {
    nodes: o.nodes ?? 3,
    stateMachine: () => new KvStateMachine(o.bugs),
    workload: kvWorkload({ keys: o.keys ?? 4 }),
    model: kvModel,
    clients: { writes: o.writes ?? 200, clients: o.clients ?? 5, staleReads: o.staleReads ?? false, hangingReads: o.hangingReads ?? false },
    raft: {
      leaseBasedReads: o.leaseReads ?? false,
      snapshot: { everyEntries: o.snapshotEvery ?? 300, keepEntries: Math.floor((o.snapshotEvery ?? 300) / 5) },
    },
    disk: { tearOnCrash: true, ...o.disk },
    faults,
    ...(o.checkMaxSteps === undefined ? {} : { checkMaxSteps: o.checkMaxSteps }),
  };
}
