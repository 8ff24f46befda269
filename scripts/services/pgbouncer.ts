// A private PgBouncer in front of a PostgreSQL server, for the pooler test and benchmarks.
//
// Uses Debian's `pgbouncer` (1.18 on Debian 12), installed with apt-get when missing, as the
// PostgreSQL and Prometheus starters do. PgBouncer refuses to run as root, so when this process is
// root it runs as the `postgres` OS user (which the PostgreSQL package creates). Trust
// authentication on 127.0.0.1 only, every database of the upstream server (`* = host=... port=...`).
import { spawn } from 'node:child_process';
import { existsSync, openSync, closeSync } from 'node:fs';
import { chown, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { cacheDir, freePort, PortTakenError, runCommand, startWithPortRetry, stopOnce, tailFile, withLock, type Log } from './background-process.js';

export interface PgBouncerServer {
  port: number;
  /** `upstreamUrl` with host and port replaced by the pooler's. */
  urlFor(upstreamUrl: string): string;
  logFile: string;
  stop(): Promise<void>;
}

export interface StartPgBouncerOptions {
  /** Any URL of the upstream server (its host, port, user and password are used). */
  upstreamUrl: string;
  /** Configuration, pid and log file. */
  dir: string;
  port?: number;
  /** Default `transaction`: a server connection is held only for a transaction. */
  poolMode?: 'session' | 'transaction' | 'statement';
  /** Server connections per database and user (default 20). */
  poolSize?: number;
  log?: Log;
}

const INSTALL_TIMEOUT_MS = 15 * 60_000;
const START_TIMEOUT_MS = 30_000;
const defaultLog: Log = (msg) => console.error(`[pgbouncer] ${msg}`);

function findBinary(): string | null {
  for (const file of ['/usr/sbin/pgbouncer', '/usr/bin/pgbouncer', '/usr/local/bin/pgbouncer']) if (existsSync(file)) return file;
  return null;
}

const isRoot = () => typeof process.getuid === 'function' && process.getuid() === 0;

let installing: Promise<string> | undefined;
/** The pgbouncer binary, installed with apt-get (Debian package `pgbouncer`) when missing. */
export function ensurePgBouncerInstalled(log: Log = defaultLog): Promise<string> {
  installing ??= (async () => {
    const found = findBinary();
    if (found) return found;
    if (!isRoot()) throw new Error('pgbouncer not found and this process is not root, so it cannot install it: run `apt-get install -y pgbouncer` as root.');
    // Two test workers must not run apt-get at once (dpkg's lock would fail one of them).
    return withLock(path.join(cacheDir(), '.pgbouncer-apt.lock'), 'installing PgBouncer', log, INSTALL_TIMEOUT_MS, async () => {
      const again = findBinary();
      if (again) return again;
      const env = { DEBIAN_FRONTEND: 'noninteractive' };
      log('pgbouncer not found: installing it with apt-get (Debian package pgbouncer)');
      for (const args of [['update'], ['install', '-y', '--no-install-recommends', 'pgbouncer']]) {
        const { code, output } = await runCommand('apt-get', args, { env, keepOutput: 20_000, progress: { what: `apt-get ${args[0]}`, log } });
        if (code !== 0) throw new Error(`\`apt-get ${args.join(' ')}\` failed (exit ${code}):\n${output.trimEnd().split('\n').slice(-25).join('\n')}`);
      }
      const installed = findBinary();
      if (!installed) throw new Error('`apt-get install -y pgbouncer` succeeded but there is still no pgbouncer binary');
      log('installed PgBouncer');
      return installed;
    });
  })();
  installing.catch(() => (installing = undefined));
  return installing;
}

async function postgresIds(): Promise<{ uid: number; gid: number }> {
  const { stdout } = await runCommand('getent', ['passwd', 'postgres']).catch(() => ({ stdout: '' }));
  const fields = stdout.trim().split(':');
  if (fields.length < 6)
    throw new Error("PgBouncer refuses to run as root, and there is no 'postgres' OS user to run it as (apt-get install -y postgresql creates it)");
  return { uid: Number(fields[2]), gid: Number(fields[3]) };
}

/** PgBouncer's ini syntax: values with spaces or quotes in single quotes. */
const libpq = (value: string) => (/^[\w.-]+$/.test(value) ? value : `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`);

/**
 * Starts PgBouncer on 127.0.0.1 in front of `upstreamUrl`'s server; resolves once a client can
 * run a query through it. Throws, with the tail of its log, if it does not start.
 */
export async function startPgBouncer(opts: StartPgBouncerOptions): Promise<PgBouncerServer> {
  const log = opts.log ?? defaultLog;
  const binary = await ensurePgBouncerInstalled(log);
  const dir = path.resolve(opts.dir);
  await mkdir(dir, { recursive: true });
  const ids = isRoot() ? await postgresIds() : undefined;
  if (ids) await chown(dir, ids.uid, ids.gid);
  const upstream = new URL(opts.upstreamUrl);
  const logFile = path.join(dir, 'pgbouncer.log');
  const server = [
    `host=${libpq(upstream.hostname || '127.0.0.1')}`,
    `port=${upstream.port || '5432'}`,
    ...(upstream.username ? [`user=${libpq(decodeURIComponent(upstream.username))}`] : []),
    ...(upstream.password ? [`password=${libpq(decodeURIComponent(upstream.password))}`] : []),
  ].join(' ');

  return startWithPortRetry('PgBouncer', { fixed: Boolean(opts.port), pick: async () => opts.port || (await freePort()), log }, async (port) => {
    const ini = path.join(dir, 'pgbouncer.ini');
    await writeFile(
      ini,
      [
        '[databases]',
        `* = ${server}`,
        '[pgbouncer]',
        'listen_addr = 127.0.0.1',
        `listen_port = ${port}`,
        // No unix socket: nothing here needs one, and its directory would need the right owner.
        'unix_socket_dir =',
        'auth_type = any',
        `pool_mode = ${opts.poolMode ?? 'transaction'}`,
        `default_pool_size = ${opts.poolSize ?? 20}`,
        'max_client_conn = 1000',
        // node-postgres and pg-boss send these at start-up; PgBouncer would refuse the connection.
        'ignore_startup_parameters = extra_float_digits,options',
        `pidfile = ${path.join(dir, 'pgbouncer.pid')}`,
        'log_connections = 0',
        'log_disconnections = 0',
        '',
      ].join('\n'),
    );
    if (ids) await chown(ini, ids.uid, ids.gid);
    await writeFile(logFile, `\n$ ${binary} ${ini}\n`, { flag: 'a' });
    const fd = openSync(logFile, 'a');
    const child = (() => {
      try {
        return spawn(binary, [ini], { stdio: ['ignore', fd, fd], ...(ids ?? {}) });
      } finally {
        closeSync(fd);
      }
    })();
    const killOnExit = () => child.kill('SIGKILL');
    process.once('exit', killOnExit);
    let exited = false;
    child.once('exit', () => {
      exited = true;
      process.off('exit', killOnExit);
    });
    const url = new URL(opts.upstreamUrl);
    url.hostname = '127.0.0.1';
    url.port = String(port);
    const deadline = Date.now() + START_TIMEOUT_MS;
    let lastError = '';
    for (;;) {
      if (exited) {
        const tail = await tailFile(logFile, 30);
        if (/already in use|could not bind|bind\b/i.test(tail)) throw new PortTakenError(`PgBouncer: port ${port} is taken`);
        throw new Error(`PgBouncer exited at start:\n${tail}`);
      }
      const client = new pg.Client({ connectionString: url.toString(), connectionTimeoutMillis: 2_000 });
      client.on('error', () => undefined);
      try {
        await client.connect();
        await client.query('select 1');
        break;
      } catch (error) {
        lastError = (error as Error).message;
      } finally {
        await client.end().catch(() => undefined);
      }
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(`PgBouncer did not accept connections on port ${port} within ${START_TIMEOUT_MS} ms: ${lastError}\n${await tailFile(logFile, 30)}`);
      }
      await sleep(100);
    }
    log(`PgBouncer (pool_mode=${opts.poolMode ?? 'transaction'}) on 127.0.0.1:${port} in front of ${upstream.hostname}:${upstream.port}`);
    return {
      port,
      logFile,
      urlFor: (upstreamUrl: string) => {
        const u = new URL(upstreamUrl);
        u.hostname = '127.0.0.1';
        u.port = String(port);
        return u.toString();
      },
      stop: stopOnce(async () => {
        if (exited) return;
        const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
        // SIGTERM: PgBouncer's immediate shutdown (SIGINT would wait for clients to leave).
        child.kill('SIGTERM');
        await Promise.race([gone, sleep(5_000).then(() => child.kill('SIGKILL'))]);
      }),
    };
  });
}
