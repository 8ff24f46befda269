import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, startTestApp, type TestApp } from '../../test/test-app.js';
import { generateFraudRows } from '../tasks/data/fraud-generator.js';

const DRIFT = /* GraphQL */ `
  query ($model: String!, $window: MetricsWindow) {
    drift(model: $model, window: $window) { model version drifted windowSize referenceSize features { name kind score pValue drifted unseenShare detail distribution { bin training live } } }
  }
`;
const BATCH = `mutation($inputs: [PredictInput!]!) { predictBatch(inputs: $inputs) { id } }`;
const JOBS = `query($model: String!) { retrainJobs(model: $model) { id triggers { kind reason } } }`;

/** Inputs as the training data has them (the same generator, another seed), or moved: amounts 4x, and a merchant category training never had. */
let seed = 100;
const inputs = (task: string, n: number, moved: boolean) =>
  generateFraudRows(n, { seed: seed++ }).map((r, i) => ({
    [task]: moved
      ? { ...r.input, amount: Math.min(1_000_000, r.input.amount * 4), merchantCategory: i % 3 === 0 ? 'bnpl' : r.input.merchantCategory }
      : r.input,
  }));

describe('drift(model) and the drift retrain trigger', () => {
  let sut: TestApp;
  beforeAll(async () => {
    // A copy of the fraud task that retrains on drift; only drift can trigger it here.
    const dir = await mkdtemp(join(tmpdir(), 'relearn-drift-'));
    const fraud = JSON.parse(await readFile(new URL('../tasks/definitions/fraud.json', import.meta.url), 'utf8'));
    const drifty = {
      ...fraud,
      name: 'drifty',
      inputType: 'DriftyInput',
      retrain: { ...fraud.retrain, onDrift: true, minSamples: 50, afterFeedback: 100_000, cooldownSeconds: 3600 },
    };
    await writeFile(join(dir, 'drifty.json'), JSON.stringify(drifty));
    // DRIFT_CACHE_SECONDS=0: every scrape reads the inputs as they are now (the cache has its own test).
    sut = await startTestApp({ env: { TASKS: join(dir, 'drifty.json'), DRIFT_CACHE_SECONDS: '0' } });
  });
  afterAll(() => sut?.stop());

  it('compares the live version against its training data and names what moved', async () => {
    await sut.gql(BATCH, { inputs: inputs('fraud', 300, true) });
    const res = await sut.gql(DRIFT, { model: 'fraud', window: { lastFeedback: 300 } });
    expect(res.errors).toBeUndefined();
    const report = res.data.drift;
    expect(report).toMatchObject({ model: 'fraud', version: 1, drifted: true, windowSize: 300 });
    expect(report.referenceSize).toBeGreaterThan(1000);
    const byName = Object.fromEntries(report.features.map((f: { name: string }) => [f.name, f]));
    expect(byName.amount).toMatchObject({ kind: 'numeric', drifted: true });
    expect(byName.amount.pValue).toBeLessThan(0.001);
    expect(byName.merchantCategory).toMatchObject({ kind: 'category', drifted: true });
    expect(byName.merchantCategory.unseenShare).toBeCloseTo(1 / 3, 1);
    expect(byName.predictedLabel.kind).toBe('label');
    // Distributions to chart: the training deciles hold a tenth each; the live amounts sit higher; the unseen category is named.
    const amountBins = byName.amount.distribution as { bin: string; training: number; live: number }[];
    expect(amountBins.reduce((s, b) => s + b.training, 0)).toBeCloseTo(1, 9);
    expect(amountBins.at(-1)!.live).toBeGreaterThan(amountBins.at(-1)!.training);
    expect(byName.merchantCategory.distribution).toContainEqual(expect.objectContaining({ bin: 'bnpl (unseen)', training: 0 }));

    // The first scrape starts the other tasks' references and may serve before they are read: scrape until it shows.
    const scrape = async () => (await fetch(`${sut.url}/metrics`)).text();
    await expect.poll(scrape, { timeout: 30_000, interval: 500 }).toMatch(/relearn_model_input_drifted\{model="fraud"\} 1/);
    const text = await scrape();
    expect(text).toMatch(/relearn_feature_drift_score\{model="fraud",feature="amount"\} [0-9.]+/);
    expect(text).toMatch(/relearn_feature_drifted\{model="fraud",feature="merchantCategory"\} 1/);
  });

  it('refuses a bad window and an unknown model with BAD_USER_INPUT', async () => {
    const bad = await sut.gql(DRIFT, { model: 'fraud', window: { lastSeconds: 0 } });
    expect(bad.errors![0]!.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'window.lastSeconds' });
    const unknown = await sut.gql(DRIFT, { model: 'nope' });
    expect(unknown.errors![0]!.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'model' });
  });

  it('a task with retrain.onDrift starts exactly one retrain when its inputs drift, however many predictions follow', async () => {
    await sut.gql(BATCH, { inputs: inputs('drifty', 200, false) });
    const quiet = await sut.gql(DRIFT, { model: 'drifty' });
    expect(quiet.data.drift.drifted).toBe(false);
    for (let round = 0; round < 4; round++) await sut.gql(BATCH, { inputs: inputs('drifty', 150, true) });
    await expect.poll(async () => (await sut.gql(JOBS, { model: 'drifty' }, { token: ADMIN_TOKEN })).data.retrainJobs.length, { timeout: 30_000 }).toBe(1);
    for (let round = 0; round < 3; round++) await sut.gql(BATCH, { inputs: inputs('drifty', 100, true) });
    await sut.app.triggers.drain();
    const jobs = (await sut.gql(JOBS, { model: 'drifty' }, { token: ADMIN_TOKEN })).data.retrainJobs;
    expect(jobs).toHaveLength(1);
    expect(jobs[0].triggers.map((t: { kind: string }) => t.kind)).toEqual(['drift']);
    expect(jobs[0].triggers[0].reason).toMatch(/amount/);
  });
});
