// `npm run services:up|down|status`: the real PostgreSQL, MinIO and MLflow for running Relearn
// against, as background processes with their data, logs and pid files under .services/.
// `services:up` writes .env.services for `set -a && . ./.env.services && set +a && npm start`.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Client } from 'minio';
import { processAlive, processArgv, stopProcessGroup, type Log } from './background-process.js';
import { ensureMlflowInstalled, startMlflow } from './mlflow.js';
import { startMinio } from './minio.js';
import { ensureDatabase, postgresRunning, startPostgres, stopPostgresCluster } from './postgres.js';

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
Installs are cached in $RELEARN_CACHE_DIR (default ~/.cache/relearn); data, logs and pid
files live in .services/ (kept across up/down).

Commands:
  services:up      start whatever is not running, create the buckets \`${BLOB_BUCKET}\` and \`${MLFLOW_BUCKET}\`
                   and the database \`mlflow\`, and write .env.services
  services:down    stop them (data is kept; --delete-data removes .services/ too)
  services:status  show what runs where (exit code 3 when something is not running)

Options for up (ports are fixed so that .env.services stays valid across restarts):
  --postgres-port N       default 54329
  --minio-port N          default 9000
  --minio-console-port N  default 9001
  --mlflow-port N         default 5000

Then:  npm run services:up && set -a && . ./.env.services && set +a && npm start`;

interface State {
  postgres: { url: string; port: number; dataDir: string; logFile: string };
  minio: { pid: number; endpoint: string; consoleUrl: string; accessKey: string; secretKey: string; logFile: string };
  mlflow: { pid: number; url: string; logFile: string };
}

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
async function isOurs(pid: number | undefined, program: string): Promise<boolean> {
  if (!pid || !processAlive(pid)) return false;
  const argv = await processArgv(pid);
  return !!argv && argv.some((a) => a.includes(program));
}

async function running(state: Partial<State>): Promise<{ postgres: boolean; minio: boolean; mlflow: boolean }> {
  const [postgres, minio, mlflow] = await Promise.all([
    state.postgres ? postgresRunning(state.postgres.dataDir) : false,
    isOurs(state.minio?.pid, 'minio'),
    isOurs(state.mlflow?.pid, 'mlflow'),
  ]);
  return { postgres, minio, mlflow };
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
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
  const client = new Client({ endPoint: url.hostname, port: Number(url.port), useSSL: false, accessKey: minio.accessKey, secretKey: minio.secretKey, pathStyle: true });
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
}

async function up(options: UpOptions): Promise<void> {
  const ports = {
    postgres: port(options['postgres-port'], 54329, 'postgres-port'),
    minio: port(options['minio-port'], 9000, 'minio-port'),
    minioConsole: port(options['minio-console-port'], 9001, 'minio-console-port'),
    mlflow: port(options['mlflow-port'], 5000, 'mlflow-port'),
  };
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
      ...(alive.minio ? [] : ([['minio-port', ports.minio], ['minio-console-port', ports.minioConsole]] as [string, number][])),
      ...(alive.mlflow ? [] : ([['mlflow-port', ports.mlflow]] as [string, number][])),
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

    // The MLflow install (minutes, once) overlaps the PostgreSQL and MinIO starts (and MinIO's build).
    const [postgres, minio] = await Promise.all([
      postgresStep,
      minioStep,
      alive.mlflow ? Promise.resolve('') : ensureMlflowInstalled(logAs('mlflow')),
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

    const full: State = { postgres, minio, mlflow };
    await writeState(full);
    await writeEnvFile(full);
    log(`up in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    printState(full);
    console.log(`\nWrote ${path.relative(process.cwd(), ENV_FILE) || ENV_FILE}. Next: set -a && . ./.env.services && set +a && npm start`);
  } catch (error) {
    for (const stop of stopOnFailure.reverse()) await stop().catch(() => undefined);
    throw error;
  }
}

async function writeEnvFile(state: State): Promise<void> {
  const lines = [
    '# Written by `npm run services:up`: the services it started. Load with: set -a && . ./.env.services && set +a',
    `DATABASE_URL=${new URL('/relearn', state.postgres.url).toString()}`,
    `S3_ENDPOINT=${state.minio.endpoint}`,
    `S3_ACCESS_KEY=${state.minio.accessKey}`,
    `S3_SECRET_KEY=${state.minio.secretKey}`,
    `S3_BUCKET=${BLOB_BUCKET}`,
    `MLFLOW_TRACKING_URI=${state.mlflow.url}`,
  ];
  await ensureDatabase(state.postgres.url, 'relearn');
  await writeFile(ENV_FILE, `${lines.join('\n')}\n`, { mode: 0o600 });
}

function printState(state: Partial<State>, alive?: { postgres: boolean; minio: boolean; mlflow: boolean }): void {
  const mark = (ok: boolean | undefined): string => (alive === undefined ? '' : ok ? 'running  ' : 'stopped  ');
  console.log(`${mark(alive?.postgres)}PostgreSQL  ${state.postgres ? `${state.postgres.url.replace(/\/postgres$/, '/relearn')}   log ${state.postgres.logFile}` : '(never started)'}`);
  console.log(`${mark(alive?.minio)}MinIO       ${state.minio ? `${state.minio.endpoint}   console ${state.minio.consoleUrl}   log ${state.minio.logFile}` : '(never started)'}`);
  console.log(`${mark(alive?.mlflow)}MLflow      ${state.mlflow ? `${state.mlflow.url}   log ${state.mlflow.logFile}` : '(never started)'}`);
}

async function down(options: { 'delete-data'?: boolean }): Promise<void> {
  const state = await readState();
  const alive = await running(state);
  // Reverse start order: MLflow uses the other two.
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
  if (!alive.mlflow && !alive.minio && !alive.postgres) log('nothing was running');
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
  return alive.postgres && alive.minio && alive.mlflow ? 0 : 3;
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
