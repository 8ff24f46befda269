// The test servers of one vitest run, shared by the projects (tiers) whose global setups ask for
// them: `npm test` runs the integration, services and reliability tiers in one process, and each
// tier's global setup would otherwise start its own PostgreSQL (and the last two their own MinIO and
// MLflow). A server starts on its first acquire() and stops when the last holder releases it.
// Kept on globalThis because vitest loads each project's global setup through that project's own
// module runner, so module-level state is not shared between projects.
import { mkdtempSync, rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client } from 'minio';
import { ensureMlflowInstalled, startMlflow, type MlflowServer } from '../../scripts/services/mlflow.js';
import { startMinio, type MinioServer } from '../../scripts/services/minio.js';
import { connectPg, createDatabase, randomSuffix, startPostgres } from '../../scripts/services/postgres.js';

/** The bucket the test MLflow keeps its artifacts in. */
export const MLFLOW_BUCKET = 'mlflow';

export interface Held<T> {
  value: T;
  /** Gives the server back; the last holder's release stops it. */
  release(): Promise<void>;
}

interface Entry {
  started: Promise<{ value: unknown; stop: () => Promise<void> }>;
  holders: number;
}

const REGISTRY = Symbol.for('relearn.test.shared-servers');
const registry: Map<string, Entry> = ((globalThis as Record<symbol, unknown>)[REGISTRY] ??= new Map()) as Map<string, Entry>;

export const logAs =
  (name: string) =>
  (msg: string): void =>
    console.error(`[test ${name}] ${msg}`);

async function acquire<T>(name: string, start: () => Promise<{ value: T; stop: () => Promise<void> }>): Promise<Held<T>> {
  const entry = registry.get(name) ?? { started: start(), holders: 0 };
  if (!registry.has(name)) {
    registry.set(name, entry);
    // A failed start is not kept: the failure is reported by the setup that asked for it.
    entry.started.catch(() => registry.delete(name));
  }
  entry.holders += 1;
  const { value, stop } = (await entry.started.catch((error: unknown) => {
    entry.holders -= 1;
    throw error;
  })) as { value: T; stop: () => Promise<void> };
  let released = false;
  return {
    value,
    async release() {
      if (released) return;
      released = true;
      entry.holders -= 1;
      if (entry.holders > 0) return;
      registry.delete(name);
      await stop();
    },
  };
}

export interface TestPostgres {
  /** Superuser URL of the server's `postgres` database. */
  adminUrl: string;
  /** True when TEST_DATABASE_URL names a server of someone else's (databases made on it are dropped). */
  external: boolean;
}

/** The test PostgreSQL: a server of its own in a temporary directory, or the one in TEST_DATABASE_URL. */
export function acquirePostgres(): Promise<Held<TestPostgres>> {
  return acquire<TestPostgres>('postgres', async () => {
    const log = logAs('postgres');
    const external = process.env.TEST_DATABASE_URL;
    if (external) {
      try {
        const client = await connectPg(external);
        await client.query('select 1');
        await client.end();
      } catch (error) {
        throw new Error(`TEST_DATABASE_URL is set but its server cannot be reached: ${(error as Error).message}`, { cause: error });
      }
      log('using the server in TEST_DATABASE_URL');
      return { value: { adminUrl: external, external: true }, stop: async () => {} };
    }
    const dataDir = await mkdtemp(path.join(tmpdir(), 'relearn-pg-'));
    try {
      const server = await startPostgres({ dataDir, durable: false, log });
      return {
        value: { adminUrl: server.url, external: false },
        stop: async () => {
          await server.stop();
          await rm(dataDir, { recursive: true, force: true });
        },
      };
    } catch (error) {
      await rm(dataDir, { recursive: true, force: true });
      throw error;
    }
  });
}

/** The test MinIO, with the bucket MLflow keeps its artifacts in. */
export function acquireMinio(): Promise<Held<MinioServer>> {
  return acquire<MinioServer>('minio', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'relearn-minio-'));
    const removeDir = () => rm(dir, { recursive: true, force: true });
    let server: MinioServer;
    try {
      server = await startMinio({ dataDir: path.join(dir, 'data'), logFile: path.join(dir, 'minio.log'), log: logAs('minio') });
    } catch (error) {
      await removeDir();
      throw error;
    }
    try {
      const url = new URL(server.endpoint);
      const client = new Client({
        endPoint: url.hostname,
        port: Number(url.port),
        useSSL: false,
        accessKey: server.accessKey,
        secretKey: server.secretKey,
        pathStyle: true,
      });
      await client.makeBucket(MLFLOW_BUCKET);
    } catch (error) {
      await server.stop();
      await removeDir();
      throw new Error(`MinIO started but the bucket ${MLFLOW_BUCKET} could not be created: ${(error as Error).message}`, { cause: error });
    }
    return {
      value: server,
      stop: async () => {
        await server.stop();
        await removeDir();
      },
    };
  });
}

const INSTALLS = Symbol.for('relearn.test.installs');
const installs: Map<string, Promise<unknown>> = ((globalThis as Record<symbol, unknown>)[INSTALLS] ??= new Map()) as Map<string, Promise<unknown>>;

/** Installs MLflow (once per machine, into ~/.cache/relearn; checked once per run: the check alone takes seconds). */
export async function installMlflow(): Promise<void> {
  let install = installs.get('mlflow');
  if (!install) {
    install = ensureMlflowInstalled(logAs('mlflow'));
    installs.set('mlflow', install);
    install.catch(() => installs.delete('mlflow'));
  }
  await install;
}

/** The test MLflow: backend store in a database on the test PostgreSQL, artifacts proxied to MinIO's `mlflow` bucket. */
export function acquireMlflow(postgres: TestPostgres, minio: MinioServer): Promise<Held<MlflowServer>> {
  return acquire<MlflowServer>('mlflow', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'relearn-mlflow-'));
    // On a server of our own the database is simply `mlflow`; on a shared one, a name of its own, dropped at the end.
    const database = postgres.external ? `mlflow_test_${randomSuffix()}` : 'mlflow';
    const cleanUp = async () => {
      if (postgres.external) await dropDatabase(postgres.adminUrl, database);
      await rm(dir, { recursive: true, force: true });
    };
    try {
      const backendStoreUri = await createDatabase(postgres.adminUrl, database);
      const server = await startMlflow({
        backendStoreUri,
        artifactsDestination: `s3://${MLFLOW_BUCKET}`,
        s3: { endpoint: minio.endpoint, accessKey: minio.accessKey, secretKey: minio.secretKey },
        logFile: path.join(dir, 'mlflow.log'),
        log: logAs('mlflow'),
      });
      return {
        value: server,
        stop: async () => {
          await server.stop();
          await cleanUp();
        },
      };
    } catch (error) {
      await cleanUp().catch(() => {});
      throw error;
    }
  });
}

async function dropDatabase(adminUrl: string, name: string): Promise<void> {
  const client = await connectPg(adminUrl);
  try {
    await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  } finally {
    await client.end();
  }
}

const FIT_CACHE = Symbol.for('relearn.test.fitCacheDir');

/**
 * This run's directory of memoised bootstrap fits (BOOTSTRAP_FIT_CACHE_DIR; see
 * server/src/training/bootstrap-fit-cache.ts): made once per `vitest` run (on globalThis, like the
 * servers), so the code that fills it is the code under test, and removed when the run ends.
 */
export function fitCacheDir(): string {
  const shared = globalThis as Record<symbol, unknown>;
  if (typeof shared[FIT_CACHE] === 'string') return shared[FIT_CACHE];
  const dir = mkdtempSync(path.join(tmpdir(), 'relearn-fit-cache-'));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  shared[FIT_CACHE] = dir;
  return dir;
}
