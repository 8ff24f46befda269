// Per-test-file databases on the test PostgreSQL server (./global-setup.postgres.ts, ./global-setup.ts).
import { inject } from 'vitest';
import { createDatabase, randomSuffix } from '../../scripts/services/postgres.js';
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
