import { buildApp } from './app.js';
import { ConfigError, loadConfig } from './config.js';
import { createLogger } from './logger.js';

let config;
try {
  config = loadConfig();
} catch (error) {
  if (error instanceof ConfigError) {
    console.error(error.message);
    process.exit(2);
  }
  throw error;
}
const logger = createLogger(config);
const app = await buildApp(config, logger);
const port = await app.start();
const base = `http://${config.host === '0.0.0.0' ? 'localhost' : config.host}:${port}`;
const banner = [
  '',
  '  Relearn is up.',
  `  Dashboard           ${base}/`,
  `  GraphQL + GraphiQL  ${base}/graphql`,
  `  Prometheus metrics  ${base}/metrics`,
  `  Health / readiness  ${base}/healthz  ${base}/readyz`,
  `  Database            ${app.database.kind === 'embedded' ? `embedded PGlite in ${config.dataDir}` : 'PostgreSQL (DATABASE_URL)'}`,
  config.adminTokenGenerated ? `  Admin token         ${config.adminToken}   (generated; set ADMIN_TOKEN to fix it)` : '  Admin token         from ADMIN_TOKEN',
  '',
];
console.log(banner.join('\n'));
app.modelsReady.then(
  () => logger.info({ models: app.services.tasks.names() }, 'all models live: ready to predict'),
  (error: unknown) => logger.error({ err: error }, 'a model could not be brought up; /readyz stays 503'),
);

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
