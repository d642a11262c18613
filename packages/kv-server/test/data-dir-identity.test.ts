import { describe, expect, it } from 'vitest';
import { checkDataDirIdentity, type DataDirIdentity } from '../src/data-dir-identity.js';
import { DataDirMismatchError } from '../src/errors.js';
import { initialClusterIds } from '../src/member-id.js';

const ids = initialClusterIds('a=http://127.0.0.1:2380,b=http://127.0.0.1:3380', 'tok');
const a = ids.members.find((m) => m.name === 'a')!;
const stored: DataDirIdentity = { name: 'a', memberId: a.id, clusterId: ids.clusterId, clusterToken: 'tok' };

describe('a restart on an existing data dir', () => {
  it('is allowed for the member and cluster that made it', () => {
    expect(() => checkDataDirIdentity(stored, { dataDir: 'a.etcd', name: 'a', initialClusterToken: 'tok' })).not.toThrow();
  });

  it('is refused under another member\'s name, naming the owner', () => {
    const run = (): void => checkDataDirIdentity(stored, { dataDir: 'a.etcd', name: 'b', initialClusterToken: 'tok' });
    expect(run).toThrow(DataDirMismatchError);
    expect(run).toThrow(`belongs to member "a" (id ${a.id.toString(16)}) of cluster ${ids.clusterId.toString(16)}, not to --name "b"`);
  });

  it('is refused with another cluster\'s token', () => {
    try {
      checkDataDirIdentity(stored, { dataDir: 'a.etcd', name: 'a', initialClusterToken: 'etcd-cluster' });
      throw new Error('accepted');
    } catch (e) {
      expect(e).toBeInstanceOf(DataDirMismatchError);
      expect((e as DataDirMismatchError).mismatch).toBe('cluster');
      expect((e as DataDirMismatchError).code).toBe('ERR_DATA_DIR_MISMATCH');
    }
  });
});
