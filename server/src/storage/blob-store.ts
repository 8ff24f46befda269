/**
 * Immutable blobs by key (datasets, reports, model artifacts). The real adapter is S3/MinIO;
 * the embedded adapter keeps the same layout in a local directory. Keys are `/`-separated paths.
 */
export interface BlobStore {
  readonly description: string;
  /** Writes atomically: a reader sees the whole blob or none of it. Replaces an existing blob. */
  put(key: string, body: Uint8Array | string, contentType?: string): Promise<void>;
  /** Throws BlobNotFoundError when there is no blob under `key`. */
  get(key: string): Promise<Buffer>;
  exists(key: string): Promise<boolean>;
  /** Every key that starts with `prefix` (a plain string prefix, not only whole folders), sorted. */
  list(prefix: string): Promise<string[]>;
  /** Removes the blob; does nothing when there is none. */
  delete(key: string): Promise<void>;
}

/** The one error both adapters throw for a missing blob. */
export class BlobNotFoundError extends Error {
  constructor(
    readonly key: string,
    readonly store: string,
    options?: ErrorOptions,
  ) {
    super(`no blob ${JSON.stringify(key)} in ${store}`, options);
    this.name = 'BlobNotFoundError';
  }
}
