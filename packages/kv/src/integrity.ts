/**
 * Checks that a database file is an intact Pontoon KV store before anything is served from it:
 * SQLite's quick_check (page structure, a truncated file), our application id, and the meta
 * row's checksum. Row checksums are checked later, on every read. Failures are
 * KvCorruptionError naming the file.
 */
import Database from 'better-sqlite3';
import { statSync } from 'node:fs';
import { KvCorruptionError } from './errors.js';
import { type Meta, MetaTable } from './meta.js';
import { APPLICATION_ID } from './schema.js';

/** SQLite's result codes that mean the file is damaged or is not a database. */
export function isCorruptionCode(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && (code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB');
}

/**
 * Verifies the database at `file` (opened as `db`). `full`: integrity_check (reads every page and
 * index entry) instead of quick_check. Returns the meta row, or undefined for a new database.
 */
export function verifyDatabase(db: Database.Database, file: string, full = false): Meta | undefined {
  try {
    const rows = db.pragma(full ? 'integrity_check' : 'quick_check') as { quick_check?: string; integrity_check?: string }[];
    const problems = rows.map((r) => r.quick_check ?? r.integrity_check ?? '').filter((r) => r !== 'ok');
    if (problems.length > 0) throw new KvCorruptionError(file, `SQLite ${full ? 'integrity_check' : 'quick_check'}: ${problems.slice(0, 5).join('; ')}`);
    const appId = db.pragma('application_id', { simple: true }) as number;
    if (appId === 0) {
      const tables = db.prepare("SELECT count(*) AS n FROM sqlite_master").get() as { n: number };
      if (tables.n === 0) return undefined;
    }
    if (appId !== APPLICATION_ID) throw new KvCorruptionError(file, `not a Pontoon KV store (SQLite application_id ${appId})`);
    const meta = new MetaTable(db, file).read();
    if (meta === undefined) throw new KvCorruptionError(file, 'meta row missing');
    return meta;
  } catch (err) {
    if (err instanceof KvCorruptionError) throw err;
    if (isCorruptionCode(err)) throw new KvCorruptionError(file, (err as Error).message, { cause: err });
    throw err;
  }
}

/** The cheap check: our application id and the meta row's checksum, no page scan. */
export function verifyMetaOnly(db: Database.Database, file: string): Meta | undefined {
  try {
    const appId = db.pragma('application_id', { simple: true }) as number;
    if (appId === 0 && (db.prepare('SELECT count(*) AS n FROM sqlite_master').get() as { n: number }).n === 0) return undefined;
    if (appId !== APPLICATION_ID) throw new KvCorruptionError(file, `not a Pontoon KV store (SQLite application_id ${appId})`);
    const meta = new MetaTable(db, file).read();
    if (meta === undefined) throw new KvCorruptionError(file, 'meta row missing');
    return meta;
  } catch (err) {
    if (err instanceof KvCorruptionError) throw err;
    if (isCorruptionCode(err)) throw new KvCorruptionError(file, (err as Error).message, { cause: err });
    throw err;
  }
}

/** Opens the file read-only and verifies it (a snapshot copy, a staged snapshot). */
export function verifyFile(file: string, full = false): Meta {
  let size: number;
  try {
    size = statSync(file).size;
  } catch (err) {
    throw new KvCorruptionError(file, `cannot stat: ${(err as Error).message}`, { cause: err });
  }
  if (size === 0) throw new KvCorruptionError(file, 'empty file');
  let db: Database.Database;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true });
  } catch (err) {
    if (isCorruptionCode(err)) throw new KvCorruptionError(file, (err as Error).message, { cause: err });
    throw err;
  }
  try {
    const meta = verifyDatabase(db, file, full);
    if (meta === undefined) throw new KvCorruptionError(file, 'not a Pontoon KV store (no tables)');
    return meta;
  } finally {
    db.close();
  }
}
