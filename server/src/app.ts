import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import type { Config } from './config.js';
import { openDatabaseServer, type DatabaseServer } from './database/database-server.js';
import { initORM, type Orm } from './database/orm.js';
import { AlertService } from './alerts/alert-service.js';
import { createEventBus } from './events/event-bus.js';
import { PostgresEventTarget } from './events/postgres-event-target.js';
import { FeedbackService } from './feedback/feedback-service.js';
import type { Services } from './graphql/context.js';
import { buildSchema } from './graphql/schema.js';
import { createGraphQLServer, type RelearnYoga } from './http/graphql-server.js';
import { createHttpServer, type HttpServer } from './http/http-server.js';
import { createLogger, type Logger } from './logger.js';
import { MetricsService } from './metrics/metrics-service.js';
import { ServingMetrics } from './metrics/prometheus.js';
import { ModelService } from './models/model-service.js';
import { PredictionService } from './predictions/prediction-service.js';
import { PgBossRetrainQueue } from './queue/retrain-queue.js';
import { createModelRegistry } from './registry/create-model-registry.js';
import type { ModelRegistry } from './registry/model-registry.js';
import { RetrainService } from './retraining/retrain-service.js';
import { RetrainTriggers } from './retraining/retrain-triggers.js';
import { createBlobStore } from './storage/create-blob-store.js';
import type { BlobStore } from './storage/blob-store.js';
import { TaskRegistry } from './tasks/task-registry.js';
import { DatasetStore } from './training/dataset-store.js';
import { TrainingPipeline } from './training/training-pipeline.js';

export interface AppRoles {
  /** Serve the GraphQL API (predict, feedback, …). */
  api: boolean;
  /** Run retrain jobs from the queue. */
  trainer: boolean;
}

export interface App {
  config: Config;
  logger: Logger;
  roles: AppRoles;
  services: Services;
  yoga: RelearnYoga | null;
  http: HttpServer;
  orm: Orm;
  database: DatabaseServer;
  blobs: BlobStore;
  registry: ModelRegistry;
  pipeline: TrainingPipeline;
  triggers: RetrainTriggers;
  /** Resolves when every task has a live model (bootstrap training may take a while on first start). */
  modelsReady: Promise<void>;
  /** Starts listening; returns the bound port. */
  start(): Promise<number>;
  stop(): Promise<void>;
}

/**
 * The composition root: builds every part once and hands dependencies down. One process can
 * serve the API, run the trainer, or both (the embedded default).
 */
export async function buildApp(
  config: Config,
  logger: Logger = createLogger(config),
  roles: AppRoles = { api: true, trainer: config.trainer === 'in-process' },
): Promise<App> {
  const tasks = await TaskRegistry.load(config.taskPaths);
  const database = await openDatabaseServer(config, logger);
  const orm = await initORM(database.url, { poolMax: database.kind === 'embedded' ? 8 : 20 });
  const blobs = await createBlobStore(config, config.dataDir);
  const registry = createModelRegistry(config, { orm, blobs });
  // Processes share events through PostgreSQL; the embedded database has one process only.
  const eventTarget = database.kind === 'postgres' ? await PostgresEventTarget.connect(database.url, logger) : null;
  const events = createEventBus(eventTarget);
  const queue = new PgBossRetrainQueue(database.url, logger.child({ component: 'queue' }), {
    retryDelaySeconds: config.retrainRetryDelaySeconds,
  });
  await queue.start();

  const serving = new ServingMetrics();
  const models = new ModelService(orm, tasks, events, logger.child({ component: 'models' }), config.onlineLearning);
  const datasets = new DatasetStore(orm, blobs);
  const pipeline = new TrainingPipeline(orm, models, datasets, registry, logger.child({ component: 'training' }));
  const retrains = new RetrainService(orm, tasks, queue, events, logger.child({ component: 'retrain' }), serving);
  const metrics = new MetricsService(orm, tasks, events, config.metricsPushIntervalMs);
  const triggers = new RetrainTriggers(orm, tasks, models, retrains, metrics, logger.child({ component: 'triggers' }));
  const predictions = new PredictionService(orm, tasks, models, serving);
  const origin = randomUUID();
  const feedback = new FeedbackService(orm, tasks, predictions, models, metrics, serving, triggers, events, origin);
  serving.attachQualityGauges(tasks, models, metrics);
  const alerts = new AlertService(orm, tasks, retrains, events, logger.child({ component: 'alerts' }));
  const services: Services = { tasks, models, predictions, feedback, metrics, events, retrains, datasets, alerts };

  // Every process follows activations made anywhere: a promotion or rollback swaps its live model.
  const activations = events.subscribe('modelActivated');
  const following = (async () => {
    for await (const { model, version } of activations) {
      serving.modelLive(model, version);
      if (models.getLive(model) && models.getLive(model)!.version !== version) {
        await models.load(model).catch((error: unknown) => logger.error({ err: error, model }, 'could not load the activated version'));
      }
    }
  })();

  // Feedback committed by other API processes teaches this process's live models too.
  const committed = events.subscribe('feedbackCommitted');
  const learning = (async () => {
    for await (const { model, from, to, origin: from_ } of committed) {
      if (from_ === origin) continue;
      await models.learnCommitted(model, from, to).catch((error: unknown) => logger.warn({ err: error, model }, 'could not learn feedback from another process'));
    }
  })();

  const yoga = roles.api
    ? createGraphQLServer({
        schema: buildSchema(tasks),
        services,
        adminToken: config.adminToken,
        webhookToken: config.webhookToken,
        webhookHmacSecret: config.webhookHmacSecret,
        logger,
      })
    : null;
  const readiness = async () => {
    let databaseOk: boolean | string = true;
    try {
      await sql`select 1`.execute(orm.em.getKysely());
    } catch (error) {
      databaseOk = (error as Error).message;
    }
    const checks: Record<string, boolean | string> = { database: databaseOk };
    for (const t of tasks.all()) checks[`model:${t.name}`] = models.getLive(t.name) !== undefined;
    return { ready: Object.values(checks).every((v) => v === true), checks };
  };
  const http = createHttpServer({
    yoga,
    serving,
    readiness,
    maxBodyBytes: config.maxBodyBytes,
    webhookHmacSecret: config.webhookHmacSecret,
    logger,
  });

  let modelsStarted: Promise<void> | null = null;
  const modelsReady = new Promise<void>((resolve, reject) => {
    queueMicrotask(() => {
      modelsStarted = models.start((task) => pipeline.train({ task, reason: 'bootstrap: the task had no model version' }));
      modelsStarted.then(resolve, reject);
    });
  });
  modelsReady.catch(() => {});
  const workerStarted = roles.trainer ? modelsReady.then(() => retrains.startWorker(pipeline)) : Promise.resolve();
  workerStarted.catch((error: unknown) => logger.error({ err: error }, 'the trainer could not start'));

  return {
    config,
    logger,
    roles,
    services,
    yoga,
    http,
    orm,
    database,
    blobs,
    registry,
    pipeline,
    triggers,
    modelsReady,
    start: () => http.listen(config.port, config.host),
    // Reverse start order; each step logged so a hung shutdown says where.
    async stop() {
      logger.info('stopping: no new requests; finishing those in flight');
      await http.close(config.shutdownTimeoutMs);
      logger.info('stopping: committing pending writes');
      await Promise.all([predictions.drain(), feedback.drain()]);
      triggers.stop();
      await triggers.drain();
      metrics.stop();
      await modelsStarted?.catch(() => {});
      await workerStarted.catch(() => {});
      logger.info('stopping: the retrain queue (a running retrain may finish first)');
      await queue.stop();
      await activations.return?.();
      await committed.return?.();
      await Promise.all([following, learning]);
      await eventTarget?.close();
      logger.info('stopping: closing the database');
      await orm.close();
      await database.stop();
      logger.info('stopped');
    },
  };
}
