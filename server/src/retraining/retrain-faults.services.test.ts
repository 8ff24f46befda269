import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateNewBatch } from '../tasks/data/fraud-generator.js';
import { freshBucket, testMinio, testMinioClient, testMlflowUrl } from '../../test/services.js';
import { startTcpProxy, type TcpProxy } from '../../test/tcp-proxy.js';
import { ADMIN_TOKEN, SUBMIT_FEEDBACK, startTestApp, type TestApp } from '../../test/test-app.js';

const TRIGGER = `mutation($reason: String) { triggerRetrain(model: "fraud", reason: $reason) { id } }`;
const JOBS = `{ retrainJobs(model: "fraud") { id state version message attempts } }`;
const VERSIONS = `{ modelVersions(model: "fraud") { version status mlflowRunId mlflowUrl registryVersion datasetVersion } }`;

async function feed(sut: TestApp, n: number, seed: number) {
  const rows = generateNewBatch(n, { seed, drift: 1, fraudRate: 0.3 });
  const predicted = await sut.gql(`mutation($inputs: [PredictInput!]!) { predictBatch(inputs: $inputs) { id } }`, {
    inputs: rows.map((r) => ({ fraud: r.input })),
  });
  await Promise.all(
    predicted.data.predictBatch.map((p: any, i: number) => sut.gql(SUBMIT_FEEDBACK, { input: { predictionId: p.id, actual: rows[i]!.label } })),
  );
}

async function mlflow(path: string) {
  const res = await fetch(`${testMlflowUrl()}/api/2.0/mlflow/${path}`);
  return res.json() as Promise<any>;
}

/** Against a real MinIO and a real MLflow, each behind a proxy the test can take down. */
describe('retraining with MinIO and MLflow', () => {
  let sut: TestApp;
  let s3: TcpProxy;
  let tracking: TcpProxy;
  let bucket: string;

  beforeAll(async () => {
    bucket = await freshBucket('retrain');
    s3 = await startTcpProxy(testMinio().endpoint);
    tracking = await startTcpProxy(testMlflowUrl());
    const { accessKey, secretKey } = testMinio();
    sut = await startTestApp({
      env: {
        S3_ENDPOINT: s3.url,
        S3_ACCESS_KEY: accessKey,
        S3_SECRET_KEY: secretKey,
        S3_BUCKET: bucket,
        MLFLOW_TRACKING_URI: tracking.url,
        RETRAIN_RETRY_DELAY_SECONDS: '1',
        // Only the retrains these tests trigger (an automatic one would race them).
        AUTO_RETRAIN: 'off',
      },
    });
  });
  afterAll(async () => {
    await sut?.stop();
    await s3?.close();
    await tracking?.close();
  });

  it('records the run, the registered version and the champion alias in MLflow, and the dataset in MinIO', async () => {
    await feed(sut, 300, 21);
    const res = await sut.gql(TRIGGER, { reason: 'test: real services' }, { token: ADMIN_TOKEN });
    await expect.poll(async () => (await sut.gql(JOBS)).data.retrainJobs[0].state, { timeout: 60_000, interval: 250 }).toBe('PROMOTED');
    const [job] = (await sut.gql(JOBS)).data.retrainJobs;
    expect(job.id).toBe(res.data.triggerRetrain.id);

    const [v2] = (await sut.gql(VERSIONS)).data.modelVersions;
    expect(v2).toMatchObject({ version: 2, status: 'LIVE', datasetVersion: 2 });
    expect(v2.mlflowUrl).toContain(`/#/experiments/`);
    const run = (await mlflow(`runs/get?run_id=${v2.mlflowRunId}`)).run;
    expect(run.info.status).toBe('FINISHED');
    const metrics = Object.fromEntries(run.data.metrics.map((m: any) => [m.key, m.value]));
    expect(metrics.holdout_accuracy).toBeGreaterThan(0.5);
    expect(Object.keys(metrics)).toEqual(
      expect.arrayContaining(['holdout_precision', 'holdout_recall', 'holdout_f1', 'holdout_log_loss', 'champion_holdout_accuracy']),
    );
    const tags = Object.fromEntries(run.data.tags.map((t: any) => [t.key, t.value]));
    expect(tags).toMatchObject({ 'relearn.dataset_version': '2', 'relearn.trigger_reason': 'test: real services' });
    expect(tags['relearn.dataset_hash']).toMatch(/^[0-9a-f]{64}$/);
    const alias = await mlflow(`registered-models/alias?name=relearn-fraud&alias=champion`);
    expect(alias.model_version.version).toBe(v2.registryVersion);

    const objects: string[] = [];
    await new Promise<void>((resolve, reject) => {
      const stream = testMinioClient().listObjectsV2(bucket, 'datasets/fraud/', true);
      stream.on('data', (o) => o.name && objects.push(o.name));
      stream.on('end', () => resolve());
      stream.on('error', reject);
    });
    const files = objects.map((o) => o.split('/').at(-1));
    expect(files).toEqual(expect.arrayContaining(['rows.jsonl', 'manifest.json', 'split.json']));
    expect(files.some((f) => f?.startsWith('evaluation-'))).toBe(true);
  });

  it('fails a retrain with a clear reason while MLflow is down, keeps the champion, and completes once it is back', async () => {
    await feed(sut, 200, 22);
    await tracking.down();
    const res = await sut.gql(TRIGGER, { reason: 'test: mlflow outage' }, { token: ADMIN_TOKEN });
    const id = res.data.triggerRetrain.id;
    const job = async () => (await sut.gql(JOBS)).data.retrainJobs.find((j: any) => j.id === id);
    await expect.poll(async () => (await job())?.state, { timeout: 30_000, interval: 200 }).toBe('FAILED');
    expect((await job()).message).toMatch(/attempt 1 of 4 failed: .*(unreachable|unavailable|ECONNREFUSED).*; retrying/i);
    // The champion is unchanged and no model version was added.
    const versions = (await sut.gql(VERSIONS)).data.modelVersions;
    expect(versions.map((v: any) => [v.version, v.status])).toEqual([
      [2, 'LIVE'],
      [1, 'RETIRED'],
    ]);
    await tracking.up();
    await expect.poll(async () => (await job())?.state, { timeout: 60_000, interval: 250 }).toBe('PROMOTED');
    expect((await job()).attempts).toBeGreaterThanOrEqual(2);
    const after = (await sut.gql(VERSIONS)).data.modelVersions;
    expect(after.map((v: any) => [v.version, v.status])).toEqual([
      [3, 'LIVE'],
      [2, 'RETIRED'],
      [1, 'RETIRED'],
    ]);
  });

  it('fails a retrain while MinIO is down without a partial dataset version, then completes', async () => {
    await feed(sut, 200, 23);
    const datasetsBefore = (await sut.app.services.datasets.latest('fraud'))!.version;
    await s3.down();
    const res = await sut.gql(TRIGGER, { reason: 'test: minio outage' }, { token: ADMIN_TOKEN });
    const id = res.data.triggerRetrain.id;
    const job = async () => (await sut.gql(JOBS)).data.retrainJobs.find((j: any) => j.id === id);
    await expect.poll(async () => (await job())?.state, { timeout: 60_000, interval: 200 }).toBe('FAILED');
    expect((await job()).message).toMatch(/attempt 1 of 4 failed: .*; retrying/);
    expect((await sut.app.services.datasets.latest('fraud'))!.version).toBe(datasetsBefore);
    expect((await sut.gql(VERSIONS)).data.modelVersions[0]).toMatchObject({ version: 3, status: 'LIVE' });
    await s3.up();
    await expect.poll(async () => (await job())?.state, { timeout: 60_000, interval: 250 }).toBe('PROMOTED');
    expect((await sut.app.services.datasets.latest('fraud'))!.version).toBe(datasetsBefore + 1);
  });
});
