/**
 * How durable a commit is, SQLite's `PRAGMA synchronous` in WAL mode. What each level loses is
 * stated for the two failures that differ: the process dying (SIGKILL, a crash, OOM) and the
 * machine losing power or the OS crashing.
 *
 * - `full` (the default): the WAL is fsynced before every commit returns, so an append resolves
 *   only once it is on stable storage. Loses nothing on either failure. The only level under
 *   which Raft's safety holds across power failures.
 * - `normal`: the WAL is fsynced only at checkpoints (about every 1000 pages written). Loses
 *   nothing when the process dies. On power failure, loses the commits since the last
 *   checkpoint, which the store has already reported durable; the database stays consistent
 *   (each lost Ready is lost whole). Raft may then break its promises: a vote cast and
 *   forgotten, an acknowledged entry gone, so a committed entry can be lost.
 * - `off`: never fsyncs. Loses nothing when the process dies (the OS still has the writes). On
 *   power failure, loses any amount of recent writes and can corrupt the database file, which
 *   the store then refuses to open (CorruptionError). For tests and throwaway clusters only.
 */
export type SyncMode = 'full' | 'normal' | 'off';

/** Options of SqliteLogStore.open(). */
export interface SqliteLogStoreOptions {
  /** How durable each append is; see SyncMode. Default `full`. */
  synchronous?: SyncMode | undefined;
}
