/**
 * `npm run trainer` — a process that only runs retrain jobs (and serves /healthz, /readyz and
 * /metrics for Prometheus). Point it at the same PostgreSQL, object storage and MLflow as the API.
 */
import { buildApp } from './app.js';
import { ConfigError, loadConfig } from './config.js';
import { createLogger } from './logger.js';

let config;
try {
  config = loadConfig({ PORT: '4100', ...process.env });
} catch (error) {
  if (error instanceof ConfigError) {
    console.error(error.message);
    process.exit(2);
  }
  throw error;
}
if (!config.databaseUrl) {
  console.error('npm run trainer needs DATABASE_URL: the embedded database belongs to one process (`npm start` already runs a trainer inside).');
  process.exit(2);
}
const logger = createLogger(config).child({ process: 'trainer' });
const app = await buildApp(config, logger, { api: false, trainer: true });
const port = await app.start();
logger.info({ port, registry: app.registry.kind, blobs: app.blobs.description }, 'trainer started: waiting for retrain jobs');

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    app.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  });
}
