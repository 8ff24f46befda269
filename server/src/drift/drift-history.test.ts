import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabaseUrl } from '../../test/database.js';
import { startTestApp, type TestApp } from '../../test/test-app.js';
import { generateFraudRows } from '../tasks/data/fraud-generator.js';

const DRIFT_HISTORY = /* GraphQL */ `
  query ($from: DateTime!, $to: DateTime!, $bucketSeconds: Int, $version: Int) {
    driftHistory(model: "fraud", from: $from, to: $to, bucketSeconds: $bucketSeconds, version: $version) {
      start end version drifted windowSize referenceSize features { name kind score pValue drifted unseenShare }
    }
  }
`;
const BATCH = `mutation($inputs: [PredictInput!]!) { predictBatch(inputs: $inputs) { id } }`;

/** Fraud inputs as training had them, or moved: amounts 4x and a merchant category training never had. */
const inputs = (n: number, seed: number, moved: boolean) =>
  generateFraudRows(n, { seed }).map((r, i) => ({
    fraud: moved ? { ...r.input, amount: Math.min(1_000_000, r.input.amount * 4), merchantCategory: i % 3 === 0 ? 'bnpl' : r.input.merchantCategory } : r.input,
  }));

type Bucket = {
  start: string;
  version: number | null;
  drifted: boolean;
  windowSize: number;
  referenceSize: number;
  features: { name: string; score: number | null; drifted: boolean }[];
};

describe('driftHistory', () => {
  let sut: TestApp;
  let db: pg.Client;
  const now = Date.now();
  const hour = 3_600_000;
  beforeAll(async () => {
    const databaseUrl = await freshDatabaseUrl('drift_history');
    sut = await startTestApp({ databaseUrl, env: { DRIFT_HISTORY_SAMPLE: '100', DRIFT_CACHE_SECONDS: '3600' } });
    db = new pg.Client({ connectionString: databaseUrl });
    await db.connect();
    // Two hours ago the inputs looked like training; now they have moved. The stable ones are
    // moved back in time by hand (predictions are stamped by the database when they are made).
    await sut.gql(BATCH, { inputs: inputs(300, 1, false) });
    await db.query(`update prediction set created_at = created_at - interval '2 hours'`);
    await sut.gql(BATCH, { inputs: inputs(300, 2, true) });
  });
  afterAll(async () => {
    await db?.end();
    await sut?.stop();
  });

  it('scores each bucket on a bounded sample of its predictions: quiet before the move, drifted after, empty buckets with null scores', async () => {
    const from = new Date(now - 3 * hour);
    const to = new Date(now + 60_000);
    const res = await sut.gql(DRIFT_HISTORY, { from: from.toISOString(), to: to.toISOString(), bucketSeconds: 3600 });
    expect(res.errors).toBeUndefined();
    const buckets: Bucket[] = res.data.driftHistory;
    expect(buckets).toHaveLength(4);
    const [empty, stable, , moved] = buckets as [Bucket, Bucket, Bucket, Bucket];
    const byName = (b: Bucket) => Object.fromEntries(b.features.map((f) => [f.name, f]));

    expect(empty).toMatchObject({ windowSize: 0, drifted: false, version: 1 });
    expect(byName(empty).amount!.score).toBeNull();

    expect(stable).toMatchObject({ windowSize: 100, drifted: false, version: 1 });
    expect(stable.referenceSize).toBeGreaterThan(1000);
    // PSI of 100 draws carries sampling noise (about 0.1 with no shift at all): the KS test keeps it from being flagged.
    expect(byName(stable).amount).toMatchObject({ drifted: false });

    expect(moved).toMatchObject({ windowSize: 100, drifted: true, version: 1 });
    expect(byName(moved).amount).toMatchObject({ drifted: true });
    expect(byName(moved).merchantCategory).toMatchObject({ drifted: true });
    expect(byName(moved).amount!.score!).toBeGreaterThan(byName(stable).amount!.score!);
  });

  it('with a version, only its predictions against its training data; refuses bad ranges naming the field', async () => {
    const from = new Date(now - 3 * hour).toISOString();
    const to = new Date(now + 60_000).toISOString();
    const one = await sut.gql(DRIFT_HISTORY, { from, to, bucketSeconds: 3600, version: 1 });
    expect(one.errors).toBeUndefined();
    expect(one.data.driftHistory.map((b: Bucket) => b.windowSize)).toEqual([0, 100, 0, 100]);

    const ask = (vars: Record<string, unknown>) => sut.gql(DRIFT_HISTORY, { from, to, ...vars });
    expect((await ask({ version: 99 })).errors![0]!.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'version' });
    expect((await ask({ bucketSeconds: 10 })).errors![0]!.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'bucketSeconds' });
    expect((await ask({ bucketSeconds: 0 })).errors![0]!.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'bucketSeconds' });
    expect((await ask({ to: from })).errors![0]!.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'to' });
  });

  it('a /metrics scrape reuses the drift report for DRIFT_CACHE_SECONDS instead of reading the inputs again', async () => {
    const scrape = async () => (await fetch(`${sut.url}/metrics`)).text();
    const flag = /relearn_model_input_drifted\{model="fraud"\} (\d)/;
    // The newest 1,000 predictions hold the moved ones: the scrape says drifted (the first may start the reference).
    await expect.poll(async () => flag.exec(await scrape())?.[1], { timeout: 30_000, interval: 200 }).toBe('1');
    // Now the newest 1,000 look like training again: drift() says so at once, the scrape keeps its report...
    await sut.gql(BATCH, { inputs: inputs(1000, 3, false) });
    expect((await sut.gql(`{ drift(model: "fraud") { drifted windowSize } }`)).data.drift).toEqual({ drifted: false, windowSize: 1000 });
    expect(flag.exec(await scrape())?.[1]).toBe('1');
    // ...until it is refreshed (or DRIFT_CACHE_SECONDS pass).
    sut.app.services.drift.refreshScrapes();
    expect(flag.exec(await scrape())?.[1]).toBe('0');
  });
});
