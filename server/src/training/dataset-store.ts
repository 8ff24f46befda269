import type { BlobStore } from '../storage/blob-store.js';
import { CODE_VERSION } from '../version.js';
import type { DatasetManifest, IDatasetVersion } from './dataset-version.entity.js';
import type { DatasetVersionRepository } from './dataset-version.repository.js';
import type { PreparedDataset } from './train.js';

/**
 * Dataset versions: rows and the files beside them in the blob store under
 * `datasets/<model>/<sha256>/`, the version record in PostgreSQL. Blobs are written first and
 * the record last, so a crash mid-write leaves no visible version (only unreferenced blobs).
 */
export class DatasetStore {
  constructor(
    private readonly versions: DatasetVersionRepository,
    private readonly blobs: BlobStore,
  ) {}

  static folder(model: string, contentHash: string): string {
    return `datasets/${model}/${contentHash}`;
  }

  /** Stores a dataset version; the same rows again return the version that already holds them. */
  async save(
    model: string,
    dataset: Omit<PreparedDataset, 'jsonl'> & { jsonl: string | Uint8Array },
    context: { parent: IDatasetVersion | null; feedbackThrough: number; feedbackSnapshot: string | null; holdoutFraction: number },
  ): Promise<IDatasetVersion> {
    const existing = await this.versions.byHash(model, dataset.contentHash);
    if (existing) return existing;
    const folder = DatasetStore.folder(model, dataset.contentHash);
    const { jsonl, contentHash, ...counts } = dataset;
    const files = { rows: `${folder}/rows.jsonl`, manifest: `${folder}/manifest.json`, split: `${folder}/split.json` };
    const manifest: DatasetManifest = {
      parent: context.parent?.version ?? null,
      ...counts,
      feedbackThrough: context.feedbackThrough,
      ...(context.feedbackSnapshot ? { feedbackSnapshot: context.feedbackSnapshot } : {}),
      codeVersion: CODE_VERSION,
      createdAt: new Date().toISOString(),
      files,
    };
    await this.blobs.put(files.rows, jsonl, 'application/x-ndjson');
    await this.blobs.put(
      files.split,
      JSON.stringify(
        {
          rule: 'a row is held out when the first 32 bits of sha1([input, label]) / 2^32 < holdoutFraction',
          holdoutFraction: context.holdoutFraction,
          trainRows: dataset.trainRows,
          holdoutRows: dataset.holdoutRows,
        },
        null,
        2,
      ),
      'application/json',
    );
    await this.blobs.put(files.manifest, JSON.stringify({ model, contentHash, ...manifest }, null, 2), 'application/json');
    return this.versions.insertNext(model, { contentHash, location: files.rows, manifest });
  }

  /** A step's output (evaluation report, confusion matrices) beside the rows it was measured on. */
  async attach(dataset: IDatasetVersion, name: string, body: unknown): Promise<string> {
    const key = `${DatasetStore.folder(dataset.model, dataset.contentHash)}/${name}`;
    await this.blobs.put(key, JSON.stringify(body, null, 2), 'application/json');
    return key;
  }

  /** The rows as bytes (decoding 150 MB here would stall the caller's thread; the trainer decodes in its worker). */
  async rows(dataset: IDatasetVersion): Promise<Buffer> {
    return this.blobs.get(dataset.location);
  }

  async latest(model: string): Promise<IDatasetVersion | null> {
    return this.versions.latest(model);
  }

  async byId(id: number): Promise<IDatasetVersion | null> {
    return this.versions.byId(id);
  }
}
