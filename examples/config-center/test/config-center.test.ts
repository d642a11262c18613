import { Etcd3 } from 'etcd3';
import { type PontoonKvCluster, startPontoonKvCluster } from 'pontoon-kv/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ConfigUpdate, followConfig } from '../config-follower.js';
import { settingKey } from '../config-keys.js';
import { readConfig } from '../config-snapshot.js';
import { configCenterCases, waitFor } from './config-center-cases.js';

/** The config-center example against a 3-member pontoon-kv cluster of processes. */

let cluster: PontoonKvCluster;

beforeAll(async () => {
  cluster = await startPontoonKvCluster({ size: 3 });
}, 180_000);

afterAll(async () => {
  await cluster?.stop();
});

describe('config center on pontoon-kv', () => {
  configCenterCases(() => cluster.endpoints);

  it('a follower whose member restarts resumes from the last revision it applied: every change, once, in order', { timeout: 240_000 }, async () => {
    // The follower talks to member 0 only, so that stopping it breaks the watch.
    const viaMember0 = new Etcd3({ hosts: cluster.endpoints[0]! });
    const viaMember1 = new Etcd3({ hosts: cluster.endpoints[1]! });
    const updates: ConfigUpdate[] = [];
    try {
      await viaMember1.put(settingKey('restart', 'n')).value('0');
      const snapshot = await readConfig(viaMember0, 'restart');
      const follower = followConfig(viaMember0, 'restart', snapshot, { onUpdate: (u) => updates.push(u) });
      try {
        const before = Number((await viaMember1.put(settingKey('restart', 'n')).value('1')).header.revision);
        await waitFor(() => updates.length === 1);
        await cluster.stopMember(0);
        const written = [before];
        for (let n = 2; n <= 4; n++) written.push(Number((await viaMember1.put(settingKey('restart', 'n')).value(String(n))).header.revision));
        await cluster.restartMember(0);
        await waitFor(() => follower.current().revision >= written.at(-1)!, 120_000);
        expect(updates.map((u) => [u.revision, u.source, u.changed.get('n')])).toEqual(written.map((rev, i) => [rev, 'watch', String(i + 1)]));
      } finally {
        await follower.close();
      }
    } finally {
      viaMember0.close();
      viaMember1.close();
    }
  });
});
