/**
 * What the benchmark's parent and its child processes (three nodes, one client) say to each
 * other over the IPC channel (advanced serialization: typed arrays cross as they are).
 */
import type { Member, Role, SnapshotPolicy } from '@pontoon/raft';
import type { SyncMode } from '@pontoon/storage-sqlite';

/** The RaftNode options the benchmark sets (the rest keep RaftNode's defaults). */
export interface BenchRaftOptions {
  tickMs: number;
  electionTicks: number;
  heartbeatTicks: number;
  leaseBasedReads: boolean;
  snapshot: SnapshotPolicy | false;
  maxInflightMsgs: number;
  maxBatchEntries: number;
  maxSizePerMsg: number;
}

/** A node process's whole configuration (argv[2], JSON). */
export interface NodeConfig {
  id: number;
  clusterId: string;
  dataDir: string;
  members: Member[];
  workloadModule: string;
  raft: BenchRaftOptions;
  /** The store's durability; the suites use `full` (experiments may not). */
  synchronous: SyncMode;
}

/** Time as epoch ms with sub-ms precision, comparable between processes on one machine. */
export function epochMs(): number {
  return performance.timeOrigin + performance.now();
}

/** What a node's status request answers. */
export interface NodeStatusReply {
  id: number;
  role: Role;
  term: number;
  leaderId: number | undefined;
  commitIndex: number;
  appliedIndex: number;
  snapshotIndex: number;
  firstIndex: number;
  lastIndex: number;
  /** Snapshots received from a leader since the process started. */
  snapshotsInstalled: number;
  /** The store's group commits, and those that fsynced, since the process started. */
  storeCommits: number;
  storeSyncedCommits: number;
  /** Bytes and Raft messages the transport sent and received (all peers), framing included. */
  wireBytesOut: number;
  wireBytesIn: number;
  wireMessagesOut: number;
  /** Process CPU time so far, in µs. */
  cpuUserUs: number;
  cpuSystemUs: number;
}

/** Parent to node. */
export type ToNode =
  | { req: number; op: 'status' }
  /** Answer once the node applied `index`: when that happened, and how (log or snapshot). */
  | { req: number; op: 'waitApplied'; index: number }
  /** The durations of the store's appends since the last such request (and start afresh). */
  | { req: number; op: 'takeAppendTimes' }
  /** Stop the node cleanly and exit (a CPU profile is written on a clean exit). */
  | { req: number; op: 'exit' };

/** How long LogStore.append() took, from the call until its promise resolved (the fsync included). */
export interface AppendTimes {
  appends: number;
  /** Entries per append, on average. */
  entriesPerAppend: number;
  p50Ms: number;
  p99Ms: number;
}

export interface WaitAppliedReply {
  /** When the node's applied index reached the target (epoch ms). */
  at: number;
  /** When the node process had its RaftNode constructed (epoch ms). */
  startedAt: number;
  snapshotsInstalled: number;
}

/** Node to parent. */
export type FromNode =
  | { kind: 'started'; id: number; clientPort: number; at: number }
  | { kind: 'leader'; id: number; leaderId: number | undefined; term: number; at: number }
  | { kind: 'fatal'; id: number; message: string }
  | { kind: 'reply'; req: number; value?: NodeStatusReply | WaitAppliedReply | AppendTimes | null; error?: string };

/** One closed-loop run of the client. */
export interface ClientRunSpec {
  kind: 'write' | 'read';
  /** Requests kept outstanding. */
  inFlight: number;
  /** Command size (writes). */
  payloadBytes: number;
  /** Unmeasured time first. */
  warmupMs: number;
  /** Measured time: the run ends when both this has passed and `minCount` requests completed. */
  durationMs: number;
  minCount: number;
}

export interface ClientRunResult {
  /** Requests completed inside the measured window. */
  completed: number;
  /** Length of the measured window. */
  elapsedMs: number;
  /** Latency of each request completed in the window, in ms. */
  latenciesMs: Float64Array;
  /** Epoch ms at which the measured window started and ended. */
  startAt: number;
  endAt: number;
  /** The client process's CPU time during the whole run (warm-up and drain included), µs. */
  cpuUs: number;
}

/** Parent to client. */
export type ToClient =
  | { req: number; op: 'connect'; port: number }
  | { req: number; op: 'run'; spec: ClientRunSpec }
  | { req: number; op: 'exit' };

/** Client to parent. */
export type FromClient =
  | { kind: 'started'; at: number }
  | { kind: 'reply'; req: number; value?: ClientRunResult | null; error?: string };
