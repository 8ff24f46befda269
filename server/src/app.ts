import { join } from 'node:path';
import { sql } from 'kysely';
import type { Config } from './config.js';
import { openDatabaseServer, type DatabaseServer } from './database/database-server.js';
import { initORM, type Orm } from './database/orm.js';
import { createEventBus } from './events/event-bus.js';
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
import { LocalBlobStore } from './storage/local-blob-store.js';
import { TaskRegistry } from './tasks/task-registry.js';

export interface App {
  config: Config;
  logger: Logger;
  services: Services;
  yoga: RelearnYoga;
  http: HttpServer;
  orm: Orm;
  database: DatabaseServer;
  /** Resolves when every task has a live model (bootstrap training may take a while on first start). */
  modelsReady: Promise<void>;
  /** Starts listening; returns the bound port. */
  start(): Promise<number>;
  stop(): Promise<void>;
}

/** The composition root: builds every part once and hands dependencies down. */
export async function buildApp(config: Config, logger: Logger = createLogger(config)): Promise<App> {
  const tasks = await TaskRegistry.load(config.taskPaths);
  const database = await openDatabaseServer(config, logger);
  const orm = await initORM(database.url, { poolMax: database.kind === 'embedded' ? 8 : 20 });
  const blobs = new LocalBlobStore(join(config.dataDir, 'blobs'));
  const events = createEventBus();
  const serving = new ServingMetrics();
  const models = new ModelService(orm, tasks, blobs, events, logger.child({ component: 'models' }));
  const metrics = new MetricsService(orm, tasks, events, config.metricsPushIntervalMs);
  const predictions = new PredictionService(orm, tasks, models, serving);
  const feedback = new FeedbackService(orm, tasks, predictions, models, metrics, serving);
  serving.attachQualityGauges(tasks, models, metrics);
  const activations = events.subscribe('modelActivated');
  void (async () => {
    for await (const { model, version } of activations) serving.modelLive(model, version);
  })();
  const services: Services = { tasks, models, predictions, feedback, metrics, events };

  const yoga = createGraphQLServer({ schema: buildSchema(tasks), services, adminToken: config.adminToken, logger });
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
  const http = createHttpServer({ yoga, serving, readiness, maxBodyBytes: config.maxBodyBytes, logger });

  let modelsStarted: Promise<void> | null = null;
  const modelsReady = new Promise<void>((resolve, reject) => {
    queueMicrotask(() => {
      modelsStarted = models.start();
      modelsStarted.then(resolve, reject);
    });
  });
  modelsReady.catch(() => {});

  return {
    config,
    logger,
    services,
    yoga,
    http,
    orm,
    database,
    modelsReady,
    start: () => http.listen(config.port, config.host),
    // Reverse start order; each step logged so a hung shutdown says where.
    async stop() {
      logger.info('stopping: no new requests; finishing those in flight');
      await http.close(config.shutdownTimeoutMs);
      logger.info('stopping: committing pending writes');
      await Promise.all([predictions.drain(), feedback.drain()]);
      metrics.stop();
      await activations.return?.();
      await modelsStarted?.catch(() => {});
      logger.info('stopping: closing the database');
      await orm.close();
      await database.stop();
      logger.info('stopped');
    },
  };
}
