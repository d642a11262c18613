/**
 * A proposal of several entries (RaftNode batches the proposals of one event-loop turn) is
 * appended at consecutive indexes, replicated and committed in order on every node. An entry
 * whose index field disagreed with its position would break Log Matching: followers match and
 * truncate by the index an entry carries.
 */
import { describe, expect, it } from 'vitest';
import { MessageType } from '../src/types.js';
import { bytes, entry, hup, msg, newNetwork } from './support/network.js';

describe('a batch of proposed entries', () => {
  it('lands at consecutive indexes, in order, on every node, and commits', () => {
    const nt = newNetwork(null, null, null);
    nt.send(hup(1));
    const first = nt.raft(1).raftLog.lastIndex() + 1;
    nt.send(
      msg({ type: MessageType.MsgProp, from: 1, to: 1, entries: ['a', 'b', 'c'].map((d) => entry({ data: bytes(d) })) }),
    );
    // A second batch, forwarded by a follower.
    nt.send(msg({ type: MessageType.MsgProp, from: 2, to: 2, entries: ['d', 'e'].map((d) => entry({ data: bytes(d) })) }));

    const decoder = new TextDecoder();
    for (const id of [1, 2, 3]) {
      const log = nt.raft(id).raftLog;
      const ents = log.allEntries();
      // Every entry's index is its position in the log.
      expect(ents.map((e) => e.index), `node ${id}`).toEqual(ents.map((_, i) => log.firstIndex() + i));
      const tail = log.entries(first, Infinity);
      expect(tail.map((e) => decoder.decode(e.data)), `node ${id}`).toEqual(['a', 'b', 'c', 'd', 'e']);
      expect(log.committed, `node ${id}`).toBe(first + 4);
    }
  });
});
