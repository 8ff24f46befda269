import type { EntityManager } from '@mikro-orm/postgresql';
import { sql } from 'kysely';
import type { EventBus } from '../events/event-bus.js';
import type { Logger } from '../logger.js';
import { NaiveBayesModel } from '../ml/naive-bayes.js';
import type { Orm } from '../database/orm.js';
import type { TaskRegistry } from '../tasks/task-registry.js';
import type { Task, TaskInput } from '../tasks/task.js';
import { ModelActivation, ModelVersion, type IModelActivation, type IModelVersion, type PromotionEvaluation } from './model-version.entity.js';

/** The model a task serves right now, with the online updates applied since it was trained. */
export interface LiveModel {
  readonly task: Task;
  readonly versionId: number;
  readonly version: number;
  readonly model: NaiveBayesModel;
  /** The version was trained on feedback up to this id. */
  readonly trainedThroughFeedbackId: number;
  /**
   * Feedback up to this id was replayed when the model was loaded; later feedback is learned as
   * it commits (in whatever order concurrent commits finish), each row once.
   */
  readonly replayedThroughFeedbackId: number;
}

export interface NewModelVersion {
  artifact: unknown;
  trainingMetrics: IModelVersion['trainingMetrics'];
  datasetVersionId?: number | null;
  trainedThroughFeedbackId: number;
  retrainJobId?: string | null;
  evaluation?: PromotionEvaluation | null;
  registry?: { runId: string; runUrl: string | null; version: string; versionUrl: string | null };
  /** Bootstrap: keep this only if the task has no version yet. */
  firstVersionOnly?: boolean;
}

export class NotFoundError extends Error {
  override name = 'NotFoundError';
}

/** How long a cached version row may be served (its status changes on activation). */
const VERSION_CACHE_MS = 1000;

export class ModelService {
  private readonly live = new Map<string, LiveModel>();
  private readonly versionCache = new Map<number, { value: Promise<IModelVersion | null>; at: number }>();

  constructor(
    private readonly orm: Orm,
    private readonly tasks: TaskRegistry,
    private readonly events: EventBus,
    private readonly logger: Logger,
    /** Off: live models change only through retrains (frozen between them). */
    private readonly onlineLearning = true,
  ) {}

  private learnsOnline(task: Task): boolean {
    return this.onlineLearning && task.definition.onlineLearning;
  }

  /**
   * Trains version 1 of every task that has none (through `bootstrap`), then loads each live
   * model. Runs in the background; `ready` says when it is done.
   */
  start(bootstrap: (task: Task) => Promise<unknown>): Promise<void> {
    const all = this.tasks.all().map((task) => {
      const p = this.hasVersions(task.name)
        .then((has) => (has ? undefined : bootstrap(task)))
        .then(async () => {
          await this.load(task.name);
        })
        .catch((error: unknown) => {
          this.logger.error({ err: error, model: task.name }, 'could not bring the model up');
          throw error;
        });
      return p;
    });
    return Promise.all(all).then(() => undefined);
  }

  /** True when every task has a live model in memory. */
  get ready(): boolean {
    return this.tasks.all().every((t) => this.live.has(t.name));
  }

  getLive(model: string): LiveModel | undefined {
    return this.live.get(model);
  }

  /** Online learning: applies one feedback committed by this process to the live model. */
  learn(model: string, feedbackId: number, input: TaskInput, label: string): void {
    const live = this.live.get(model);
    if (!live || !this.learnsOnline(live.task) || feedbackId <= live.replayedThroughFeedbackId) return;
    live.model.learn(live.task.encode(input), label);
  }

  /**
   * Online learning from feedback other processes committed (ids `from`..`to`): read back from
   * PostgreSQL, since events carry ids, not inputs.
   */
  async learnCommitted(model: string, from: number, to: number): Promise<number> {
    const live = this.live.get(model);
    if (!live || !this.learnsOnline(live.task) || to <= live.replayedThroughFeedbackId) return 0;
    const { rows } = await sql<{ actual: string; input: TaskInput }>`
      select f.actual, p.input from feedback f join prediction p on p.id = f.prediction_id
      where f.model = ${model} and f.id between ${Math.max(from, live.replayedThroughFeedbackId + 1)} and ${to}
      order by f.id`.execute(this.orm.em.getKysely());
    // The live model may have been swapped while reading: those rows are in the new one's replay.
    if (this.live.get(model) !== live) return 0;
    for (const r of rows) live.model.learn(live.task.encode(r.input), r.actual);
    return rows.length;
  }

  /**
   * Learns every committed feedback of `model` this process has not learned yet, whatever
   * announcements were missed (a lost NOTIFY, a reconnect). Returns how many rows it learned.
   */
  async catchUp(model: string): Promise<number> {
    const live = this.live.get(model);
    if (!live) return 0;
    return this.learnCommitted(model, live.replayedThroughFeedbackId + 1, Number.MAX_SAFE_INTEGER);
  }

  /**
   * Brings this process back in line with the database after events may have been missed:
   * each model serves the version that is LIVE in the database, with every committed feedback learned.
   */
  async resync(): Promise<void> {
    for (const task of this.tasks.all()) {
      const live = this.live.get(task.name);
      if (!live) continue;
      const row = await this.orm.em.fork().findOne(ModelVersion, { model: task.name, status: 'LIVE' });
      if (row && row.version !== live.version) await this.load(task.name);
      else await this.catchUp(task.name);
    }
  }

  async versions(model: string): Promise<IModelVersion[]> {
    return this.orm.em.fork().find(ModelVersion, { model }, { orderBy: { version: 'desc' } });
  }

  async version(model: string, version: number): Promise<IModelVersion | null> {
    return this.orm.em.fork().findOne(ModelVersion, { model, version });
  }

  /**
   * A version by internal id, cached for a moment: every prediction resolves its version, and a
   * database round trip per request would double the cost of predict.
   */
  async versionById(id: number): Promise<IModelVersion | null> {
    const cached = this.versionCache.get(id);
    if (cached && Date.now() - cached.at < VERSION_CACHE_MS) return cached.value;
    const value = this.orm.em.fork().findOne(ModelVersion, { id });
    this.versionCache.set(id, { value, at: Date.now() });
    value.catch(() => this.versionCache.delete(id));
    return value;
  }

  /**
   * Stores a newly trained model as the task's next version, not yet live. A retrain job gets
   * one version however often it is retried; a first version trained by two processes at once
   * is kept once (the later one returns the earlier's).
   */
  async registerVersion(model: string, trained: NewModelVersion): Promise<IModelVersion> {
    const em = this.orm.em.fork();
    return em.transactional(async (tx) => {
      await lockModel(tx, model);
      if (trained.retrainJobId) {
        const same = await tx.findOne(ModelVersion, { retrainJobId: trained.retrainJobId });
        if (same) return same;
      }
      const latest = await tx.findOne(ModelVersion, { model }, { orderBy: { version: 'desc' } });
      if (latest && trained.firstVersionOnly) return latest;
      const created = tx.create(ModelVersion, {
        model,
        version: (latest?.version ?? 0) + 1,
        status: 'CANDIDATE',
        artifact: trained.artifact,
        trainingMetrics: trained.trainingMetrics,
        datasetVersion: trained.datasetVersionId ?? null,
        trainedThroughFeedbackId: trained.trainedThroughFeedbackId,
        retrainJobId: trained.retrainJobId ?? null,
        evaluation: trained.evaluation ?? null,
        registryRunId: trained.registry?.runId ?? null,
        registryRunUrl: trained.registry?.runUrl ?? null,
        registryVersion: trained.registry?.version ?? null,
        registryVersionUrl: trained.registry?.versionUrl ?? null,
      });
      await tx.flush();
      return created;
    });
  }

  /** Which version was live when, and who or what made it so, newest first. */
  async activations(model: string): Promise<IModelActivation[]> {
    return this.orm.em.fork().find(ModelActivation, { model }, { orderBy: { id: 'desc' }, populate: ['modelVersion'] });
  }

  async lastActivation(model: string, version: number): Promise<IModelActivation | null> {
    return this.orm.em.fork().findOne(
      ModelActivation,
      { model, modelVersion: { version } },
      { orderBy: { id: 'desc' }, populate: ['modelVersion'] },
    );
  }

  /** Makes `version` the live one (promotion or rollback) and records who did it and why. */
  async activate(model: string, version: number, actor: string, reason: string): Promise<IModelVersion> {
    const em = this.orm.em.fork();
    const activated = await em.transactional(async (tx) => {
      await lockModel(tx, model);
      const target = await tx.findOne(ModelVersion, { model, version });
      if (!target) throw new NotFoundError(`model ${model} has no version ${version}`);
      const current = await tx.findOne(ModelVersion, { model, status: 'LIVE' });
      if (current && current.id !== target.id) current.status = 'RETIRED';
      target.status = 'LIVE';
      target.activatedAt = new Date();
      tx.create(ModelActivation, {
        model,
        modelVersion: target,
        previousVersion: current?.version ?? null,
        actor,
        reason,
      });
      return target;
    });
    this.logger.info({ model, version, actor, reason }, 'model version activated');
    await this.load(model);
    return activated;
  }

  /** Loads the LIVE version's artifact and replays the feedback it has not seen. */
  async load(model: string): Promise<LiveModel> {
    const task = this.tasks.get(model);
    if (!task) throw new NotFoundError(`unknown model ${model}`);
    const em = this.orm.em.fork();
    const row = await em.findOne(ModelVersion, { model, status: 'LIVE' }, { populate: ['artifact'] });
    if (!row) throw new Error(`model ${model} has no LIVE version`);
    const nb = NaiveBayesModel.fromJSON(row.artifact);
    let live: LiveModel = {
      task,
      versionId: row.id,
      version: row.version,
      model: nb,
      trainedThroughFeedbackId: row.trainedThroughFeedbackId,
      replayedThroughFeedbackId: row.trainedThroughFeedbackId,
    };
    if (this.learnsOnline(task)) {
      const rows = await sql<{ id: string; actual: string; input: TaskInput }>`
        select f.id, f.actual, p.input from feedback f join prediction p on p.id = f.prediction_id
        where f.model = ${model} and f.id > ${row.trainedThroughFeedbackId} order by f.id`.execute(em.getKysely());
      for (const r of rows.rows) nb.learn(task.encode(r.input), r.actual);
      const last = rows.rows.at(-1);
      if (last) {
        live = { ...live, replayedThroughFeedbackId: Number(last.id) };
        this.logger.info({ model, version: row.version, replayed: rows.rows.length }, 'replayed feedback into the live model');
      }
    }
    this.live.set(model, live);
    this.versionCache.clear();
    this.events.publish('modelActivated', { model, version: row.version });
    return live;
  }

  private async hasVersions(model: string): Promise<boolean> {
    return (await this.orm.em.fork().count(ModelVersion, { model })) > 0;
  }
}

/** Serialises version changes of one model across processes (a transaction-scoped advisory lock). */
async function lockModel(em: EntityManager, model: string): Promise<void> {
  await em.execute(`select pg_advisory_xact_lock(hashtext(?))`, [`relearn:model:${model}`]);
}
