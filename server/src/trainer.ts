/**
 * `npm run trainer` — a process that only runs retrain jobs (and serves /healthz, /readyz and
 * /metrics for Prometheus). Point it at the same PostgreSQL, object storage and MLflow as the API.
 */
import { buildApp } from './app.js';
import { createLogger } from './logger.js';
import { configOrExit, stopOnSignals } from './process-lifecycle.js';

const config = configOrExit({ PORT: '4100', ...process.env });
if (!config.databaseUrl) {
  console.error('npm run trainer needs DATABASE_URL: the embedded database belongs to one process (`npm start` already runs a trainer inside).');
  process.exit(2);
}
const logger = createLogger(config).child({ process: 'trainer' });
const app = await buildApp(config, logger, { api: false, trainer: true });
const port = await app.start();
logger.info({ port, registry: app.registry.kind, blobs: app.blobs.description }, 'trainer started: waiting for retrain jobs');

stopOnSignals(app, logger);
