/**
 * SqliteMap: a replicated string map whose state lives in SQLite, an OnDiskStateMachine.
 *
 * On disk, in its directory:
 * - `CURRENT`: the name of the live database file. Replacing the state is rewriting this one
 *   small file atomically (temporary name, fsync, rename, fsync the directory), as LevelDB does:
 *   a crash leaves the old name or the new one, so the old state or the new one, never a mix.
 * - the live database: table `map` (the data) and table `raft_position` (one row: the index and
 *   term of the last entry applied), written in the same transaction as the entries' effects.
 * - `snap-<index>-<nonce>.sqlite`: a snapshot received for `index`, complete and fsynced, waiting
 *   to be installed (`.part` while it is being received).
 *
 * Snapshots are SQLite's online backup of the live database into a temporary file (better-sqlite3
 * copies a bounded number of pages per turn of the event loop, and pages that applies change
 * meanwhile are copied again, so the copy is consistent as of its end), streamed from that file
 * in chunks.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { EntryType, type Entry, type LogPosition, type OnDiskStateMachine, type SnapshotSink, type SnapshotSource } from '@pontoon/raft';

/** A command: set `key` to `value`, or delete it when `value` is null. */
export interface MapCommand {
  key: string;
  value: string | null;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Encodes a command for RaftNode.propose(). */
export function encodeCommand(command: MapCommand): Uint8Array {
  return encoder.encode(JSON.stringify(command));
}

/** What SqliteMap.open() takes. */
export interface SqliteMapOptions {
  /** SQLite's `synchronous`: 'full' (default) makes every batch durable before it resolves. */
  synchronous?: 'full' | 'normal';
  /** Bytes per snapshot chunk. Default 1 MiB. */
  chunkBytes?: number;
  /** Called with the entries of each applyBatch() (for tests and benchmarks: what was applied). */
  onApply?: (entries: readonly Readonly<Entry>[]) => void;
}

const CURRENT = 'CURRENT';
const SCHEMA = `
CREATE TABLE IF NOT EXISTS map (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS raft_position (id INTEGER PRIMARY KEY CHECK (id = 0), idx INTEGER NOT NULL, term INTEGER NOT NULL);
INSERT OR IGNORE INTO raft_position VALUES (0, 0, 0);
`;

/**
 * The map. applyBatch() returns, per entry, the key's previous value (null: it had none), or
 * undefined for entries that carry no command.
 */
export class SqliteMap implements OnDiskStateMachine<string | null | undefined> {
  readonly dir: string;
  private db: Database.Database;
  private live: string;
  private readonly options: SqliteMapOptions;

  private statements: ReturnType<typeof prepareStatements>;

  private constructor(dir: string, live: string, options: SqliteMapOptions) {
    this.dir = dir;
    this.live = live;
    this.options = options;
    this.db = openDatabase(path.join(dir, live), options);
    this.statements = prepareStatements(this.db);
  }

  /** Opens (or creates) the map in `dir`, and removes what an interrupted receive left behind. */
  static open(dir: string, options: SqliteMapOptions = {}): SqliteMap {
    fs.mkdirSync(dir, { recursive: true });
    let live: string;
    try {
      live = fs.readFileSync(path.join(dir, CURRENT), 'utf8').trim();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      live = 'state-0.sqlite';
      // The empty database first, then the pointer to it: CURRENT never names a missing file.
      openDatabase(path.join(dir, live), options).close();
      writeAtomically(dir, CURRENT, live);
    }
    for (const f of fs.readdirSync(dir)) {
      if (f === CURRENT || f.startsWith(live)) continue;
      // Complete staged snapshots stay: RaftNode may need to install one (a crash came between
      // recording it in the log store and installing it).
      if (/^snap-\d+-[0-9a-f]+\.sqlite$/.test(f)) continue;
      fs.rmSync(path.join(dir, f), { force: true });
    }
    return new SqliteMap(dir, live, options);
  }

  /** The value of `key`, or undefined. */
  get(key: string): string | undefined {
    const row = this.db.prepare('SELECT value FROM map WHERE key = ?').get(key) as { value: string } | undefined;
    return row?.value;
  }

  /** The keys starting with `prefix` and their values, in key order. */
  *entries(prefix = ''): IterableIterator<{ key: string; value: string }> {
    const rows = this.db.prepare("SELECT key, value FROM map WHERE key >= ? AND key < ? || char(1114111) ORDER BY key");
    yield* rows.iterate(prefix, prefix) as IterableIterator<{ key: string; value: string }>;
  }

  /** SQLite's own check of the live database file: 'ok', or what is wrong. */
  integrityCheck(): string {
    return (this.db.pragma('integrity_check') as Array<{ integrity_check: string }>).map((r) => r.integrity_check).join('; ');
  }

  /** How many keys the map holds. */
  size(): number {
    return (this.db.prepare('SELECT count(*) AS n FROM map').get() as { n: number }).n;
  }

  position(): LogPosition {
    const row = this.db.prepare('SELECT idx, term FROM raft_position WHERE id = 0').get() as { idx: number; term: number };
    return { index: row.idx, term: row.term };
  }

  applyBatch(entries: readonly Readonly<Entry>[]): Array<string | null | undefined> {
    this.options.onApply?.(entries);
    const { get, put, del, setPosition } = this.statements;
    // One transaction: the effects and the position survive a crash together or not at all.
    return this.db.transaction(() => {
      const results: Array<string | null | undefined> = [];
      for (const e of entries) {
        if (e.type !== EntryType.EntryNormal || e.data.length === 0) {
          results.push(undefined);
          continue;
        }
        const cmd = JSON.parse(decoder.decode(e.data)) as MapCommand;
        results.push((get.get(cmd.key) as string | undefined) ?? null);
        if (cmd.value === null) del.run(cmd.key);
        else put.run(cmd.key, cmd.value);
      }
      const last = entries[entries.length - 1];
      if (last !== undefined) setPosition.run(last.index, last.term);
      return results;
    })();
  }

  async openSnapshot(): Promise<SnapshotSource> {
    const file = path.join(os.tmpdir(), `sqlite-map-snapshot-${randomBytes(6).toString('hex')}.sqlite`);
    try {
      await this.db.backup(file);
      const copy = new Database(file, { readonly: true, fileMustExist: true });
      let position: LogPosition;
      try {
        const row = copy.prepare('SELECT idx, term FROM raft_position WHERE id = 0').get() as { idx: number; term: number };
        position = { index: row.idx, term: row.term };
      } finally {
        copy.close();
      }
      return new FileSnapshotSource(file, position, this.options.chunkBytes ?? 1 << 20);
    } catch (err) {
      fs.rmSync(file, { force: true });
      throw err;
    }
  }

  async receiveSnapshot(snapshot: LogPosition): Promise<SnapshotSink> {
    for (const f of fs.readdirSync(this.dir)) {
      if (f.startsWith('snap-') && !f.startsWith(this.live)) fs.rmSync(path.join(this.dir, f), { force: true });
    }
    const name = `snap-${snapshot.index}-${randomBytes(4).toString('hex')}.sqlite`;
    const part = path.join(this.dir, `${name}.part`);
    const fh = await fs.promises.open(part, 'wx');
    const dir = this.dir;
    return {
      async write(chunk: Uint8Array): Promise<void> {
        await fh.write(chunk);
      },
      async finish(): Promise<void> {
        await fh.sync();
        await fh.close();
        fs.renameSync(part, path.join(dir, name));
        fsyncPath(dir);
      },
      async abort(): Promise<void> {
        await fh.close().catch(() => {});
        fs.rmSync(part, { force: true });
      },
    };
  }

  async installSnapshot(snapshotIndex: number): Promise<LogPosition> {
    const staged = fs.readdirSync(this.dir).find((f) => f.startsWith(`snap-${snapshotIndex}-`) && f.endsWith('.sqlite') && f !== this.live);
    if (staged === undefined) throw new Error(`no staged snapshot for index ${snapshotIndex} in ${this.dir}`);
    const old = this.live;
    this.db.close();
    // The commit point: before it a crash leaves the old state, after it the new one.
    writeAtomically(this.dir, CURRENT, staged);
    this.live = staged;
    this.db = openDatabase(path.join(this.dir, staged), this.options);
    this.statements = prepareStatements(this.db);
    for (const suffix of ['', '-wal', '-shm']) fs.rmSync(path.join(this.dir, old + suffix), { force: true });
    return this.position();
  }

  /** Closes the database. */
  close(): void {
    this.db.close();
  }
}

/** A snapshot copy in a temporary file, read in chunks as they are pulled. */
class FileSnapshotSource implements SnapshotSource {
  readonly bytes: number;
  constructor(
    private readonly file: string,
    readonly position: LogPosition,
    private readonly chunkBytes: number,
  ) {
    this.bytes = fs.statSync(file).size;
  }

  async *chunks(): AsyncIterable<Uint8Array> {
    const fh = await fs.promises.open(this.file, 'r');
    try {
      for (let offset = 0; offset < this.bytes; ) {
        // A fresh buffer per chunk: the transport may still hold the previous one.
        const buf = Buffer.allocUnsafe(Math.min(this.chunkBytes, this.bytes - offset));
        const { bytesRead } = await fh.read(buf, 0, buf.length, offset);
        if (bytesRead === 0) throw new Error(`snapshot file ${this.file} shrank under us`);
        offset += bytesRead;
        yield buf.subarray(0, bytesRead);
      }
    } finally {
      await fh.close();
    }
  }

  async close(): Promise<void> {
    fs.rmSync(this.file, { force: true });
  }
}

/** The statements applyBatch() runs, prepared once per connection. */
function prepareStatements(db: Database.Database) {
  return {
    get: db.prepare('SELECT value FROM map WHERE key = ?').pluck(),
    put: db.prepare('INSERT INTO map (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value'),
    del: db.prepare('DELETE FROM map WHERE key = ?'),
    setPosition: db.prepare('UPDATE raft_position SET idx = ?, term = ? WHERE id = 0'),
  };
}

function openDatabase(file: string, options: SqliteMapOptions): Database.Database {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${options.synchronous ?? 'full'}`);
  db.exec(SCHEMA);
  return db;
}

/** Replaces `dir/name` with `content`: a crash leaves the old content or the new, whole. */
function writeAtomically(dir: string, name: string, content: string): void {
  const tmp = path.join(dir, `${name}.tmp`);
  const fd = fs.openSync(tmp, 'w');
  try {
    fs.writeSync(fd, content);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, path.join(dir, name));
  fsyncPath(dir);
}

function fsyncPath(p: string): void {
  const fd = fs.openSync(p, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}
