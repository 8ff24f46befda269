// A private MinIO (S3 API) server for tests and `npm run services:up`.
//
// MinIO community edition ships as source only, so the binary is built once with `go install` into
// the cache directory (`$RELEARN_CACHE_DIR/bin/minio`) and reused. The build takes minutes on two
// cores; a lock file keeps two processes from building at once.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { cacheDir, findProcesses, runCommand, runInstallStep, startHttpServer, waitForProcessesToEnd, withLock, type Log } from './background-process.js';

export const MINIO_MODULE = 'github.com/minio/minio';
/** A pseudo-version: MinIO stopped tagging community releases as Go module versions. */
export const MINIO_VERSION = 'v0.0.0-20260212201848-7aac2a2c5b7c';

const BUILD_TIMEOUT_MS = 45 * 60_000;
const START_TIMEOUT_MS = 60_000;

const defaultLog: Log = (msg) => console.error(`[minio] ${msg}`);

/** Whether a command runs and exits 0 (false when it is not installed). */
const succeeds = (command: string, args: string[]): Promise<boolean> =>
  runCommand(command, args).then(
    (r) => r.code === 0,
    () => false,
  );

async function goCommand(): Promise<string | null> {
  for (const candidate of ['go', '/usr/local/go/bin/go']) {
    if (await succeeds(candidate, ['version'])) return candidate;
  }
  return null;
}

/** The module version recorded in a Go binary (`go version -m`), or null when it cannot be read. */
async function builtVersion(go: string | null, binary: string): Promise<string | null> {
  if (!go) return null;
  const out = await runCommand(go, ['version', '-m', binary]).catch(() => null);
  const line = out?.stdout.split('\n').find((l) => l.trim().startsWith('mod\t') || /^\s*mod\s/.test(l));
  return line?.trim().split(/\s+/)[2] ?? null;
}

/** A `go install github.com/minio/minio@...` running now on this machine (ours or anyone's). */
function runningMinioBuilds(): Promise<number[]> {
  return findProcesses((argv) => argv.includes('install') && argv.some((a) => a.startsWith(`${MINIO_MODULE}@`)));
}

/** Whether `binary` is a finished build of MINIO_VERSION (the version cannot be checked without Go). */
async function isWantedBuild(go: string | null, binary: string): Promise<boolean> {
  if (!existsSync(binary)) return false;
  if (!go) return succeeds(binary, ['--version']);
  return (await builtVersion(go, binary)) === MINIO_VERSION;
}

/**
 * The path of a `minio` binary built from MINIO_VERSION, building it with `go install` first when
 * the cache has none. Waits for a build already running on this machine instead of starting another.
 */
export async function ensureMinioInstalled(log: Log = defaultLog): Promise<string> {
  const binDir = path.join(cacheDir(), 'bin');
  const binary = path.join(binDir, 'minio');
  const go = await goCommand();

  const waitForOtherBuilds = async (): Promise<void> => {
    const builds = await runningMinioBuilds();
    if (builds.length > 0) {
      log(`a MinIO build is already running (pid ${builds.join(', ')}); waiting for it instead of starting another`);
      await waitForProcessesToEnd(builds, 'the MinIO build', log, BUILD_TIMEOUT_MS);
    }
  };

  await waitForOtherBuilds();
  if (await isWantedBuild(go, binary)) return binary;

  return withLock(path.join(binDir, '.minio.lock'), 'building MinIO', log, BUILD_TIMEOUT_MS, async () => {
    // Another process may have built it while this one waited for the lock.
    await waitForOtherBuilds();
    if (await isWantedBuild(go, binary)) return binary;
    if (!go) {
      throw new Error(
        `MinIO is not built yet (${binary}) and the Go toolchain is missing: install Go >= 1.24 ` +
          "(https://go.dev/doc/install; Debian 12's golang package is too old), or put a minio binary there.",
      );
    }
    if (existsSync(binary)) log(`${binary} is not a build of ${MINIO_VERSION}: rebuilding it`);
    // Built into a staging directory beside the target, then renamed: a reader never sees half a binary.
    const staging = path.join(binDir, `.minio-build-${process.pid}`);
    await rm(staging, { recursive: true, force: true });
    await mkdir(staging, { recursive: true });
    const logFile = path.join(cacheDir(), 'minio-build.log');
    log(`building MinIO from source: go install ${MINIO_MODULE}@${MINIO_VERSION} (once per machine; takes 5-10 minutes on 2 cores; log ${logFile})`);
    try {
      // -v names each package as it is compiled: the progress lines then say how far the build is.
      await runInstallStep('MinIO build', go, ['install', '-v', `${MINIO_MODULE}@${MINIO_VERSION}`], {
        env: { GOBIN: staging },
        logFile,
        log,
      });
      await rename(path.join(staging, 'minio'), binary);
    } finally {
      await rm(staging, { recursive: true, force: true });
    }
    log(`MinIO built: ${binary}`);
    return binary;
  });
}

export interface StartMinioOptions {
  dataDir: string;
  /** 0 or undefined: a free port. */
  port?: number;
  consolePort?: number;
  accessKey?: string;
  /** At least 8 characters; random when not given. */
  secretKey?: string;
  log?: Log;
  /** MinIO's output; default `<dataDir>.log` (beside the directory MinIO owns, not in it). */
  logFile?: string;
  /** Leave the server running when this process exits (`services:up`). Default false. */
  keepRunning?: boolean;
}

export interface MinioServer {
  /** http://127.0.0.1:PORT */
  endpoint: string;
  accessKey: string;
  secretKey: string;
  port: number;
  consolePort: number;
  pid: number;
  logFile: string;
  /** Stops the server (SIGTERM, then SIGKILL); safe to call more than once. */
  stop(): Promise<void>;
}

/** Starts MinIO on 127.0.0.1 with its data in `dataDir`; resolves once /minio/health/live answers. */
export async function startMinio(opts: StartMinioOptions): Promise<MinioServer> {
  const log = opts.log ?? defaultLog;
  const dataDir = path.resolve(opts.dataDir);
  const logFile = opts.logFile ?? `${dataDir}.log`;
  const accessKey = opts.accessKey ?? 'relearn';
  const secretKey = opts.secretKey ?? randomBytes(18).toString('base64url');
  if (accessKey.length < 3) throw new Error('MinIO access key must be at least 3 characters');
  if (secretKey.length < 8) throw new Error('MinIO secret key must be at least 8 characters');
  const binary = await ensureMinioInstalled(log);
  await mkdir(dataDir, { recursive: true });

  const server = await startHttpServer({
    name: 'MinIO',
    ports: [opts.port ?? 0, opts.consolePort ?? 0],
    command: binary,
    args: ([port, consolePort]) => ['server', dataDir, '--address', `127.0.0.1:${port}`, '--console-address', `127.0.0.1:${consolePort}`, '--quiet'],
    env: { MINIO_ROOT_USER: accessKey, MINIO_ROOT_PASSWORD: secretKey, MINIO_UPDATE: 'off', MINIO_BROWSER: 'on' },
    logFile,
    keepRunning: opts.keepRunning ?? false,
    readyPath: '/minio/health/live',
    timeoutMs: START_TIMEOUT_MS,
    log,
    details: ([, consolePort]) => `console 127.0.0.1:${consolePort}, data ${dataDir}`,
  });
  return {
    endpoint: server.url,
    accessKey,
    secretKey,
    port: server.ports[0]!,
    consolePort: server.ports[1]!,
    pid: server.pid,
    logFile,
    stop: server.stop,
  };
}
