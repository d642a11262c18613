import { describe, it } from 'vitest';
import { MemoryLogStore } from '../src/node/memory-log-store.js';
import { logStoreConformance } from '../src/testing/log-store-conformance.js';

// The in-memory store is the suite's reference: its MemoryStorage is the "disk", so a new store
// over the same MemoryStorage is the restart.
describe('LogStore conformance: MemoryLogStore', () => {
  const harness = {
    open: async () => new MemoryLogStore(),
    reopen: async (s: unknown) => {
      const store = s as MemoryLogStore;
      await store.close();
      return new MemoryLogStore({ storage: store.storage });
    },
  };
  for (const c of logStoreConformance) it(c.name, () => c.run(harness));
});
