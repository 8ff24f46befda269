// Per-test-file databases on the test PostgreSQL server (./global-setup.postgres.ts, ./global-setup.ts).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { inject } from 'vitest';
import { createDatabase, randomSuffix } from '../../scripts/services/postgres.js';
import { startEmbeddedPostgres } from '../src/database/embedded-postgres.js';
import { initORM, type Orm } from '../src/database/orm.js';
import type {} from './global-setup.js'; // the ProvidedContext declaration for inject()

/** Creates an empty database named `<prefix>_<random>` (lower-case) and returns its URL. */
export async function freshDatabaseUrl(prefix: string): Promise<string> {
  const adminUrl = inject('postgresAdminUrl');
  if (!adminUrl) throw new Error('no test PostgreSQL in this tier: a `*.unit.test.ts` file gets no server; name the file `*.test.ts` (integration tier)');
  const suffix = randomSuffix();
  let base = prefix
    .toLowerCase()
    .replace(/[^a-z0-9_]+/g, '_')
    .replace(/^_+|_+$/g, '');
  if (!/^[a-z_]/.test(base)) base = `t_${base}`;
  base = base.slice(0, 63 - suffix.length - 1);
  return createDatabase(adminUrl, `${base}_${suffix}`);
}

/**
 * A migrated database of either kind, as the migration tests need both: a fresh database on the
 * test PostgreSQL, or an embedded one (PGlite) in a temporary directory. `close` removes it all.
 */
export async function openMigratedDatabase(kind: 'postgres' | 'embedded', prefix: string, logger: Logger): Promise<{ orm: Orm; close(): Promise<void> }> {
  const dir = kind === 'embedded' ? await mkdtemp(join(tmpdir(), `relearn-${prefix}-`)) : null;
  const embedded = dir ? await startEmbeddedPostgres(dir, logger) : null;
  const orm = await initORM(embedded ? embedded.url : await freshDatabaseUrl(prefix), { poolMax: 4 });
  return {
    orm,
    async close() {
      await orm.close();
      await embedded?.stop();
      if (dir) await rm(dir, { recursive: true, force: true });
    },
  };
}
