// Starting and stopping: `npm start` stops on SIGTERM/SIGINT with every process it started, and a
// start that fails half-way leaves nothing running.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/logger.js';
import { connectPg } from '../../scripts/services/postgres.js';
import { freePort } from '../../scripts/services/background-process.js';
import { freshDatabaseUrl } from './database.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** Waits until `check` holds, polling; fails with `what` after `timeoutMs`. */
async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The processes of a process group, as "pid args" lines. */
function processesInGroup(pgid: number): string[] {
  const ps = spawnSync('ps', ['-eo', 'pid=,pgid=,args='], { encoding: 'utf8' });
  return ps.stdout
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .filter(([, group]) => Number(group) === pgid)
    .map(([pid, , ...args]) => `${pid} ${args.join(' ')}`);
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
}

/** `npm <args>` in its own process group (as a terminal runs it), so that every descendant can be found. */
function npmScript(args: string[], extraEnv: Record<string, string>, groups: number[]) {
  const env: NodeJS.ProcessEnv = { ...process.env, PORT: '0', HOST: '127.0.0.1', LOG_PRETTY: 'false', LOG_LEVEL: 'info', RELEARN_SKIP_WEB_BUILD: '1' };
  for (const key of ['DATABASE_URL', 'S3_ENDPOINT', 'MLFLOW_TRACKING_URI', 'TRAINER']) delete env[key];
  const npm: ChildProcess = spawn('npm', args, { cwd: root, env: { ...env, ...extraEnv }, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  groups.push(npm.pid!);
  let out = '';
  npm.stdout!.on('data', (d) => (out += d));
  npm.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => npm.once('exit', (code) => resolve(code)));
  return { npm, pgid: npm.pid!, output: () => out, exited };
}

/** Waits for the port the script prints, then for /readyz 200; returns the port. */
async function readyPort(script: ReturnType<typeof npmScript>, portPattern: RegExp): Promise<number> {
  await until('the port in the output', () => portPattern.test(script.output()) || script.npm.exitCode !== null, 120_000);
  const port = Number(portPattern.exec(script.output())?.[1]);
  expect(port, script.output().slice(-3000)).toBeGreaterThan(0);
  const ready = async () => (await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => null))?.status === 200;
  await until('/readyz 200', ready, 120_000);
  return port;
}

/** Signals the npm process only; npm must pass it on, and every process of its group must end. */
async function signalAndExpectAllGone(script: ReturnType<typeof npmScript>, signal: NodeJS.Signals, port: number, entry: RegExp) {
  const running = processesInGroup(script.pgid);
  expect(
    running.some((p) => entry.test(p)),
    running.join('\n'),
  ).toBe(true);
  process.kill(script.pgid, signal);
  await script.exited;
  await until(
    `every process of the npm group gone (left: ${processesInGroup(script.pgid).join('; ')})`,
    () => processesInGroup(script.pgid).length === 0,
    30_000,
  );
  expect(await portIsFree(port)).toBe(true);
  expect(script.output()).toMatch(new RegExp(`"signal":"${signal}"[^\\n]*shutting down`));
  expect(script.output()).toMatch(/"msg":"stopped"/);
}

describe('npm start and npm run trainer', () => {
  let dataDir: string;
  const groups: number[] = [];

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'relearn-npm-start-'));
  });
  afterAll(async () => {
    // Whatever a failed test left behind.
    for (const pgid of groups) {
      try {
        process.kill(-pgid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await rm(dataDir, { recursive: true, force: true });
  });

  // The second start reuses the data directory (its models are trained already).
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`npm start stops on ${signal} to the npm process: every process it started ends and the port is free`, async () => {
      const script = npmScript(['start'], { DATA_DIR: dataDir }, groups);
      const port = await readyPort(script, /GraphQL \+ GraphiQL\s+http:\/\/127\.0\.0\.1:(\d+)\//);
      expect(script.output()).toMatch(/prestart/); // npm start still installs what it needs first
      await signalAndExpectAllGone(script, signal, port, /server\/src\/main\.ts/);
    });
  }

  it('npm run trainer stops on SIGTERM to the npm process', async () => {
    const trainerDir = await mkdtemp(path.join(tmpdir(), 'relearn-npm-trainer-'));
    try {
      const script = npmScript(['run', 'trainer'], { DATA_DIR: trainerDir, DATABASE_URL: await freshDatabaseUrl('npm_trainer') }, groups);
      const port = await readyPort(script, /"port":(\d+)[^\n]*trainer started/);
      await signalAndExpectAllGone(script, 'SIGTERM', port, /server\/src\/trainer\.ts/);
    } finally {
      await rm(trainerDir, { recursive: true, force: true });
    }
  });
});

/** TCP servers and sockets open in this process (PGlite's socket server, pool connections, …). */
function openTcpHandles(): number {
  return process.getActiveResourcesInfo().filter((r) => r.startsWith('TCP')).length;
}

describe('a failed start', () => {
  it('with unreachable object storage closes the embedded database and the pool, and the same data directory then starts', async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'relearn-failed-start-'));
    try {
      const before = openTcpHandles();
      const env = { DATA_DIR: dataDir, PORT: '0', LOG_LEVEL: 'silent', LOG_PRETTY: 'false' };
      const unreachable = loadConfig({
        ...env,
        S3_ENDPOINT: `http://127.0.0.1:${await freePort()}`,
        S3_ACCESS_KEY: 'relearn',
        S3_SECRET_KEY: 'relearn-secret',
      });
      await expect(buildApp(unreachable, createLogger(unreachable))).rejects.toThrow(/object storage .* unreachable/);
      await until(`open TCP handles back to ${before} (now ${openTcpHandles()})`, () => openTcpHandles() === before, 5_000);

      const config = loadConfig(env);
      const app = await buildApp(config, createLogger(config));
      await app.start();
      await app.modelsReady;
      await app.stop();
      await until(`open TCP handles back to ${before} after a clean stop`, () => openTcpHandles() === before, 5_000);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('with a queue that cannot start closes the pool, the event connection and the queue on PostgreSQL', async () => {
    const url = await freshDatabaseUrl('failed_start');
    // A pgboss schema that is not pg-boss's (none of its functions): its start fails after the ORM,
    // the migrations and the event connection are up.
    const client = await connectPg(url);
    await client.query('CREATE SCHEMA pgboss; CREATE TABLE pgboss.version (nonsense int)');
    await client.end();
    const sessions = async () => {
      const admin = await connectPg(url);
      try {
        const { rows } = await admin.query<{ n: string }>(
          'select count(*) as n from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()',
        );
        return Number(rows[0]!.n);
      } finally {
        await admin.end();
      }
    };
    const before = openTcpHandles();
    const dataDir = await mkdtemp(path.join(tmpdir(), 'relearn-failed-start-'));
    try {
      const config = loadConfig({ DATA_DIR: dataDir, DATABASE_URL: url, PORT: '0', LOG_LEVEL: 'silent', LOG_PRETTY: 'false' });
      await expect(buildApp(config, createLogger(config))).rejects.toThrow(/pgboss/);
      await until(`open TCP handles back to ${before} (now ${openTcpHandles()})`, () => openTcpHandles() === before, 5_000);
      await until('no session of the failed start left on the database', async () => (await sessions()) === 0, 5_000);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
