import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PREDICT_FRAUD, SUBMIT_FEEDBACK, aFraudInput, startTestApp, type TestApp } from '../../test/test-app.js';

const SHARE = `query($window: MetricsWindow) { metrics(model: "fraud", window: $window) { feedbackCount predictionCount feedbackShare } }`;

describe('feedbackShare', () => {
  let sut: TestApp;
  const ids: string[] = [];
  beforeAll(async () => {
    sut = await startTestApp();
    // Ten predictions one after another; feedback on the 1st and 3rd, then the 7th and 9th.
    for (let i = 0; i < 10; i++) {
      const res = await sut.gql(PREDICT_FRAUD, { input: { fraud: aFraudInput({ amount: 10 + i }) } });
      ids.push(res.data.predict.id);
    }
    for (const i of [0, 2, 6, 8]) {
      const res = await sut.gql(SUBMIT_FEEDBACK, { input: { predictionId: ids[i], correct: true } });
      expect(res.errors).toBeUndefined();
    }
  });
  afterAll(() => sut?.stop());

  it('is the labelled share of all predictions over the lifetime', async () => {
    const res = await sut.gql(SHARE, {});
    expect(res.data.metrics).toEqual({ feedbackCount: 4, predictionCount: 10, feedbackShare: 0.4 });
  });

  it('over the last N feedback, compares them with the predictions made since the oldest one they label', async () => {
    // The last two feedback label the 7th and 9th predictions: of the 7th to 10th, half were labelled.
    const res = await sut.gql(SHARE, { window: { lastFeedback: 2 } });
    expect(res.data.metrics).toEqual({ feedbackCount: 2, predictionCount: 4, feedbackShare: 0.5 });
  });

  it('does not count outcomes of predictions made elsewhere as labelled predictions', async () => {
    const res = await sut.gql(
      `mutation { recordOutcomes(model: "fraud", outcomes: [{ predicted: "fraud", actual: "legit" }, { predicted: "legit", actual: "legit" }]) { count } }`,
    );
    expect(res.errors).toBeUndefined();
    const after = await sut.gql(SHARE, {});
    expect(after.data.metrics).toEqual({ feedbackCount: 6, predictionCount: 10, feedbackShare: 0.4 });
  });
});
