import { defineConfig } from 'vitest/config';
import { fileURLToPath } from 'node:url';

const source = (path: string) => fileURLToPath(new URL(path, import.meta.url));

export default defineConfig({
  resolve: {
    // The package's own name resolves to its sources (as tsconfig.json `paths` does for tsc, tsx and esbuild):
    // tests never need a build, and `exports` (dist/) stays what users get.
    alias: [
      { find: /^durable-tasks-user-entry$/, replacement: source('./examples/worker.ts') },
      { find: /^durable-tasks$/, replacement: source('./sdk/index.ts') },
      { find: /^durable-tasks\/testing$/, replacement: source('./sdk/testing/index.ts') },
      { find: /^durable-tasks\/infra$/, replacement: source('./infra/index.ts') },
    ],
  },
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
  },
});
