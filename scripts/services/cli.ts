// `npm run services:up|down|status`: the real PostgreSQL, MinIO, MLflow, Prometheus and Alertmanager
// for running Relearn against, as background processes with their data, logs and pid files under
// .services/.
// `services:up` writes .env.services for `set -a && . ./.env.services && set +a && npm start`.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, parseEnv } from 'node:util';
import { Client } from 'minio';
import { portFree, processAlive, processArgv, stopProcessGroup, type Log } from './background-process.js';
import { ensureMlflowInstalled, startMlflow } from './mlflow.js';
import { startMinio } from './minio.js';
import { ensureDatabase, postgresRunning, startPostgres, stopPostgresCluster } from './postgres.js';
import { ensurePrometheusInstalled, renderAlertmanagerConfig, startAlertmanager, startPrometheus, writeLocalPrometheusConfig } from './prometheus.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const DIR = path.join(ROOT, '.services');
const STATE_FILE = path.join(DIR, 'state.json');
const ENV_FILE = path.join(ROOT, '.env.services');
const BLOB_BUCKET = 'relearn';
const MLFLOW_BUCKET = 'mlflow';

const HELP = `Usage: npm run services:<command> [-- options]

Runs the real outside systems Relearn uses, on 127.0.0.1, in the background:
  PostgreSQL  (Debian's server; apt-get installs it when missing)
  MinIO       (S3 API; built once from source with \`go install\`, 5-10 min on 2 cores)
  MLflow      (tracking server and model registry; a Python venv installed once from PyPI)
  Prometheus  (Debian's; scrapes the API on --api-port and the trainer on --trainer-port, with
               the alert rules of monitoring/prometheus/rules)
  Alertmanager (Debian's; posts alerts to the API's /webhooks/alerts with WEBHOOK_TOKEN)
Installs are cached in $RELEARN_CACHE_DIR (default ~/.cache/relearn); data, logs and pid
files live in .services/ (kept across up/down).

Commands:
  services:up      start whatever is not running, create the buckets \`${BLOB_BUCKET}\` and \`${MLFLOW_BUCKET}\`
                   and the database \`mlflow\`, and write .env.services (with a WEBHOOK_TOKEN,
                   made once and kept)
  services:down    stop them (data is kept; --delete-data removes .services/ too)
  services:status  show what runs where (exit code 3 when something is not running)

Options for up (ports are fixed so that .env.services stays valid across restarts):
  --postgres-port N       default 54329
  --minio-port N          default 9000
  --minio-console-port N  default 9001
  --mlflow-port N         default 5000
  --prometheus-port N     default 9090
  --alertmanager-port N   default 9093
  --api-port N            where Relearn's API will listen (scraped; alerts go there), default 4000
  --trainer-port N        where \`npm run trainer\` will listen (scraped), default 4100

Then:  npm run services:up && set -a && . ./.env.services && set +a && npm start`;

interface State {
  postgres: { url: string; port: number; dataDir: string; logFile: string };
  minio: { pid: number; endpoint: string; consoleUrl: string; accessKey: string; secretKey: string; logFile: string };
  mlflow: { pid: number; url: string; logFile: string };
  prometheus: { pid: number; url: string; logFile: string; config: string };
  alertmanager: { pid: number; url: string; logFile: string; config: string };
}

type Running = Record<keyof State, boolean>;

const log: Log = (msg) => console.error(`[services] ${msg}`);
const logAs =
  (name: string): Log =>
  (msg) =>
    console.error(`[services] [${name}] ${msg}`);

async function readState(): Promise<Partial<State>> {
  try {
    return JSON.parse(await readFile(STATE_FILE, 'utf8')) as Partial<State>;
  } catch {
    return {};
  }
}

async function writeState(state: Partial<State>): Promise<void> {
  await mkdir(DIR, { recursive: true });
  await writeFile(STATE_FILE, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
}

/** Whether `pid` is alive and still the program we started (pids get reused). */
async function isOurs(pid: number | undefined, program: string | ((argv: string[]) => boolean)): Promise<boolean> {
  if (!pid || !processAlive(pid)) return false;
  const argv = await processArgv(pid);
  if (!argv) return false;
  return typeof program === 'string' ? argv.some((a) => a.includes(program)) : program(argv);
}

const isPrometheus = (argv: string[]): boolean => path.basename(argv[0] ?? '') === 'prometheus' && argv.some((a) => a.startsWith('--storage.tsdb.path='));
const isAlertmanager = (argv: string[]): boolean => /alertmanager$/.test(path.basename(argv[0] ?? ''));

async function running(state: Partial<State>): Promise<Running> {
  const [postgres, minio, mlflow, prometheus, alertmanager] = await Promise.all([
    state.postgres ? postgresRunning(state.postgres.dataDir) : false,
    isOurs(state.minio?.pid, 'minio'),
    isOurs(state.mlflow?.pid, 'mlflow'),
    isOurs(state.prometheus?.pid, isPrometheus),
    isOurs(state.alertmanager?.pid, isAlertmanager),
  ]);
  return { postgres, minio, mlflow, prometheus, alertmanager };
}

async function requireFreePorts(ports: [string, number][]): Promise<void> {
  const busy: string[] = [];
  for (const [option, port] of ports) if (!(await portFree(port))) busy.push(`127.0.0.1:${port} is in use by another program: choose another with --${option}`);
  if (busy.length > 0) throw new Error(busy.join('\n'));
}

/** MinIO's root credentials: made once, then kept, since MinIO's data is tied to them. */
async function minioCredentials(): Promise<{ accessKey: string; secretKey: string }> {
  const file = path.join(DIR, 'minio-credentials.json');
  if (existsSync(file)) return JSON.parse(await readFile(file, 'utf8')) as { accessKey: string; secretKey: string };
  const credentials = { accessKey: 'relearn', secretKey: randomBytes(18).toString('base64url') };
  await mkdir(DIR, { recursive: true });
  await writeFile(file, `${JSON.stringify(credentials, null, 2)}\n`, { mode: 0o600 });
  return credentials;
}

async function ensureBuckets(minio: State['minio'], buckets: string[]): Promise<void> {
  const url = new URL(minio.endpoint);
  const client = new Client({
    endPoint: url.hostname,
    port: Number(url.port),
    useSSL: false,
    accessKey: minio.accessKey,
    secretKey: minio.secretKey,
    pathStyle: true,
  });
  for (const bucket of buckets) if (!(await client.bucketExists(bucket))) await client.makeBucket(bucket);
}

function port(value: string | undefined, fallback: number, option: string): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new Error(`--${option} must be a port number (1-65535), got ${value}`);
  return n;
}

interface UpOptions {
  'postgres-port'?: string | undefined;
  'minio-port'?: string | undefined;
  'minio-console-port'?: string | undefined;
  'mlflow-port'?: string | undefined;
  'prometheus-port'?: string | undefined;
  'alertmanager-port'?: string | undefined;
  'api-port'?: string | undefined;
  'trainer-port'?: string | undefined;
}

/** The variables of an env file, parsed by node:util parseEnv (missing file: none). */
async function readEnvFile(file: string): Promise<Record<string, string>> {
  return parseEnv(await readFile(file, 'utf8').catch(() => '')) as Record<string, string>;
}

/** The alert webhook token: the one .env.services already has, else a new one (kept from then on). */
async function webhookToken(): Promise<string> {
  const existing = (await readEnvFile(ENV_FILE)).WEBHOOK_TOKEN;
  return existing && existing.length >= 16 ? existing : randomBytes(24).toString('base64url');
}

async function up(options: UpOptions): Promise<void> {
  const ports = {
    postgres: port(options['postgres-port'], 54329, 'postgres-port'),
    minio: port(options['minio-port'], 9000, 'minio-port'),
    minioConsole: port(options['minio-console-port'], 9001, 'minio-console-port'),
    mlflow: port(options['mlflow-port'], 5000, 'mlflow-port'),
    prometheus: port(options['prometheus-port'], 9090, 'prometheus-port'),
    alertmanager: port(options['alertmanager-port'], 9093, 'alertmanager-port'),
    api: port(options['api-port'], 4000, 'api-port'),
    trainer: port(options['trainer-port'], 4100, 'trainer-port'),
  };
  const token = await webhookToken();
  const started = Date.now();
  const state = await readState();
  const alive = await running(state);
  const logs = path.join(DIR, 'logs');
  await mkdir(logs, { recursive: true });
  // What this run started, stopped again if a later step fails (never what was already running).
  const stopOnFailure: (() => Promise<void>)[] = [];

  try {
    await requireFreePorts([
      ...(alive.postgres ? [] : ([['postgres-port', ports.postgres]] as [string, number][])),
      ...(alive.minio
        ? []
        : ([
            ['minio-port', ports.minio],
            ['minio-console-port', ports.minioConsole],
          ] as [string, number][])),
      ...(alive.mlflow ? [] : ([['mlflow-port', ports.mlflow]] as [string, number][])),
      ...(alive.prometheus ? [] : ([['prometheus-port', ports.prometheus]] as [string, number][])),
      ...(alive.alertmanager ? [] : ([['alertmanager-port', ports.alertmanager]] as [string, number][])),
    ]);

    const postgresStep = (async (): Promise<State['postgres']> => {
      if (alive.postgres && state.postgres) {
        logAs('postgres')(`already running at ${state.postgres.url}`);
        return state.postgres;
      }
      const dataDir = path.join(DIR, 'postgres');
      const server = await startPostgres({ dataDir, port: ports.postgres, stopOnExit: false, log: logAs('postgres') });
      stopOnFailure.push(() => server.stop());
      return { url: server.url, port: server.port, dataDir, logFile: path.join(dataDir, 'postgres.log') };
    })();

    const minioStep = (async (): Promise<State['minio']> => {
      let minio = state.minio;
      if (alive.minio && minio) {
        logAs('minio')(`already running at ${minio.endpoint}`);
      } else {
        const logFile = path.join(logs, 'minio.log');
        const server = await startMinio({
          dataDir: path.join(DIR, 'minio'),
          port: ports.minio,
          consolePort: ports.minioConsole,
          ...(await minioCredentials()),
          logFile,
          keepRunning: true,
          log: logAs('minio'),
        });
        stopOnFailure.push(() => server.stop());
        await writeFile(path.join(DIR, 'minio.pid'), `${server.pid}\n`);
        minio = {
          pid: server.pid,
          endpoint: server.endpoint,
          consoleUrl: `http://127.0.0.1:${server.consolePort}`,
          accessKey: server.accessKey,
          secretKey: server.secretKey,
          logFile,
        };
      }
      await ensureBuckets(minio, [BLOB_BUCKET, MLFLOW_BUCKET]);
      return minio;
    })();

    // Alertmanager, then Prometheus (which sends it alerts); neither needs the other services.
    const monitoringStep = (async (): Promise<Pick<State, 'prometheus' | 'alertmanager'>> => {
      const monitoringDir = path.join(DIR, 'monitoring');
      await mkdir(monitoringDir, { recursive: true });
      let alertmanager = state.alertmanager;
      if (alive.alertmanager && alertmanager) {
        logAs('alertmanager')(`already running at ${alertmanager.url}`);
      } else {
        await ensurePrometheusInstalled(logAs('prometheus'));
        const tokenFile = path.join(monitoringDir, 'webhook-token');
        await writeFile(tokenFile, token, { mode: 0o600 });
        const config = path.join(monitoringDir, 'alertmanager.yml');
        await writeFile(config, await renderAlertmanagerConfig({ webhookUrl: `http://127.0.0.1:${ports.api}/webhooks/alerts`, tokenFile }), { mode: 0o600 });
        const logFile = path.join(logs, 'alertmanager.log');
        const server = await startAlertmanager({
          config,
          dataDir: path.join(DIR, 'alertmanager'),
          port: ports.alertmanager,
          logFile,
          keepRunning: true,
          log: logAs('alertmanager'),
        });
        stopOnFailure.push(() => server.stop());
        await writeFile(path.join(DIR, 'alertmanager.pid'), `${server.pid}\n`);
        alertmanager = { pid: server.pid, url: server.url, logFile, config };
      }
      let prometheus = state.prometheus;
      if (alive.prometheus && prometheus) {
        logAs('prometheus')(`already running at ${prometheus.url}`);
      } else {
        const config = await writeLocalPrometheusConfig({
          dir: monitoringDir,
          apiTarget: `127.0.0.1:${ports.api}`,
          trainerTarget: `127.0.0.1:${ports.trainer}`,
          alertmanager: new URL(alertmanager.url).host,
        });
        const logFile = path.join(logs, 'prometheus.log');
        const server = await startPrometheus({
          config,
          dataDir: path.join(DIR, 'prometheus'),
          port: ports.prometheus,
          logFile,
          keepRunning: true,
          log: logAs('prometheus'),
        });
        stopOnFailure.push(() => server.stop());
        await writeFile(path.join(DIR, 'prometheus.pid'), `${server.pid}\n`);
        prometheus = { pid: server.pid, url: server.url, logFile, config };
      }
      return { prometheus, alertmanager };
    })();

    // The MLflow install (minutes, once) overlaps the PostgreSQL and MinIO starts (and MinIO's build).
    const [postgres, minio, , monitoring] = await Promise.all([
      postgresStep,
      minioStep,
      alive.mlflow ? Promise.resolve('') : ensureMlflowInstalled(logAs('mlflow')),
      monitoringStep,
    ]);

    let mlflow = state.mlflow;
    if (alive.mlflow && mlflow) {
      logAs('mlflow')(`already running at ${mlflow.url}`);
    } else {
      const logFile = path.join(logs, 'mlflow.log');
      const server = await startMlflow({
        port: ports.mlflow,
        backendStoreUri: await ensureDatabase(postgres.url, 'mlflow'),
        artifactsDestination: `s3://${MLFLOW_BUCKET}`,
        s3: { endpoint: minio.endpoint, accessKey: minio.accessKey, secretKey: minio.secretKey },
        logFile,
        keepRunning: true,
        log: logAs('mlflow'),
      });
      stopOnFailure.push(() => server.stop());
      await writeFile(path.join(DIR, 'mlflow.pid'), `${server.pid}\n`);
      mlflow = { pid: server.pid, url: server.url, logFile };
    }

    const full: State = { postgres, minio, mlflow, ...monitoring };
    await writeState(full);
    await writeEnvFile(full, token);
    log(`up in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    printState(full);
    console.log(`\nWrote ${path.relative(process.cwd(), ENV_FILE) || ENV_FILE}. Next: set -a && . ./.env.services && set +a && npm start`);
  } catch (error) {
    for (const stop of stopOnFailure.reverse()) await stop().catch(() => undefined);
    throw error;
  }
}

async function writeEnvFile(state: State, token: string): Promise<void> {
  const lines = [
    '# Written by `npm run services:up`: the services it started. Load with: set -a && . ./.env.services && set +a',
    `DATABASE_URL=${new URL('/relearn', state.postgres.url).toString()}`,
    `S3_ENDPOINT=${state.minio.endpoint}`,
    `S3_ACCESS_KEY=${state.minio.accessKey}`,
    `S3_SECRET_KEY=${state.minio.secretKey}`,
    `S3_BUCKET=${BLOB_BUCKET}`,
    `MLFLOW_TRACKING_URI=${state.mlflow.url}`,
    '# Alertmanager (and Grafana, if you run one) authenticate alert webhooks with it.',
    `WEBHOOK_TOKEN=${token}`,
    `# Prometheus ${state.prometheus.url}, Alertmanager ${state.alertmanager.url}`,
  ];
  await ensureDatabase(state.postgres.url, 'relearn');
  await writeFile(ENV_FILE, `${lines.join('\n')}\n`, { mode: 0o600 });
}

function printState(state: Partial<State>, alive?: Running): void {
  const mark = (ok: boolean | undefined): string => (alive === undefined ? '' : ok ? 'running  ' : 'stopped  ');
  console.log(
    `${mark(alive?.postgres)}PostgreSQL  ${state.postgres ? `${state.postgres.url.replace(/\/postgres$/, '/relearn')}   log ${state.postgres.logFile}` : '(never started)'}`,
  );
  console.log(
    `${mark(alive?.minio)}MinIO       ${state.minio ? `${state.minio.endpoint}   console ${state.minio.consoleUrl}   log ${state.minio.logFile}` : '(never started)'}`,
  );
  console.log(`${mark(alive?.mlflow)}MLflow      ${state.mlflow ? `${state.mlflow.url}   log ${state.mlflow.logFile}` : '(never started)'}`);
  console.log(
    `${mark(alive?.prometheus)}Prometheus  ${state.prometheus ? `${state.prometheus.url}   config ${state.prometheus.config}   log ${state.prometheus.logFile}` : '(never started)'}`,
  );
  console.log(
    `${mark(alive?.alertmanager)}Alertmanager ${state.alertmanager ? `${state.alertmanager.url}   config ${state.alertmanager.config}   log ${state.alertmanager.logFile}` : '(never started)'}`,
  );
}

async function down(options: { 'delete-data'?: boolean }): Promise<void> {
  const state = await readState();
  const alive = await running(state);
  // Reverse start order: Prometheus sends to Alertmanager; MLflow uses PostgreSQL and MinIO.
  if (alive.prometheus && state.prometheus) {
    log(`stopping Prometheus (pid ${state.prometheus.pid})`);
    await stopProcessGroup(state.prometheus.pid);
  }
  if (alive.alertmanager && state.alertmanager) {
    log(`stopping Alertmanager (pid ${state.alertmanager.pid})`);
    await stopProcessGroup(state.alertmanager.pid);
  }
  if (alive.mlflow && state.mlflow) {
    log(`stopping MLflow (pid ${state.mlflow.pid})`);
    await stopProcessGroup(state.mlflow.pid);
  }
  if (alive.minio && state.minio) {
    log(`stopping MinIO (pid ${state.minio.pid})`);
    await stopProcessGroup(state.minio.pid);
  }
  if (alive.postgres && state.postgres) {
    log(`stopping PostgreSQL (${state.postgres.dataDir})`);
    await stopPostgresCluster(state.postgres.dataDir);
  }
  await rm(path.join(DIR, 'mlflow.pid'), { force: true });
  await rm(path.join(DIR, 'minio.pid'), { force: true });
  await rm(path.join(DIR, 'prometheus.pid'), { force: true });
  await rm(path.join(DIR, 'alertmanager.pid'), { force: true });
  if (!Object.values(alive).some(Boolean)) log('nothing was running');
  if (options['delete-data']) {
    await rm(DIR, { recursive: true, force: true });
    await rm(ENV_FILE, { force: true });
    log(`deleted ${DIR} and ${ENV_FILE}`);
  } else {
    log('stopped; data kept in .services/ (services:down -- --delete-data removes it)');
  }
}

async function status(): Promise<number> {
  const state = await readState();
  const alive = await running(state);
  printState(state, alive);
  return Object.values(alive).every(Boolean) ? 0 : 3;
}

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      help: { type: 'boolean', short: 'h' },
      'delete-data': { type: 'boolean' },
      'postgres-port': { type: 'string' },
      'minio-port': { type: 'string' },
      'minio-console-port': { type: 'string' },
      'mlflow-port': { type: 'string' },
      'prometheus-port': { type: 'string' },
      'alertmanager-port': { type: 'string' },
      'api-port': { type: 'string' },
      'trainer-port': { type: 'string' },
    },
  });
  const command = positionals[0];
  if (values.help || !command) {
    console.log(HELP);
    return command || values.help ? 0 : 2;
  }
  switch (command) {
    case 'up':
      await up(values);
      return 0;
    case 'down':
      await down(values);
      return 0;
    case 'status':
      return status();
    default:
      console.error(`unknown command ${JSON.stringify(command)}\n\n${HELP}`);
      return 2;
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`\n[services] ERROR: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
