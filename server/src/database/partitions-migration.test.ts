import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { openMigratedDatabase } from '../../test/database.js';
import { loadConfig } from '../config.js';
import { createLogger } from '../logger.js';
import { uuidv7 } from '../shared/uuid-v7.js';
import { PartitionMaintenance } from './partitions.js';
import { PartitionRepository } from './partitions.repository.js';

const logger = createLogger(loadConfig({ LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent', LOG_PRETTY: 'false' }));
const MIGRATION = 'Migration20261202060000_prediction_partitions';

describe.each(['postgres', 'embedded'] as const)('the partitioning migration on the %s database', (kind) => {
  it('converts a table with rows in place (rows and foreign keys intact) and down() puts every row back in one table', async () => {
    const { orm, close } = await openMigratedDatabase(kind, 'partition_migration', logger);
    const db = orm.em.getKysely();
    const count = async (table: string) => Number((await sql<{ n: string }>`select count(*) as n from ${sql.id(table)}`.execute(db)).rows[0]!.n);
    const isPartitioned = async () =>
      (await sql<{ k: string }>`select relkind::text as k from pg_class where relname = 'prediction'`.execute(db)).rows[0]!.k === 'p';
    try {
      await orm.migrator.down({ migrations: [MIGRATION] });
      expect(await isPartitioned()).toBe(false);
      // The database as the previous migration left it, with rows: v4 ids, and feedback on some.
      const { rows: version } = await sql<{ id: number }>`insert into model_version (model, version, status, artifact, created_at)
        values ('fraud', 1, 'LIVE', '{}'::jsonb, now()) returning id`.execute(db);
      const ids = Array.from({ length: 50 }, () => randomUUID());
      await sql`insert into prediction (id, model, model_version_id, input, label, probability, scores, latency_ms)
        select id, 'fraud', ${version[0]!.id}, '{}'::jsonb, 'legit', 0.9, '[]'::jsonb, 1 from unnest(${ids}::uuid[]) as id`.execute(db);
      await sql`insert into feedback (model, prediction_id, predicted, actual, correct, kind)
        select 'fraud', id, 'legit', 'legit', true, 'feedback' from unnest(${ids.slice(0, 10)}::uuid[]) as id`.execute(db);

      await orm.migrator.up({ migrations: [MIGRATION] });
      expect(await isPartitioned()).toBe(true);
      expect(await count('prediction')).toBe(50);
      expect(await count('prediction_default')).toBe(50); // in place: the old table is the default partition
      const linked = async () =>
        Number((await sql<{ n: string }>`select count(*) as n from feedback f join prediction p on p.id = f.prediction_id`.execute(db)).rows[0]!.n);
      expect(await linked()).toBe(10);
      // The foreign keys hold on the partitioned table: feedback needs a stored prediction, deleting one unlinks its feedback.
      await expect(
        sql`insert into feedback (model, prediction_id, predicted, actual, correct, kind) values ('fraud', ${uuidv7()}, 'a', 'a', true, 'feedback')`.execute(
          db,
        ),
      ).rejects.toThrow(/foreign key/);
      await sql`delete from prediction where id = ${ids[0]!}`.execute(db);
      expect(await linked()).toBe(9);
      // New rows go to time partitions.
      await new PartitionMaintenance(new PartitionRepository(orm), { spanSeconds: 3600, retentionDays: null }, { emit() {} }, logger).ensure();
      const fresh = uuidv7();
      await sql`insert into prediction (id, model, model_version_id, input, label, probability, scores, latency_ms)
        values (${fresh}, 'fraud', ${version[0]!.id}, '{}'::jsonb, 'legit', 0.9, '[]'::jsonb, 1)`.execute(db);
      await sql`insert into feedback (model, prediction_id, predicted, actual, correct, kind) values ('fraud', ${fresh}, 'legit', 'legit', true, 'feedback')`.execute(
        db,
      );
      expect(await count('prediction_default')).toBe(49);

      await orm.migrator.down({ migrations: [MIGRATION] });
      expect(await isPartitioned()).toBe(false);
      expect(await count('prediction')).toBe(50);
      expect(await linked()).toBe(10);
      await orm.migrator.up({ migrations: [MIGRATION] });
      expect(await count('prediction')).toBe(50);
      expect(await linked()).toBe(10);
    } finally {
      await close();
    }
  });
});
