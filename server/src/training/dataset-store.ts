import { createHash } from 'node:crypto';
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
    dataset: Omit<PreparedDataset, 'jsonl'> & { jsonl: string | Uint8Array | null },
    context: DatasetContext,
    /** Set when the rows are already stored as chunks (`writer`): the key of their list. */
    chunkList?: string,
  ): Promise<IDatasetVersion> {
    const existing = await this.versions.byHash(model, dataset.contentHash);
    if (existing) return existing;
    const folder = DatasetStore.folder(model, dataset.contentHash);
    const { jsonl, contentHash, ...counts } = dataset;
    const files = { rows: chunkList ?? `${folder}/rows.jsonl`, manifest: `${folder}/manifest.json`, split: `${folder}/split.json` };
    const manifest: DatasetManifest = {
      parent: context.parent?.version ?? null,
      ...counts,
      feedbackThrough: context.feedbackThrough,
      ...(context.feedbackSnapshot ? { feedbackSnapshot: context.feedbackSnapshot } : {}),
      codeVersion: CODE_VERSION,
      createdAt: new Date().toISOString(),
      files,
    };
    if (jsonl !== null) await this.blobs.put(files.rows, jsonl, 'application/x-ndjson');
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
    const parts: Buffer[] = [];
    for await (const chunk of this.rowChunks(dataset)) parts.push(chunk);
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
  }

  /** The rows chunk by chunk, each whole lines: one blob for a small dataset, its chunk files for a large one. */
  async *rowChunks(dataset: IDatasetVersion): AsyncGenerator<Buffer> {
    if (!dataset.location.endsWith(`/${CHUNK_LIST}`)) return yield await this.blobs.get(dataset.location);
    const list = JSON.parse((await this.blobs.get(dataset.location)).toString('utf8')) as ChunkList;
    for (const chunk of list.chunks) yield await this.blobs.get(chunk.key);
  }

  /**
   * Stores a dataset that arrives chunk by chunk (a streamed build): chunks are content-addressed
   * files under `datasets/<model>/chunks/<sha256>.jsonl` written as they come, then the version's
   * folder gets the list of them (`chunks.json`, its `location`), the split and the manifest. A
   * dataset that came in one piece is stored as `rows.jsonl`, exactly as `save` stores it.
   */
  writer(model: string): DatasetWriter {
    const chunks: ChunkList['chunks'] = [];
    const put = async (bytes: Uint8Array) => {
      const sha256 = createHash('sha256').update(bytes).digest('hex');
      const key = `datasets/${model}/chunks/${sha256}.jsonl`;
      await this.blobs.put(key, bytes, 'application/x-ndjson');
      chunks.push({ key, sha256, bytes: bytes.byteLength });
    };
    return {
      add: put,
      finish: async (dataset, context) => {
        if (chunks.length === 0) return this.save(model, dataset, context);
        const { jsonl: last, ...summary } = dataset;
        if (last.byteLength > 0) await put(last);
        const list = `${DatasetStore.folder(model, summary.contentHash)}/${CHUNK_LIST}`;
        await this.blobs.put(list, JSON.stringify({ contentHash: summary.contentHash, chunks } satisfies ChunkList, null, 2), 'application/json');
        return this.save(model, { ...summary, jsonl: null }, context, list);
      },
    };
  }

  async latest(model: string): Promise<IDatasetVersion | null> {
    return this.versions.latest(model);
  }

  async byId(id: number): Promise<IDatasetVersion | null> {
    return this.versions.byId(id);
  }
}

const CHUNK_LIST = 'chunks.json';

interface ChunkList {
  /** sha256 of the chunks' bytes one after another (the dataset's content hash). */
  contentHash: string;
  chunks: { key: string; sha256: string; bytes: number }[];
}

export interface DatasetContext {
  parent: IDatasetVersion | null;
  feedbackThrough: number;
  feedbackSnapshot: string | null;
  holdoutFraction: number;
}

export interface DatasetWriter {
  /** The next chunk of rows (whole lines, in order). */
  add(bytes: Uint8Array): Promise<void>;
  /** Records the version: `jsonl` holds the rows not added as chunks (all of them when none was). */
  finish(dataset: Omit<PreparedDataset, 'jsonl'> & { jsonl: Uint8Array }, context: DatasetContext): Promise<IDatasetVersion>;
}
