/**
 * @pontoon/storage-sqlite: a durable Raft log for @pontoon/raft on better-sqlite3.
 *
 * Open a store with SqliteLogStore.open(dir); see the package README.
 */
export { SqliteLogStore } from './sqlite-log-store.js';
export type { SqliteLogStoreStats } from './sqlite-log-store.js';
export type { SqliteLogStoreOptions, SyncMode } from './options.js';
export { CorruptionError, SchemaVersionError, StoreClosedError, StoreFailedError, StoreLockedError } from './errors.js';
export { SCHEMA_VERSION } from './schema-version.js';
