import { LockMode } from '@mikro-orm/core';
import { lockFor } from '../database/advisory-lock.js';
import type { Orm } from '../database/orm.js';
import { RegistryAlias, RegistryModelVersion, RegistryRun, type IRegistryRun } from './registry.entity.js';

/** What a run's logRun may change: params, latest metric values, tags. */
export type RunRecords = Pick<IRegistryRun, 'params' | 'metrics' | 'tags'>;

/**
 * The queries of the embedded registry's tables (registry_run, registry_model_version,
 * registry_alias); the embedded registry holds MLflow's rules and the artifacts.
 */
export class RegistryRepository {
  constructor(private readonly orm: Orm) {}

  async insertRun(run: Omit<IRegistryRun, 'status' | 'endTime'>): Promise<void> {
    const em = this.orm.em.fork();
    em.create(RegistryRun, { ...run, status: 'RUNNING', endTime: null });
    await em.flush();
  }

  run(runId: string): Promise<IRegistryRun | null> {
    return this.orm.em.fork().findOne(RegistryRun, { runId });
  }

  /**
   * Under the run's row lock (concurrent calls merge instead of overwriting each other): stores
   * what `change` makes of the run's records. False when there is no such run; what `change`
   * throws rolls the change back.
   */
  updateRecords(runId: string, change: (current: RunRecords) => RunRecords): Promise<boolean> {
    return this.orm.em.fork().transactional(async (tx) => {
      const run = await tx.findOne(RegistryRun, { runId }, { lockMode: LockMode.PESSIMISTIC_WRITE });
      if (!run) return false;
      // New objects, so the ORM sees the JSON columns changed.
      const next = change({ params: { ...run.params }, metrics: { ...run.metrics }, tags: { ...run.tags } });
      run.params = next.params;
      run.metrics = next.metrics;
      run.tags = next.tags;
      return true;
    });
  }

  /** False when there is no such run. */
  async finishRun(runId: string, status: IRegistryRun['status'], endTime: Date): Promise<boolean> {
    return (await this.orm.em.fork().nativeUpdate(RegistryRun, { runId }, { status, endTime })) > 0;
  }

  /** Under the registered model's lock: the next version number of `model`, stored pointing at `source`. */
  insertNextVersion(model: string, row: { runId: string; source: string; tags: Record<string, string> }): Promise<number> {
    return this.orm.em.fork().transactional(async (tx) => {
      await lockFor(tx, `relearn:registry:${model}`);
      const latest = await tx.findOne(RegistryModelVersion, { model }, { orderBy: { version: 'desc' } });
      const created = tx.create(RegistryModelVersion, { ...row, model, version: (latest?.version ?? 0) + 1 });
      return created.version;
    });
  }

  /** Under the registered model's lock: points `alias` at `version`. False when `model` has no such version. */
  setAlias(model: string, alias: string, version: number): Promise<boolean> {
    return this.orm.em.fork().transactional(async (tx) => {
      await lockFor(tx, `relearn:registry:${model}`);
      if (!(await tx.findOne(RegistryModelVersion, { model, version }))) return false;
      const existing = await tx.findOne(RegistryAlias, { model, alias });
      if (existing) existing.version = version;
      else tx.create(RegistryAlias, { model, alias, version });
      return true;
    });
  }

  async alias(model: string, alias: string): Promise<number | null> {
    return (await this.orm.em.fork().findOne(RegistryAlias, { model, alias }))?.version ?? null;
  }
}
