// vitest globalSetup of the services and reliability tiers (`*.services.test.ts`, web/e2e,
// server/test/reliability): the real servers, started once per run and shared with the other tiers
// (./shared-servers.ts):
// - PostgreSQL: test files get their own databases through freshDatabaseUrl() (./database.ts). Set
//   TEST_DATABASE_URL (a superuser URL) to use an existing server instead.
// - MinIO: test files get their own buckets through freshBucket() (./services.ts).
// - MLflow: backend store in a database on that PostgreSQL, artifacts proxied to the MinIO bucket `mlflow`.
// Never skips: if any of them cannot be installed or started, the run fails with the reason.
// PostgreSQL, MinIO and the MLflow install (minutes the first time on a machine) run side by side;
// MLflow starts once the database and the bucket exist.
// The integration tier needs PostgreSQL alone: ./global-setup.postgres.ts.
import type { TestProject } from 'vitest/node';
import { acquireMinio, acquireMlflow, acquirePostgres, fitCacheDir, installMlflow, type Held } from './shared-servers.js';

export { MLFLOW_BUCKET } from './shared-servers.js';

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
    /** This run's memoised bootstrap fits (BOOTSTRAP_FIT_CACHE_DIR of test apps and processes). */
    fitCacheDir: string;
  }
}

function failure(name: string, result: PromiseSettledResult<unknown>): string | null {
  if (result.status === 'fulfilled') return null;
  return `${name}: ${result.reason instanceof Error ? result.reason.message : String(result.reason)}`;
}

export async function setup(project: TestProject): Promise<() => Promise<void>> {
  const started = Date.now();
  const held: Held<unknown>[] = [];
  const teardown = async (): Promise<void> => {
    // Reverse start order: MLflow before the database and bucket it uses.
    for (const server of held.reverse()) await server.release().catch((error: Error) => console.error(`[test services] stop failed: ${error.message}`));
  };

  try {
    const [postgresResult, minioResult, mlflowInstall] = await Promise.allSettled([acquirePostgres(), acquireMinio(), installMlflow()]);
    // Whatever did start must be released even when something else failed.
    if (postgresResult.status === 'fulfilled') held.push(postgresResult.value);
    if (minioResult.status === 'fulfilled') held.push(minioResult.value);
    if (postgresResult.status === 'rejected' || minioResult.status === 'rejected' || mlflowInstall.status === 'rejected') {
      const failures = [failure('PostgreSQL', postgresResult), failure('MinIO', minioResult), failure('MLflow install', mlflowInstall)].filter(
        (f) => f !== null,
      );
      throw new Error(`the test services failed to start:\n${failures.join('\n\n')}`);
    }
    const postgres = postgresResult.value.value;
    const minio = minioResult.value.value;
    const mlflow = await acquireMlflow(postgres, minio);
    held.push(mlflow);

    project.provide('postgresAdminUrl', postgres.adminUrl);
    project.provide('minio', { endpoint: minio.endpoint, accessKey: minio.accessKey, secretKey: minio.secretKey });
    project.provide('mlflowUrl', mlflow.value.url);
    project.provide('fitCacheDir', fitCacheDir());
    console.error(`[test services] PostgreSQL, MinIO and MLflow ready for ${project.name} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  } catch (error) {
    await teardown();
    throw error;
  }
  return teardown;
}
