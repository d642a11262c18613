/** What a JavaScript Raft library's node process offers the benchmark, whatever the library. */
export interface JsRaftNode {
  isLeader(): boolean;
  /** Resolves once the write is committed (acknowledged by a majority) and applied on this leader. */
  submit(key: string, value: string): Promise<void>;
  close(): Promise<void>;
}

/** Where one node of a 3-node JS Raft cluster lives. */
export interface JsRaftNodeConfig {
  /** This node's index into `raftPorts`. */
  index: number;
  raftPorts: number[];
  /** Where the library keeps its log and state. */
  dataDir: string;
  /** The npm prefix the library is installed under. */
  prefix: string;
}

/**
 * Election timeouts for both libraries, wider than their defaults (liferaft 150-300 ms, skiff
 * 300-600 ms): with three nodes and a client on two shared cores, a node's event loop stalls
 * long enough under load to trigger elections, and a run that measures elections says nothing
 * about replication.
 */
export const ELECTION_MIN_MS = 1000;
export const ELECTION_MAX_MS = 2000;
