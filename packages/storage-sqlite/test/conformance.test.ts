import { afterAll, describe, it } from 'vitest';
import type { LogStore } from '@pontoon/raft';
import { type LogStoreHarness, logStoreConformance } from '@pontoon/raft/testing';
import { SqliteLogStore } from '../src/index.js';
import { TempDirs } from './support/temp-dir.js';

const temp = new TempDirs();
afterAll(() => temp.cleanup());

const harnesses: [string, LogStoreHarness][] = [
  [
    'SqliteLogStore',
    {
      open: () => SqliteLogStore.open(temp.make()),
      reopen: async (s: LogStore) => {
        const dir = (s as SqliteLogStore).dir;
        await s.close();
        return SqliteLogStore.open(dir);
      },
    },
  ],
];

describe.each(harnesses)('LogStore conformance: %s', (_name, harness) => {
  for (const c of logStoreConformance) it(c.name, () => c.run(harness));
});
