import { randomUUID } from 'node:crypto';
import type { Config } from './config.js';
import { openDatabaseServer, type DatabaseServer } from './database/database-server.js';
import { initORM, pingDatabase, type Orm } from './database/orm.js';
import { PartitionMaintenance } from './database/partitions.js';
import { PartitionRepository } from './database/partitions.repository.js';
import { AccessControl } from './access/access-control.js';
import { ApiKeyRepository } from './access/api-key.repository.js';
import { ApiKeyService } from './access/api-key-service.js';
import { RateLimits } from './access/rate-limits.js';
import { AlertService } from './alerts/alert-service.js';
import { AlertRepository } from './alerts/alert.repository.js';
import { AuditRepository } from './audit/audit.repository.js';
import { AuditService } from './audit/audit-service.js';
import { auditDomainEvents } from './audit/audit-subscriber.js';
import { configurationEntry } from './audit/configuration-entry.js';
import { DriftRepository } from './drift/drift.repository.js';
import { DriftService } from './drift/drift-service.js';
import { DomainEvents } from './events/domain-events.js';
import { createEventBus } from './events/event-bus.js';
import { PostgresEventTarget } from './events/postgres-event-target.js';
import { FeedbackRepository } from './feedback/feedback.repository.js';
import { FeedbackService } from './feedback/feedback-service.js';
import { TrustGate } from './trust/trust-gate.js';
import { ModelHistory } from './feedback/model-history.js';
import { ModelHistoryRepository } from './feedback/model-history.repository.js';
import { TrainingMembership } from './training/training-membership.js';
import type { Services } from './graphql/context.js';
import { buildSchema } from './graphql/schema.js';
import { createGraphQLServer, type RelearnYoga } from './http/graphql-server.js';
import { createHttpServer, type HttpServer } from './http/http-server.js';
import { createLogger, type Logger } from './logger.js';
import { AccuracyRepository } from './metrics/accuracy.repository.js';
import { HistoryRepository } from './metrics/history.repository.js';
import { MetricsService } from './metrics/metrics-service.js';
import { ServingMetrics } from './metrics/prometheus.js';
import { ModelService } from './models/model-service.js';
import { ModelVersionRepository } from './models/model-version.repository.js';
import { PredictionExplainer } from './predictions/explanation.js';
import { PredictionListRepository } from './predictions/prediction-list.repository.js';
import { PredictionList } from './predictions/prediction-list.js';
import { PredictionRepository } from './predictions/prediction.repository.js';
import { PredictionService } from './predictions/prediction-service.js';
import { PgBossRetrainQueue } from './queue/retrain-queue.js';
import { createModelRegistry } from './registry/create-model-registry.js';
import type { ModelRegistry } from './registry/model-registry.js';
import { RetrainJobRepository } from './retraining/retrain-job.repository.js';
import { RetrainService } from './retraining/retrain-service.js';
import { RetrainTriggers } from './retraining/retrain-triggers.js';
import { createBlobStore } from './storage/create-blob-store.js';
import type { BlobStore } from './storage/blob-store.js';
import { TaskRegistry } from './tasks/task-registry.js';
import { CODE_VERSION } from './version.js';
import { DatasetStore } from './training/dataset-store.js';
import { DatasetVersionRepository } from './training/dataset-version.repository.js';
import { TrainingPipeline } from './training/training-pipeline.js';
import { withBootstrapFitCache } from './training/bootstrap-fit-cache.js';
import { trainInWorker } from './training/train-in-worker.js';
import { TrainingRunRepository } from './training/training-run.repository.js';
import { TrainingDataRepository } from './training/training-data.repository.js';
import { remainingAtLeast, runShutdownSteps, type ShutdownStep } from './shared/shutdown.js';

/**
 * Shutdown budgets (ms) after SHUTDOWN_TIMEOUT_MS, the grace of work in flight: the HTTP server's
 * slack past it, the floors of the other in-flight steps, and the closes of the connections.
 */
const STOP_BUDGETS = { httpSlack: 1_000, writes: 2_000, triggers: 500, background: 500, queue: 2_000, events: 1_000, pool: 1_500, database: 1_500 };
/** The most app.stop() takes beyond SHUTDOWN_TIMEOUT_MS, whatever the database does: 10 s. */
export const SHUTDOWN_MARGIN_MS = Object.values(STOP_BUDGETS).reduce((sum, ms) => sum + ms, 0);

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
  // What has been started so far, newest first: a failed start closes it all before rethrowing.
  const started: ShutdownStep[] = [];
  try {
    return await assembleApp(config, logger, roles, (step) => started.unshift(step));
  } catch (error) {
    logger.error({ err: error }, 'start failed: releasing what was started');
    await runShutdownSteps(started, logger, 'releasing a failed start').catch(() => {});
    throw error;
  }
}

async function assembleApp(config: Config, logger: Logger, roles: AppRoles, onRelease: (step: ShutdownStep) => void): Promise<App> {
  const tasks = await TaskRegistry.load(config.taskPaths);
  const database = await openDatabaseServer(config, logger);
  onRelease({ name: 'the embedded database', timeoutMs: STOP_BUDGETS.database, run: () => database.stop() });
  const orm = await initORM(database.url, { poolMax: database.kind === 'embedded' ? 8 : 20, migrate: false });
  onRelease({ name: 'the database pool', timeoutMs: STOP_BUDGETS.pool, run: () => orm.close() });
  await orm.migrator.up();
  const blobs = await createBlobStore(config, config.dataDir);
  const registry = createModelRegistry(config, { orm, blobs });
  // Processes share events through PostgreSQL; the embedded database has one process only.
  // LISTEN needs a session of its own: past a pooler in transaction mode, the direct URL (DATABASE_DIRECT_URL).
  const eventTarget = database.kind === 'postgres' ? await PostgresEventTarget.connect(config.databaseDirectUrl ?? database.url, logger) : null;
  if (eventTarget) onRelease({ name: 'the event connection', timeoutMs: STOP_BUDGETS.events, run: () => eventTarget.close() });
  const events = createEventBus(eventTarget);
  const queue = new PgBossRetrainQueue(database.url, logger.child({ component: 'queue' }), {
    retryDelaySeconds: config.retrainRetryDelaySeconds,
  });
  // Registered before start(): a start that fails half-way has already opened pg-boss's pool.
  onRelease({ name: 'the retrain queue', timeoutMs: STOP_BUDGETS.queue, run: (ms) => queue.stop(ms - 1000) });
  await queue.start();

  // What happened in this process (in memory, synchronous); `events` carries ids between processes.
  const domainEvents = new DomainEvents(logger.child({ component: 'events' }));
  const serving = new ServingMetrics();
  const feedbackRows = new FeedbackRepository(orm);
  const versionRows = new ModelVersionRepository(orm);
  const models = new ModelService(versionRows, feedbackRows, tasks, events, logger.child({ component: 'models' }), config.onlineLearning, domainEvents);
  const datasets = new DatasetStore(new DatasetVersionRepository(orm), blobs);
  const pipeline = new TrainingPipeline(
    { versions: versionRows, runs: new TrainingRunRepository(orm), feedback: feedbackRows, data: new TrainingDataRepository(orm) },
    models,
    datasets,
    registry,
    logger.child({ component: 'training' }),
    config.bootstrapFitCacheDir ? withBootstrapFitCache(trainInWorker, config.bootstrapFitCacheDir) : trainInWorker,
    { chunkBytes: config.datasetChunkBytes },
  );
  const retrains = new RetrainService(new RetrainJobRepository(orm), tasks, queue, events, logger.child({ component: 'retrain' }), domainEvents);
  // PREDICTION_COMMIT=async on a real PostgreSQL only: embedded, a process crash is a database crash.
  const predictionRows = new PredictionRepository(orm, {
    asyncCommit: config.predictionCommit === 'async' && database.kind === 'postgres',
    // A prepared insert needs a session of its own: DATABASE_DIRECT_URL set means DATABASE_URL may be a pooler.
    prepared: database.kind === 'postgres' && config.databaseDirectUrl === null,
  });
  const metrics = new MetricsService(
    feedbackRows,
    predictionRows,
    tasks,
    events,
    config.metricsPushIntervalMs,
    new AccuracyRepository(orm),
    new HistoryRepository(orm),
  );
  const drift = new DriftService(new DriftRepository(orm), models, datasets, tasks, config.drift);
  const triggers = new RetrainTriggers(feedbackRows, tasks, models, retrains, metrics, logger.child({ component: 'triggers' }), undefined, drift);
  const predictions = new PredictionService(predictionRows, tasks, models, domainEvents, config.recentPredictions, config.auditSampleRate);
  const feedback = new FeedbackService(feedbackRows, tasks, predictions, models, domainEvents, new TrustGate(feedbackRows, config.trust));
  serving.attachQualityGauges(tasks, models, metrics, drift);

  // This process's followers. Per process on purpose: Prometheus counts what this process did and
  // the trigger debounce is this process's, so neither follows other processes' NOTIFYs.
  domainEvents.on('predictionsServed', ({ predictions: served, seconds }) => serving.predictionsServed(served, seconds));
  domainEvents.on('feedbackRecorded', ({ feedback: f, version }) => serving.feedbackRecorded(tasks.get(f.model)!, f, version));
  domainEvents.on('feedbackRecorded', ({ feedback: f }) => metrics.changed(f.model));
  // Released and retracted rows change what the metrics count.
  domainEvents.on('quarantineReviewed', ({ model }) => metrics.changed(model));
  domainEvents.on('feedbackRetracted', ({ models: changed }) => changed.forEach((m) => metrics.changed(m)));
  if (config.autoRetrain) domainEvents.on('feedbackRecorded', ({ feedback: f }) => triggers.feedbackRecorded(f.model));
  if (config.autoRetrain) {
    domainEvents.on('predictionsServed', ({ predictions: served }) => new Set(served.map((p) => p.model)).forEach((m) => triggers.predictionsServed(m)));
  }
  domainEvents.on('retrainStarted', ({ model }) => serving.retrainStarted(model));
  domainEvents.on('retrainFinished', ({ model, outcome, seconds }) => serving.retrainFinished(model, outcome, seconds));
  // Other processes learn committed feedback from the database; they are told ids only.
  const origin = randomUUID();
  domainEvents.on('feedbackBatchCommitted', (range) => events.publish('feedbackCommitted', { ...range, origin }));
  const alerts = new AlertService(new AlertRepository(orm), tasks, retrains, events, logger.child({ component: 'alerts' }));
  // Every state change is audited once, by the process that made it (audit/audit-subscriber.ts).
  const audit = new AuditService(new AuditRepository(orm), events, logger.child({ component: 'audit' }));
  auditDomainEvents(domainEvents, audit);
  audit.append(configurationEntry(config, roles, CODE_VERSION));
  // Partitions of `prediction` for now and the next spans exist before anything is served; then a timer (database/partitions.ts).
  const partitions = new PartitionMaintenance(new PartitionRepository(orm), config.partitions, domainEvents, logger.child({ component: 'partitions' }));
  // Should this fail, the default partition takes the inserts and the timer tries again.
  await partitions.ensure().catch((error: unknown) => logger.warn({ err: error }, 'could not create prediction partitions'));
  partitions.startTimer();
  onRelease({ name: 'prediction partition maintenance', timeoutMs: STOP_BUDGETS.triggers, run: () => partitions.stop() });
  const apiKeys = new ApiKeyService(new ApiKeyRepository(orm), events, domainEvents);
  const access = new AccessControl(
    config.authMode,
    { adminToken: config.adminToken, webhookToken: config.webhookToken },
    apiKeys,
    new RateLimits(config.rateLimits),
    config.maxOutcomesPerCall,
  );
  // Retractions and time travel take back only rows a version's dataset really holds.
  const membership = new TrainingMembership(datasets);
  models.useTrainingFeedbackIds((id) => membership.feedbackIds(id));
  const history = new ModelHistory(new ModelHistoryRepository(orm), versionRows, tasks, (id) => membership.feedbackIds(id));
  const predictionList = new PredictionList(new PredictionListRepository(orm), versionRows, tasks, config.predictionList.maxPage);
  const explanations = new PredictionExplainer(
    models,
    versionRows,
    tasks,
    config.predictionList.maxExplanationTokens,
    async (p) => (await history.replay(p)).past,
  );
  const services: Services = {
    tasks,
    models,
    predictions,
    predictionList,
    explanations,
    feedback,
    history,
    metrics,
    drift,
    events,
    retrains,
    datasets,
    alerts,
    access,
    apiKeys,
    audit,
    monitoringLinks: { ...config.links, mlflow: config.mlflowTrackingUri },
  };

  // A key revoked in any process stops working in this one at once.
  const revocations = events.subscribe('apiKeyRevoked');
  const forgetting = (async () => {
    for await (const { id } of revocations) apiKeys.forget(id);
  })();

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
    for await (const { model, origin: from_ } of committed) {
      if (from_ === origin) continue;
      // Not awaited: catch-ups of a model coalesce, so a burst of announcements costs one read or two.
      models.catchUp(model).catch((error: unknown) => logger.warn({ err: error, model }, 'could not learn feedback from another process'));
    }
  })();

  // What was NOTIFYed while the LISTEN connection was down is gone: catch up from the tables (the
  // LIVE version, committed feedback), and have every metrics subscriber refresh.
  eventTarget?.onReconnect(async () => {
    try {
      await models.resync();
    } finally {
      for (const t of tasks.all()) metrics.changed(t.name);
    }
  });

  const yoga = roles.api
    ? createGraphQLServer({
        schema: buildSchema(tasks),
        services,
        webhookTokenSet: config.webhookToken !== null,
        webhookHmacSecret: config.webhookHmacSecret,
        introspection: config.graphqlIntrospection,
        logger,
        onAnswer: (codes) => serving.graphqlAnswered(codes),
      })
    : null;
  const readiness = async () => {
    // Time-bound: a probe must answer even when the database does not.
    let timer: NodeJS.Timeout | undefined;
    const databaseOk = await Promise.race([
      pingDatabase(orm).then(
        () => true,
        (error: unknown) => (logger.warn({ err: error }, 'readiness: the database does not answer'), false),
      ),
      new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), 2000))),
    ]);
    clearTimeout(timer);
    const checks: Record<string, boolean | string> = { database: databaseOk };
    for (const t of tasks.all()) checks[`model:${t.name}`] = models.getLive(t.name) !== undefined;
    return { ready: Object.values(checks).every((v) => v === true), checks };
  };
  const http = createHttpServer({
    yoga,
    webhook: { access, alerts, webhookTokenSet: config.webhookToken !== null },
    serving,
    readiness,
    maxBodyBytes: config.maxBodyBytes,
    webhookHmacSecret: config.webhookHmacSecret,
    webhookHmacRequireTimestamp: config.webhookHmacRequireTimestamp,
    logger,
    fastPath: config.graphqlFastPath,
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
    // Bounded whatever the database does: work in flight shares SHUTDOWN_TIMEOUT_MS, each later step
    // keeps a floor, the closes have fixed budgets; in all at most SHUTDOWN_TIMEOUT_MS + SHUTDOWN_MARGIN_MS.
    // Rejects (ShutdownIncompleteError) when a step failed or overran, after still trying the rest.
    async stop() {
      const inFlight = Date.now() + config.shutdownTimeoutMs;
      await runShutdownSteps(
        [
          {
            name: 'no new requests; finishing those in flight',
            timeoutMs: config.shutdownTimeoutMs + STOP_BUDGETS.httpSlack,
            run: () => http.close(config.shutdownTimeoutMs),
          },
          {
            name: 'committing pending writes',
            timeoutMs: remainingAtLeast(STOP_BUDGETS.writes, inFlight),
            run: () => Promise.all([predictions.drain(), feedback.drain(), audit.drain()]),
          },
          {
            name: 'retrain triggers and metrics pushes',
            timeoutMs: remainingAtLeast(STOP_BUDGETS.triggers, inFlight),
            run: async () => {
              triggers.stop();
              metrics.stop();
              await Promise.all([triggers.drain(), partitions.stop()]);
            },
          },
          {
            name: 'model bootstrap and trainer start',
            timeoutMs: remainingAtLeast(STOP_BUDGETS.background, inFlight),
            run: () => Promise.all([modelsStarted?.catch(() => {}), workerStarted.catch(() => {})]),
          },
          {
            name: 'the retrain queue (a running retrain may finish first)',
            timeoutMs: remainingAtLeast(STOP_BUDGETS.queue, inFlight),
            // pg-boss's own grace ends a second early: failing the unfinished job and closing its pool follow.
            run: (ms) => queue.stop(ms - 1000),
          },
          {
            name: 'event subscriptions and connection',
            timeoutMs: STOP_BUDGETS.events,
            run: async () => {
              await activations.return?.();
              await committed.return?.();
              await revocations.return?.();
              await Promise.all([following, learning, forgetting]);
              await eventTarget?.close();
            },
          },
          { name: 'the database pool', timeoutMs: STOP_BUDGETS.pool, run: () => orm.close() },
          { name: 'the embedded database', timeoutMs: STOP_BUDGETS.database, run: () => database.stop() },
        ],
        logger,
      );
      logger.info('stopped');
    },
  };
}
