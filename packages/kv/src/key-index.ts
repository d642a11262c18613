/**
 * The revisions of one key, as generations (etcd's mvcc keyIndex). A generation runs from the
 * key's creation to its deletion (a tombstone, the generation's last revision); after a tombstone
 * an empty generation waits for the next creation. Example, for put(1) put(2) delete(3) put(4)
 * delete(5): {1, 2, 3t} {4, 5t} {}.
 *
 * Compaction at R drops every revision <= R except the largest one of the generation alive at R,
 * drops older generations, and the key disappears once nothing but an empty generation is left.
 */
import { AssertionError } from 'node:assert';
import { type Revision, revisionGreaterThan, revisionId } from './revision.js';

/** One life of a key: created at `created`, `ver` puts so far, its revisions in order. */
export interface Generation {
  ver: number;
  created: Revision;
  revs: Revision[];
}

/** What a key looked like at a revision: where its value is, when it was created, its version. */
export interface KeyAt {
  modified: Revision;
  created: Revision;
  version: number;
}

const ZERO: Revision = { main: 0, sub: 0 };

/** A change to a key as the key index on disk lists it (one entry per change, in order). */
export interface IndexedRevision {
  main: number;
  sub: number;
  tombstone: boolean;
  /** The key's create revision as of this change (0 for a tombstone). */
  createRevision: number;
  /** The key's version as of this change (0 for a tombstone). */
  version: number;
}

export class KeyIndex {
  readonly key: Uint8Array;
  modified: Revision;
  generations: Generation[];

  constructor(key: Uint8Array, modified: Revision = ZERO, generations: Generation[] = []) {
    this.key = key;
    this.modified = modified;
    this.generations = generations;
  }

  /**
   * The key's generations from its changes still stored, oldest first: a tombstone ends a
   * generation. A generation whose first revisions were compacted away gets its `created` from
   * the create revision its changes carry (main only, sub 0: the sub of a compacted creation is
   * not stored, and only `created.main` is ever read); one compacted down to its tombstone alone
   * gets `ver` 1 (nothing reads the version of a finished generation).
   */
  static restore(key: Uint8Array, changes: readonly IndexedRevision[]): KeyIndex {
    const generations: Generation[] = [];
    let g: Generation = { ver: 0, created: ZERO, revs: [] };
    let modified = ZERO;
    for (const c of changes) {
      const rev = { main: c.main, sub: c.sub };
      if (!revisionGreaterThan(rev, modified)) {
        throw new AssertionError({ message: `key index: change at ${c.main}.${c.sub} listed after ${modified.main}.${modified.sub}` });
      }
      if (g.revs.length === 0 && !c.tombstone) g.created = c.createRevision === c.main ? rev : { main: c.createRevision, sub: 0 };
      g.revs.push(rev);
      g.ver = c.tombstone ? g.ver + 1 : c.version;
      modified = rev;
      if (c.tombstone) {
        generations.push(g);
        g = { ver: 0, created: ZERO, revs: [] };
      }
    }
    generations.push(g);
    return new KeyIndex(key, modified, generations);
  }

  /** A revision at which the key is written with a value. */
  put(main: number, sub: number): void {
    const rev = { main, sub };
    if (!revisionGreaterThan(rev, this.modified)) {
      throw new AssertionError({
        message: `key index: put at ${main}.${sub} not above the last modification ${this.modified.main}.${this.modified.sub}`,
      });
    }
    if (this.generations.length === 0) this.generations.push({ ver: 0, created: ZERO, revs: [] });
    const g = this.generations[this.generations.length - 1]!;
    if (g.revs.length === 0) g.created = rev;
    g.revs.push(rev);
    g.ver++;
    this.modified = rev;
  }

  /** A revision at which the key is deleted: ends the current generation. */
  tombstone(main: number, sub: number): void {
    if (this.isEmpty() || this.generations[this.generations.length - 1]!.revs.length === 0) {
      throw new AssertionError({ message: `key index: tombstone at ${main}.${sub} on a key that does not exist` });
    }
    this.put(main, sub);
    this.generations.push({ ver: 0, created: ZERO, revs: [] });
  }

  /** The key as of `atRev`, or undefined when it did not exist then. */
  get(atRev: number): KeyAt | undefined {
    const g = this.findGeneration(atRev);
    if (g === undefined) return undefined;
    const n = walk(g, (rev) => rev.main > atRev);
    if (n === -1) return undefined;
    return { modified: g.revs[n]!, created: g.created, version: g.ver - (g.revs.length - n - 1) };
  }

  /** Compacts at `atRev`, adding the revisions that stay (those at or below atRev) to `available`. */
  compact(atRev: number, available: Set<string>): void {
    const [genIdx, revIndex] = this.doCompact(atRev, available);
    const g = this.generations[genIdx]!;
    if (g.revs.length > 0 && revIndex !== -1) g.revs = g.revs.slice(revIndex);
    this.generations = this.generations.slice(genIdx);
  }

  /**
   * The revisions that a compaction at `atRev` would keep, without compacting (HashKV). A kept
   * tombstone of a finished generation is left out, as etcd does, so hashes stay comparable.
   */
  keep(atRev: number, available: Set<string>): void {
    if (this.isEmpty()) return;
    const [genIdx, revIndex] = this.doCompact(atRev, available);
    const g = this.generations[genIdx]!;
    if (g.revs.length > 0 && revIndex === g.revs.length - 1 && genIdx !== this.generations.length - 1) {
      available.delete(revisionId(g.revs[revIndex]!));
    }
  }

  isEmpty(): boolean {
    return this.generations.length === 1 && this.generations[0]!.revs.length === 0;
  }

  private doCompact(atRev: number, available: Set<string>): [number, number] {
    let genIdx = 0;
    let g = this.generations[0]!;
    // The first generation that is alive at atRev or created after it.
    while (genIdx < this.generations.length - 1) {
      if (g.revs[g.revs.length - 1]!.main >= atRev) break;
      genIdx++;
      g = this.generations[genIdx]!;
    }
    const revIndex = walk(g, (rev) => {
      if (rev.main <= atRev) {
        available.add(revisionId(rev));
        return false;
      }
      return true;
    });
    return [genIdx, revIndex];
  }

  private findGeneration(rev: number): Generation | undefined {
    const lastg = this.generations.length - 1;
    for (let cg = lastg; cg >= 0; cg--) {
      const g = this.generations[cg]!;
      if (g.revs.length === 0) continue;
      // A finished generation whose tombstone is at or below rev: the key was deleted then.
      if (cg !== lastg && g.revs[g.revs.length - 1]!.main <= rev) return undefined;
      if (g.revs[0]!.main <= rev) return g;
    }
    return undefined;
  }
}

/** Walks a generation's revisions newest first; the index of the first one `f` refuses, or -1. */
function walk(g: Generation, f: (rev: Revision) => boolean): number {
  for (let i = g.revs.length - 1; i >= 0; i--) {
    if (!f(g.revs[i]!)) return i;
  }
  return -1;
}
