import type { EntityManager } from '@mikro-orm/postgresql';
import type { Orm } from '../database/orm.js';
import { RetrainJob, type IRetrainJob, type RetrainState } from './retrain-job.entity.js';

/** Steps of a job that is running (not queued, not finished). */
const RUNNING: RetrainState[] = ['SNAPSHOTTING', 'TRAINING', 'EVALUATING', 'REGISTERING'];

/** The queries of the `retrain_job` table; the retrain service holds the rules. */
export class RetrainJobRepository {
  constructor(private readonly orm: Orm) {}

  /**
   * On `tx`: the job a new trigger of `model` joins, if any — the oldest still waiting for its
   * first attempt, else the newest running one created after `createdAfter`.
   */
  async joinable(tx: EntityManager, model: string, createdAfter: Date): Promise<IRetrainJob | null> {
    return (
      (await tx.findOne(RetrainJob, { model, state: 'QUEUED', attempts: 0 }, { orderBy: { createdAt: 'asc' } })) ??
      (await tx.findOne(RetrainJob, { model, createdAt: { $gt: createdAfter }, state: { $in: RUNNING } }, { orderBy: { createdAt: 'desc' } }))
    );
  }

  /** Runs `work` in one transaction (a request's decision and the job it writes commit together). */
  transaction<T>(work: (tx: EntityManager) => Promise<T>): Promise<T> {
    return this.orm.em.fork().transactional(work);
  }

  /** On `tx`: a new job row, written when `tx` flushes. */
  create(tx: EntityManager, job: Pick<IRetrainJob, 'id' | 'model' | 'state' | 'triggers' | 'progress' | 'attempts' | 'maxAttempts'>): IRetrainJob {
    return tx.create(RetrainJob, job);
  }

  list(model: string, limit: number): Promise<IRetrainJob[]> {
    return this.orm.em.fork().find(RetrainJob, { model }, { orderBy: { createdAt: 'desc' }, limit });
  }

  get(id: string): Promise<IRetrainJob | null> {
    return this.orm.em.fork().findOne(RetrainJob, { id });
  }

  latest(model: string): Promise<IRetrainJob | null> {
    return this.orm.em.fork().findOne(RetrainJob, { model }, { orderBy: { createdAt: 'desc' } });
  }

  /** The job of `model` changed last (created, moved a step or finished). */
  lastUpdated(model: string): Promise<IRetrainJob | null> {
    return this.orm.em.fork().findOne(RetrainJob, { model }, { orderBy: { updatedAt: 'desc' } });
  }

  /** Jobs of `model` neither promoted nor rejected (queued, running, or failed). */
  notConcluded(model: string): Promise<IRetrainJob[]> {
    return this.orm.em.fork().find(RetrainJob, { model, state: { $nin: ['PROMOTED', 'REJECTED'] } });
  }

  /** Every job waiting in QUEUED (of every model). */
  queued(): Promise<IRetrainJob[]> {
    return this.orm.em.fork().find(RetrainJob, { state: 'QUEUED' });
  }

  /** The oldest job of `model` still waiting for its first attempt. */
  nextQueued(model: string): Promise<IRetrainJob | null> {
    return this.orm.em.fork().findOne(RetrainJob, { model, state: 'QUEUED', attempts: 0 }, { orderBy: { createdAt: 'asc' } });
  }

  async update(id: string, patch: Partial<Omit<IRetrainJob, 'id'>>): Promise<void> {
    await this.orm.em.fork().nativeUpdate(RetrainJob, { id }, patch);
  }
}
