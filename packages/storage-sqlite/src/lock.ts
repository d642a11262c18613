/**
 * Exclusive ownership of a store's directory. The lock is an SQLite file held in
 * `locking_mode=EXCLUSIVE` after one write: SQLite then keeps an exclusive POSIX lock on it for
 * as long as the connection lives. A second process (or a second connection in this one, which
 * SQLite tracks per inode) cannot read it, let alone write it, and gets SQLITE_BUSY at once.
 * The operating system drops the lock when the process dies, however it dies, so there is no
 * stale lock to clean up after a SIGKILL and no pid that might have been reused.
 */
import Database from 'better-sqlite3';
import { StoreLockedError } from './errors.js';

/** A held lock; release() is idempotent. */
export interface DirectoryLock {
  release(): void;
}

/** Takes the lock at `lockPath` or throws StoreLockedError. */
export function acquireLock(lockPath: string, storeDir: string): DirectoryLock {
  const db = new Database(lockPath, { timeout: 0 });
  try {
    db.pragma('locking_mode = EXCLUSIVE');
    db.pragma('journal_mode = DELETE');
    db.transaction(() => {
      db.exec('CREATE TABLE IF NOT EXISTS owner (id INTEGER PRIMARY KEY CHECK (id = 0), pid INTEGER NOT NULL)');
      db.prepare('INSERT OR REPLACE INTO owner VALUES (0, ?)').run(process.pid);
    }).exclusive();
  } catch (err) {
    db.close();
    if (isBusy(err)) throw new StoreLockedError(storeDir, { cause: err });
    throw err;
  }
  let released = false;
  return {
    release(): void {
      if (released) return;
      released = true;
      db.close();
    },
  };
}

function isBusy(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED';
}
