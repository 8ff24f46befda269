import { createRequire } from 'node:module';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineConfig } from 'vitest/config';

const require = createRequire(import.meta.url);

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 180_000,
    // Integration tests share one PostgreSQL server; each test file gets its own database.
    fileParallelism: true,
    maxWorkers: 2,
    projects: [
      {
        extends: false,
        resolve: {
          // One graphql-js for test files and libraries: Vite would pick index.mjs, Node picks index.js.
          alias: [{ find: /^graphql$/, replacement: require.resolve('graphql') }],
        },
        test: {
          name: 'server',
          include: ['server/src/**/*.test.ts', 'server/test/**/*.test.ts', 'scripts/**/*.test.ts', 'web/e2e/**/*.e2e.test.ts'],
          exclude: ['server/test/reliability/**'],
          globalSetup: ['server/test/global-setup.ts'],
          testTimeout: 60_000,
          hookTimeout: 180_000,
        },
      },
      {
        // Faults, load and hostile input (`npm run test:reliability`): after the other tiers, one
        // file at a time, so a fault test owns the machine's two cores while it measures.
        extends: false,
        resolve: {
          alias: [{ find: /^graphql$/, replacement: require.resolve('graphql') }],
        },
        test: {
          name: 'reliability',
          include: ['server/test/reliability/**/*.test.ts'],
          globalSetup: ['server/test/global-setup.ts'],
          fileParallelism: false,
          sequence: { groupOrder: 1 },
          testTimeout: 300_000,
          hookTimeout: 180_000,
        },
      },
      {
        // The dashboard's state classes use Svelte runes: compiled by the Svelte plugin, with
        // Svelte's browser runtime (reactive $derived), in Node without a DOM.
        extends: false,
        plugins: [svelte({ configFile: false })],
        resolve: { conditions: ['browser'] },
        test: {
          name: 'web',
          root: 'web',
          include: ['src/**/*.test.ts'],
          environment: 'node',
        },
      },
    ],
  },
});
