import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, SUBMIT_FEEDBACK, aFraudInput, startTestApp, type TestApp } from '../../test/test-app.js';

const HISTORY = /* GraphQL */ `
  query ($from: DateTime!, $to: DateTime!, $bucketSeconds: Int, $by: MetricsHistoryAxis, $version: Int) {
    metricsHistory(model: "fraud", from: $from, to: $to, bucketSeconds: $bucketSeconds, by: $by, version: $version) {
      start end predictionCount feedbackCount accuracy accuracyInterval { lower upper } f1Interval { lower upper }
      labelledShare correctedAccuracy correctedAccuracyInterval { lower upper } auditedAccuracy
      estimatedAccuracy estimatedAccuracyInterval { lower upper } unlabelledCount markers { kind at version message }
    }
  }
`;

describe('metricsHistory', () => {
  let sut: TestApp;
  let from: Date;
  beforeAll(async () => {
    sut = await startTestApp({ env: { AUDIT_SAMPLE_RATE: '0.5' } });
    from = new Date(Date.now() - 3_600_000);
    const ids: string[] = [];
    for (let i = 0; i < 30; i++) {
      const res = await sut.gql(`mutation($input: PredictInput!) { predict(input: $input) { id } }`, { input: { fraud: aFraudInput({ amount: 10 + i }) } });
      ids.push(res.data.predict.id);
    }
    for (const [i, id] of ids.slice(0, 20).entries()) await sut.gql(SUBMIT_FEEDBACK, { input: { predictionId: id, correct: i % 4 !== 0 } });
  });
  afterAll(() => sut?.stop());

  it('buckets by prediction time, with intervals, corrected and estimated accuracy, and an empty bucket where nothing happened', async () => {
    const to = new Date(Date.now() + 60_000);
    const res = await sut.gql(HISTORY, { from: from.toISOString(), to: to.toISOString(), bucketSeconds: 600 });
    expect(res.errors).toBeUndefined();
    const buckets = res.data.metricsHistory;
    expect(buckets).toHaveLength(Math.ceil((to.getTime() - from.getTime()) / 600_000));
    expect(buckets[0]).toMatchObject({ predictionCount: 0, feedbackCount: 0, accuracy: null, accuracyInterval: null, correctedAccuracy: null });
    const total = buckets.reduce((s: number, b: { predictionCount: number }) => s + b.predictionCount, 0);
    expect(total).toBe(30);
    const last = buckets.at(-1);
    expect(last.feedbackCount).toBe(20);
    expect(last.accuracy).toBeCloseTo(0.75, 12);
    expect(last.labelledShare).toBeCloseTo(20 / 30, 12);
    expect(last.unlabelledCount).toBe(10);
    expect(last.accuracyInterval.lower).toBeLessThan(0.75);
    expect(last.correctedAccuracyInterval.upper).toBeGreaterThanOrEqual(last.correctedAccuracy);
    expect(last.estimatedAccuracyInterval.lower).toBeLessThanOrEqual(last.estimatedAccuracy);
  });

  it('by feedback time counts the feedback given in each bucket; a default bucket size keeps to 100 buckets', async () => {
    const to = new Date(Date.now() + 60_000);
    const res = await sut.gql(HISTORY, { from: from.toISOString(), to: to.toISOString(), by: 'FEEDBACK_TIME' });
    expect(res.errors).toBeUndefined();
    expect(res.data.metricsHistory.length).toBeLessThanOrEqual(100);
    expect(res.data.metricsHistory.reduce((s: number, b: { feedbackCount: number }) => s + b.feedbackCount, 0)).toBe(20);
  });

  it('marks activations, retrains and alerts in their bucket', async () => {
    const activated = await sut.gql(
      `mutation { activateModelVersion(model: "fraud", version: 1, reason: "history marker") { version } }`,
      {},
      { token: ADMIN_TOKEN },
    );
    expect(activated.errors).toBeUndefined();
    const res = await sut.gql(HISTORY, { from: from.toISOString(), to: new Date(Date.now() + 60_000).toISOString() });
    const markers = res.data.metricsHistory.flatMap((b: { markers: unknown[] }) => b.markers);
    expect(markers).toEqual(
      expect.arrayContaining([expect.objectContaining({ kind: 'activation', version: 1, message: expect.stringContaining('history marker') })]),
    );
  });

  it('refuses a backwards range, too many buckets or a range over 400 days, naming the field', async () => {
    const now = Date.now();
    const ask = (f: number, t: number, bucketSeconds?: number) =>
      sut.gql(HISTORY, { from: new Date(f).toISOString(), to: new Date(t).toISOString(), bucketSeconds });
    expect((await ask(now, now - 1000)).errors![0]!.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'to' });
    expect((await ask(now - 86_400_000, now, 1)).errors![0]!.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'bucketSeconds' });
    expect((await ask(now - 401 * 86_400_000, now)).errors![0]!.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'to' });
    expect((await ask(now - 1000, now, 0)).errors![0]!.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'bucketSeconds' });
  });
});
