// The MinIO and MLflow servers started by ./global-setup.ts (services and reliability tiers), for test files.
import { Client } from 'minio';
import { inject } from 'vitest';
import { randomSuffix } from '../../scripts/services/postgres.js';
import type { S3Config } from '../src/config.js';
import type { TestMinio } from './global-setup.js';

/** The test MinIO server (root credentials). */
export function testMinio(): TestMinio {
  const minio = inject('minio');
  if (!minio) throw new Error('no test MinIO in this tier: name the file `*.services.test.ts` (services tier)');
  return minio;
}

/** http://127.0.0.1:PORT of the test MLflow tracking server. */
export function testMlflowUrl(): string {
  const url = inject('mlflowUrl');
  if (!url) throw new Error('no test MLflow in this tier: name the file `*.services.test.ts` (services tier)');
  return url;
}

/** A `minio` client on the test MinIO server. */
export function testMinioClient(): Client {
  const { endpoint, accessKey, secretKey } = testMinio();
  const url = new URL(endpoint);
  return new Client({ endPoint: url.hostname, port: Number(url.port), useSSL: false, accessKey, secretKey, pathStyle: true });
}

/** Creates an empty bucket named `<prefix>-<random>` (lower-case) on the test MinIO and returns its name. */
export async function freshBucket(prefix: string): Promise<string> {
  const suffix = randomSuffix();
  let base = prefix
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '');
  if (!/^[a-z0-9]/.test(base)) base = `t${base}`;
  const name = `${base.slice(0, 63 - suffix.length - 1)}-${suffix}`;
  await testMinioClient().makeBucket(name);
  return name;
}

/** S3 settings (as `Config.s3`) for a bucket on the test MinIO. */
export function testS3Config(bucket: string): S3Config {
  const { endpoint, accessKey, secretKey } = testMinio();
  return { endpoint, accessKey, secretKey, bucket, region: 'us-east-1' };
}
