import { createRequire } from 'node:module';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineConfig, type TestProjectInlineConfiguration } from 'vitest/config';

const require = createRequire(import.meta.url);

// Test tiers, chosen by the file's name (README, "Tests"):
//   *.unit.test.ts          unit         needs no service, no global setup (`npm run test:unit`, with `web`)
//   *.test.ts               integration  PostgreSQL (`npm run test:integration`)
//   *.services.test.ts,     services     MinIO, MLflow, Prometheus, Alertmanager, Chromium, outside tools
//   web/e2e/*.e2e.test.ts                (`npm run test:services`)
//   server/test/reliability reliability  faults, load, hostile input (`npm run test:reliability`)
// The servers are started once per run and shared between tiers (server/test/shared-servers.ts).
const SERVER_TESTS = ['server/**/*.test.ts', 'scripts/**/*.test.ts'];
const RELIABILITY = 'server/test/reliability/**';

function serverProject(test: NonNullable<TestProjectInlineConfiguration['test']>): TestProjectInlineConfiguration {
  return {
    extends: false,
    resolve: {
      // One graphql-js for test files and libraries: Vite would pick index.mjs, Node picks index.js.
      alias: [{ find: /^graphql$/, replacement: require.resolve('graphql') }],
    },
    test: { testTimeout: 60_000, hookTimeout: 180_000, ...test },
  };
}

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 180_000,
    // Integration tests share one PostgreSQL server; each test file gets its own database.
    fileParallelism: true,
    maxWorkers: 2,
    projects: [
      serverProject({
        name: 'unit',
        include: ['server/**/*.unit.test.ts', 'scripts/**/*.unit.test.ts'],
        exclude: [RELIABILITY],
      }),
      serverProject({
        name: 'integration',
        include: SERVER_TESTS,
        exclude: [RELIABILITY, '**/*.unit.test.ts', '**/*.services.test.ts'],
        globalSetup: ['server/test/global-setup.postgres.ts'],
      }),
      serverProject({
        name: 'services',
        include: ['server/**/*.services.test.ts', 'scripts/**/*.services.test.ts', 'web/e2e/**/*.e2e.test.ts'],
        exclude: [RELIABILITY],
        globalSetup: ['server/test/global-setup.ts'],
      }),
      // Faults, load and hostile input: after the other tiers, one file at a time, so a fault test
      // owns the machine's two cores while it measures.
      serverProject({
        name: 'reliability',
        include: [`${RELIABILITY}/*.test.ts`],
        globalSetup: ['server/test/global-setup.ts'],
        fileParallelism: false,
        sequence: { groupOrder: 1 },
        testTimeout: 300_000,
      }),
      {
        // The dashboard's state classes use Svelte runes: compiled by the Svelte plugin, with
        // Svelte's browser runtime (reactive $derived), in Node without a DOM. Part of the unit tier.
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
