import type { ReadState } from './read-only.js';
import type { Entry, HardState, Message, Snapshot, SoftState } from './types.js';

/**
 * The work a RawNode hands to the application, to be done in this order: persist `entries`,
 * `hardState` and `snapshot` (synchronously if `mustSync`), send `messages`, apply
 * `committedEntries`, then call advance(). With asyncStorageWrites, persistence and application
 * arrive instead as MsgStorageAppend / MsgStorageApply messages to the local threads.
 */
export interface Ready {
  /** Set when the leader or role changed since the previous Ready. */
  softState?: SoftState | undefined;
  /** The state to persist; all zero when unchanged since the previous Ready. */
  hardState: HardState;
  /** Answers to ReadIndex requests. */
  readStates: ReadState[];
  /** Entries to persist before sending messages. */
  entries: Entry[];
  /** A snapshot to persist (metadata.index 0 when none). */
  snapshot: Snapshot;
  /** Committed entries to apply (they were persisted in an earlier Ready, or in this one). */
  committedEntries: Entry[];
  /**
   * Messages to send once `entries`, `hardState` and `snapshot` are persisted. A MsgSnap among
   * them must be followed by reportSnapshot() with the outcome.
   */
  messages: Message[];
  /** Whether hard state and entries must be written durably (fsync) before sending. */
  mustSync: boolean;
}

/** Whether the change of hard state and the new entries require a synchronous write. */
export function mustSync(st: HardState, prev: HardState, entsnum: number): boolean {
  // Raft §5: currentTerm, votedFor and log[] are persisted before answering RPCs.
  return entsnum !== 0 || st.vote !== prev.vote || st.term !== prev.term;
}
