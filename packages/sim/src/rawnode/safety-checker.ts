/**
 * The safety checker of the simulation: the invariants of the Raft paper (§5.2, §5.3, §5.4,
 * Figure 3) checked against every state a cluster passes through. It knows nothing about
 * RawNode: the simulator shows it views of logs and a few events (a hard state persisted, an
 * entry applied, a restart), and tests can show it fabricated histories just the same.
 *
 * Most checks compare against a global record of the past rather than only the present, so that
 * a violation is caught even when the evidence of one side has since been overwritten.
 */
import { type Entry, EntryType, type HardState } from '@pontoon/raft/core';

/** The invariant a violation breaks; stable names, used in reports and in tests. */
export type Invariant =
  | 'election-safety'
  | 'log-matching'
  | 'leader-completeness'
  | 'state-machine-safety'
  | 'commit-monotonic'
  | 'hard-state-monotonic'
  | 'committed-entry-durable'
  | 'liveness';

/** A broken invariant: a bug in the core (or in the driver under test), never bad luck. */
export class SafetyViolation extends Error {
  readonly invariant: Invariant;
  constructor(invariant: Invariant, detail: string) {
    super(`${invariant} violated: ${detail}`);
    this.name = 'SafetyViolation';
    this.invariant = invariant;
  }
}

/** A read-only view of one log: a snapshot up to `firstIndex() - 1`, then entries. */
export interface LogView {
  firstIndex(): number;
  lastIndex(): number;
  /** The term of the last entry folded into the snapshot (index `firstIndex() - 1`). */
  snapshotTerm(): number;
  /** The entries `firstIndex()..lastIndex()`, in order. */
  entries(): readonly Entry[];
}

/** One node as the checker sees it at one instant. */
export interface NodeView {
  id: number;
  /** In-memory state; absent while the node is crashed. */
  live?: {
    term: number;
    isLeader: boolean;
    committed: number;
    /** What the node believes its log is: durable entries followed by unstable ones. */
    log: LogView;
  };
  /** What survives a crash: the node's storage. */
  durable: { log: LogView };
}

interface EntryRecord {
  prevTerm: number;
  key: string;
}

interface CommittedRecord {
  term: number;
  key: string;
  /**
   * No term at or above which the entry could have been committed: every term any node had when
   * the commit was first observed is at most this. Leaders of later terms must hold the entry.
   */
  termBound: number;
  /** Who showed it committed first, for reports. */
  witness: number;
}

const keyCache = new WeakMap<Entry, string>();

/** The identity of an entry apart from its position: its type and payload. */
export function entryKey(e: Entry): string {
  let k = keyCache.get(e);
  if (k === undefined) {
    k = `${e.type}:${Buffer.from(e.data.buffer, e.data.byteOffset, e.data.byteLength).toString('latin1')}`;
    keyCache.set(e, k);
  }
  return k;
}

function describeKey(key: string): string {
  return JSON.stringify(key);
}

export class SafetyChecker {
  readonly quorum: number;
  /** Every (term, leader) ever seen. */
  readonly leaders = new Map<number, number>();
  /** The highest term any node has ever had (in memory or persisted). */
  maxTerm = 0;
  /** Every entry ever seen in any log: index -> term -> what it is and what precedes it. */
  private readonly seen = new Map<number, Map<number, EntryRecord>>();
  /** Every entry known to be committed: index -> entry. */
  private readonly committed = new Map<number, CommittedRecord>();
  /** What was applied at each index, by the first node that applied it. */
  private readonly applied = new Map<number, { key: string; node: number }>();
  private readonly persisted = new Map<number, HardState>();
  /** Per node: the lowest commit index its current incarnation may ever report. */
  private readonly commitFloor = new Map<number, number>();

  constructor(readonly voterCount: number) {
    this.quorum = Math.floor(voterCount / 2) + 1;
  }

  /** The committed entries recorded so far, by index (for reports and tests). */
  committedEntries(): ReadonlyMap<number, { term: number; key: string }> {
    return this.committed;
  }

  /**
   * Raft §5.2, Election Safety: at most one leader per term. Cheap; the simulator calls it after
   * every delivered message so that even a leadership that lasts one message is seen.
   */
  observeLeader(term: number, id: number): void {
    if (term > this.maxTerm) this.maxTerm = term;
    const prev = this.leaders.get(term);
    if (prev === undefined) {
      this.leaders.set(term, id);
    } else if (prev !== id) {
      throw new SafetyViolation('election-safety', `term ${term} has two leaders: ${prev} and ${id}`);
    }
  }

  /**
   * A node wrote a hard state. Raft Figure 2: currentTerm only grows, votedFor is fixed within a
   * term once cast, and a commit index, once durable, never goes back.
   */
  observePersistedHardState(id: number, hs: HardState): void {
    const prev = this.persisted.get(id);
    if (prev !== undefined) {
      if (hs.term < prev.term) {
        throw new SafetyViolation('hard-state-monotonic', `node ${id} persisted term ${hs.term} after term ${prev.term}`);
      }
      if (hs.term === prev.term && prev.vote !== 0 && hs.vote !== prev.vote) {
        throw new SafetyViolation(
          'hard-state-monotonic',
          `node ${id} changed its vote in term ${hs.term} from ${prev.vote} to ${hs.vote}`,
        );
      }
      if (hs.commit < prev.commit) {
        throw new SafetyViolation('commit-monotonic', `node ${id} persisted commit ${hs.commit} after commit ${prev.commit}`);
      }
    }
    if (hs.term > this.maxTerm) this.maxTerm = hs.term;
    this.persisted.set(id, { term: hs.term, vote: hs.vote, commit: hs.commit });
    this.raiseCommitFloor(id, hs.commit);
  }

  /** A node came back from a crash; it must remember at least the commit index it persisted. */
  observeRestart(id: number, committed: number, term: number): void {
    const hs = this.persisted.get(id);
    if (hs !== undefined) {
      if (committed < hs.commit) {
        throw new SafetyViolation('commit-monotonic', `node ${id} restarted with commit ${committed} < persisted ${hs.commit}`);
      }
      if (term < hs.term) {
        throw new SafetyViolation('hard-state-monotonic', `node ${id} restarted at term ${term} < persisted ${hs.term}`);
      }
    }
    // What was only in memory is gone; what was persisted is the new floor.
    this.commitFloor.set(id, hs?.commit ?? 0);
  }

  /**
   * A node applied an entry. Raft §5.4.3, State Machine Safety: no two nodes apply different
   * entries at one index; and what is applied was committed.
   */
  observeApply(id: number, e: Entry): void {
    const key = entryKey(e);
    const prev = this.applied.get(e.index);
    if (prev === undefined) {
      this.applied.set(e.index, { key, node: id });
    } else if (prev.key !== key) {
      throw new SafetyViolation(
        'state-machine-safety',
        `node ${id} applied ${describeKey(key)} at index ${e.index}, node ${prev.node} applied ${describeKey(prev.key)}`,
      );
    }
    this.recordCommitted(id, e.index, e.term, key);
  }

  /**
   * A node's state machine was replaced by a snapshot's: the snapshot must hold exactly the
   * commands applied at indices up to its own (State Machine Safety through snapshots), and its
   * last entry must be the committed one.
   */
  observeSnapshotRestore(
    id: number,
    meta: { index: number; term: number },
    commands: readonly { index: number; data: string }[],
  ): void {
    const last = this.committed.get(meta.index);
    if (last !== undefined && last.term !== meta.term) {
      throw new SafetyViolation(
        'state-machine-safety',
        `node ${id} restored a snapshot at (index ${meta.index}, term ${meta.term}), but term ${last.term} is committed there`,
      );
    }
    const expected: string[] = [];
    for (let i = 1; i <= meta.index; i++) {
      const rec = this.applied.get(i);
      if (rec === undefined) {
        throw new SafetyViolation(
          'state-machine-safety',
          `node ${id} restored a snapshot covering index ${i}, which nobody applied`,
        );
      }
      // The state machine keeps the payloads of normal entries that have one.
      const normal = `${EntryType.EntryNormal}:`;
      if (rec.key.startsWith(normal) && rec.key.length > normal.length) expected.push(`${i}=${rec.key.slice(normal.length)}`);
    }
    const got = commands.map((c) => `${c.index}=${Buffer.from(c.data, 'utf8').toString('latin1')}`);
    if (got.join('\n') !== expected.join('\n')) {
      throw new SafetyViolation(
        'state-machine-safety',
        `node ${id} restored a snapshot at index ${meta.index} holding [${got.join(', ')}], ` +
          `but what was applied up to there is [${expected.join(', ')}]`,
      );
    }
  }

  /** Checks every invariant over the present state of the cluster. */
  check(nodes: readonly NodeView[]): void {
    for (const n of nodes) {
      if (n.live === undefined) continue;
      if (n.live.term > this.maxTerm) this.maxTerm = n.live.term;
      if (n.live.isLeader) this.observeLeader(n.live.term, n.id);
    }
    for (const n of nodes) {
      if (n.live !== undefined) {
        this.checkCommitMonotonic(n.id, n.live.committed);
        this.checkLog(n.id, n.live.log, n.live.committed);
      } else {
        // A crashed node's log is what it will come back with.
        this.checkLog(n.id, n.durable.log, 0);
      }
    }
    this.checkCommittedDurable(nodes);
    for (const n of nodes) {
      if (n.live?.isLeader === true) this.checkLeaderCompleteness(n.id, n.live.term, n.live.log);
    }
  }

  private raiseCommitFloor(id: number, commit: number): void {
    if (commit > (this.commitFloor.get(id) ?? 0)) this.commitFloor.set(id, commit);
  }

  private checkCommitMonotonic(id: number, committed: number): void {
    const floor = this.commitFloor.get(id) ?? 0;
    if (committed < floor) {
      throw new SafetyViolation('commit-monotonic', `node ${id} has commit index ${committed}, down from ${floor}`);
    }
    this.commitFloor.set(id, committed);
  }

  /**
   * Raft §5.3, Log Matching: if two logs hold an entry with the same index and term, they are
   * identical up to it. Checked by induction against every entry ever seen: an (index, term)
   * must always carry the same entry and follow an entry of the same term, which makes any two
   * logs that share it agree on everything before it too. Also records the committed prefix.
   */
  private checkLog(id: number, log: LogView, committed: number): void {
    const ents = log.entries();
    let prevTerm = log.snapshotTerm();
    const first = log.firstIndex();
    for (let k = 0; k < ents.length; k++) {
      const e = ents[k]!;
      if (e.index !== first + k) {
        throw new SafetyViolation('log-matching', `node ${id}: log is not contiguous at ${first + k} (found index ${e.index})`);
      }
      if (e.term < prevTerm) {
        throw new SafetyViolation('log-matching', `node ${id}: term goes down at index ${e.index} (${prevTerm} -> ${e.term})`);
      }
      const key = entryKey(e);
      let byTerm = this.seen.get(e.index);
      if (byTerm === undefined) {
        byTerm = new Map();
        this.seen.set(e.index, byTerm);
      }
      const rec = byTerm.get(e.term);
      if (rec === undefined) {
        byTerm.set(e.term, { prevTerm, key });
      } else if (rec.key !== key || rec.prevTerm !== prevTerm) {
        throw new SafetyViolation(
          'log-matching',
          `node ${id}: entry (index ${e.index}, term ${e.term}) is ${describeKey(key)} after term ${prevTerm}, ` +
            `but was seen as ${describeKey(rec.key)} after term ${rec.prevTerm}`,
        );
      }
      if (e.index <= committed) this.recordCommitted(id, e.index, e.term, key);
      prevTerm = e.term;
    }
  }

  private recordCommitted(id: number, index: number, term: number, key: string): void {
    const rec = this.committed.get(index);
    if (rec === undefined) {
      this.committed.set(index, { term, key, termBound: this.maxTerm, witness: id });
    } else if (rec.term !== term || rec.key !== key) {
      throw new SafetyViolation(
        'state-machine-safety',
        `node ${id} has (index ${index}, term ${term}, ${describeKey(key)}) committed, ` +
          `but node ${rec.witness} had (term ${rec.term}, ${describeKey(rec.key)}) committed there`,
      );
    }
  }

  /**
   * No committed entry is lost: an entry is committed only once a quorum stored it durably, and
   * from then on a quorum of storages holds it at that index (or folded into a snapshot), so
   * that any later quorum of voters intersects it. Crashed nodes count with their storage.
   */
  private checkCommittedDurable(nodes: readonly NodeView[]): void {
    if (this.committed.size === 0) return;
    const logs = nodes.map((n) => {
      const log = n.durable.log;
      const terms = new Map<number, number>();
      for (const e of log.entries()) terms.set(e.index, e.term);
      return { id: n.id, first: log.firstIndex(), terms };
    });
    for (const [index, rec] of this.committed) {
      let holders = 0;
      for (const l of logs) {
        if (index < l.first || l.terms.get(index) === rec.term) holders++;
      }
      if (holders < this.quorum) {
        const where = logs
          .map((l) => `${l.id}:${index < l.first ? 'snap' : String(l.terms.get(index) ?? '-')}`)
          .join(' ');
        throw new SafetyViolation(
          'committed-entry-durable',
          `committed entry (index ${index}, term ${rec.term}) is durable on ${holders} of ${nodes.length} nodes, ` +
            `quorum is ${this.quorum} [node:term ${where}]`,
        );
      }
    }
  }

  /**
   * Raft §5.4, Leader Completeness: an entry committed in term T is in the log of every leader of
   * a term above T. A commit first seen while no node had a term above B happened in a term
   * <= B, so leaders of terms above B are held to it.
   */
  private checkLeaderCompleteness(id: number, term: number, log: LogView): void {
    const first = log.firstIndex();
    const last = log.lastIndex();
    let ents: readonly Entry[] | undefined;
    for (const [index, rec] of this.committed) {
      if (rec.termBound >= term || index < first) continue;
      ents ??= log.entries();
      const e = index <= last ? ents[index - first] : undefined;
      if (e === undefined || e.term !== rec.term || entryKey(e) !== rec.key) {
        throw new SafetyViolation(
          'leader-completeness',
          `leader ${id} of term ${term} lacks entry (index ${index}, term ${rec.term}, ${describeKey(rec.key)}) ` +
            `committed by term ${rec.termBound}; it has ${e === undefined ? 'nothing' : `term ${e.term}`} there`,
        );
      }
    }
  }
}
