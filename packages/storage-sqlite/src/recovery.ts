/**
 * Reading a store back at open(): hard state, snapshot (with its ConfState), log start and every
 * entry after it, each checked against its checksum, the log checked for gaps. The result is the
 * in-memory view that serves the core's reads from then on.
 */
import type Database from 'better-sqlite3';
import { type ConfState, type Entry, type HardState, type Snapshot, MemoryStorage } from '@pontoon/raft/core';
import { entryChecksum, numbersChecksum, snapshotChecksum } from './checksum.js';
import { CorruptionError } from './errors.js';

/** What the writer needs to know to validate the next writes the way the view will apply them. */
export interface WriterState {
  /** Index and term of the entry before the first one kept. */
  logStart: number;
  logStartTerm: number;
  lastIndex: number;
  snapshotIndex: number;
  /** The hard state row as [term, vote, commit] (a write that would not change it skips it). */
  hardState: [number, number, number];
}

export interface Recovered {
  view: MemoryStorage;
  writerState: WriterState;
}

interface NumbersRow {
  idx: number;
  term: number;
  crc: number;
}

/** Loads and verifies everything; throws CorruptionError naming the first bad thing found. */
export function recover(db: Database.Database): Recovered {
  const hsRow = db.prepare('SELECT term, vote, commit_index, crc FROM hard_state WHERE id = 0').get() as
    | { term: number; vote: number; commit_index: number; crc: number }
    | undefined;
  if (hsRow === undefined) throw new CorruptionError('hard_state', 'row missing');
  if (numbersChecksum('hard_state', [hsRow.term, hsRow.vote, hsRow.commit_index]) !== hsRow.crc) {
    throw new CorruptionError('hard_state', 'checksum mismatch');
  }
  const hardState: HardState = { term: hsRow.term, vote: hsRow.vote, commit: hsRow.commit_index };

  const startRow = db.prepare('SELECT idx, term, crc FROM log_start WHERE id = 0').get() as NumbersRow | undefined;
  if (startRow === undefined) throw new CorruptionError('log_start', 'row missing');
  if (numbersChecksum('log_start', [startRow.idx, startRow.term]) !== startRow.crc) {
    throw new CorruptionError('log_start', 'checksum mismatch');
  }

  const snapRow = db.prepare('SELECT idx, term, conf_state, data, crc FROM snapshot WHERE id = 0').get() as
    | { idx: number; term: number; conf_state: string; data: Buffer; crc: number }
    | undefined;
  if (snapRow === undefined) throw new CorruptionError('snapshot', 'row missing');
  if (snapshotChecksum(snapRow.idx, snapRow.term, snapRow.conf_state, snapRow.data) !== snapRow.crc) {
    throw new CorruptionError('snapshot', `checksum mismatch (snapshot at index ${snapRow.idx})`, { index: snapRow.idx });
  }
  const confState = JSON.parse(snapRow.conf_state) as ConfState;
  const snapshot: Snapshot = {
    data: new Uint8Array(snapRow.data.buffer, snapRow.data.byteOffset, snapRow.data.byteLength),
    metadata: { index: snapRow.idx, term: snapRow.term, confState },
  };
  if (startRow.idx > snapshot.metadata.index) {
    throw new CorruptionError('log_start', `log starts after ${startRow.idx}, beyond the snapshot at ${snapshot.metadata.index}`);
  }

  const entries: Entry[] = [];
  let expected = startRow.idx + 1;
  const rows = db
    .prepare('SELECT idx, term, type, data, crc FROM entries WHERE idx > ? ORDER BY idx')
    .iterate(startRow.idx) as IterableIterator<{ idx: number; term: number; type: number; data: Buffer; crc: number }>;
  for (const r of rows) {
    if (r.idx !== expected) {
      throw new CorruptionError(`entries[${expected}]`, `missing: the next entry stored is ${r.idx}`, { index: expected });
    }
    if (entryChecksum(r.idx, r.term, r.type, r.data) !== r.crc) {
      throw new CorruptionError(`entries[${r.idx}]`, 'checksum mismatch', { index: r.idx });
    }
    entries.push({ index: r.idx, term: r.term, type: r.type, data: new Uint8Array(r.data.buffer, r.data.byteOffset, r.data.byteLength) });
    expected++;
  }
  const lastIndex = expected - 1;
  if (snapshot.metadata.index > lastIndex) {
    throw new CorruptionError('entries', `the log ends at ${lastIndex}, before the snapshot at ${snapshot.metadata.index}`);
  }

  // The view's dummy entry is the log start; the snapshot may be newer (compact() keeps a tail).
  const view = new MemoryStorage();
  view.applySnapshot({ data: snapshot.data, metadata: { index: startRow.idx, term: startRow.term, confState } });
  view.append(entries);
  if (snapshot.metadata.index > startRow.idx) {
    const made = view.createSnapshot(snapshot.metadata.index, confState, snapshot.data);
    if (made.metadata.term !== snapshot.metadata.term) {
      throw new CorruptionError(
        'snapshot',
        `snapshot at ${snapshot.metadata.index} has term ${snapshot.metadata.term} but the log has ${made.metadata.term} there`,
        { index: snapshot.metadata.index },
      );
    }
  }
  view.setHardState(hardState);
  return {
    view,
    writerState: {
      logStart: startRow.idx,
      logStartTerm: startRow.term,
      lastIndex,
      snapshotIndex: snapshot.metadata.index,
      hardState: [hardState.term, hardState.vote, hardState.commit],
    },
  };
}
