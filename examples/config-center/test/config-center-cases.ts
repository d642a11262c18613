import { Etcd3 } from 'etcd3';
import { expect, it } from 'vitest';
import { runConfigCenterDemo } from '../config-demo.js';
import { type ConfigUpdate, followConfig } from '../config-follower.js';
import { settingKey } from '../config-keys.js';
import { readConfig } from '../config-snapshot.js';

/**
 * The config-center cases, for any etcd v3 cluster (pontoon-kv's test and the real etcd's run
 * the same). `endpoints` is read when a case runs, after the file's beforeAll started the cluster.
 */
export function configCenterCases(endpoints: () => readonly string[]): void {
  it('the demo: three programs end with the same settings, each change seen once, a revision at a time', { timeout: 120_000 }, async () => {
    const lines: string[] = [];
    const report = await runConfigCenterDemo({ endpoints: endpoints(), print: (l) => lines.push(l), stepTimeoutMs: 60_000 });
    const context = lines.join('\n');
    const { first, late, stale } = report.programs;
    const { rateLimit200, moveDb, dropNewUi, rateLimit300, rateLimit400, newUiAgain } = report.writes;
    expect(first.updates.map((u) => [u.revision, u.source, Object.fromEntries(u.changed)]), context).toEqual([
      [rateLimit200, 'watch', { 'rate.limit': '200' }],
      [moveDb, 'watch', { 'db.host': 'db-b.internal', 'db.port': '6432' }],
      [dropNewUi, 'watch', { 'feature.new_ui': undefined }],
      [rateLimit300, 'watch', { 'rate.limit': '300' }],
      [rateLimit400, 'watch', { 'rate.limit': '400' }],
      [newUiAgain, 'watch', { 'feature.new_ui': 'true' }],
    ]);
    // "late" read before rate.limit=300 and watched after it: the watch from its read still delivered it.
    expect(late.readAt, context).toBeLessThan(rateLimit300);
    expect(late.updates.map((u) => u.revision), context).toEqual([rateLimit300, rateLimit400, newUiAgain]);
    // "stale" could not watch from its read: it read again, and got both changes as one update.
    expect(stale.updates.map((u) => [u.source, Object.fromEntries(u.changed)]), context).toEqual([
      ['reread', { 'rate.limit': '400', 'feature.new_ui': 'true' }],
    ]);
    for (const p of [first, late, stale]) expect(Object.fromEntries(p.final.settings), context).toEqual(Object.fromEntries(first.final.settings));
  });

  it('a change written between the read and the start of the watch is delivered', async () => {
    const etcd = new Etcd3({ hosts: [...endpoints()] });
    const updates: ConfigUpdate[] = [];
    try {
      await etcd.put(settingKey('between', 'timeout_ms')).value('100');
      const snapshot = await readConfig(etcd, 'between');
      const between = Number((await etcd.put(settingKey('between', 'timeout_ms')).value('250')).header.revision);
      const follower = followConfig(etcd, 'between', snapshot, { onUpdate: (u) => updates.push(u) });
      try {
        await waitFor(() => updates.length > 0);
        expect(snapshot.settings.get('timeout_ms')).toBe('100');
        expect(updates.map((u) => [u.revision, u.source, Object.fromEntries(u.changed)])).toEqual([[between, 'watch', { timeout_ms: '250' }]]);
        expect(follower.current().settings.get('timeout_ms')).toBe('250');
      } finally {
        await follower.close();
      }
    } finally {
      etcd.close();
    }
  });

  it('a transaction that changes several settings arrives as one update', async () => {
    const etcd = new Etcd3({ hosts: [...endpoints()] });
    const updates: ConfigUpdate[] = [];
    try {
      await etcd.put(settingKey('atomic', 'old')).value('x');
      const snapshot = await readConfig(etcd, 'atomic');
      const follower = followConfig(etcd, 'atomic', snapshot, { onUpdate: (u) => updates.push(u) });
      try {
        const txn = await etcd
          .if(settingKey('atomic', 'old'), 'Value', '==', 'x')
          .then(etcd.put(settingKey('atomic', 'a')).value('1'), etcd.put(settingKey('atomic', 'b')).value('2'), etcd.delete().key(settingKey('atomic', 'old')))
          .commit();
        const after = Number((await etcd.put(settingKey('atomic', 'a')).value('3')).header.revision);
        await waitFor(() => updates.length >= 2);
        expect(txn.succeeded).toBe(true);
        expect(updates.map((u) => [u.revision, Object.fromEntries(u.changed), Object.fromEntries(u.settings)])).toEqual([
          [Number(txn.header.revision), { a: '1', b: '2', old: undefined }, { a: '1', b: '2' }],
          [after, { a: '3' }, { a: '3', b: '2' }],
        ]);
      } finally {
        await follower.close();
      }
    } finally {
      etcd.close();
    }
  });

  it('a watch cancelled because its revision was compacted is survived by reading again', async () => {
    // Read, watch and compact through one member: it answers the compaction once it applied it,
    // so the watch is certain to find its history gone.
    const etcd = new Etcd3({ hosts: endpoints()[0]! });
    const updates: ConfigUpdate[] = [];
    const errors: unknown[] = [];
    try {
      await etcd.put(settingKey('compacted', 'kept')).value('1');
      await etcd.put(settingKey('compacted', 'gone')).value('1');
      const snapshot = await readConfig(etcd, 'compacted');
      await etcd.put(settingKey('compacted', 'kept')).value('2');
      const compactedAt = (await etcd.delete().key(settingKey('compacted', 'gone'))).header.revision;
      await etcd.kv.compact({ revision: compactedAt, physical: true });
      const follower = followConfig(etcd, 'compacted', snapshot, { onUpdate: (u) => updates.push(u), onError: (e) => errors.push(e) });
      try {
        await waitFor(() => updates.length > 0);
        const next = Number((await etcd.put(settingKey('compacted', 'new')).value('1')).header.revision);
        await waitFor(() => updates.length > 1);
        expect(errors.length).toBeGreaterThan(0);
        expect(updates.map((u) => [u.source, Object.fromEntries(u.changed)])).toEqual([
          ['reread', { kept: '2', gone: undefined }],
          ['watch', { new: '1' }],
        ]);
        expect(updates[0]!.revision).toBeGreaterThanOrEqual(Number(compactedAt));
        expect(updates[1]!.revision).toBe(next);
      } finally {
        await follower.close();
      }
    } finally {
      etcd.close();
    }
  });
}

/** Polls `condition` until it holds; throws after `timeoutMs`. */
export async function waitFor(condition: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
