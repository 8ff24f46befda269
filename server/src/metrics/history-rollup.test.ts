import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, startTestApp, type TestApp } from '../../test/test-app.js';
import { createRng } from '../simulation/scenarios.js';
import { generateFraudRows } from '../tasks/data/fraud-generator.js';

const BATCH = `mutation($inputs: [PredictInput!]!) { predictBatch(inputs: $inputs) { id label probability } }`;
const FEEDBACK = `mutation($input: FeedbackInput!) { submitFeedback(input: $input) { id quarantined } }`;
const HOUR = 3_600_000;

/** Numbers to 9 significant digits: the rollup sums strata in another order than the raw scan. */
const rounded = (value: unknown) => JSON.parse(JSON.stringify(value, (_, v) => (typeof v === 'number' ? Number(v.toPrecision(9)) : v)));

describe('metricsHistory from the hourly rollup', () => {
  let sut: TestApp;
  const rng = createRng(7);
  const now = Date.now();
  let predictions: { id: string; label: string; probability: number }[] = [];
  const adminFeedback: string[] = [];

  const db = () => sut.app.orm.em.getKysely();
  /** The same range by the rollup (the default) and by every prediction. */
  const both = async (range: { from: Date; to: Date; bucketSeconds: number; modelVersionId?: number | null }) => {
    const r = { modelVersionId: null, axis: 'prediction' as const, ...range };
    const rolled = await sut.app.services.metrics.history('fraud', r);
    const raw = await sut.app.services.metrics.history('fraud', { ...r, source: 'raw' });
    return { rolled: rounded(rolled), raw: rounded(raw) };
  };
  const ranges = () => [
    // Not on the hour: every bucket has a partial hour at each edge, read raw.
    { from: new Date(now - 80 * HOUR - 17 * 60_000), to: new Date(now + 60_000), bucketSeconds: 3600 },
    // On the hour: whole buckets from the rollup, the newest hours raw.
    { from: new Date(Math.floor(now / HOUR) * HOUR - 75 * HOUR), to: new Date(Math.floor(now / HOUR) * HOUR + 2 * HOUR), bucketSeconds: 3600 },
    { from: new Date(now - 4 * 86_400_000), to: new Date(now), bucketSeconds: 86_400 },
    { from: new Date(now - 6 * HOUR), to: new Date(now), bucketSeconds: 900 },
    { from: new Date(now - 4 * 86_400_000), to: new Date(now), bucketSeconds: 21_600, modelVersionId: 1 },
  ];

  beforeAll(async () => {
    // Only the admin is trusted: anonymous labels that contradict a confident prediction are quarantined.
    sut = await startTestApp({ env: { TRUSTED_SOURCES: 'labeller', AUDIT_SAMPLE_RATE: '0.3', AUTO_RETRAIN: 'off', ONLINE_LEARNING: 'off' } });
    const rows = generateFraudRows(400, { seed: 11, fraudRate: 0.3 });
    predictions = (await sut.gql(BATCH, { inputs: rows.map((r) => ({ fraud: r.input })) })).data.predictBatch;
    // Spread over the last three days (predictions are stamped by the database; moved by hand),
    // a few of them exactly on an hour.
    const times = predictions.map((_, i) => new Date(i % 40 === 0 ? Math.floor(now / HOUR) * HOUR - (i / 40) * HOUR : now - Math.floor(rng() * 72 * HOUR)));
    await sql`update prediction set created_at = v.t from unnest(${predictions.map((p) => p.id)}::uuid[], ${times.map((t) => t.toISOString())}::timestamptz[]) as v(id, t)
      where prediction.id = v.id`.execute(db());
    for (const p of predictions.slice(0, 200)) {
      const res = await sut.gql(FEEDBACK, { input: { predictionId: p.id, correct: rng() < 0.85 } }, { token: ADMIN_TOKEN });
      adminFeedback.push(res.data.submitFeedback.id);
    }
  });
  afterAll(() => sut?.stop());

  it('gives the raw numbers on random data, from rollup rows', async () => {
    for (const range of ranges()) {
      const { rolled, raw } = await both(range);
      expect(rolled).toEqual(raw);
    }
    const { rows } = await sql<{ n: string }>`select count(*) as n from history_rollup where model = 'fraud'`.execute(db());
    expect(Number(rows[0]!.n)).toBeGreaterThan(50);
  });

  it("keeps each closed hour's estimate as it was then, while the labels that arrive later move the realised accuracy", async () => {
    const hourly = ranges()[1]!;
    const first = await sut.app.services.metrics.history('fraud', { ...hourly, modelVersionId: null, axis: 'prediction' });
    // Hours that closed within the last day, with unlabelled predictions, have an estimate stored when first seen...
    const recent = first.filter((b) => b.end.getTime() <= now - 10 * 60_000 && b.end.getTime() > now - 20 * HOUR && b.honest.unlabelled > 0);
    expect(recent.length).toBeGreaterThan(3);
    for (const b of recent) {
      expect(b.estimatedThen).not.toBeNull();
      expect(b.estimatedThen!.value).toBeCloseTo(b.honest.estimated!.value, 9);
      expect(b.estimatedThen!.unlabelled).toBe(b.honest.unlabelled);
    }
    // ...older ones have none (an estimate made now would not be "then").
    expect(first[0]!.estimatedThen).toBeNull();
    // Labels arrive for the predictions of those hours (but those the next test labels): the estimate stays what it was.
    const reserved = predictions.slice(200, 360).map((p) => p.id);
    const label = await sql<{
      id: string;
    }>`select p.id from prediction p where p.model = 'fraud' and p.created_at >= ${recent[0]!.start} and p.created_at < ${recent.at(-1)!.end}
      and not exists (select 1 from feedback f where f.prediction_id = p.id) and not p.id = any(${reserved}::uuid[])`.execute(db());
    for (const { id } of label.rows) await sut.gql(FEEDBACK, { input: { predictionId: id, correct: rng() < 0.8 } }, { token: ADMIN_TOKEN });
    const later = await sut.app.services.metrics.history('fraud', { ...hourly, modelVersionId: null, axis: 'prediction' });
    expect(label.rows.length).toBeGreaterThan(0);
    const laterOf = (b: (typeof recent)[number]) => later.find((x) => x.start.getTime() === b.start.getTime())!;
    expect(recent.reduce((s, b) => s + laterOf(b).honest.unlabelled, 0)).toBe(recent.reduce((s, b) => s + b.honest.unlabelled, 0) - label.rows.length);
    for (const b of recent) expect(laterOf(b).estimatedThen).toEqual(b.estimatedThen);
    const gql = await sut.gql(
      `query($from: DateTime!, $to: DateTime!) { metricsHistory(model: "fraud", from: $from, to: $to, bucketSeconds: 3600) { accuracy estimatedAccuracyThen estimatedAccuracyThenInterval { lower upper } estimatedThenCount estimatedThenAt } }`,
      { from: hourly.from.toISOString(), to: hourly.to.toISOString() },
    );
    expect(gql.errors).toBeUndefined();
    expect(gql.data.metricsHistory.filter((b: { estimatedAccuracyThen: number | null }) => b.estimatedAccuracyThen !== null).length).toBe(
      later.filter((b) => b.estimatedThen !== null).length,
    );
  });

  it('still gives them after late feedback, a retraction, quarantine and its release changed old hours', async () => {
    // Late labels on old predictions (trusted), and contradicting anonymous ones (quarantined).
    for (const p of predictions.slice(200, 280)) await sut.gql(FEEDBACK, { input: { predictionId: p.id, correct: rng() < 0.7 } }, { token: ADMIN_TOKEN });
    const quarantined: string[] = [];
    for (const p of predictions.slice(280, 360)) {
      const res = await sut.gql(FEEDBACK, { input: { predictionId: p.id, correct: false } });
      if (res.data.submitFeedback.quarantined) quarantined.push(res.data.submitFeedback.id);
    }
    expect(quarantined.length).toBeGreaterThan(0);
    const { rows: dirty } = await sql<{ n: string }>`select count(*) as n from history_rollup_dirty where model = 'fraud'`.execute(db());
    expect(Number(dirty[0]!.n)).toBeGreaterThan(0);
    for (const range of ranges()) {
      const { rolled, raw } = await both(range);
      expect(rolled).toEqual(raw);
    }

    const retracted = await sut.gql(
      `mutation($ids: [ID!]) { retractFeedback(input: { ids: $ids, reason: "test: rollup" }) { count } }`,
      { ids: adminFeedback.slice(0, 40) },
      { token: ADMIN_TOKEN },
    );
    expect(retracted.data.retractFeedback.count).toBe(40);
    const released = await sut.gql(
      `mutation($ids: [ID!]!) { reviewQuarantine(ids: $ids, decision: RELEASE) }`,
      { ids: quarantined.slice(0, Math.ceil(quarantined.length / 2)) },
      { token: ADMIN_TOKEN },
    );
    expect(released.errors).toBeUndefined();
    for (const range of ranges()) {
      const { rolled, raw } = await both(range);
      expect(rolled).toEqual(raw);
    }
    // Every change was folded in.
    const { rows: left } = await sql<{ n: string }>`select count(*) as n from history_rollup_dirty where model = 'fraud'`.execute(db());
    expect(Number(left[0]!.n)).toBe(0);
  });
});

describe('the rollup catch-up a history request does', () => {
  let sut: TestApp;
  const now = Date.now();
  beforeAll(async () => {
    sut = await startTestApp({ env: { AUTO_RETRAIN: 'off' } });
    const rows = generateFraudRows(120, { seed: 5, fraudRate: 0.3 });
    const predicted = (await sut.gql(BATCH, { inputs: rows.map((r) => ({ fraud: r.input })) })).data.predictBatch as { id: string }[];
    // Spread over the last 120 days, one a day (moved by hand before anything was rolled up).
    await sql`update prediction set created_at = v.t
      from unnest(${predicted.map((p) => p.id)}::uuid[], ${predicted.map((_, i) => new Date(now - i * 86_400_000 - 1800_000).toISOString())}::timestamptz[]) as v(id, t)
      where prediction.id = v.id`.execute(sut.app.orm.em.getKysely());
  });
  afterAll(() => sut?.stop());

  const through = async () => {
    const { rows } = await sql<{ through: Date }>`select through from history_rollup_state where model = 'fraud'`.execute(sut.app.orm.em.getKysely());
    return new Date(rows[0]!.through).getTime();
  };
  const range = { from: new Date(now - 130 * 86_400_000), to: new Date(now), bucketSeconds: 7 * 86_400, modelVersionId: null, axis: 'prediction' as const };

  it('rolls at most four weeks per request and reads the rest raw, with the same numbers; catchUpHistory rolls the rest', async () => {
    const raw = rounded(await sut.app.services.metrics.history('fraud', { ...range, source: 'raw' }));
    expect(rounded(await sut.app.services.metrics.history('fraud', range))).toEqual(raw);
    const first = (now - 119 * 86_400_000 - 1800_000) / HOUR;
    // Four weeks past the first prediction's hour, not to now.
    expect((await through()) / HOUR - Math.floor(first)).toBe(4 * 7 * 24);
    expect(rounded(await sut.app.services.metrics.history('fraud', range))).toEqual(raw);
    expect((await through()) / HOUR - Math.floor(first)).toBe(8 * 7 * 24);
    await sut.app.services.metrics.catchUpHistory('fraud');
    expect(await through()).toBeGreaterThan(now - 2 * HOUR);
    expect(rounded(await sut.app.services.metrics.history('fraud', range))).toEqual(raw);
  });
});
