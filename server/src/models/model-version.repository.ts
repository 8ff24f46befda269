import { lockFor } from '../database/advisory-lock.js';
import type { Orm } from '../database/orm.js';
import { ModelActivation, ModelVersion, type IModelActivation, type IModelVersion, type ModelVersionStatus } from './model-version.entity.js';

/** A trained version's columns, as `insertNext` stores them (the number and status are its own). */
export type NewVersionRow = Omit<IModelVersion, 'id' | 'model' | 'version' | 'status' | 'datasetVersion' | 'createdAt' | 'activatedAt'> & {
  datasetVersion: number | null;
};

/** What to load with a version besides its columns: the artifact is lazy (it can be large), the dataset a relation. */
export interface VersionLoad {
  artifact?: boolean;
  dataset?: boolean;
}

function populateOf(load: VersionLoad) {
  const populate = [...(load.artifact ? (['artifact'] as const) : []), ...(load.dataset ? (['datasetVersion'] as const) : [])];
  return populate.length ? { populate } : {};
}

/**
 * The queries of `model_version` and its history, `model_activation`. The writes that must hold
 * the model's lock (numbering a version, moving LIVE) are one transaction each here; the model
 * service holds the rules around them.
 */
export class ModelVersionRepository {
  constructor(private readonly orm: Orm) {}

  list(model: string): Promise<IModelVersion[]> {
    return this.orm.em.fork().find(ModelVersion, { model }, { orderBy: { version: 'desc' } });
  }

  get(model: string, version: number, load: VersionLoad = {}): Promise<IModelVersion | null> {
    return this.orm.em.fork().findOne(ModelVersion, { model, version }, populateOf(load));
  }

  byId(id: number, load: VersionLoad = {}): Promise<IModelVersion | null> {
    return this.orm.em.fork().findOne(ModelVersion, { id }, populateOf(load));
  }

  /** The version a retrain job registered (a retried job reuses it). */
  byRetrainJob(retrainJobId: string): Promise<IModelVersion | null> {
    return this.orm.em.fork().findOne(ModelVersion, { retrainJobId });
  }

  /** The LIVE version of `model`, with its artifact and/or dataset loaded when asked (the artifact is lazy: it can be large). */
  live(model: string, load: VersionLoad = {}): Promise<IModelVersion | null> {
    return this.orm.em.fork().findOne(ModelVersion, { model, status: 'LIVE' }, populateOf(load));
  }

  async exists(model: string): Promise<boolean> {
    return (await this.orm.em.fork().count(ModelVersion, { model })) > 0;
  }

  async setStatus(id: number, status: ModelVersionStatus): Promise<void> {
    await this.orm.em.fork().nativeUpdate(ModelVersion, { id }, { status });
  }

  /**
   * Under the model's lock: stores `row` as the next CANDIDATE version of `model` — unless the
   * retrain job already has one, or (`firstVersionOnly`) the model has any version; then that one
   * is returned instead.
   */
  insertNext(model: string, row: NewVersionRow, options: { firstVersionOnly?: boolean } = {}): Promise<IModelVersion> {
    return this.orm.em.fork().transactional(async (tx) => {
      await lockFor(tx, `relearn:model:${model}`);
      if (row.retrainJobId) {
        const same = await tx.findOne(ModelVersion, { retrainJobId: row.retrainJobId });
        if (same) return same;
      }
      const latest = await tx.findOne(ModelVersion, { model }, { orderBy: { version: 'desc' } });
      if (latest && options.firstVersionOnly) return latest;
      const created = tx.create(ModelVersion, { ...row, model, version: (latest?.version ?? 0) + 1, status: 'CANDIDATE' });
      await tx.flush();
      return created;
    });
  }

  /**
   * Under the model's lock: makes `version` the LIVE one (the previous LIVE one RETIRED) and
   * records the activation with `actor` and `reason`. Null when `model` has no such version.
   */
  activate(model: string, version: number, actor: string, reason: string): Promise<IModelVersion | null> {
    return this.orm.em.fork().transactional(async (tx) => {
      await lockFor(tx, `relearn:model:${model}`);
      const target = await tx.findOne(ModelVersion, { model, version });
      if (!target) return null;
      const current = await tx.findOne(ModelVersion, { model, status: 'LIVE' });
      if (current && current.id !== target.id) current.status = 'RETIRED';
      target.status = 'LIVE';
      target.activatedAt = new Date();
      tx.create(ModelActivation, { model, modelVersion: target, previousVersion: current?.version ?? null, actor, reason });
      return target;
    });
  }

  /** Which version was live when, and who or what made it so, newest first. */
  activations(model: string): Promise<IModelActivation[]> {
    return this.orm.em.fork().find(ModelActivation, { model }, { orderBy: { id: 'desc' }, populate: ['modelVersion'] });
  }

  lastActivation(model: string, version: number): Promise<IModelActivation | null> {
    return this.orm.em.fork().findOne(ModelActivation, { model, modelVersion: { version } }, { orderBy: { id: 'desc' }, populate: ['modelVersion'] });
  }
}
