// A private PostgreSQL server for tests, `npm run services:up` and benchmarks.
//
// Uses the Debian server binaries (/usr/lib/postgresql/<version>/bin), installing them with apt-get
// when missing. PostgreSQL refuses to run as root, so when this process is root the data directory
// is given to the `postgres` OS user and initdb/pg_ctl run as that user.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chown, mkdir, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort, PORT_TAKEN, PortTakenError, runCommand, startWithPortRetry, stopOnce, tailFile } from './background-process.js';

export interface PostgresServer {
  /** Superuser URL of the `postgres` database, e.g. postgresql://postgres@127.0.0.1:5432/postgres */
  url: string;
  port: number;
  dataDir: string;
  /** `pg_ctl stop -m fast`; safe to call more than once. */
  stop(): Promise<void>;
}

export interface StartPostgresOptions {
  dataDir: string;
  /** 0 or undefined: pick a free port. */
  port?: number;
  log?: (msg: string) => void;
  /** false: fsync, synchronous_commit and full_page_writes off (throwaway test clusters). Default true. */
  durable?: boolean;
  /** Stop the server (immediate mode) if this process exits without calling stop(). Default true. */
  stopOnExit?: boolean;
}

/** The parts of a `pg` client that the tests use. */
export interface PgClient {
  connect(): Promise<unknown>;
  query<R = Record<string, unknown>>(sql: string, values?: unknown[]): Promise<{ rows: R[]; rowCount: number | null }>;
  end(): Promise<void>;
  on(event: 'error', listener: (error: Error) => void): unknown;
}
const PG_ROOT = '/usr/lib/postgresql';
const OS_USER = 'postgres';
const DB_USER = 'postgres';
const START_TIMEOUT_S = 60;

/** A connected `pg` client; end() it when done. */
export async function connectPg(url: string): Promise<PgClient> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  // A server that goes away while the client idles emits 'error'; unheard, it kills the process.
  // The next query fails on its own.
  client.on('error', () => undefined);
  await client.connect();
  return client;
}

/** A command's exit code and output (stdout+stderr), as the `postgres` OS user when `asPostgres`. Never rejects on exit code. */
async function run(
  command: string,
  args: string[],
  options: { asPostgres?: boolean; cwd?: string; env?: NodeJS.ProcessEnv; inherit?: boolean } = {},
): Promise<{ code: number | null; output: string }> {
  const ids = options.asPostgres ? await postgresIds() : undefined;
  const { code, output } = await runCommand(command, args, {
    cwd: options.cwd,
    env: { ...(ids ? { HOME: ids.home, USER: OS_USER, LOGNAME: OS_USER } : {}), ...options.env },
    ...(options.inherit ? { inherit: true } : {}),
    ...(ids ? { uid: ids.uid, gid: ids.gid } : {}),
  });
  return { code, output };
}

function isRoot(): boolean {
  return process.getuid?.() === 0;
}

let cachedIds: { uid: number; gid: number; home: string } | undefined;
/** uid/gid of the `postgres` OS user (created by the Debian package). */
async function postgresIds(): Promise<{ uid: number; gid: number; home: string }> {
  if (cachedIds) return cachedIds;
  const { stdout } = await runCommand('getent', ['passwd', OS_USER]).catch(() => ({ stdout: '' }));
  const line = stdout.trim();
  const fields = line ? line.split(':') : [];
  if (fields.length < 6) {
    throw new Error(
      `PostgreSQL refuses to run as root, and there is no '${OS_USER}' OS user to run it as ` +
        '(the Debian postgresql package creates it: apt-get install -y postgresql).',
    );
  }
  cachedIds = { uid: Number(fields[2]), gid: Number(fields[3]), home: fields[5] || '/' };
  return cachedIds;
}

function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

async function findBinDir(): Promise<string | null> {
  const versions = (await readdir(PG_ROOT).catch(() => [] as string[]))
    .filter((v) => /^\d+(\.\d+)*$/.test(v) && existsSync(path.join(PG_ROOT, v, 'bin', 'pg_ctl')))
    .sort(compareVersions);
  const newest = versions.at(-1);
  return newest ? path.join(PG_ROOT, newest, 'bin') : null;
}

let installing: Promise<string> | undefined;
/** The bin directory of the newest installed PostgreSQL server, installing it with apt-get if needed. */
export function ensurePostgresInstalled(): Promise<string> {
  installing ??= (async () => {
    const found = await findBinDir();
    if (found) return found;
    if (!isRoot()) {
      throw new Error(
        `PostgreSQL server binaries not found (${PG_ROOT}/*/bin/pg_ctl) and this process is not root, ` +
          'so it cannot install them: run `apt-get install -y postgresql` as root.',
      );
    }
    const env = { DEBIAN_FRONTEND: 'noninteractive' };
    console.error('[postgres] PostgreSQL server not found: installing it with apt-get (Debian package `postgresql`)');
    const update = await run('apt-get', ['update'], { env, inherit: true }).catch((e: Error) => ({ code: -1, output: e.message }));
    if (update.code !== 0) throw new Error(`PostgreSQL is not installed and \`apt-get update\` failed (exit ${update.code}). ${update.output}`);
    const install = await run('apt-get', ['install', '-y', '--no-install-recommends', 'postgresql'], { env, inherit: true });
    if (install.code !== 0) throw new Error(`PostgreSQL is not installed and \`apt-get install -y postgresql\` failed (exit ${install.code}).`);
    const binDir = await findBinDir();
    if (!binDir) {
      throw new Error(`\`apt-get install -y postgresql\` succeeded but ${PG_ROOT}/*/bin/pg_ctl is still missing: cannot start PostgreSQL.`);
    }
    return binDir;
  })();
  // A failed attempt may be retried by a later call.
  installing.catch(() => (installing = undefined));
  return installing;
}

/** Single-quotes a value for the shell command line pg_ctl builds from -o. */
function shellQuote(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

async function waitUntilAccepting(url: string, port: number, dataDir: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError = '';
  while (Date.now() < deadline) {
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2_000 });
    client.on('error', () => undefined); // reported by connect()/query() below
    try {
      await client.connect();
      await client.query('select 1');
      return;
    } catch (error) {
      lastError = error instanceof Error ? error.message : String(error);
    } finally {
      await client.end().catch(() => undefined);
    }
    await sleep(200);
  }
  throw new Error(`PostgreSQL in ${dataDir} did not accept connections on port ${port} within ${timeoutMs} ms: ${lastError}`);
}

/**
 * Starts a private PostgreSQL server on 127.0.0.1 with its data (and unix socket, and log file
 * `postgres.log`) in `dataDir`, running initdb first unless the directory already holds a cluster.
 * Trust authentication, superuser `postgres`. Throws, with the tail of the server log, if it fails.
 */
export async function startPostgres(opts: StartPostgresOptions): Promise<PostgresServer> {
  const log = opts.log ?? (() => undefined);
  const durable = opts.durable ?? true;
  const dataDir = path.resolve(opts.dataDir);
  const binDir = await ensurePostgresInstalled();
  const asPostgres = isRoot();
  const logFile = path.join(dataDir, 'postgres.log');

  // The unix socket lives in the data dir; its path is limited to 107 bytes.
  if (Buffer.byteLength(path.join(dataDir, '.s.PGSQL.65535.lock')) > 107) {
    throw new Error(`PostgreSQL data dir path is too long for its unix socket (max ~85 characters): ${dataDir}`);
  }

  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  // Resolved before the exit handler below needs them: it runs synchronously.
  const ids = asPostgres ? await postgresIds() : undefined;
  if (ids) await chown(dataDir, ids.uid, ids.gid);

  if (existsSync(path.join(dataDir, 'PG_VERSION'))) {
    log(`reusing the PostgreSQL cluster in ${dataDir}`);
    const status = await run(path.join(binDir, 'pg_ctl'), ['-D', dataDir, 'status'], { asPostgres, cwd: dataDir });
    if (status.code === 0) {
      throw new Error(`PostgreSQL is already running on ${dataDir}: ${status.output.trim()} (stop it with pg_ctl -D ${dataDir} stop)`);
    }
  } else {
    const entries = await readdir(dataDir);
    if (entries.length > 0) {
      throw new Error(`${dataDir} is neither empty nor a PostgreSQL data directory (found ${entries.slice(0, 5).join(', ')})`);
    }
    log(`initdb ${dataDir} (${binDir})`);
    const init = await run(path.join(binDir, 'initdb'), ['-D', dataDir, '-A', 'trust', '-U', DB_USER, '-E', 'UTF8', '--locale=C', '--no-sync'], {
      asPostgres,
      cwd: dataDir,
    }).catch((e: Error) => ({ code: -1, output: e.message }));
    if (init.code !== 0) {
      const hint = asPostgres ? ` (every parent directory of ${dataDir} must be searchable by the '${OS_USER}' OS user)` : '';
      throw new Error(`initdb failed for ${dataDir}${hint}:\n${init.output.trim()}`);
    }
  }

  const settings: Record<string, string> = {
    listen_addresses: '127.0.0.1',
    unix_socket_directories: dataDir,
    max_connections: '200',
    ...(durable ? {} : { fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off' }),
  };

  return startWithPortRetry('PostgreSQL', { fixed: Boolean(opts.port), pick: async () => opts.port || (await freePort()), log }, async (port) => {
    const logStart = await stat(logFile).then(
      (st) => st.size,
      () => 0,
    );
    const serverArgs = ['-p', String(port), ...Object.entries(settings).flatMap(([k, v]) => ['-c', `${k}=${v}`])];
    log(`starting PostgreSQL on 127.0.0.1:${port} (data ${dataDir}, log ${logFile}${durable ? '' : ', fsync off'})`);
    const start = await run(
      path.join(binDir, 'pg_ctl'),
      ['-D', dataDir, '-l', logFile, '-w', '-t', String(START_TIMEOUT_S), '-o', serverArgs.map(shellQuote).join(' '), 'start'],
      { asPostgres, cwd: dataDir },
    ).catch((e: Error) => ({ code: -1, output: e.message }));
    const url = `postgresql://${DB_USER}@127.0.0.1:${port}/postgres`;
    let failure: string | undefined;
    if (start.code !== 0) {
      failure = `pg_ctl start exited with ${start.code}: ${start.output.trim()}`;
    } else {
      try {
        await waitUntilAccepting(url, port, dataDir, START_TIMEOUT_S * 1000);
      } catch (error) {
        failure = error instanceof Error ? error.message : String(error);
        await run(path.join(binDir, 'pg_ctl'), ['-D', dataDir, '-m', 'immediate', 'stop'], { asPostgres, cwd: dataDir }).catch(() => undefined);
      }
    }
    if (failure) {
      const serverLog = await tailFile(logFile, 40, logStart);
      const message = `PostgreSQL failed to start in ${dataDir}: ${failure}\n--- tail of ${logFile} ---\n${serverLog}`;
      if (PORT_TAKEN.test(serverLog)) throw new PortTakenError(message);
      throw new Error(message);
    }

    log(`PostgreSQL is accepting connections at ${url}`);
    const stopNow = (): void => {
      // Last resort when the process exits without stop(): do not leave a server behind. The one
      // synchronous child process of the scripts: an 'exit' listener cannot wait for runCommand.
      spawnSync(path.join(binDir, 'pg_ctl'), ['-D', dataDir, '-m', 'immediate', 'stop'], {
        cwd: dataDir,
        stdio: 'ignore',
        ...(ids ? { uid: ids.uid, gid: ids.gid } : {}),
      });
    };
    if (opts.stopOnExit ?? true) process.once('exit', stopNow);
    return {
      url,
      port,
      dataDir,
      stop: stopOnce(async () => {
        process.off('exit', stopNow);
        log(`stopping PostgreSQL on port ${port}`);
        const result = await run(path.join(binDir, 'pg_ctl'), ['-D', dataDir, '-m', 'fast', '-w', 'stop'], { asPostgres, cwd: dataDir });
        if (result.code !== 0) {
          throw new Error(`pg_ctl stop failed for ${dataDir}: ${result.output.trim()}\n--- tail of ${logFile} ---\n${await tailFile(logFile)}`);
        }
      }),
    };
  });
}

function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** Creates an empty database `name` (dropping any existing one first) and returns its URL. */
export async function createDatabase(adminUrl: string, name: string): Promise<string> {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) {
    throw new Error(`invalid database name ${JSON.stringify(name)}: use 1-63 of [a-z0-9_], not starting with a digit`);
  }
  const client = await connectPg(adminUrl);
  try {
    await client.query(`DROP DATABASE IF EXISTS ${quoteIdentifier(name)} WITH (FORCE)`);
    await client.query(`CREATE DATABASE ${quoteIdentifier(name)}`);
  } finally {
    await client.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

/** Creates database `name` unless it exists (keeping its data, unlike createDatabase) and returns its URL. */
export async function ensureDatabase(adminUrl: string, name: string): Promise<string> {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) {
    throw new Error(`invalid database name ${JSON.stringify(name)}: use 1-63 of [a-z0-9_], not starting with a digit`);
  }
  const client = await connectPg(adminUrl);
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (found.rowCount === 0) await client.query(`CREATE DATABASE ${quoteIdentifier(name)}`);
  } finally {
    await client.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

/** Whether a PostgreSQL server is running on the cluster in `dataDir` (`pg_ctl status`). */
export async function postgresRunning(dataDir: string): Promise<boolean> {
  if (!existsSync(path.join(dataDir, 'PG_VERSION'))) return false;
  const binDir = await findBinDir();
  if (!binDir) return false;
  const status = await run(path.join(binDir, 'pg_ctl'), ['-D', path.resolve(dataDir), 'status'], { asPostgres: isRoot(), cwd: dataDir });
  return status.code === 0;
}

/**
 * Stops the server running on the cluster in `dataDir` (`pg_ctl stop -m fast`), whichever process
 * started it; does nothing when none runs.
 */
export async function stopPostgresCluster(dataDir: string): Promise<void> {
  if (!(await postgresRunning(dataDir))) return;
  const binDir = (await findBinDir())!;
  const result = await run(path.join(binDir, 'pg_ctl'), ['-D', path.resolve(dataDir), '-m', 'fast', '-w', 'stop'], { asPostgres: isRoot(), cwd: dataDir });
  if (result.code !== 0) throw new Error(`pg_ctl stop failed for ${dataDir}: ${result.output.trim()}`);
}

/** A random lower-case suffix for unique names (databases, schemas). */
export function randomSuffix(bytes = 5): string {
  return randomBytes(bytes).toString('hex');
}
