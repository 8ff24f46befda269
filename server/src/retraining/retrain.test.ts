import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateNewBatch } from '../tasks/data/fraud-generator.js';
import { ADMIN_TOKEN, METRICS, PREDICT_FRAUD, SUBMIT_FEEDBACK, aFraudInput, nextResults, startTestApp, type TestApp } from '../../test/test-app.js';

const TRIGGER = `mutation($model: String!, $reason: String) { triggerRetrain(model: $model, reason: $reason) { id state reason triggers { kind reason } } }`;
const JOBS = `query($model: String!) { retrainJobs(model: $model) { id state reason progress version message attempts } }`;
const STATUS = `subscription($model: String!) { retrainStatus(model: $model) { id state progress version message } }`;
const VERSIONS = `query($model: String!) { modelVersions(model: $model) { version status datasetVersion datasetHash mlflowRunId evaluation promotedBy promotionReason trainingMetrics { accuracy } } }`;

async function waitForJob(sut: TestApp, id: string, timeout = 60_000) {
  let job: any;
  await expect
    .poll(
      async () => {
        job = (await sut.gql(JOBS, { model: 'fraud' })).data.retrainJobs.find((j: any) => j.id === id);
        return job?.state;
      },
      { timeout, interval: 200 },
    )
    .toMatch(/PROMOTED|REJECTED|FAILED/);
  return job;
}

/** Predictions with truthful feedback from the fraud generator (drift 1: the pattern has moved). */
async function feedDrifted(sut: TestApp, n: number, seed: number, labelOverride?: string) {
  const rows = generateNewBatch(n, { seed, drift: 1, fraudRate: 0.3 });
  const predicted = await sut.gql(`mutation($inputs: [PredictInput!]!) { predictBatch(inputs: $inputs) { id label } }`, {
    inputs: rows.map((r) => ({ fraud: r.input })),
  });
  expect(predicted.errors).toBeUndefined();
  await Promise.all(
    predicted.data.predictBatch.map((p: any, i: number) =>
      sut.gql(SUBMIT_FEEDBACK, { input: { predictionId: p.id, actual: labelOverride ?? rows[i]!.label } }),
    ),
  );
}

describe('retraining', () => {
  let sut: TestApp;
  beforeAll(async () => {
    // Automatic triggers off: a debounced accuracy check firing while the drifted feedback is still
    // being sent would start its own retrain first (the cooldown test calls check() itself).
    sut = await startTestApp({ env: { RETRAIN_RETRY_DELAY_SECONDS: '1', AUTO_RETRAIN: 'off' } });
  });
  afterAll(() => sut?.stop());

  it('needs the admin token to trigger a retrain', async () => {
    const res = await sut.gql(TRIGGER, { model: 'fraud' });
    expect(res.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    const unknown = await sut.gql(TRIGGER, { model: 'nope' }, { token: ADMIN_TOKEN });
    expect(unknown.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'model' });
  });

  it('retrains on the parent dataset plus new feedback, pushes every step, and promotes a challenger that is not worse', async () => {
    const client = sut.wsClient();
    const status = nextResults<any>(client, STATUS, { model: 'fraud' }, 1000, 60_000);
    await feedDrifted(sut, 400, 11);
    const res = await sut.gql(TRIGGER, { model: 'fraud', reason: 'test: drift' }, { token: ADMIN_TOKEN });
    expect(res.errors).toBeUndefined();
    const job = await waitForJob(sut, res.data.triggerRetrain.id);
    expect(job).toMatchObject({ state: 'PROMOTED', version: 2, progress: 1, attempts: 1 });
    expect(job.message).toMatch(/promoted: holdout accuracy .* vs champion v1/);
    await expect.poll(() => status.results.map((r) => r.retrainStatus.state).at(-1)).toBe('PROMOTED');
    const steps = status.results.filter((r) => r.retrainStatus.id === job.id).map((r) => r.retrainStatus);
    // Every step, in order (a step may be pushed again as its progress moves), with progress rising.
    expect([...new Set(steps.map((s) => s.state))]).toEqual(['QUEUED', 'SNAPSHOTTING', 'TRAINING', 'EVALUATING', 'REGISTERING', 'PROMOTED']);
    const progress = steps.map((s) => s.progress);
    expect(progress).toEqual([...progress].sort((a, b) => a - b));
    status.unsubscribe();

    const versions = (await sut.gql(VERSIONS, { model: 'fraud' })).data.modelVersions;
    expect(versions[0]).toMatchObject({ version: 2, status: 'LIVE', datasetVersion: 2, promotedBy: 'trainer' });
    expect(versions[0].promotionReason).toMatch(/test: drift/);
    expect(versions[0].evaluation).toMatch(/^promoted/);
    expect(versions[0].mlflowRunId).toBeTruthy();
    expect(versions[1]).toMatchObject({ version: 1, status: 'RETIRED', datasetVersion: 1 });
    const served = await sut.gql(PREDICT_FRAUD, { input: { fraud: aFraudInput() } });
    expect(served.data.predict.modelVersion.version).toBe(2);

    // The dataset version: parent 1 plus the 400 feedback rows, manifest and split beside the rows.
    const { datasets } = sut.app.services;
    const ds = (await datasets.latest('fraud'))!;
    expect(ds.version).toBe(2);
    expect(ds.manifest).toMatchObject({ parent: 1, feedbackIdRange: [expect.any(Number), expect.any(Number)] });
    expect(ds.manifest.rowCount).toBe(5000 + 400 - ds.manifest.droppedRows);
    expect(ds.manifest.sources).toEqual(['feedback', 'synthetic']);
    const manifest = JSON.parse((await sut.app.blobs.get(ds.manifest.files!.manifest!)).toString());
    expect(manifest.contentHash).toBe(ds.contentHash);
    expect(await sut.app.blobs.exists(ds.manifest.files!.split!)).toBe(true);
    const rows = (await sut.app.blobs.get(ds.location)).toString().trim().split('\n');
    expect(rows).toHaveLength(ds.manifest.rowCount);
    // The model registry (embedded here) has the run and moved the champion alias.
    expect(await sut.app.registry.getAlias('fraud', 'champion')).toBe('2');
  });

  it('rejects a challenger that is worse on the holdout, and keeps the champion', async () => {
    // 600 drifted transactions all labelled "fraud": a model trained on them is worse on the holdout.
    await feedDrifted(sut, 600, 12, 'fraud');
    const res = await sut.gql(TRIGGER, { model: 'fraud', reason: 'test: poisoned labels' }, { token: ADMIN_TOKEN });
    const job = await waitForJob(sut, res.data.triggerRetrain.id);
    expect(job.state).toBe('REJECTED');
    expect(job.message).toMatch(/rejected: .*holdout accuracy [\d.]+ vs champion v2 [\d.]+ .*worse by more than 0\.01/);
    const versions = (await sut.gql(VERSIONS, { model: 'fraud' })).data.modelVersions;
    expect(versions.map((v: any) => [v.version, v.status])).toEqual([
      [3, 'REJECTED'],
      [2, 'LIVE'],
      [1, 'RETIRED'],
    ]);
    expect(await sut.app.registry.getAlias('fraud', 'champion')).toBe('2');
  });

  it('starts no automatic retrain within the cooldown after the last one', async () => {
    const before = (await sut.gql(JOBS, { model: 'fraud' })).data.retrainJobs.length;
    // Wrong answers to v2, far below the threshold: the accuracy trigger would fire but for the cooldown.
    const batch = await sut.gql(`mutation($inputs: [PredictInput!]!) { predictBatch(inputs: $inputs) { id } }`, {
      inputs: Array.from({ length: 80 }, () => ({ fraud: aFraudInput() })),
    });
    await Promise.all(batch.data.predictBatch.map((p: any) => sut.gql(SUBMIT_FEEDBACK, { input: { predictionId: p.id, correct: false } })));
    // The triggers evaluated now, on the committed feedback (what the debounced check would do), then any check in flight.
    expect(await sut.app.triggers.check('fraud')).toBeNull();
    await sut.app.triggers.drain();
    expect((await sut.gql(JOBS, { model: 'fraud' })).data.retrainJobs).toHaveLength(before);
  });
});

describe('retrain queue', () => {
  it('debounces a burst of triggers into one queued job with every reason', async () => {
    const sut = await startTestApp({ env: { TRAINER: 'off' } });
    try {
      const results = await Promise.all(Array.from({ length: 6 }, (_, i) => sut.gql(TRIGGER, { model: 'spam', reason: `burst ${i}` }, { token: ADMIN_TOKEN })));
      expect(new Set(results.map((r) => r.data.triggerRetrain.id)).size).toBe(1);
      const jobs = (await sut.gql(JOBS, { model: 'spam' })).data.retrainJobs;
      expect(jobs).toHaveLength(1);
      expect(jobs[0].state).toBe('QUEUED');
      expect(jobs[0].reason.split('; ').sort()).toEqual(['burst 0', 'burst 1', 'burst 2', 'burst 3', 'burst 4', 'burst 5']);
    } finally {
      await sut.stop();
    }
  });

  it('triggers by itself when live accuracy falls below the threshold (with a confidence bound), once while it is pending', async () => {
    const sut = await startTestApp({ env: { TRAINER: 'off' } });
    try {
      // Three bad answers are not enough: the minimum sample (50) is not reached.
      for (let i = 0; i < 3; i++) {
        const p = await sut.gql(PREDICT_FRAUD, { input: { fraud: aFraudInput() } });
        await sut.gql(SUBMIT_FEEDBACK, { input: { predictionId: p.data.predict.id, correct: false } });
      }
      // The triggers evaluated now (what the debounced check would do), then any check in flight.
      expect(await sut.app.triggers.check('fraud')).toBeNull();
      await sut.app.triggers.drain();
      expect((await sut.gql(JOBS, { model: 'fraud' })).data.retrainJobs).toEqual([]);
      // 60 wrong answers: accuracy ~0, far below 0.85 even at the interval's upper end.
      const batch = await sut.gql(`mutation($inputs: [PredictInput!]!) { predictBatch(inputs: $inputs) { id } }`, {
        inputs: Array.from({ length: 60 }, (_, i) => ({ fraud: aFraudInput({ hour: 8 + (i % 10) }) })),
      });
      await Promise.all(batch.data.predictBatch.map((p: any) => sut.gql(SUBMIT_FEEDBACK, { input: { predictionId: p.id, correct: false } })));
      await expect.poll(async () => (await sut.gql(JOBS, { model: 'fraud' })).data.retrainJobs.length, { timeout: 10_000 }).toBe(1);
      const [job] = (await sut.gql(JOBS, { model: 'fraud' })).data.retrainJobs;
      expect(job.reason).toMatch(/live accuracy 0\.0\d+ over the last \d+ feedback of version 1 \(95% upper bound 0\.\d+\) is below 0\.85/);
      const metrics = (await sut.gql(METRICS, { model: 'fraud' })).data.metrics;
      expect(metrics.accuracy).toBeLessThan(0.1);
      // More bad feedback while that job waits: no second job.
      const more = await sut.gql(`mutation($inputs: [PredictInput!]!) { predictBatch(inputs: $inputs) { id } }`, {
        inputs: Array.from({ length: 20 }, () => ({ fraud: aFraudInput() })),
      });
      await Promise.all(more.data.predictBatch.map((p: any) => sut.gql(SUBMIT_FEEDBACK, { input: { predictionId: p.id, correct: false } })));
      expect(await sut.app.triggers.check('fraud')).toBeNull(); // pending: the job waits, nothing more is requested
      await sut.app.triggers.drain();
      expect((await sut.gql(JOBS, { model: 'fraud' })).data.retrainJobs).toHaveLength(1);
    } finally {
      await sut.stop();
    }
  });

  it("triggers after enough new labelled feedback (the task's afterFeedback)", async () => {
    const sut = await startTestApp({ env: { TRAINER: 'off' } });
    try {
      const batch = await sut.gql(`mutation($inputs: [PredictInput!]!) { predictBatch(inputs: $inputs) { id label } }`, {
        inputs: Array.from({ length: 500 }, () => ({ fraud: aFraudInput() })),
      });
      // Correct answers: accuracy stays high, only the count triggers.
      await Promise.all(batch.data.predictBatch.map((p: any) => sut.gql(SUBMIT_FEEDBACK, { input: { predictionId: p.id, correct: true } })));
      await expect.poll(async () => (await sut.gql(JOBS, { model: 'fraud' })).data.retrainJobs.length, { timeout: 10_000 }).toBe(1);
      const [job] = (await sut.gql(JOBS, { model: 'fraud' })).data.retrainJobs;
      expect(job.reason).toBe('500 new labelled feedback since version 1 was trained (threshold 500)');
    } finally {
      await sut.stop();
    }
  });
});
