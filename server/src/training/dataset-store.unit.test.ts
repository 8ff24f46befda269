import { beforeEach, describe, expect, it } from 'vitest';
import { BlobNotFoundError, type BlobStore } from '../storage/blob-store.js';
import { DatasetStore } from './dataset-store.js';
import type { DatasetManifest, IDatasetVersion } from './dataset-version.entity.js';
import type { DatasetVersionRepository } from './dataset-version.repository.js';

/** The dataset_version table in memory: numbered per model, unique per (model, contentHash). */
class InMemoryDatasetVersions implements Pick<DatasetVersionRepository, 'byHash' | 'latest' | 'byId' | 'insertNext'> {
  readonly rows: IDatasetVersion[] = [];
  async byHash(model: string, contentHash: string) {
    return this.rows.find((r) => r.model === model && r.contentHash === contentHash) ?? null;
  }
  async latest(model: string) {
    return this.rows.filter((r) => r.model === model).sort((a, b) => b.version - a.version)[0] ?? null;
  }
  async byId(id: number) {
    return this.rows.find((r) => r.id === id) ?? null;
  }
  async insertNext(model: string, row: { contentHash: string; location: string; manifest: DatasetManifest }) {
    const again = await this.byHash(model, row.contentHash);
    if (again) return again;
    const created = {
      ...row,
      id: this.rows.length + 1,
      model,
      version: ((await this.latest(model))?.version ?? 0) + 1,
      createdAt: new Date(),
    } as IDatasetVersion;
    this.rows.push(created);
    return created;
  }
}

/** Blobs in memory; `failOn` makes writes of keys ending so fail (a store going away mid-write). */
class InMemoryBlobs implements BlobStore {
  readonly description = 'memory';
  readonly blobs = new Map<string, Buffer>();
  readonly writes: string[] = [];
  failOn: string | null = null;
  async put(key: string, body: Uint8Array | string) {
    if (this.failOn && key.endsWith(this.failOn)) throw new Error(`cannot write ${key}`);
    this.writes.push(key);
    this.blobs.set(key, Buffer.from(body));
  }
  async get(key: string) {
    const blob = this.blobs.get(key);
    if (!blob) throw new BlobNotFoundError(key, this.description);
    return blob;
  }
  async exists(key: string) {
    return this.blobs.has(key);
  }
  async list(prefix: string) {
    return [...this.blobs.keys()].filter((k) => k.startsWith(prefix)).sort();
  }
  async delete(key: string) {
    this.blobs.delete(key);
  }
}

function aDataset(contentHash: string, jsonl = '{"input":{"amount":1},"label":"legit","source":"bootstrap"}\n') {
  return {
    jsonl,
    contentHash,
    rowCount: 1,
    labelCounts: { legit: 1 },
    trainRows: 1,
    holdoutRows: 0,
    droppedRows: 0,
    dropped: { invalid: 0, outlier: 0, duplicate: 0, window: 0 },
    sources: ['bootstrap'],
    feedbackIdRange: null,
  };
}

const FIRST = { parent: null, feedbackThrough: 0, feedbackSnapshot: null, holdoutFraction: 0.2 };
const HASH_A = 'a'.repeat(64);
const HASH_B = 'b'.repeat(64);

describe(DatasetStore.name, () => {
  let versions: InMemoryDatasetVersions;
  let blobs: InMemoryBlobs;
  let sut: DatasetStore;

  beforeEach(() => {
    versions = new InMemoryDatasetVersions();
    blobs = new InMemoryBlobs();
    sut = new DatasetStore(versions as unknown as DatasetVersionRepository, blobs);
  });

  it('writes the rows, split and manifest under the content hash, then records the version', async () => {
    const stored = await sut.save('fraud', aDataset(HASH_A), FIRST);
    const folder = `datasets/fraud/${HASH_A}`;
    expect(blobs.writes).toEqual([`${folder}/rows.jsonl`, `${folder}/split.json`, `${folder}/manifest.json`]);
    expect(stored).toMatchObject({ model: 'fraud', version: 1, contentHash: HASH_A, location: `${folder}/rows.jsonl` });
    expect(stored.manifest).toMatchObject({ parent: null, rowCount: 1, feedbackThrough: 0, files: { rows: `${folder}/rows.jsonl` } });
    expect(stored.manifest).not.toHaveProperty('feedbackSnapshot');
    expect((await sut.rows(stored)).toString()).toBe(aDataset(HASH_A).jsonl);
  });

  it('returns the version that already holds the same rows, writing nothing', async () => {
    const first = await sut.save('fraud', aDataset(HASH_A), FIRST);
    const writes = blobs.writes.length;
    const again = await sut.save('fraud', aDataset(HASH_A), { ...FIRST, feedbackThrough: 9 });
    expect(again).toBe(first);
    expect(blobs.writes).toHaveLength(writes);
    expect(versions.rows).toHaveLength(1);
  });

  it('numbers the versions of a model one after another, naming the parent and the feedback cursor', async () => {
    const first = await sut.save('fraud', aDataset(HASH_A), FIRST);
    const second = await sut.save('fraud', aDataset(HASH_B), { parent: first, feedbackThrough: 41, feedbackSnapshot: '100:105:', holdoutFraction: 0.2 });
    expect(second.version).toBe(2);
    expect(second.manifest).toMatchObject({ parent: 1, feedbackThrough: 41, feedbackSnapshot: '100:105:' });
    expect(await sut.latest('fraud')).toBe(second);
    expect(await sut.byId(first.id)).toBe(first);
    expect(await sut.latest('spam')).toBeNull();
  });

  it('records no version when a blob cannot be written: a failed save leaves nothing visible', async () => {
    blobs.failOn = 'manifest.json';
    await expect(sut.save('fraud', aDataset(HASH_A), FIRST)).rejects.toThrow(/cannot write/);
    expect(versions.rows).toEqual([]);
    expect(await sut.latest('fraud')).toBeNull();
  });

  it('puts step reports beside the rows they were measured on', async () => {
    const stored = await sut.save('fraud', aDataset(HASH_A), FIRST);
    const key = await sut.attach(stored, 'evaluation-1.json', { promote: true });
    expect(key).toBe(`datasets/fraud/${HASH_A}/evaluation-1.json`);
    expect(JSON.parse((await blobs.get(key)).toString())).toEqual({ promote: true });
  });
});
