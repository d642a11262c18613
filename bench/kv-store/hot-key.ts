/**
 * A key written many times. Schema 1 of the store kept a key's revisions in one key-index row
 * (etcd keeps them in an in-memory tree) and a put rewrote that row, so until a compaction the
 * cost of a put grew with the key's version; the key index is now one entry per change, and this
 * section checks that a put costs the same at any version. Measured through the apply layer
 * (batches of `batch` puts to the one key, one SQLite transaction each), as puts/s in windows of
 * `windowPuts` puts, reported at the versions given, and once more after a compaction to the
 * current revision.
 */
import { KvStateMachine, encodeCommand } from '@pontoon/kv';
import { EntryType, type Entry } from '@pontoon/raft';

export interface HotKeyPoint {
  /** The key's version when the window started. */
  version: number;
  /** Measured after compacting the history to the current revision. */
  compacted: boolean;
  putsPerSec: number;
}

export function measureHotKey(file: string, versions: readonly number[], valueBytes: number, batch = 64, windowPuts = 512): Promise<HotKeyPoint[]> {
  return KvStateMachine.open(file).then((sm) => {
    try {
      const value = new Uint8Array(valueBytes).fill(0x64);
      const put = (key: string): Uint8Array => encodeCommand({ op: 'put', request: { key: new TextEncoder().encode(key), value } });
      let data = put('bench/warm-up');
      let index = sm.position().index;
      let version = 0;
      const applyPuts = (n: number): void => {
        for (let done = 0; done < n; ) {
          const entries: Entry[] = [];
          for (let i = 0; i < batch && done < n; i++, done++) entries.push({ index: ++index, term: 1, type: EntryType.EntryNormal, data });
          sm.applyBatch(entries);
        }
        version += n;
      };
      // A window on another key first, so that the first measured window does not pay for the JIT.
      applyPuts(windowPuts);
      data = put('bench/hot');
      version = 0;
      const out: HotKeyPoint[] = [];
      const window = (compacted: boolean): void => {
        const at = version;
        const started = performance.now();
        applyPuts(windowPuts);
        out.push({ version: at, compacted, putsPerSec: windowPuts / ((performance.now() - started) / 1000) });
      };
      for (const target of [...versions].sort((a, b) => a - b)) {
        if (target > version) applyPuts(target - version);
        window(false);
      }
      const compact = encodeCommand({ op: 'compact', request: { revision: sm.store.revision } });
      sm.applyBatch([{ index: ++index, term: 1, type: EntryType.EntryNormal, data: compact }]);
      window(true);
      return out;
    } finally {
      sm.close();
    }
  });
}
