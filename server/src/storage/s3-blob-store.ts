import { Client, S3Error } from 'minio';
import type { S3Config } from '../config.js';
import { BlobNotFoundError, type BlobStore } from './blob-store.js';

/** The real adapter: one S3 object per blob, the key as its object name (MinIO or any S3). */
export class S3BlobStore implements BlobStore {
  readonly description: string;
  private readonly client: Client;
  private readonly bucket: string;
  private readonly region: string;

  constructor(s3: S3Config) {
    const url = new URL(s3.endpoint);
    const useSSL = url.protocol === 'https:';
    this.client = new Client({
      endPoint: url.hostname,
      port: url.port ? Number(url.port) : useSSL ? 443 : 80,
      useSSL,
      accessKey: s3.accessKey,
      secretKey: s3.secretKey,
      region: s3.region,
      // Bucket in the path, not the host name: MinIO on 127.0.0.1 has no per-bucket host names.
      pathStyle: true,
    });
    this.bucket = s3.bucket;
    this.region = s3.region;
    this.description = `bucket ${s3.bucket} at ${url.origin}`;
  }

  /** Creates the bucket when it does not exist yet; call once at start. */
  async ensureBucket(): Promise<void> {
    if (await this.client.bucketExists(this.bucket)) return;
    try {
      await this.client.makeBucket(this.bucket, this.region);
    } catch (error) {
      // Another process created it in between.
      if (error instanceof S3Error && (error.code === 'BucketAlreadyOwnedByYou' || error.code === 'BucketAlreadyExists')) return;
      throw error;
    }
  }

  async put(key: string, body: Uint8Array | string, contentType = 'application/octet-stream'): Promise<void> {
    const buffer = typeof body === 'string' ? Buffer.from(body, 'utf8') : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
    // One PutObject (a multipart upload past 64 MiB): S3 makes the object visible whole or not at all.
    await this.client.putObject(this.bucket, key, buffer, buffer.length, { 'Content-Type': contentType });
  }

  async get(key: string): Promise<Buffer> {
    try {
      const stream = await this.client.getObject(this.bucket, key);
      const chunks: Buffer[] = [];
      for await (const chunk of stream) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks);
    } catch (error) {
      if (isNotFound(error)) throw new BlobNotFoundError(key, this.description, { cause: error });
      throw error;
    }
  }

  async exists(key: string): Promise<boolean> {
    try {
      await this.client.statObject(this.bucket, key);
      return true;
    } catch (error) {
      if (isNotFound(error)) return false;
      throw error;
    }
  }

  async list(prefix: string): Promise<string[]> {
    const keys: string[] = [];
    for await (const item of this.client.listObjectsV2(this.bucket, prefix, true)) {
      if (item.name) keys.push(item.name);
    }
    return keys.sort();
  }

  async delete(key: string): Promise<void> {
    await this.client.removeObject(this.bucket, key);
  }
}

function isNotFound(error: unknown): boolean {
  return error instanceof S3Error && (error.code === 'NoSuchKey' || error.code === 'NotFound');
}
