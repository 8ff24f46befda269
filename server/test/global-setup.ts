// vitest globalSetup: one real PostgreSQL server for the whole test run. Test files get their own
// databases on it through freshDatabaseUrl() (./database.ts). Set TEST_DATABASE_URL (a superuser
// URL) to use an existing server instead. Never skips: if PostgreSQL cannot start, the run fails.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { connectPg, startPostgres, type PostgresServer } from '../../scripts/services/postgres.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Superuser URL of the test PostgreSQL server's `postgres` database. */
    postgresAdminUrl: string;
  }
}

const log = (msg: string): void => console.error(`[test postgres] ${msg}`);

export async function setup(project: TestProject): Promise<() => Promise<void>> {
  const external = process.env.TEST_DATABASE_URL;
  if (external) {
    try {
      const client = await connectPg(external);
      await client.query('select 1');
      await client.end();
    } catch (error) {
      throw new Error(`TEST_DATABASE_URL is set but its server cannot be reached: ${(error as Error).message}`, { cause: error });
    }
    log('using the server in TEST_DATABASE_URL');
    project.provide('postgresAdminUrl', external);
    return async () => undefined;
  }

  const dataDir = await mkdtemp(path.join(tmpdir(), 'relearn-pg-'));
  let server: PostgresServer;
  try {
    server = await startPostgres({ dataDir, durable: false, log });
  } catch (error) {
    await rm(dataDir, { recursive: true, force: true });
    throw error;
  }
  project.provide('postgresAdminUrl', server.url);

  return async () => {
    try {
      await server.stop();
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  };
}
