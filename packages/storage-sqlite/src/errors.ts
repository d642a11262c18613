/**
 * The errors this package raises. Each extends PontoonError from @pontoon/raft and carries a
 * stable `code` and the data a caller needs to react.
 */
import { PontoonError } from '@pontoon/raft';

/**
 * Bytes on disk are not what the store wrote: a checksum does not match, a row is missing, the
 * file is truncated or is not a database. The store refuses to hand out anything rather than
 * hand out a wrong log. `what` names the thing that is corrupt (`entries[42]`, `hard_state`,
 * `snapshot`, `log_start`, `database file`).
 */
export class CorruptionError extends PontoonError {
  readonly what: string;
  /** The log index concerned, when the corruption is in an entry. */
  readonly index: number | undefined;
  constructor(what: string, detail: string, options?: { index?: number; cause?: unknown }) {
    super('ERR_CORRUPTION', `storage corrupt: ${what}: ${detail}`, options);
    this.what = what;
    this.index = options?.index;
  }
}

/** The database was written by another version of this package (or is not one of ours). */
export class SchemaVersionError extends PontoonError {
  /** The schema version found in the file (`undefined`: not a Pontoon store at all). */
  readonly found: number | undefined;
  readonly expected: number;
  constructor(path: string, found: number | undefined, expected: number) {
    super(
      'ERR_SCHEMA_VERSION',
      found === undefined
        ? `${path} is not a Pontoon log store (foreign SQLite application id)`
        : `${path} has schema version ${found}, this version of @pontoon/storage-sqlite reads ${expected}`,
    );
    this.found = found;
    this.expected = expected;
  }
}

/** Another process (or another store in this process) has the store open. */
export class StoreLockedError extends PontoonError {
  readonly path: string;
  constructor(path: string, options?: { cause?: unknown }) {
    super('ERR_STORE_LOCKED', `log store ${path} is open elsewhere (another process or another SqliteLogStore)`, options);
    this.path = path;
  }
}

/**
 * A write failed (disk full, I/O error) or the writer thread died. The store stops taking writes:
 * whether the failed write reached the disk is unknown, so the only safe next step is to close
 * the store and reopen it, which recovers exactly what is durable.
 */
export class StoreFailedError extends PontoonError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_STORE_FAILED', `log store failed: ${message}`, options);
  }
}

/** The store was closed. */
export class StoreClosedError extends PontoonError {
  constructor() {
    super('ERR_STORE_CLOSED', 'log store is closed');
  }
}
