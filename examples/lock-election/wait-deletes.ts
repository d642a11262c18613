/**
 * The wait at the heart of etcd's lock and election recipes (clientv3/concurrency's
 * `waitDeletes`): a contender queues by creating its own key under the prefix and then waits
 * until every key created before it is gone. Each waits for its own predecessor only, so a
 * release wakes one contender, not all of them.
 */
import { prefixEnd, type KvMember, type ResponseHeader } from '@pontoon/kv';

/**
 * Resolves once no key under `prefix` has a create revision <= `maxCreateRevision`, with the
 * header of the read that found none. Rejects with the signal's reason if it aborts.
 */
export async function waitDeletes(member: KvMember, prefix: Uint8Array, maxCreateRevision: number, signal?: AbortSignal): Promise<ResponseHeader> {
  for (;;) {
    signal?.throwIfAborted();
    const newestBefore = await member.range(
      { key: prefix, rangeEnd: prefixEnd(prefix), maxCreateRevision, sortTarget: 'create', sortOrder: 'descend', limit: 1 },
      signal === undefined ? {} : { signal },
    );
    const predecessor = newestBefore.kvs[0];
    if (predecessor === undefined) return newestBefore.header;
    await waitDelete(member, predecessor.key, newestBefore.header.revision, signal);
  }
}

/**
 * Waits for `key` to be deleted at or after `fromRevision` (the revision it was seen to exist
 * at, so a delete in between is not missed). Also returns if the watch is cancelled (its start
 * revision compacted away): the caller reads again and waits anew.
 */
async function waitDelete(member: KvMember, key: Uint8Array, fromRevision: number, signal?: AbortSignal): Promise<void> {
  const watcher = member.watch(key, { startRevision: fromRevision, filters: { noPut: true }, ...(signal === undefined ? {} : { signal }) });
  for await (const response of watcher) {
    // Leaving the loop cancels the watch.
    if (response.events.length > 0 || response.canceled) return;
  }
  signal?.throwIfAborted();
}
