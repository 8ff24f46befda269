import { lockFor } from '../database/advisory-lock.js';
import type { Orm } from '../database/orm.js';
import { DatasetVersion, type DatasetManifest, type IDatasetVersion } from './dataset-version.entity.js';

/** The queries of the `dataset_version` table; the dataset store writes the blobs and holds the rules. */
export class DatasetVersionRepository {
  constructor(private readonly orm: Orm) {}

  byHash(model: string, contentHash: string): Promise<IDatasetVersion | null> {
    return this.orm.em.fork().findOne(DatasetVersion, { model, contentHash });
  }

  latest(model: string): Promise<IDatasetVersion | null> {
    return this.orm.em.fork().findOne(DatasetVersion, { model }, { orderBy: { version: 'desc' } });
  }

  byId(id: number): Promise<IDatasetVersion | null> {
    return this.orm.em.fork().findOne(DatasetVersion, { id });
  }

  /**
   * Under the model's dataset lock: the next version of `model` holding `contentHash`, or the
   * version that already holds it (the same rows are the same version).
   */
  insertNext(model: string, row: { contentHash: string; location: string; manifest: DatasetManifest }): Promise<IDatasetVersion> {
    return this.orm.em.fork().transactional(async (tx) => {
      await lockFor(tx, `relearn:dataset:${model}`);
      const again = await tx.findOne(DatasetVersion, { model, contentHash: row.contentHash });
      if (again) return again;
      const latest = await tx.findOne(DatasetVersion, { model }, { orderBy: { version: 'desc' } });
      const created = tx.create(DatasetVersion, { ...row, model, version: (latest?.version ?? 0) + 1 });
      await tx.flush();
      return created;
    });
  }
}
