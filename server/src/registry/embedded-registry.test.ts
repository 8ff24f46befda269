import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabaseUrl } from '../../test/database.js';
import { initORM, type Orm } from '../database/orm.js';
import { LocalBlobStore } from '../storage/local-blob-store.js';
import { EmbeddedRegistry } from './embedded-registry.js';
import { itBehavesLikeAModelRegistry, aModelName, type StoredRun } from './model-registry.contract.js';
import { RegistryModelVersion, RegistryRun } from './registry.entity.js';
import { RegistryRepository } from './registry.repository.js';

describe(EmbeddedRegistry.name, () => {
  let orm: Orm;
  let blobDir: string;
  let blobs: LocalBlobStore;
  let sut: EmbeddedRegistry;

  const readRun = async (runId: string): Promise<StoredRun> => {
    const run = await orm.em.fork().findOneOrFail(RegistryRun, { runId });
    return { name: run.name, status: run.status, params: run.params, metrics: run.metrics, tags: run.tags, ended: run.endTime !== null };
  };

  beforeAll(async () => {
    orm = await initORM(await freshDatabaseUrl('registry'));
    blobDir = await mkdtemp(join(tmpdir(), 'relearn-registry-'));
    blobs = new LocalBlobStore(blobDir);
    sut = new EmbeddedRegistry(new RegistryRepository(orm), blobs);
  });

  afterAll(async () => {
    await orm?.close();
    if (blobDir) await rm(blobDir, { recursive: true, force: true });
  });

  itBehavesLikeAModelRegistry(() => ({ sut, readRun }));

  it('keeps artifacts in the blob store under registry/<model>/<runId>/ and registers that as the source', async () => {
    const model = aModelName();
    const run = await sut.startRun(model, { runName: 'blobs', tags: {} });
    expect(run.url).toBeNull();
    await sut.uploadArtifact(run.runId, 'model/model.json', '{"a":1}');
    expect((await blobs.get(`registry/${model}/${run.runId}/model/model.json`)).toString()).toBe('{"a":1}');
    const { version, url } = await sut.registerModelVersion(model, run.runId, 'model');
    expect(url).toBeNull();
    const stored = await orm.em.fork().findOneOrFail(RegistryModelVersion, { model, version: Number(version) });
    expect(stored).toMatchObject({ runId: run.runId, source: `registry/${model}/${run.runId}/model` });
  });

  it('numbers versions without gaps or duplicates when many are registered at once', async () => {
    const model = aModelName();
    const run = await sut.startRun(model, { runName: 'race', tags: {} });
    // Separate registries share nothing in memory, as separate processes would.
    const registries = Array.from({ length: 8 }, () => new EmbeddedRegistry(new RegistryRepository(orm), blobs));
    const versions = await Promise.all(registries.map((r) => r.registerModelVersion(model, run.runId, 'model')));
    expect(versions.map((v) => Number(v.version)).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it('merges concurrent logRun calls on one run', async () => {
    const run = await sut.startRun(aModelName(), { runName: 'merge', tags: {} });
    await Promise.all(Array.from({ length: 10 }, (_, i) => sut.logRun(run.runId, { metrics: { [`m${i}`]: i }, tags: { [`t${i}`]: 'x' } })));
    const stored = await readRun(run.runId);
    expect(Object.keys(stored.metrics)).toHaveLength(10);
    expect(Object.keys(stored.tags)).toHaveLength(10);
  });
});
