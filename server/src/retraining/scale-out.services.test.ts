import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabaseUrl } from '../../test/database.js';
import { deploymentEnv, postGraphql as gql, startApiProcess, startTrainerProcess, type ApiProcess, type RelearnProcess } from '../../test/processes.js';
import { ADMIN_TOKEN, PREDICT_FRAUD, SUBMIT_FEEDBACK, aFraudInput } from '../../test/test-app.js';

/**
 * Two API processes and two trainers over one real PostgreSQL, MinIO and MLflow — the way
 * docker-compose runs them — behaving as one system.
 */
describe('scale-out: two API processes and two trainers', () => {
  const processes: RelearnProcess[] = [];
  const apis: ApiProcess[] = [];
  const trainers: RelearnProcess[] = [];
  let env: Record<string, string>;

  const startApi = async () => {
    apis.push(await startApiProcess(env, processes));
  };
  const startTrainer = async () => {
    trainers.push(await startTrainerProcess(env, processes));
  };

  beforeAll(async () => {
    env = await deploymentEnv('scaleout', { DATABASE_URL: await freshDatabaseUrl('scaleout'), ADMIN_TOKEN });
    // The first process bootstraps the models; the others find them.
    await startApi();
    await Promise.all([startApi(), startTrainer(), startTrainer()]);
  }, 300_000);

  afterAll(async () => {
    await Promise.all(processes.map((p) => p.kill()));
  });

  it('a subscriber on API 1 sees the metrics of feedback sent to API 2 (the delay is printed, not asserted)', async () => {
    const [one, two] = apis;
    const client = createClient({ url: `${one!.url.replace('http', 'ws')}/graphql`, webSocketImpl: WebSocket, retryAttempts: 0 });
    const counts: { feedbackCount: number; at: number }[] = [];
    const unsubscribe = client.subscribe<any>(
      { query: `subscription { metricsUpdated(model: "fraud") { feedbackCount } }` },
      { next: (r) => counts.push({ feedbackCount: r.data!.metricsUpdated.feedbackCount, at: Date.now() }), error: () => {}, complete: () => {} },
    );
    await expect.poll(() => counts.length).toBe(1);
    const before = counts[0]!.feedbackCount;
    const p = await gql(two!.url, PREDICT_FRAUD, { input: { fraud: aFraudInput() } });
    const sent = Date.now();
    const f = await gql(two!.url, SUBMIT_FEEDBACK, { input: { predictionId: p.data.predict.id, correct: true } });
    expect(f.errors).toBeUndefined();
    // A bounded wait for the push, not a speed check: a loaded CI machine may be slow.
    await expect.poll(() => counts.at(-1)!.feedbackCount, { timeout: 30_000, interval: 20 }).toBe(before + 1);
    console.log(`cross-process push: feedback on API 2 reached a subscriber on API 1 after ${counts.at(-1)!.at - sent} ms`);
    unsubscribe();
    await client.dispose();
  });

  it('feedback taken by one API teaches the live model of the other: both serve the same model', async () => {
    const [one, two] = apis;
    const input = { fraud: aFraudInput({ amount: 640, hour: 1, merchantCategory: 'jewelry', previousAmount: 30, timeSinceLast: 1.5 }) };
    const scores = async (url: string) => (await gql(url, PREDICT_FRAUD, { input })).data.predict.scores as { label: string; probability: number }[];
    const before = await scores(one!.url);
    for (let i = 0; i < 20; i++) {
      const p = await gql(two!.url, PREDICT_FRAUD, { input });
      await gql(two!.url, SUBMIT_FEEDBACK, { input: { predictionId: p.data.predict.id, actual: 'legit' } });
    }
    const fraudOf = (s: { label: string; probability: number }[]) => s.find((x) => x.label === 'fraud')!.probability;
    await expect.poll(async () => fraudOf(await scores(one!.url)), { timeout: 3000, interval: 50 }).toBeLessThan(fraudOf(before));
    // Same version, same feedback: the two processes' models agree exactly.
    await expect.poll(async () => JSON.stringify(await scores(one!.url)) === JSON.stringify(await scores(two!.url)), { timeout: 3000 }).toBe(true);
  });

  it('a retrain triggered several times through both APIs runs exactly once, and its promotion switches both APIs with no failed request under load', async () => {
    const versionOf = async (url: string) => (await gql(url, PREDICT_FRAUD, { input: { fraud: aFraudInput() } })).data.predict.modelVersion.version as number;
    expect(await Promise.all(apis.map((a) => versionOf(a.url)))).toEqual([1, 1]);

    // Steady traffic on both APIs during the whole retrain and switch.
    let stop = false;
    const failures: unknown[] = [];
    let served = 0;
    const load = apis.flatMap((api) =>
      Array.from({ length: 4 }, async () => {
        while (!stop) {
          const r = await gql(api.url, PREDICT_FRAUD, { input: { fraud: aFraudInput({ hour: served % 24 }) } }).catch((e) => ({ errors: [String(e)] }));
          if (r.errors) failures.push(r.errors);
          else served++;
        }
      }),
    );

    const triggers = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        gql(apis[i % 2]!.url, `mutation($r: String) { triggerRetrain(model: "fraud", reason: $r) { id } }`, { r: `burst ${i}` }, ADMIN_TOKEN),
      ),
    );
    expect(triggers.every((t) => !t.errors)).toBe(true);
    const ids = new Set(triggers.map((t) => t.data.triggerRetrain.id));
    expect(ids.size).toBe(1);
    const [jobId] = [...ids];

    const job = async () => (await gql(apis[0]!.url, `{ retrainJobs(model: "fraud") { id state version attempts } }`)).data.retrainJobs;
    await expect.poll(async () => (await job()).find((j: any) => j.id === jobId)?.state, { timeout: 120_000, interval: 250 }).toMatch(/PROMOTED|REJECTED/);
    const jobs = await job();
    expect(jobs).toHaveLength(1);
    expect(jobs[0]).toMatchObject({ state: 'PROMOTED', version: 2, attempts: 1 });
    // Exactly one trainer ran it.
    const runners = trainers.filter((t) => t.output().includes(jobId as string) && /retrain started/.test(t.output()));
    expect(runners).toHaveLength(1);

    await expect.poll(async () => Promise.all(apis.map((a) => versionOf(a.url))), { timeout: 10_000, interval: 100 }).toEqual([2, 2]);
    stop = true;
    await Promise.all(load);
    expect(failures).toEqual([]);
    expect(served).toBeGreaterThan(50);
    const versions = (await gql(apis[1]!.url, `{ modelVersions(model: "fraud") { version status } }`)).data.modelVersions;
    expect(versions).toEqual([
      { version: 2, status: 'LIVE' },
      { version: 1, status: 'RETIRED' },
    ]);
  }, 180_000);

  it('a trainer killed in the middle of a job: the other finishes it, and exactly one model version results', async () => {
    const res = await gql(apis[1]!.url, `mutation { triggerRetrain(model: "spam", reason: "test: kill") { id } }`, {}, ADMIN_TOKEN);
    const id = res.data.triggerRetrain.id as string;
    const state = async () =>
      (await gql(apis[0]!.url, `{ retrainJobs(model: "spam") { id state version attempts } }`)).data.retrainJobs.find((j: any) => j.id === id);
    await expect.poll(async () => (await state())?.state, { timeout: 60_000, interval: 20 }).toMatch(/SNAPSHOTTING|TRAINING|EVALUATING/);
    const runner = trainers.find((t) => t.output().includes(id));
    expect(runner).toBeDefined();
    await runner!.kill();
    const survivor = trainers.find((t) => t !== runner)!;
    await expect.poll(async () => (await state())?.state, { timeout: 120_000, interval: 500 }).toMatch(/PROMOTED|REJECTED/);
    const done = await state();
    expect(done.attempts).toBe(2);
    expect(survivor.output()).toContain(id);
    const versions = (await gql(apis[0]!.url, `{ modelVersions(model: "spam") { version } }`)).data.modelVersions;
    expect(versions.map((v: any) => v.version)).toEqual([2, 1]);
  }, 240_000);
});
