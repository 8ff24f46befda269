// vitest globalSetup of the integration tier (`*.test.ts` that are neither `.unit.` nor `.services.`):
// PostgreSQL alone, shared with the other tiers of the run (./shared-servers.ts). Test files get their
// own databases through freshDatabaseUrl() (./database.ts); TEST_DATABASE_URL (a superuser URL) uses
// an existing server instead. Never skips: if PostgreSQL cannot start, the run fails with the reason.
import type { TestProject } from 'vitest/node';
import type {} from './global-setup.js'; // the ProvidedContext declaration
import { acquirePostgres, fitCacheDir } from './shared-servers.js';

export async function setup(project: TestProject): Promise<() => Promise<void>> {
  const started = Date.now();
  const postgres = await acquirePostgres();
  project.provide('postgresAdminUrl', postgres.value.adminUrl);
  project.provide('fitCacheDir', fitCacheDir());
  console.error(`[test services] PostgreSQL ready for ${project.name} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return postgres.release;
}
