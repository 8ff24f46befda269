import type { Logger } from '../logger.js';
import { startEmbeddedPostgres } from './embedded-postgres.js';

/**
 * Where Relearn's PostgreSQL lives. The real adapter is a server given by URL; the embedded
 * adapter runs PGlite in this process behind a PostgreSQL socket, so both use the same driver
 * and the same migrations.
 */
export interface DatabaseServer {
  readonly url: string;
  readonly kind: 'postgres' | 'embedded';
  stop(): Promise<void>;
}

export function externalPostgres(url: string): DatabaseServer {
  return { url, kind: 'postgres', stop: async () => {} };
}

export async function openDatabaseServer(
  options: { databaseUrl: string | null; dataDir: string },
  logger: Logger,
): Promise<DatabaseServer> {
  if (options.databaseUrl) return externalPostgres(options.databaseUrl);
  return startEmbeddedPostgres(options.dataDir, logger);
}
