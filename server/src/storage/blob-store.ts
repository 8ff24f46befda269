/**
 * Immutable blobs by key (datasets, reports, model artifacts). The real adapter is S3/MinIO;
 * the embedded adapter keeps the same layout in a local directory.
 */
export interface BlobStore {
  readonly description: string;
  /** Writes atomically: a reader sees the whole blob or none of it. */
  put(key: string, body: Uint8Array | string, contentType?: string): Promise<void>;
  get(key: string): Promise<Buffer>;
  exists(key: string): Promise<boolean>;
}
