/**
 * The version of the on-disk layout (schema.ts), recorded in the database's user_version. Bump
 * it with every change, and add a migration or refuse. Its own module, so that the package's
 * public types do not import better-sqlite3's (which a user need not have installed).
 */
export const SCHEMA_VERSION = 1;
