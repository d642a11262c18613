import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: { conditions: ['@pontoon/source'] },
  ssr: { resolve: { conditions: ['@pontoon/source'] } },
  test: {
    include: ['packages/*/test/**/*.test.ts', 'test/**/*.test.ts', 'bench/test/**/*.test.ts', 'bench/*/test/**/*.test.ts', 'examples/*/test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
