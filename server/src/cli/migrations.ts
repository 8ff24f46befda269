/**
 * `npm run migration:create` — diffs the entities against the schema the migrations build and
 * writes a new migration into migrations/. Runs against a throwaway embedded database, so it
 * needs no server.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { initORM } from '../database/orm.js';
import { startEmbeddedPostgres } from '../database/embedded-postgres.js';
import { createLogger } from '../logger.js';

// `migrations.ts create [name]` (npm run migration:create -- <name>): the name is optional.
const [, name] = parseArgs({ args: process.argv.slice(2), options: {}, allowPositionals: true }).positionals;
const logger = createLogger({ logLevel: 'warn', logPretty: false });
const dir = await mkdtemp(join(tmpdir(), 'relearn-migrate-'));
const db = await startEmbeddedPostgres(dir, logger);
try {
  const orm = await initORM(db.url, { migrate: true });
  const result = await orm.migrator.create(undefined, false, false, name);
  console.log(result.fileName ? `created migrations/${result.fileName}` : 'schema is up to date: no migration needed');
  await orm.close();
} finally {
  await db.stop();
  await rm(dir, { recursive: true, force: true });
}
