import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabaseUrl } from '../../test/database.js';
import { METRICS, PREDICT_FRAUD, SUBMIT_FEEDBACK, aFraudInput, startTestApp, type TestApp } from '../../test/test-app.js';

const REQUIRED_METRICS = [
  'true_positives_total',
  'true_negatives_total',
  'false_positives_total',
  'false_negatives_total',
  'model_accuracy',
  'model_precision',
  'model_recall',
  'model_f1_score',
  'relearn_predictions_total',
  'relearn_feedback_total',
  'relearn_predict_duration_seconds_bucket',
  'process_cpu_seconds_total',
  'nodejs_eventloop_lag_seconds',
];

describe('operations', () => {
  let sut: TestApp;
  beforeAll(async () => {
    sut = await startTestApp();
  });
  afterAll(() => sut?.stop());

  it('answers /healthz and /readyz with the checks', async () => {
    expect((await fetch(`${sut.url}/healthz`)).status).toBe(200);
    const ready = await fetch(`${sut.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready', checks: { database: true, 'model:fraud': true, 'model:spam': true } });
  });

  it('exports every required metric on /metrics, labelled by model and version, never NaN', async () => {
    const p = await sut.gql(PREDICT_FRAUD, { input: { fraud: aFraudInput() } });
    await sut.gql(SUBMIT_FEEDBACK, { input: { predictionId: p.data.predict.id, actual: p.data.predict.label } });
    // One of each cell of the confusion matrix, counted against version 1.
    await sut.gql(`mutation { recordOutcomes(model: "fraud", version: 1, outcomes: [
      {predicted: "fraud", actual: "fraud"}, {predicted: "fraud", actual: "legit"}, {predicted: "legit", actual: "fraud"}]) { count } }`);
    const res = await fetch(`${sut.url}/metrics`);
    expect(res.headers.get('content-type')).toMatch(/text\/plain/);
    const text = await res.text();
    for (const name of REQUIRED_METRICS) expect(text, name).toMatch(new RegExp(`^${name}(\\{| )`, 'm'));
    expect(text).toMatch(/^model_accuracy\{model="fraud",version="1"\} 0\.5$/m);
    expect(text).toMatch(/^model_precision\{model="fraud",version="1"\} 0\.5$/m);
    expect(text).toMatch(/^true_positives_total\{model="fraud",version="1"\} 1$/m);
    expect(text).toMatch(/^false_negatives_total\{model="fraud",version="1"\} 1$/m);
    // Counters of a live version with no feedback yet exist at 0.
    expect(text).toMatch(/^true_positives_total\{model="spam",version="1"\} 0$/m);
    expect(text).not.toMatch(/NaN/);
    // spam has no feedback: its quality gauges are absent rather than NaN.
    expect(text).not.toMatch(/^model_accuracy\{model="spam"/m);
  });
});

describe('first start', () => {
  it('trains version 1 of each task off the event loop: alive and not ready while training, then ready', async () => {
    const sut = await startTestApp({ waitForModels: false });
    try {
      // Bootstrap training (corpus load + fit) runs in a worker thread: the server answers meanwhile.
      const [health, ready] = await Promise.all([fetch(`${sut.url}/healthz`), fetch(`${sut.url}/readyz`)]);
      expect(health.status).toBe(200);
      expect(ready.status).toBe(503);
      expect((await ready.json()).checks['model:spam']).toBe(false);
      const early = await sut.gql(PREDICT_FRAUD, { input: { spam: { text: 'hello there' } } });
      expect(early.errors?.[0]?.extensions?.code).toBe('MODEL_NOT_READY');
      await sut.app.modelsReady;
      expect((await fetch(`${sut.url}/readyz`)).status).toBe(200);
      const runs = await sut.app.orm.em
        .getConnection()
        .execute<{ model: string; state: string; reason: string }[]>('select model, state, reason from training_run order by model');
      expect(runs).toEqual([
        { model: 'fraud', state: 'SUCCEEDED', reason: 'bootstrap: the task had no model version' },
        { model: 'spam', state: 'SUCCEEDED', reason: 'bootstrap: the task had no model version' },
      ]);
      const datasets = await sut.app.orm.em
        .getConnection()
        .execute<{ model: string; content_hash: string; manifest: any }[]>('select model, content_hash, manifest from dataset_version order by model');
      expect(datasets.map((d) => d.model)).toEqual(['fraud', 'spam']);
      expect(datasets[1]!.manifest).toMatchObject({ rowCount: 3250, sources: ['easy-ham-1', 'hard-ham-1', 'spam-1'] });
      expect(datasets[0]!.content_hash).toMatch(/^[0-9a-f]{64}$/);
    } finally {
      await sut.app.modelsReady.catch(() => {});
      await sut.stop();
    }
  });
});

describe('durability', () => {
  it('commits every acknowledged prediction when stopped under load (graceful shutdown)', async () => {
    const sut = await startTestApp();
    const acknowledged: string[] = [];
    // Eight clients predicting back to back until the server stops answering.
    const clients = Array.from({ length: 8 }, async (_, c) => {
      for (let i = 0; i < 500; i++) {
        const r = await sut.gql(PREDICT_FRAUD, { input: { fraud: aFraudInput({ hour: (c + i) % 24 }) } }).catch(() => null);
        if (!r?.data?.predict) return;
        acknowledged.push(r.data.predict.id as string);
      }
    });
    await expect.poll(() => acknowledged.length, { timeout: 20_000 }).toBeGreaterThanOrEqual(40);
    await sut.app.stop();
    await Promise.all(clients);
    expect(acknowledged.length).toBeGreaterThanOrEqual(40);
    // Count what is stored through a fresh app on the same database.
    const again = await startTestApp({ databaseUrl: sut.app.config.databaseUrl! });
    const rows = await again.app.orm.em.getConnection().execute<{ id: string }[]>('select id from prediction');
    const stored = new Set(rows.map((r) => r.id));
    expect(acknowledged.filter((id) => !stored.has(id))).toEqual([]);
    await again.stop();
  });

  it('keeps predictions, feedback, metrics and the online-learned model across a restart', async () => {
    const databaseUrl = await freshDatabaseUrl('restart');
    const first = await startTestApp({ databaseUrl });
    const input = aFraudInput({ amount: 700, hour: 22, merchantCategory: 'online', previousAmount: 50, timeSinceLast: 2 });
    for (let i = 0; i < 10; i++) {
      const p = await first.gql(PREDICT_FRAUD, { input: { fraud: input } });
      await first.gql(SUBMIT_FEEDBACK, { input: { predictionId: p.data.predict.id, actual: 'legit' } });
    }
    const before = (await first.gql(PREDICT_FRAUD, { input: { fraud: input } })).data.predict;
    const metricsBefore = (await first.gql(METRICS, { model: 'fraud' })).data.metrics;
    await first.stop();

    const second = await startTestApp({ databaseUrl });
    const after = (await second.gql(PREDICT_FRAUD, { input: { fraud: input } })).data.predict;
    const metricsAfter = (await second.gql(METRICS, { model: 'fraud' })).data.metrics;
    expect(metricsAfter.feedbackCount).toBe(10);
    expect(metricsAfter.confusion).toEqual(metricsBefore.confusion);
    // The model replayed the same feedback: identical probabilities.
    expect(after.scores).toEqual(before.scores);
    const versions = (await second.gql(`{ modelVersions(model: "fraud") { version } }`)).data.modelVersions;
    expect(versions).toEqual([{ version: 1 }]);
    await second.stop();
  });
});

describe('embedded PostgreSQL (PGlite), the default without DATABASE_URL', () => {
  let dataDir: string;
  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'relearn-embedded-'));
  });
  afterAll(() => rm(dataDir, { recursive: true, force: true }));

  it('serves predict and feedback, and keeps the data on disk across a restart', async () => {
    const first = await startTestApp({ database: 'embedded', dataDir });
    expect(first.app.database.kind).toBe('embedded');
    const p = await first.gql(PREDICT_FRAUD, { input: { fraud: aFraudInput() } });
    expect(p.errors).toBeUndefined();
    const f = await first.gql(SUBMIT_FEEDBACK, { input: { predictionId: p.data.predict.id, correct: true } });
    expect(f.errors).toBeUndefined();
    await first.stop();

    const second = await startTestApp({ database: 'embedded', dataDir });
    const m = (await second.gql(METRICS, { model: 'fraud' })).data.metrics;
    expect(m.feedbackCount).toBe(1);
    expect(m.predictionCount).toBe(1);
    const stored = await second.gql(`query($id: ID!) { prediction(id: $id) { id } }`, { id: p.data.predict.id });
    expect(stored.data.prediction.id).toBe(p.data.predict.id);
    await second.stop();
  });
});
