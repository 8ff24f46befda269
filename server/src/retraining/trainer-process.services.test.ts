import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabaseUrl } from '../../test/database.js';
import { startTrainerProcess, type RelearnProcess } from '../../test/processes.js';
import { freshBucket, testMinio } from '../../test/services.js';
import { ADMIN_TOKEN, startTestApp, type TestApp } from '../../test/test-app.js';

const JOBS = `{ retrainJobs(model: "spam") { id state version attempts message } }`;

/** An API process with no trainer inside, and trainers as separate processes that can crash. */
describe('npm run trainer', () => {
  let api: TestApp;
  let env: Record<string, string>;
  const trainers: RelearnProcess[] = [];

  beforeAll(async () => {
    const { endpoint, accessKey, secretKey } = testMinio();
    env = {
      DATABASE_URL: await freshDatabaseUrl('trainers'),
      AUTH_MODE: 'open',
      RATE_LIMITS: 'off',
      S3_ENDPOINT: endpoint,
      S3_ACCESS_KEY: accessKey,
      S3_SECRET_KEY: secretKey,
      S3_BUCKET: await freshBucket('trainers'),
      RETRAIN_RETRY_DELAY_SECONDS: '1',
    };
    api = await startTestApp({ databaseUrl: env.DATABASE_URL!, env: { ...env, TRAINER: 'off' } });
  });
  afterAll(async () => {
    await Promise.all(trainers.map((t) => t.kill()));
    await api?.stop();
  });

  const startTrainer = () => startTrainerProcess(env, trainers);

  it('a trainer killed in the middle of a job: another picks it up and it completes once, with one model version', async () => {
    const first = await startTrainer();
    const res = await api.gql(`mutation { triggerRetrain(model: "spam", reason: "test: crash") { id } }`, {}, { token: ADMIN_TOKEN });
    const id = res.data.triggerRetrain.id;
    const job = async () => (await api.gql(JOBS)).data.retrainJobs.find((j: any) => j.id === id);
    // Kill the trainer while the job is running (spam: thousands of messages to re-read and tokenize).
    await expect.poll(async () => (await job())?.state, { timeout: 60_000, interval: 20 }).toMatch(/SNAPSHOTTING|TRAINING|EVALUATING/);
    await first.kill();
    const stuck = await job();
    expect(stuck.state).toMatch(/SNAPSHOTTING|TRAINING|EVALUATING/);

    await startTrainer();
    // pg-boss notices the missed heartbeat, then the job is retried by the live trainer.
    await expect.poll(async () => (await job())?.state, { timeout: 90_000, interval: 500 }).toMatch(/PROMOTED|REJECTED/);
    const done = await job();
    expect(done.attempts).toBe(2);
    const versions = (await api.gql(`{ modelVersions(model: "spam") { version retrainJobId: mlflowRunId } }`)).data.modelVersions;
    expect(versions.map((v: any) => v.version)).toEqual([2, 1]);
    expect(done.version).toBe(2);
    // The API process follows the promotion made by the trainer process.
    if (done.state === 'PROMOTED') {
      await expect
        .poll(
          async () =>
            (await api.gql(`mutation { predict(input: { spam: { text: "hello" } }) { modelVersion { version } } }`)).data.predict.modelVersion.version,
          { timeout: 10_000 },
        )
        .toBe(2);
    }
  }, 180_000);
});
