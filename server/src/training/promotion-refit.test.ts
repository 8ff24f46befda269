// Promotion keeps what was learned: the version that goes live is the judged challenger refit on
// every row the gate allowed (its holdout included) plus the feedback since its snapshot, so a
// promotion changes what the model says only through new evidence.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, SUBMIT_FEEDBACK, retrainFinished, startTestApp, type TestApp } from '../../test/test-app.js';
import { generateInitialData, generateNewBatch } from '../tasks/data/fraud-generator.js';

const TRIGGER = `mutation($model: String!, $reason: String) { triggerRetrain(model: $model, reason: $reason) { id } }`;
const PREDICT_BATCH = `mutation($inputs: [PredictInput!]!) { predictBatch(inputs: $inputs) { id } }`;

describe('promotion refit', () => {
  let sut: TestApp;
  beforeAll(async () => {
    sut = await startTestApp({ env: { AUTO_RETRAIN: 'off' } });
  });
  afterAll(() => sut?.stop());

  const live = () => sut.app.services.models.getLive('fraud')!;
  const probes = generateNewBatch(300, { seed: 77 }).map((r) => r.input);
  const predictions = () => {
    const task = sut.app.services.tasks.get('fraud')!;
    return probes.map((input) => live().model.predictProba(task.encode(task.validate(input))));
  };

  async function feed(rows: { input: object; label: string }[]) {
    const predicted = await sut.gql(PREDICT_BATCH, { inputs: rows.map((r) => ({ fraud: r.input })) });
    expect(predicted.errors).toBeUndefined();
    for (const [i, p] of (predicted.data.predictBatch as { id: string }[]).entries()) {
      const res = await sut.gql(SUBMIT_FEEDBACK, { input: { predictionId: p.id, actual: rows[i]!.label } });
      expect(res.errors).toBeUndefined();
    }
  }

  it('serves a first version that has learned its holdout too', async () => {
    const ds = (await sut.app.services.datasets.latest('fraud'))!;
    expect(ds.manifest.holdoutRows).toBeGreaterThan(0);
    expect(live().model.sampleCount).toBe(ds.manifest.rowCount);
  });

  it('promotes a version that predicts what the live model predicted, then moves only with new feedback', async () => {
    const before = live();
    const rows = before.model.sampleCount;
    // New transactions, and 100 already in the bootstrap data: feedback on them is evidence too
    // (the live model learned it online), not a duplicate to drop.
    const repeats = generateInitialData(5000, { seed: 42 }).slice(0, 100);
    const fresh = generateNewBatch(200, { seed: 78 });
    await feed([...repeats, ...fresh]);
    await expect.poll(() => live().model.sampleCount, { timeout: 30_000 }).toBe(rows + 300);
    const learnedOnline = predictions();

    const job = await sut.gql(TRIGGER, { model: 'fraud', reason: 'test: refit' }, { token: ADMIN_TOKEN });
    expect(job.errors).toBeUndefined();
    const done = await retrainFinished(sut, 'fraud', job.data.triggerRetrain.id);
    expect(done).toMatchObject({ state: 'PROMOTED', version: 2 });
    await expect.poll(() => live().version, { timeout: 30_000 }).toBe(2);

    const ds = (await sut.app.services.datasets.latest('fraud'))!;
    expect(ds.manifest.dropped?.duplicate).toBe(0);
    expect(live().model.sampleCount).toBe(rows + 300);
    const promoted = predictions();
    let maxDiff = 0;
    promoted.forEach((p, i) => p.forEach((v, c) => (maxDiff = Math.max(maxDiff, Math.abs(v - learnedOnline[i]![c]!)))));
    expect(maxDiff).toBeLessThanOrEqual(1e-9);

    // New evidence moves it.
    await feed(generateNewBatch(20, { seed: 79, fraudRate: 1 }));
    await expect.poll(() => live().model.sampleCount, { timeout: 30_000 }).toBe(rows + 320);
    const after = predictions();
    expect(after.some((p, i) => Math.abs(p[1]! - promoted[i]![1]!) > 1e-6)).toBe(true);
  });
});
