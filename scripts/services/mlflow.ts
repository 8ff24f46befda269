// A private MLflow tracking server for tests and `npm run services:up`: installed from PyPI into a
// virtual environment in the cache directory, run with a PostgreSQL backend store and its
// artifacts proxied to an S3 bucket (MinIO).
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import {
  cacheDir,
  findProcesses,
  runCommand,
  runInstallStep,
  startHttpServer,
  tailFile,
  waitForProcessesToEnd,
  withLock,
  type Log,
} from './background-process.js';

/**
 * 3.17.2, not 3.18.0: the registry reachable here has mlflow 3.18.0 but not the mlflow-skinny
 * 3.18.0 it pins, so 3.18.0 cannot be installed; 3.17.2 is the newest complete set.
 */
export const MLFLOW_VERSION = '3.17.2';
const PACKAGES = [`mlflow==${MLFLOW_VERSION}`, 'boto3', 'psycopg2-binary'];

const INSTALL_TIMEOUT_MS = 30 * 60_000;
/** The first start against an empty database runs every MLflow migration. */
const START_TIMEOUT_MS = 180_000;

const defaultLog: Log = (msg) => console.error(`[mlflow] ${msg}`);

export function mlflowVenvDir(): string {
  return path.join(cacheDir(), `mlflow-${MLFLOW_VERSION}`);
}

/** stdout of a command that must succeed (rejects otherwise). */
async function run(command: string, args: string[], timeoutMs: number): Promise<string> {
  const result = await runCommand(command, args, { timeoutMs });
  if (result.code !== 0) throw new Error(`${command} ${args.join(' ')} exited with ${result.code}: ${result.output.trim().slice(-500)}`);
  return result.stdout;
}

/** Whether the venv can run MLflow with the S3 and PostgreSQL drivers (a half-finished install cannot). */
async function venvWorks(venv: string): Promise<boolean> {
  const mlflow = path.join(venv, 'bin', 'mlflow');
  if (!existsSync(mlflow)) return false;
  // Asynchronous: these take seconds, and other servers are starting in this process meanwhile.
  const [version, drivers] = await Promise.all([
    run(mlflow, ['--version'], 60_000).catch(() => ''),
    run(path.join(venv, 'bin', 'python'), ['-c', 'import boto3, psycopg2'], 60_000).then(
      () => true,
      () => false,
    ),
  ]);
  return version.includes(MLFLOW_VERSION) && drivers;
}

/** pip or venv processes working on this venv right now (ours or a build started by hand). */
function runningInstalls(venv: string): Promise<number[]> {
  return findProcesses((argv) => argv.some((a) => a.startsWith(venv)) && (argv.includes('install') || (argv.includes('-m') && argv.includes('venv'))));
}

/**
 * The path of an `mlflow` executable of MLFLOW_VERSION (with boto3 and psycopg2), creating the
 * venv `$RELEARN_CACHE_DIR/mlflow-<version>` first when it is missing or broken.
 */
export async function ensureMlflowInstalled(log: Log = defaultLog): Promise<string> {
  const venv = mlflowVenvDir();
  const mlflow = path.join(venv, 'bin', 'mlflow');

  const waitForOtherInstalls = async (): Promise<void> => {
    const installs = await runningInstalls(venv);
    if (installs.length > 0) {
      log(`MLflow is being installed into ${venv} already (pid ${installs.join(', ')}); waiting for it`);
      await waitForProcessesToEnd(installs, 'the MLflow install', log, INSTALL_TIMEOUT_MS);
    }
  };

  await waitForOtherInstalls();
  if (await venvWorks(venv)) {
    void serverHelp(mlflow).catch(() => undefined); // read ahead: startMlflow needs it next
    return mlflow;
  }

  return withLock(`${venv}.lock`, 'installing MLflow', log, INSTALL_TIMEOUT_MS, async () => {
    await waitForOtherInstalls();
    if (await venvWorks(venv)) return mlflow;
    let python: string | undefined;
    for (const candidate of ['python3', 'python']) {
      if (
        await runCommand(candidate, ['--version']).then(
          (r) => r.code === 0,
          () => false,
        )
      ) {
        python = candidate;
        break;
      }
    }
    if (!python) throw new Error('MLflow needs Python 3.10 or newer and neither python3 nor python is on PATH (apt-get install -y python3 python3-venv).');
    const logFile = path.join(cacheDir(), `mlflow-${MLFLOW_VERSION}-install.log`);
    if (existsSync(venv)) log(`${venv} is incomplete or broken: recreating it`);
    await rm(venv, { recursive: true, force: true });
    log(`installing MLflow ${MLFLOW_VERSION} into ${venv} (once per machine; takes a few minutes; log ${logFile})`);
    try {
      await runInstallStep('python venv', python, ['-m', 'venv', venv], { logFile, log });
    } catch (error) {
      // Debian's python3 lacks ensurepip until python3-venv is installed.
      const isRoot = process.getuid?.() === 0;
      if (!isRoot || !/ensurepip/.test((error as Error).message)) throw error;
      log('python3 cannot create virtual environments here: installing python3-venv with apt-get');
      const env = { DEBIAN_FRONTEND: 'noninteractive' };
      await runInstallStep('apt-get update', 'apt-get', ['update'], { env, logFile, log });
      await runInstallStep('apt-get install python3-venv', 'apt-get', ['install', '-y', '--no-install-recommends', 'python3-venv'], { env, logFile, log });
      await rm(venv, { recursive: true, force: true });
      await runInstallStep('python venv', python, ['-m', 'venv', venv], { logFile, log });
    }
    await runInstallStep(
      `pip install ${PACKAGES.join(' ')}`,
      path.join(venv, 'bin', 'pip'),
      ['install', '--disable-pip-version-check', '--progress-bar', 'off', ...PACKAGES],
      { logFile, log },
    );
    if (!(await venvWorks(venv))) {
      throw new Error(`MLflow was installed into ${venv} but \`mlflow --version\` or \`import boto3, psycopg2\` fails\n${await tailFile(logFile, 20)}`);
    }
    log(`MLflow ${MLFLOW_VERSION} installed: ${mlflow}`);
    return mlflow;
  });
}

export interface StartMlflowOptions {
  /** 0 or undefined: a free port. */
  port?: number;
  /** SQLAlchemy URL of the tracking database, e.g. postgresql://postgres@127.0.0.1:5432/mlflow. */
  backendStoreUri: string;
  /** s3://bucket/prefix; the bucket must exist (MLflow does not create it). */
  artifactsDestination: string;
  s3: { endpoint: string; accessKey: string; secretKey: string };
  log?: Log;
  /** MLflow's output; default `$RELEARN_CACHE_DIR/logs/mlflow-<port>.log`. */
  logFile?: string;
  /** Leave the server running when this process exits (`services:up`). Default false. */
  keepRunning?: boolean;
}

export interface MlflowServer {
  /** http://127.0.0.1:PORT */
  url: string;
  port: number;
  pid: number;
  logFile: string;
  /** Stops the server and its workers; safe to call more than once. */
  stop(): Promise<void>;
}

/**
 * Names the psycopg2 driver in a PostgreSQL URL: SQLAlchemy 2.1 defaults to psycopg 3, which is not
 * installed, and it rejects the `postgres://` scheme.
 */
export function sqlalchemyUrl(url: string): string {
  return url.replace(/^postgres(ql)?:\/\//, 'postgresql+psycopg2://');
}

const serverHelps = new Map<string, Promise<string>>();
/** `mlflow server --help`, read once per executable: flags differ between MLflow releases. */
function serverHelp(mlflow: string): Promise<string> {
  let help = serverHelps.get(mlflow);
  if (!help) {
    help = run(mlflow, ['server', '--help'], 60_000);
    serverHelps.set(mlflow, help);
  }
  return help;
}

/** Starts `mlflow server` on 127.0.0.1; resolves once GET /health answers OK. */
export async function startMlflow(opts: StartMlflowOptions): Promise<MlflowServer> {
  const log = opts.log ?? defaultLog;
  if (!opts.artifactsDestination.startsWith('s3://')) throw new Error(`artifactsDestination must be an s3:// URI, got ${opts.artifactsDestination}`);
  const mlflow = await ensureMlflowInstalled(log);
  const help = await serverHelp(mlflow);

  const server = await startHttpServer({
    name: 'MLflow',
    ports: [opts.port ?? 0],
    command: mlflow,
    args: ([port]) => {
      const args = [
        'server',
        '--host',
        '127.0.0.1',
        '--port',
        String(port),
        '--backend-store-uri',
        sqlalchemyUrl(opts.backendStoreUri),
        '--artifacts-destination',
        opts.artifactsDestination,
      ];
      // Since 3.5 an unknown Host header gets 403 (DNS-rebinding protection).
      // Any loopback port: tests and local setups reach it through proxies on other ports.
      if (help.includes('--allowed-hosts')) args.push('--allowed-hosts', 'localhost,localhost:*,127.0.0.1,127.0.0.1:*');
      // Two cores: one worker is plenty for a private server and starts faster.
      if (help.includes('--workers')) args.push('--workers', '1');
      return args;
    },
    env: {
      MLFLOW_S3_ENDPOINT_URL: opts.s3.endpoint,
      AWS_ACCESS_KEY_ID: opts.s3.accessKey,
      AWS_SECRET_ACCESS_KEY: opts.s3.secretKey,
      AWS_DEFAULT_REGION: process.env.AWS_DEFAULT_REGION ?? 'us-east-1',
      PYTHONUNBUFFERED: '1',
      // Server-side jobs (GenAI scorers, prompt optimisation) start eight Huey consumer processes;
      // Relearn uses none of them, and two cores are better spent elsewhere.
      MLFLOW_SERVER_ENABLE_JOB_EXECUTION: 'false',
    },
    logFile: ([port]) => opts.logFile ?? path.join(cacheDir(), 'logs', `mlflow-${port}.log`),
    keepRunning: opts.keepRunning ?? false,
    readyPath: '/health',
    ready: (status, body) => status === 200 && body.trim() === 'OK',
    timeoutMs: START_TIMEOUT_MS,
    log,
    details: () => `artifacts ${opts.artifactsDestination}`,
  });
  return { url: server.url, port: server.ports[0]!, pid: server.pid, logFile: server.logFile, stop: server.stop };
}
