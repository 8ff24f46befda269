import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PREDICT_FRAUD, SUBMIT_FEEDBACK, aFraudInput, nextResults, startTestApp, type TestApp } from '../../test/test-app.js';

const METRICS_UPDATED = `subscription($model: String!) { metricsUpdated(model: $model) { model accuracy feedbackCount confusion { tp tn fp fn } } }`;

describe('metricsUpdated subscription (graphql-ws)', () => {
  let sut: TestApp;
  beforeAll(async () => {
    sut = await startTestApp();
  });
  afterAll(() => sut?.stop());

  it('pushes the current figures at once, then a coalesced update after a burst of feedback', async () => {
    const client = sut.wsClient();
    const sub = nextResults<any>(client, METRICS_UPDATED, { model: 'fraud' }, 50, 4000);
    await expect.poll(() => sub.results.length).toBe(1);
    expect(sub.results[0].metricsUpdated.feedbackCount).toBe(0);

    const predictions = await Promise.all(Array.from({ length: 20 }, () => sut.gql(PREDICT_FRAUD, { input: { fraud: aFraudInput() } })));
    await Promise.all(predictions.map((p) => sut.gql(SUBMIT_FEEDBACK, { input: { predictionId: p.data.predict.id, correct: true } })));
    await expect.poll(() => sub.results.at(-1)?.metricsUpdated.feedbackCount, { timeout: 3000 }).toBe(20);
    // 20 feedback, far fewer pushes: bursts are coalesced.
    expect(sub.results.length).toBeLessThan(10);
    expect(sub.results.at(-1).metricsUpdated.accuracy).toBe(1);
    sub.unsubscribe();
  });

  it('does not push updates of another model', async () => {
    const client = sut.wsClient();
    const sub = nextResults<any>(client, METRICS_UPDATED, { model: 'spam' }, 50, 4000);
    // A subscriber of the model that does change: its push is the sign that the feedback went
    // through the push path, so spam's silence then means something.
    const fraud = nextResults<any>(client, METRICS_UPDATED, { model: 'fraud' }, 50, 60_000);
    await expect.poll(() => sub.results.length).toBe(1);
    await expect.poll(() => fraud.results.length).toBe(1);
    const before = fraud.results[0].metricsUpdated.feedbackCount;
    const p = await sut.gql(PREDICT_FRAUD, { input: { fraud: aFraudInput() } });
    await sut.gql(SUBMIT_FEEDBACK, { input: { predictionId: p.data.predict.id, correct: false } });
    await expect.poll(() => fraud.results.at(-1).metricsUpdated.feedbackCount, { timeout: 30_000 }).toBe(before + 1);
    expect(sub.results.length).toBe(1);
    fraud.unsubscribe();
    sub.unsubscribe();
  });

  it('refuses an unknown model with BAD_USER_INPUT', async () => {
    const client = sut.wsClient();
    const sub = nextResults<any>(client, METRICS_UPDATED, { model: 'nope' }, 1, 4000);
    await expect(sub.done).rejects.toThrow(/BAD_USER_INPUT/);
  });
});
