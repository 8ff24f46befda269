import { buildApp } from './app.js';
import { createLogger } from './logger.js';
import { configOrExit, stopOnSignals } from './process-lifecycle.js';
import { modelQualityWarnings } from './models/model-quality.js';

const config = configOrExit();
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
  config.authMode === 'open'
    ? '  Access              OPEN: anyone may predict and give feedback (AUTH_MODE=keys to require API keys; npm run keys -- --help)'
    : '  Access              API keys required for predictions, feedback and outcomes (npm run keys -- --help)',
  '',
];
console.log(banner.join('\n'));
app.modelsReady.then(
  async () => {
    logger.info({ models: app.services.tasks.names() }, 'all models live: ready to predict');
    const warnings = await modelQualityWarnings(app.services);
    if (warnings.length > 0) console.log(['', ...warnings, ''].join('\n'));
  },
  (error: unknown) => logger.error({ err: error }, 'a model could not be brought up; /readyz stays 503'),
);

stopOnSignals(app, logger);
