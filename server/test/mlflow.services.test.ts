// The test MLflow server itself: tracking API on PostgreSQL, artifacts proxied into MinIO.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { MLFLOW_BUCKET } from './global-setup.js';
import { testMinioClient, testMlflowUrl } from './services.js';

async function mlflowPost<T>(path: string, body: unknown): Promise<T> {
  const response = await fetch(`${testMlflowUrl()}/api/2.0/mlflow/${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`POST ${path}: HTTP ${response.status} ${text}`);
  return JSON.parse(text) as T;
}

describe('test MLflow server', () => {
  it('answers /health with OK', async () => {
    const response = await fetch(`${testMlflowUrl()}/health`);
    expect(response.status).toBe(200);
    expect((await response.text()).trim()).toBe('OK');
  });

  it('creates an experiment and a run, and stores a run artifact through its proxy into MinIO', async () => {
    const name = `harness-${randomBytes(4).toString('hex')}`;
    const { experiment_id: experimentId } = await mlflowPost<{ experiment_id: string }>('experiments/create', { name });
    const byName = await fetch(`${testMlflowUrl()}/api/2.0/mlflow/experiments/get-by-name?experiment_name=${name}`);
    expect(((await byName.json()) as { experiment: { experiment_id: string } }).experiment.experiment_id).toBe(experimentId);

    const { run } = await mlflowPost<{ run: { info: { run_id: string; artifact_uri: string } } }>('runs/create', {
      experiment_id: experimentId,
      run_name: 'harness',
      start_time: Date.now(),
    });
    expect(run.info.artifact_uri).toBe(`mlflow-artifacts:/${experimentId}/${run.info.run_id}/artifacts`);

    const artifactDir = run.info.artifact_uri.replace(/^mlflow-artifacts:\//, '');
    const body = randomBytes(4096);
    const artifactUrl = `${testMlflowUrl()}/api/2.0/mlflow-artifacts/artifacts/${artifactDir}/model/weights.bin`;
    const upload = await fetch(artifactUrl, { method: 'PUT', body });
    expect(upload.status, await upload.clone().text()).toBe(200);

    const download = await fetch(artifactUrl);
    expect(Buffer.compare(Buffer.from(await download.arrayBuffer()), body)).toBe(0);
    const listing = await fetch(`${testMlflowUrl()}/api/2.0/mlflow-artifacts/artifacts?path=${encodeURIComponent(`${artifactDir}/model`)}`);
    expect(await listing.json()).toEqual({ files: [{ path: 'weights.bin', is_dir: false, file_size: body.length }] });

    // The proxy wrote a real object into the bucket.
    const stored = await testMinioClient().getObject(MLFLOW_BUCKET, `${artifactDir}/model/weights.bin`);
    const chunks: Buffer[] = [];
    for await (const chunk of stored) chunks.push(chunk as Buffer);
    expect(Buffer.compare(Buffer.concat(chunks), body)).toBe(0);
  });
});
