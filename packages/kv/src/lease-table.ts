/**
 * The lessor's durable state: granted leases with their TTL, and which keys each one holds.
 * Expiry is not decided here: the leader's clock decides and a revoke goes through the log, so
 * every member applies the same thing.
 */
import type Database from 'better-sqlite3';
import { withBigInts } from './schema.js';

export class LeaseTable {
  private readonly getLease: Database.Statement<[bigint], { id: bigint; ttl: bigint }>;
  private readonly insertLease: Database.Statement<[bigint, number]>;
  private readonly deleteLease: Database.Statement<[bigint]>;
  private readonly allLeases: Database.Statement<[], { id: bigint; ttl: bigint }>;
  private readonly keysOf: Database.Statement<[bigint], { key: Buffer }>;
  private readonly attachKey: Database.Statement<[bigint, Uint8Array]>;
  private readonly detachKey: Database.Statement<[bigint, Uint8Array]>;
  private readonly detachAll: Database.Statement<[bigint]>;

  constructor(db: Database.Database) {
    this.getLease = withBigInts(db.prepare('SELECT id, ttl FROM lease WHERE id = ?'));
    this.insertLease = db.prepare('INSERT INTO lease (id, ttl) VALUES (?, ?)');
    this.deleteLease = db.prepare('DELETE FROM lease WHERE id = ?');
    this.allLeases = withBigInts(db.prepare('SELECT id, ttl FROM lease ORDER BY id'));
    this.keysOf = db.prepare('SELECT key FROM lease_key WHERE lease = ? ORDER BY key');
    this.attachKey = db.prepare('INSERT OR IGNORE INTO lease_key (lease, key) VALUES (?, ?)');
    this.detachKey = db.prepare('DELETE FROM lease_key WHERE lease = ? AND key = ?');
    this.detachAll = db.prepare('DELETE FROM lease_key WHERE lease = ?');
  }

  /** The lease's granted TTL, or undefined when it is not granted. */
  ttl(id: bigint): number | undefined {
    const row = this.getLease.get(id);
    return row === undefined ? undefined : Number(row.ttl);
  }

  grant(id: bigint, ttl: number): void {
    this.insertLease.run(id, ttl);
  }

  /** Forgets the lease and its attachments (the caller deletes the keys first). */
  remove(id: bigint): void {
    this.detachAll.run(id);
    this.deleteLease.run(id);
  }

  /** Keys attached to the lease, in byte order (the order etcd deletes them in on revoke). */
  keys(id: bigint): Uint8Array[] {
    return this.keysOf.all(id).map((row) => new Uint8Array(row.key));
  }

  attach(id: bigint, key: Uint8Array): void {
    this.attachKey.run(id, key);
  }

  detach(id: bigint, key: Uint8Array): void {
    this.detachKey.run(id, key);
  }

  /** Every granted lease, by id. */
  list(): { id: bigint; ttl: number }[] {
    return this.allLeases.all().map((row) => ({ id: row.id, ttl: Number(row.ttl) }));
  }
}
