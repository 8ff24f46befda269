import type { Orm } from '../database/orm.js';
import { TrainingRun, type ITrainingRun } from './training-run.entity.js';

/** The queries of the `training_run` table: one row per execution of the training pipeline. */
export class TrainingRunRepository {
  constructor(private readonly orm: Orm) {}

  /** A RUNNING run of `model`; returns its id. */
  async start(model: string, reason: string): Promise<number> {
    const em = this.orm.em.fork();
    const run = em.create(TrainingRun, { model, reason });
    await em.flush();
    return run.id;
  }

  async update(
    id: number,
    patch: Partial<Pick<ITrainingRun, 'state' | 'datasetVersionId' | 'modelVersionId' | 'message' | 'durationMs' | 'finishedAt'>>,
  ): Promise<void> {
    await this.orm.em.fork().nativeUpdate(TrainingRun, { id }, patch);
  }
}
