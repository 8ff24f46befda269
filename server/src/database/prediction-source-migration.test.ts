import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { openMigratedDatabase } from '../../test/database.js';
import { loadConfig } from '../config.js';
import { createLogger } from '../logger.js';
import { uuidv7 } from '../shared/uuid-v7.js';
import { PartitionMaintenance } from './partitions.js';
import { PartitionRepository } from './partitions.repository.js';

const logger = createLogger(loadConfig({ LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent', LOG_PRETTY: 'false' }));
const MIGRATION = 'Migration20261202080000_prediction_source';

describe.each(['postgres', 'embedded'] as const)('the prediction source migration on the %s database', (kind) => {
  it('adds prediction.source to every partition (old rows null) and the rollup stratum; down() folds the rollup back', async () => {
    const { orm, close } = await openMigratedDatabase(kind, 'source_migration', logger);
    const db = orm.em.getKysely();
    const columnsOf = async (table: string) =>
      (await sql<{ c: string }>`select column_name as c from information_schema.columns where table_name = ${table}`.execute(db)).rows.map((r) => r.c);
    try {
      await new PartitionMaintenance(new PartitionRepository(orm), { spanSeconds: 3600, retentionDays: null }, { emit() {} }, logger).ensure();
      await orm.migrator.down({ migrations: [MIGRATION] });
      expect(await columnsOf('prediction')).not.toContain('source');
      // Rows as the previous schema held them: a prediction in a time partition, and a rollup row.
      const { rows: version } = await sql<{ id: number }>`insert into model_version (model, version, status, artifact, created_at)
        values ('fraud', 1, 'LIVE', '{}'::jsonb, now()) returning id`.execute(db);
      const old = uuidv7();
      await sql`insert into prediction (id, model, model_version_id, input, label, probability, scores, latency_ms)
        values (${old}, 'fraud', ${version[0]!.id}, '{}'::jsonb, 'legit', 0.9, '[]'::jsonb, 1)`.execute(db);
      await sql`insert into history_rollup (model, hour, model_version_id, label, confidence_bucket, requested, predictions, labelled, correct, tp, fp, fn, tn)
        values ('fraud', '2026-12-01T10:00:00Z', ${version[0]!.id}, 'legit', 3, false, 7, 2, 1, 0, 0, 1, 1)`.execute(db);

      await orm.migrator.up({ migrations: [MIGRATION] });
      const partitions = (
        await sql<{ name: string }>`select c.relname as name from pg_inherits i join pg_class c on c.oid = i.inhrelid
          where i.inhparent = 'prediction'::regclass`.execute(db)
      ).rows.map((r) => r.name);
      expect(partitions.length).toBeGreaterThan(1); // the default and the time partitions
      for (const p of partitions) expect(await columnsOf(p)).toContain('source');
      const fresh = uuidv7();
      await sql`insert into prediction (id, model, model_version_id, input, label, probability, scores, latency_ms, source)
        values (${fresh}, 'fraud', ${version[0]!.id}, '{}'::jsonb, 'legit', 0.9, '[]'::jsonb, 1, 'batch-scorer')`.execute(db);
      const { rows } = await sql<{ id: string; source: string | null }>`select id, source from prediction order by id`.execute(db);
      expect(rows).toEqual([
        { id: old, source: null },
        { id: fresh, source: 'batch-scorer' },
      ]);
      // The covering index carries the column (the honest-accuracy and history reads stay index-only).
      const { rows: index } = await sql<{ def: string }>`select pg_get_indexdef('prediction_model_created_at_covering'::regclass) as def`.execute(db);
      expect(index[0]!.def).toMatch(/INCLUDE \(.*source\)/);
      // Old rollup rows are of predictions without a recorded source: ''.
      await sql`insert into history_rollup (model, hour, model_version_id, label, confidence_bucket, requested, source, predictions, labelled, correct, tp, fp, fn, tn)
        values ('fraud', '2026-12-01T10:00:00Z', ${version[0]!.id}, 'legit', 3, false, 'batch-scorer', 3, 1, 1, 0, 0, 0, 1)`.execute(db);
      const rollup = async () =>
        (
          await sql<{
            source: string | null;
            predictions: number;
          }>`select ${sql.raw((await columnsOf('history_rollup')).includes('source') ? 'source' : 'null as source')}, predictions
            from history_rollup order by predictions desc`.execute(db)
        ).rows;
      expect(await rollup()).toEqual([
        { source: '', predictions: 7 },
        { source: 'batch-scorer', predictions: 3 },
      ]);

      await orm.migrator.down({ migrations: [MIGRATION] });
      expect(await columnsOf('prediction')).not.toContain('source');
      expect(await rollup()).toEqual([{ source: null, predictions: 10 }]); // one stratum again, its counts summed
      await orm.migrator.up({ migrations: [MIGRATION] });
      expect(await columnsOf('prediction')).toContain('source');
      expect(await orm.migrator.checkSchema()).toBe(false);
    } finally {
      await close();
    }
  });
});
