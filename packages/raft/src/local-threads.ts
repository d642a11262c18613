/**
 * Ids of the local storage threads (etcd's LocalAppendThread / LocalApplyThread). With
 * asyncStorageWrites, the core addresses MsgStorageAppend and MsgStorageApply to these ids, and
 * the threads answer with responses "from" them. They never name a peer: Go uses the two
 * largest uint64 values, we use the two largest safe integers, which no Config may take as id.
 */

/** The thread that persists entries, hard state and snapshots (MsgStorageAppend). */
export const LocalAppendThread: number = Number.MAX_SAFE_INTEGER;

/** The thread that applies committed entries to the state machine (MsgStorageApply). */
export const LocalApplyThread: number = Number.MAX_SAFE_INTEGER - 1;

/** Whether `id` names a local storage thread rather than a peer. */
export function isLocalMsgTarget(id: number): boolean {
  return id === LocalAppendThread || id === LocalApplyThread;
}
