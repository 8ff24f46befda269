import type { Logger } from '../logger.js';
import type { DatabaseServer } from './database-server.types.js';
import { startEmbeddedPostgres } from './embedded-postgres.js';

export type { DatabaseServer } from './database-server.types.js';

export function externalPostgres(url: string): DatabaseServer {
  return { url, kind: 'postgres', stop: async () => {} };
}

export async function openDatabaseServer(options: { databaseUrl: string | null; dataDir: string }, logger: Logger): Promise<DatabaseServer> {
  if (options.databaseUrl) return externalPostgres(options.databaseUrl);
  return startEmbeddedPostgres(options.dataDir, logger);
}
