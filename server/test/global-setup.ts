// vitest globalSetup: the real servers for the whole test run, started once:
// - PostgreSQL: test files get their own databases through freshDatabaseUrl() (./database.ts). Set
//   TEST_DATABASE_URL (a superuser URL) to use an existing server instead.
// - MinIO: test files get their own buckets through freshBucket() (./services.ts).
// - MLflow: backend store in a database on that PostgreSQL, artifacts proxied to the MinIO bucket `mlflow`.
// Never skips: if any of them cannot be installed or started, the run fails with the reason.
// PostgreSQL, MinIO and the MLflow install (minutes the first time on a machine) run side by side;
// MLflow starts once the database and the bucket exist.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client } from 'minio';
import type { TestProject } from 'vitest/node';
import { ensureMlflowInstalled, startMlflow, type MlflowServer } from '../../scripts/services/mlflow.js';
import { startMinio, type MinioServer } from '../../scripts/services/minio.js';
import { connectPg, createDatabase, randomSuffix, startPostgres, type PostgresServer } from '../../scripts/services/postgres.js';

export interface TestMinio {
  /** http://127.0.0.1:PORT */
  endpoint: string;
  accessKey: string;
  secretKey: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    /** Superuser URL of the test PostgreSQL server's `postgres` database. */
    postgresAdminUrl: string;
    /** The test MinIO server (root credentials). */
    minio: TestMinio;
    /** http://127.0.0.1:PORT of the test MLflow tracking server. */
    mlflowUrl: string;
  }
}

/** The bucket the test MLflow keeps its artifacts in. */
export const MLFLOW_BUCKET = 'mlflow';

const logAs =
  (name: string) =>
  (msg: string): void =>
    console.error(`[test ${name}] ${msg}`);

function failure(name: string, result: PromiseSettledResult<unknown>): string | null {
  if (result.status === 'fulfilled') return null;
  return `${name}: ${result.reason instanceof Error ? result.reason.message : String(result.reason)}`;
}

async function usePostgres(external: string | undefined, dataDir: string): Promise<{ adminUrl: string; server: PostgresServer | null }> {
  const log = logAs('postgres');
  if (!external) {
    const server = await startPostgres({ dataDir, durable: false, log });
    return { adminUrl: server.url, server };
  }
  try {
    const client = await connectPg(external);
    await client.query('select 1');
    await client.end();
  } catch (error) {
    throw new Error(`TEST_DATABASE_URL is set but its server cannot be reached: ${(error as Error).message}`, { cause: error });
  }
  log('using the server in TEST_DATABASE_URL');
  return { adminUrl: external, server: null };
}

async function startMinioWithBucket(dir: string): Promise<MinioServer> {
  const server = await startMinio({ dataDir: path.join(dir, 'minio'), logFile: path.join(dir, 'minio.log'), log: logAs('minio') });
  try {
    const url = new URL(server.endpoint);
    const client = new Client({ endPoint: url.hostname, port: Number(url.port), useSSL: false, accessKey: server.accessKey, secretKey: server.secretKey, pathStyle: true });
    await client.makeBucket(MLFLOW_BUCKET);
    return server;
  } catch (error) {
    await server.stop();
    throw new Error(`MinIO started but the bucket ${MLFLOW_BUCKET} could not be created: ${(error as Error).message}`, { cause: error });
  }
}

export async function setup(project: TestProject): Promise<() => Promise<void>> {
  const started = Date.now();
  const external = process.env.TEST_DATABASE_URL;
  const dirs: string[] = [];
  const stops: (() => Promise<void>)[] = [];
  const teardown = async (): Promise<void> => {
    // Reverse start order: MLflow before the database and bucket it uses.
    for (const stop of stops.reverse()) await stop().catch((error: Error) => console.error(`[test services] stop failed: ${error.message}`));
    await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
  };

  try {
    const pgDir = await mkdtemp(path.join(tmpdir(), 'relearn-pg-'));
    const servicesDir = await mkdtemp(path.join(tmpdir(), 'relearn-services-'));
    dirs.push(pgDir, servicesDir);

    const results = await Promise.allSettled([
      usePostgres(external, pgDir),
      startMinioWithBucket(servicesDir),
      ensureMlflowInstalled(logAs('mlflow')),
    ]);
    const [postgresResult, minioResult, mlflowInstall] = results;
    // Whatever did start must be stopped even when something else failed.
    if (postgresResult.status === 'fulfilled' && postgresResult.value.server) stops.push(postgresResult.value.server.stop);
    if (minioResult.status === 'fulfilled') stops.push(minioResult.value.stop);
    if (postgresResult.status === 'rejected' || minioResult.status === 'rejected' || mlflowInstall.status === 'rejected') {
      const failures = [
        failure('PostgreSQL', postgresResult),
        failure('MinIO', minioResult),
        failure('MLflow install', mlflowInstall),
      ].filter((f) => f !== null);
      throw new Error(`the test services failed to start:\n${failures.join('\n\n')}`);
    }
    const postgres = postgresResult.value;
    const minio = minioResult.value;

    // On a server of our own the database is simply `mlflow`; on a shared one, a name of its own, dropped at the end.
    const mlflowDb = external ? `mlflow_test_${randomSuffix()}` : 'mlflow';
    const backendStoreUri = await createDatabase(postgres.adminUrl, mlflowDb);
    if (external) stops.unshift(() => dropDatabase(postgres.adminUrl, mlflowDb));
    const mlflow: MlflowServer = await startMlflow({
      backendStoreUri,
      artifactsDestination: `s3://${MLFLOW_BUCKET}`,
      s3: { endpoint: minio.endpoint, accessKey: minio.accessKey, secretKey: minio.secretKey },
      logFile: path.join(servicesDir, 'mlflow.log'),
      log: logAs('mlflow'),
    });
    stops.push(mlflow.stop);

    project.provide('postgresAdminUrl', postgres.adminUrl);
    project.provide('minio', { endpoint: minio.endpoint, accessKey: minio.accessKey, secretKey: minio.secretKey });
    project.provide('mlflowUrl', mlflow.url);
    console.error(`[test services] PostgreSQL, MinIO and MLflow ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  } catch (error) {
    await teardown();
    throw error;
  }
  return teardown;
}

async function dropDatabase(adminUrl: string, name: string): Promise<void> {
  const client = await connectPg(adminUrl);
  try {
    await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  } finally {
    await client.end();
  }
}
