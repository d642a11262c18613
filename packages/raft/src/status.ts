import type { TrackerConfig } from './tracker/progress-tracker.js';
import type { Progress } from './tracker/progress.js';
import type { HardState, SoftState } from './types.js';

/** What a node knows about itself, without per-peer progress. */
export interface BasicStatus {
  id: number;
  hardState: HardState;
  softState: SoftState;
  applied: number;
  leadTransferee: number;
}

/** A node's status. `progress` (copies, safe to keep) is only filled in on the leader. */
export interface Status extends BasicStatus {
  config: TrackerConfig;
  progress: Map<number, Progress>;
}
