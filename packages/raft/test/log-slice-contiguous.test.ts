/**
 * A slice of the log is contiguous. RaftLog.slice reads the stable part from Storage and the rest
 * from the unstable tail, within a byte budget; when Storage stops early for the budget, the
 * unstable entries must not be appended behind the shortened stable part. A gap in a slice would
 * go out in a MsgApp, whose entries a follower stores at consecutive indexes: a log that no
 * leader ever had.
 */
import { describe, expect, it } from 'vitest';
import { RaftLog } from '../src/log/raft-log.js';
import { entrySize } from '../src/types.js';
import { entry, newTestMemoryStorage, withPeers } from './support/network.js';

describe('RaftLog.slice across storage and the unstable tail', () => {
  it('stops at the stable entry the budget cuts, even when the next unstable entry would fit', () => {
    const e1 = entry({ index: 1, term: 1, data: new Uint8Array(60) });
    const e2 = entry({ index: 2, term: 1, data: new Uint8Array(50) });
    const u3 = entry({ index: 3, term: 1, data: new Uint8Array(1) });
    const s = newTestMemoryStorage(withPeers(1));
    s.append([e1, e2]);
    const log = new RaftLog(s);
    log.append([u3]);
    expect(log.unstable.offset).toBe(3);

    // Room for e1 and u3, not for e1 and e2.
    const budget = entrySize(e1) + entrySize(u3) + 1;
    expect(entrySize(e1) + entrySize(e2)).toBeGreaterThan(budget);
    const got = log.slice(1, 4, budget);
    expect(got.map((e) => e.index)).toEqual([1]);
    // With room for all, all three, in order.
    expect(log.slice(1, 4, Infinity).map((e) => e.index)).toEqual([1, 2, 3]);
  });
});
