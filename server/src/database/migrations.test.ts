import { describe, expect, it } from 'vitest';
import { freshDatabaseUrl } from '../../test/database.js';
import { initORM } from './orm.js';

describe('migrations', () => {
  it('apply, roll back completely with down(), and apply again; the entities need no further migration', async () => {
    const url = await freshDatabaseUrl('migrations');
    const sut = await initORM(url, { migrate: true });
    try {
      const tables = async () =>
        (await sut.em.getConnection().execute<{ t: string }[]>(`select tablename as t from pg_tables where schemaname = 'public' order by 1`)).map((r) => r.t);
      expect(await tables()).toEqual(
        expect.arrayContaining(['prediction', 'feedback', 'model_version', 'dataset_version', 'training_run', 'model_activation']),
      );
      await sut.migrator.down({ to: 0 });
      expect((await tables()).filter((t) => t !== 'mikro_orm_migrations')).toEqual([]);
      await sut.migrator.up();
      // No schema change the migrations lack (against the snapshot, or the database without one).
      expect(await sut.migrator.checkSchema()).toBe(false);
      const diff = await sut.schema.getUpdateSchemaSQL({ wrap: false });
      expect(diff.trim()).toBe('');
    } finally {
      await sut.close();
    }
  });
});
