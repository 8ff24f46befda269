import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import type { Logger } from '../logger.js';
import type { DatabaseServer } from './database-server.types.js';
import { PGliteWireServer } from './pglite-wire-server.js';

/**
 * PGlite on disk under `dataDir/pglite`, reachable on a loopback port. PGlite is a single
 * backend; the wire server gives it to one connection at a time, a whole query cycle or
 * transaction at once. One process owns the directory: scale out with a real PostgreSQL
 * (DATABASE_URL).
 */
export async function startEmbeddedPostgres(dataDir: string, logger: Logger): Promise<DatabaseServer> {
  const dir = join(dataDir, 'pglite');
  await mkdir(dir, { recursive: true });
  const db = await PGlite.create(dir);
  const server = new PGliteWireServer(db, { host: '127.0.0.1', port: 0, maxConnections: 64, logger });
  try {
    await server.start();
  } catch (error) {
    await db.close();
    throw error;
  }
  logger.info({ dir }, 'embedded PostgreSQL (PGlite) started');
  let stopped: Promise<void> | null = null;
  return {
    url: `postgresql://postgres:postgres@${server.address}/postgres`,
    kind: 'embedded',
    stop() {
      stopped ??= (async () => {
        await server.stop();
        await db.close();
      })();
      return stopped;
    },
  };
}
