// The behaviour every ModelRegistry adapter shares, run by mlflow-registry.services.test.ts against a real
// MLflow server and by embedded-registry.test.ts against PostgreSQL and a blob store.
import { randomBytes, randomUUID } from 'node:crypto';
import { expect, it } from 'vitest';
import { RegistryError, type ModelRegistry } from './model-registry.js';

/** A run as the adapter's own storage holds it (MLflow's runs/get, or the registry_run row). */
export interface StoredRun {
  name: string;
  status: string;
  params: Record<string, string>;
  metrics: Record<string, number>;
  tags: Record<string, string>;
  ended: boolean;
}

export interface RegistryHarness {
  sut: ModelRegistry;
  readRun(runId: string): Promise<StoredRun>;
}

/** A model name no other test (or earlier test run against the same server) has used. */
export const aModelName = (): string => `task-${randomBytes(4).toString('hex')}`;

export function itBehavesLikeAModelRegistry(harness: () => RegistryHarness): void {
  const sut = () => harness().sut;

  it('records a run: name, tags given at start, params, metrics, tags, and how it finished', async () => {
    const model = aModelName();
    const run = await sut().startRun(model, { runName: 'retrain-1', tags: { reason: 'drift', 'relearn.job': 'j-1' } });
    expect(run.runId).toEqual(expect.any(String));
    await sut().logRun(run.runId, { params: { smoothing: 1, features: 'text+amount' }, metrics: { accuracy: 0.91, f1: 0.875 } });
    await sut().logRun(run.runId, { metrics: { accuracy: 0.93 }, tags: { dataset: 'v3' } });
    await sut().finishRun(run.runId, 'FINISHED');

    const stored = await harness().readRun(run.runId);
    expect(stored).toMatchObject({
      name: 'retrain-1',
      status: 'FINISHED',
      params: { smoothing: '1', features: 'text+amount' },
      metrics: { accuracy: 0.93, f1: 0.875 },
      tags: { reason: 'drift', 'relearn.job': 'j-1', dataset: 'v3' },
      ended: true,
    });
  });

  it('keeps a param once set: the same value again is fine, another value is INVALID_PARAMETER_VALUE', async () => {
    const run = await sut().startRun(aModelName(), { runName: 'params', tags: {} });
    await sut().logRun(run.runId, { params: { smoothing: 1 } });
    await sut().logRun(run.runId, { params: { smoothing: 1 } });
    const error = await sut()
      .logRun(run.runId, { params: { smoothing: 2 } })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RegistryError);
    expect(error).toMatchObject({ errorCode: 'INVALID_PARAMETER_VALUE', status: 400 });
  });

  it('logs more params, metrics and tags than one request may carry', async () => {
    const run = await sut().startRun(aModelName(), { runName: 'many', tags: {} });
    const params = Object.fromEntries(Array.from({ length: 250 }, (_, i) => [`p${i}`, i]));
    const metrics = Object.fromEntries(Array.from({ length: 1500 }, (_, i) => [`m${i}`, i / 10]));
    const tags = Object.fromEntries(Array.from({ length: 150 }, (_, i) => [`t${i}`, `v${i}`]));
    await sut().logRun(run.runId, { params, metrics, tags });
    const stored = await harness().readRun(run.runId);
    expect(Object.keys(stored.params)).toHaveLength(250);
    expect(Object.keys(stored.metrics)).toHaveLength(1500);
    expect(stored.metrics.m1499).toBeCloseTo(149.9);
    expect(Object.keys(stored.tags).filter((k) => /^t\d+$/.test(k))).toHaveLength(150);
  });

  it('drops NaN and infinite metric values and keeps the finite ones', async () => {
    const run = await sut().startRun(aModelName(), { runName: 'nan', tags: {} });
    await sut().logRun(run.runId, { metrics: { accuracy: 0.5, precision: Number.NaN, loss: Number.POSITIVE_INFINITY, drop: Number.NEGATIVE_INFINITY } });
    await sut().logRun(run.runId, { metrics: { only: Number.NaN } });
    const stored = await harness().readRun(run.runId);
    expect(stored.metrics).toEqual({ accuracy: 0.5 });
  });

  it('stores and returns artifacts byte for byte, text and binary', async () => {
    const run = await sut().startRun(aModelName(), { runName: 'artifacts', tags: {} });
    const binary = Uint8Array.from({ length: 512 }, (_, i) => (i * 7) % 256);
    const json = JSON.stringify({ kind: 'naive-bayes', labels: ['fraud', 'légit'], note: 'ünïcode ✓' });
    await sut().uploadArtifact(run.runId, 'model/model.json', json, 'application/json');
    await sut().uploadArtifact(run.runId, 'reports/confusion.bin', binary);
    expect((await sut().downloadArtifact(run.runId, 'model/model.json')).toString('utf8')).toBe(json);
    expect(new Uint8Array(await sut().downloadArtifact(run.runId, 'reports/confusion.bin'))).toEqual(binary);
  });

  it('answers RESOURCE_DOES_NOT_EXIST for an artifact that was never uploaded', async () => {
    const run = await sut().startRun(aModelName(), { runName: 'missing', tags: {} });
    await expect(sut().downloadArtifact(run.runId, 'model/model.json')).rejects.toMatchObject({ status: 404, errorCode: 'RESOURCE_DOES_NOT_EXIST' });
  });

  it('refuses artifact paths that leave the run', async () => {
    const run = await sut().startRun(aModelName(), { runName: 'escape', tags: {} });
    for (const path of ['../other/model.json', '/etc/passwd', 'model/../../x', '']) {
      await expect(sut().uploadArtifact(run.runId, path, 'x'), path).rejects.toMatchObject({ errorCode: 'INVALID_PARAMETER_VALUE' });
    }
  });

  it('numbers registered versions 1, 2 and moves the champion alias from 1 to 2', async () => {
    const model = aModelName();
    const register = async (name: string) => {
      const run = await sut().startRun(model, { runName: name, tags: {} });
      await sut().uploadArtifact(run.runId, 'model/model.json', `{"run":"${name}"}`, 'application/json');
      await sut().finishRun(run.runId, 'FINISHED');
      return sut().registerModelVersion(model, run.runId, 'model', { trigger: name });
    };
    const first = await register('first');
    const second = await register('second');
    expect([first.version, second.version]).toEqual(['1', '2']);

    expect(await sut().getAlias(model, 'champion')).toBeNull();
    await sut().setAlias(model, 'champion', first.version);
    expect(await sut().getAlias(model, 'champion')).toBe('1');
    await sut().setAlias(model, 'champion', second.version);
    expect(await sut().getAlias(model, 'champion')).toBe('2');
    await sut().setAlias(model, 'challenger', first.version);
    expect(await sut().getAlias(model, 'challenger')).toBe('1');
    expect(await sut().getAlias(model, 'champion')).toBe('2');
  });

  it('answers null for an alias or a model it does not know', async () => {
    const model = aModelName();
    expect(await sut().getAlias(model, 'champion')).toBeNull();
    const run = await sut().startRun(model, { runName: 'one', tags: {} });
    await sut().registerModelVersion(model, run.runId, 'model');
    expect(await sut().getAlias(model, 'nobody-set-this')).toBeNull();
  });

  it('refuses an alias to a version that does not exist, and reserved alias names', async () => {
    const model = aModelName();
    const run = await sut().startRun(model, { runName: 'one', tags: {} });
    const { version } = await sut().registerModelVersion(model, run.runId, 'model');
    await expect(sut().setAlias(model, 'champion', '42')).rejects.toMatchObject({ status: 404, errorCode: 'RESOURCE_DOES_NOT_EXIST' });
    for (const alias of ['latest', 'v1']) {
      await expect(sut().setAlias(model, alias, version), alias).rejects.toMatchObject({ errorCode: 'INVALID_PARAMETER_VALUE' });
    }
    expect(await sut().getAlias(model, 'champion')).toBeNull();
  });

  it('answers RESOURCE_DOES_NOT_EXIST for a run that does not exist', async () => {
    const missing = randomUUID().replaceAll('-', '');
    await expect(sut().logRun(missing, { metrics: { a: 1 } })).rejects.toMatchObject({ status: 404, errorCode: 'RESOURCE_DOES_NOT_EXIST' });
    await expect(sut().finishRun(missing, 'FAILED')).rejects.toMatchObject({ status: 404, errorCode: 'RESOURCE_DOES_NOT_EXIST' });
  });
}
