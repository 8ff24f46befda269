import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import type { Logger } from '../logger.js';
import type { DatabaseServer } from './database-server.js';

/**
 * PGlite on disk under `dataDir/pglite`, reachable on a loopback port. PGlite is a single
 * connection; the socket server multiplexes the pool's connections onto it. One process owns
 * the directory: scale out with a real PostgreSQL (DATABASE_URL).
 */
export async function startEmbeddedPostgres(dataDir: string, logger: Logger): Promise<DatabaseServer> {
  const dir = join(dataDir, 'pglite');
  await mkdir(dir, { recursive: true });
  const db = await PGlite.create(dir);
  const server = new PGLiteSocketServer({ db, port: 0, host: '127.0.0.1', maxConnections: 32 });
  await server.start();
  const address = server.getServerConn();
  logger.info({ dir }, 'embedded PostgreSQL (PGlite) started');
  return {
    url: `postgresql://postgres:postgres@${address}/postgres`,
    kind: 'embedded',
    async stop() {
      await server.stop();
      await db.close();
    },
  };
}
