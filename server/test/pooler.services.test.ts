import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import WebSocket from 'ws';
import { startPgBouncer, type PgBouncerServer } from '../../scripts/services/pgbouncer.js';
import { freshDatabaseUrl } from './database.js';
import { deploymentEnv, postGraphql as gql, startApiProcess, startTrainerProcess, type RelearnProcess } from './processes.js';
import { ADMIN_TOKEN, PREDICT_FRAUD, SUBMIT_FEEDBACK, aFraudInput } from './test-app.js';

/**
 * Relearn behind PgBouncer in transaction mode (Debian's pgbouncer): two API processes and a
 * trainer with DATABASE_URL through the pooler, LISTEN on DATABASE_DIRECT_URL. Predictions,
 * feedback, a retrain (the queue, the streamed dataset read, advisory locks) and a cross-process
 * push all work through it.
 */
describe('through PgBouncer (pool_mode=transaction), LISTEN on a direct connection', () => {
  let bouncer: PgBouncerServer;
  const processes: RelearnProcess[] = [];
  const apis: string[] = [];
  let env: Record<string, string>;

  const startApi = async () => {
    apis.push((await startApiProcess(env, processes)).url);
  };

  beforeAll(async () => {
    const direct = await freshDatabaseUrl('pooler');
    bouncer = await startPgBouncer({ upstreamUrl: inject('postgresAdminUrl')!, dir: await mkdtemp(join(tmpdir(), 'relearn-pgbouncer-')), poolSize: 10 });
    env = await deploymentEnv('pooler', { DATABASE_URL: bouncer.urlFor(direct), DATABASE_DIRECT_URL: direct, ADMIN_TOKEN });
    await startApi();
    await startApi();
    await startTrainerProcess(env, processes);
  }, 300_000);

  afterAll(async () => {
    await Promise.all(processes.map((p) => p.kill()));
    await bouncer?.stop();
  });

  it('predictions and feedback go through the pooler, and feedback on API 2 is pushed to a subscriber on API 1', async () => {
    const [one, two] = apis;
    const client = createClient({ url: `${one!.replace('http', 'ws')}/graphql`, webSocketImpl: WebSocket, retryAttempts: 0 });
    const counts: number[] = [];
    const unsubscribe = client.subscribe<any>(
      { query: `subscription { metricsUpdated(model: "fraud") { feedbackCount } }` },
      { next: (r) => counts.push(r.data!.metricsUpdated.feedbackCount), error: () => {}, complete: () => {} },
    );
    await expect.poll(() => counts.length).toBe(1);
    const before = counts[0]!;
    for (let i = 0; i < 5; i++) {
      const p = await gql(two!, PREDICT_FRAUD, { input: { fraud: aFraudInput({ hour: i }) } });
      expect(p.errors).toBeUndefined();
      const f = await gql(two!, SUBMIT_FEEDBACK, { input: { predictionId: p.data.predict.id, correct: true } });
      expect(f.errors).toBeUndefined();
    }
    await expect.poll(() => counts.at(-1), { timeout: 30_000, interval: 20 }).toBe(before + 5);
    unsubscribe();
    await client.dispose();
  });

  it('a retrain runs on the trainer and its promotion reaches both APIs', async () => {
    for (let i = 0; i < 30; i++) {
      const p = await gql(apis[i % 2]!, PREDICT_FRAUD, { input: { fraud: aFraudInput({ hour: i % 24, amount: 20 + i }) } });
      await gql(apis[i % 2]!, SUBMIT_FEEDBACK, { input: { predictionId: p.data.predict.id, actual: i % 5 === 0 ? 'fraud' : 'legit' } });
    }
    const t = await gql(apis[0]!, `mutation { triggerRetrain(model: "fraud", reason: "pooler test") { id } }`, {}, ADMIN_TOKEN);
    expect(t.errors).toBeUndefined();
    const id = t.data.triggerRetrain.id as string;
    const job = async () => (await gql(apis[1]!, `{ retrainJobs(model: "fraud") { id state version } }`)).data.retrainJobs.find((j: any) => j.id === id);
    await expect.poll(async () => (await job())?.state, { timeout: 120_000, interval: 250 }).toMatch(/PROMOTED|REJECTED/);
    const done = await job();
    expect(done).toMatchObject({ state: 'PROMOTED', version: 2 });
    const versionOf = async (url: string) => (await gql(url, PREDICT_FRAUD, { input: { fraud: aFraudInput() } })).data.predict.modelVersion.version as number;
    await expect.poll(async () => Promise.all(apis.map(versionOf)), { timeout: 10_000, interval: 100 }).toEqual([2, 2]);
  }, 180_000);
});
