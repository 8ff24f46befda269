import { join } from 'node:path';
import type { Config } from '../config.js';
import type { BlobStore } from './blob-store.js';
import { LocalBlobStore } from './local-blob-store.js';
import { S3BlobStore } from './s3-blob-store.js';

/** The S3 adapter when S3_ENDPOINT is set (its bucket created if missing), else `<dataDir>/blobs`. */
export async function createBlobStore(config: Pick<Config, 's3'>, dataDir: string): Promise<BlobStore> {
  if (!config.s3) return new LocalBlobStore(join(dataDir, 'blobs'));
  const store = new S3BlobStore(config.s3);
  try {
    await store.ensureBucket();
  } catch (error) {
    throw new Error(`object storage ${store.description} is unreachable or refused access: ${(error as Error).message}`, { cause: error });
  }
  return store;
}
