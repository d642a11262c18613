/**
 * What a worker needs from a lock and from the resource it guards, whichever client provides
 * them (the embedded @pontoon/kv member or the etcd3 npm client), so that one worker loop runs
 * on both.
 */

/** A distributed lock, one instance per worker (it holds that worker's session). */
export interface DistributedLock {
  /** Resolves once this worker holds the lock, with the hold's fencing token. */
  lock(signal?: AbortSignal): Promise<number>;
  /** Releases the lock (a no-op if not held). */
  unlock(): Promise<void>;
}

/** A shared resource that accepts writes only with a fencing token at least the last one seen. */
export interface FencedResource {
  /** Creates the resource if it does not exist (token 0, empty data). */
  init(): Promise<void>;
  /** Writes `data` under `token`; false if a larger token has been seen (the write is refused). */
  write(token: number, data: string): Promise<boolean>;
  /** The last accepted token and data. */
  read(): Promise<{ token: number; data: string }>;
}
