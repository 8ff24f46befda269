import { fileURLToPath } from 'node:url';
import { Migrator } from '@mikro-orm/migrations';
import { MikroORM, defineConfig } from '@mikro-orm/postgresql';
import { sql } from 'kysely';
import { Feedback, FeedbackRetraction } from '../feedback/feedback.entity.js';
import { ModelActivation, ModelVersion } from '../models/model-version.entity.js';
import { Prediction } from '../predictions/prediction.entity.js';
import { RegistryAlias, RegistryModelVersion, RegistryRun } from '../registry/registry.entity.js';
import { RetrainJob } from '../retraining/retrain-job.entity.js';
import { AlertEvent } from '../alerts/alert.entity.js';
import { DatasetVersion } from '../training/dataset-version.entity.js';
import { TrainingRun } from '../training/training-run.entity.js';

export const entities = [
  ModelVersion,
  ModelActivation,
  DatasetVersion,
  TrainingRun,
  Prediction,
  Feedback,
  FeedbackRetraction,
  RegistryRun,
  RegistryModelVersion,
  RegistryAlias,
  RetrainJob,
  AlertEvent,
];

export const migrationsPath = fileURLToPath(new URL('../../../migrations', import.meta.url));

export function ormConfig(clientUrl: string, options: { poolMax?: number; debug?: boolean } = {}) {
  return defineConfig({
    clientUrl,
    entities,
    extensions: [Migrator],
    migrations: {
      path: migrationsPath,
      pathTs: migrationsPath,
      glob: '!(*.d).{js,ts}',
      emit: 'ts',
      silent: true,
      // One committed snapshot, written by `npm run migration:create` only, whatever the database is called.
      snapshotName: '.snapshot-relearn',
      snapshotOnMigrate: false,
    },
    // SQL-only tables (their repositories hold all their SQL; the audit log's append-only trigger is
    // nothing an entity can say): the schema diff leaves them to their migration. Triggers too: the
    // history rollup's statement triggers on feedback (and their function) live in their migration.
    schemaGenerator: {
      skipTables: ['api_key', 'audit_entry', 'history_rollup', 'history_rollup_state', 'history_rollup_dirty', 'history_estimate'],
      ignoreTriggers: true,
    },
    pool: { min: 0, max: options.poolMax ?? 10 },
    // pg.Pool options: a database that stalls (rather than refuses) fails a new connection after
    // 5 s — SERVICE_UNAVAILABLE, retryable — instead of holding the request for ever.
    driverOptions: { connectionTimeoutMillis: 5000, keepAlive: true },
    debug: options.debug ?? false,
    // Relearn never relies on implicit lazy loading across requests.
    allowGlobalContext: false,
  });
}

export type Orm = MikroORM;

/** Connects and brings the schema up to date. */
export async function initORM(clientUrl: string, options: { poolMax?: number; migrate?: boolean } = {}): Promise<Orm> {
  const orm = await MikroORM.init(ormConfig(clientUrl, options));
  if (options.migrate ?? true) await orm.migrator.up();
  return orm;
}

/** Resolves when the database answers a trivial query (the readiness probe's check). */
export async function pingDatabase(orm: Orm): Promise<void> {
  await sql`select 1`.execute(orm.em.getKysely());
}
