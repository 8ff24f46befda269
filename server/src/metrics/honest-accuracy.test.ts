import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SUBMIT_FEEDBACK, aFraudInput, startTestApp, type TestApp } from '../../test/test-app.js';

const HONEST = /* GraphQL */ `
  query ($window: MetricsWindow) {
    metrics(model: "fraud", window: $window) {
      accuracy accuracyInterval { lower upper } precisionInterval { lower upper } recallInterval { lower upper } f1Interval { lower upper }
      labelledShare correctedAccuracy correctedAccuracyInterval { lower upper }
      auditedAccuracy auditedAccuracyInterval { lower upper } auditRequestedCount auditLabelledCount
      estimatedAccuracy estimatedAccuracyInterval { lower upper } unlabelledCount calibrationSource
    }
  }
`;

describe('honest accuracy through the API (every prediction audited: AUDIT_SAMPLE_RATE=1)', () => {
  let sut: TestApp;
  const ids: { id: string; feedbackRequested: boolean }[] = [];
  beforeAll(async () => {
    sut = await startTestApp({ env: { AUDIT_SAMPLE_RATE: '1' } });
    for (let i = 0; i < 40; i++) {
      const res = await sut.gql(`mutation($input: PredictInput!) { predict(input: $input) { id feedbackRequested } }`, {
        input: { fraud: aFraudInput({ amount: 10 + i }) },
      });
      ids.push(res.data.predict);
    }
    // Feedback on the first 30: 24 right, 6 wrong.
    for (const [i, p] of ids.slice(0, 30).entries()) {
      const res = await sut.gql(SUBMIT_FEEDBACK, { input: { predictionId: p.id, correct: i % 5 !== 0 } });
      expect(res.errors).toBeUndefined();
    }
  });
  afterAll(() => sut?.stop());

  it('records and returns feedbackRequested with the prediction', async () => {
    expect(ids.every((p) => p.feedbackRequested)).toBe(true);
    const res = await sut.gql(`query($id: ID!) { prediction(id: $id) { feedbackRequested } }`, { id: ids[0]!.id });
    expect(res.data.prediction.feedbackRequested).toBe(true);
  });

  it('shows raw, corrected, audited and estimated accuracy side by side, each inside its interval', async () => {
    const res = await sut.gql(HONEST, {});
    expect(res.errors).toBeUndefined();
    const m = res.data.metrics;
    expect(m.accuracy).toBeCloseTo(0.8, 12);
    expect(m.labelledShare).toBeCloseTo(0.75, 12);
    expect(m.auditRequestedCount).toBe(40);
    expect(m.auditLabelledCount).toBe(30);
    expect(m.auditedAccuracy).toBeCloseTo(0.8, 12);
    expect(m.unlabelledCount).toBe(10);
    expect(m.calibrationSource).toBe('labelled');
    for (const [value, interval] of [
      [m.accuracy, m.accuracyInterval],
      [m.correctedAccuracy, m.correctedAccuracyInterval],
      [m.auditedAccuracy, m.auditedAccuracyInterval],
      [m.estimatedAccuracy, m.estimatedAccuracyInterval],
    ]) {
      expect(interval.lower).toBeLessThanOrEqual(value);
      expect(interval.upper).toBeGreaterThanOrEqual(value);
      expect(interval.upper - interval.lower).toBeGreaterThan(0);
    }
  });

  it('over a window too, and null (never NaN) where nothing is known', async () => {
    const res = await sut.gql(HONEST, { window: { lastFeedback: 5 } });
    expect(res.errors).toBeUndefined();
    expect(res.data.metrics.accuracyInterval).not.toBeNull();
    const spam = await sut.gql(
      `{ metrics(model: "spam") { accuracyInterval { lower } f1Interval { lower } correctedAccuracy estimatedAccuracy labelledShare } }`,
    );
    expect(spam.data.metrics).toEqual({ accuracyInterval: null, f1Interval: null, correctedAccuracy: null, estimatedAccuracy: null, labelledShare: null });
  });

  it('/metrics carries each interval as its own lower and upper series, and the honest figures', async () => {
    const text = await (await fetch(`${sut.url}/metrics`)).text();
    const value = (name: string) => {
      const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes('model="fraud"'));
      return line === undefined ? undefined : Number(line.split(' ').at(-1));
    };
    for (const base of [
      'model_accuracy',
      'model_recall',
      'model_f1_score',
      'relearn_model_corrected_accuracy',
      'relearn_model_audited_accuracy',
      'relearn_model_estimated_accuracy',
    ]) {
      const v = value(base);
      expect(v, base).toBeDefined();
      expect(value(`${base}_lower_bound`)!, base).toBeLessThanOrEqual(v!);
      expect(value(`${base}_upper_bound`)!, base).toBeGreaterThanOrEqual(v!);
    }
    // Every prediction said legit: precision has no denominator, so neither it nor its bounds exist (never NaN).
    expect(value('model_precision')).toBeUndefined();
    expect(value('model_precision_lower_bound')).toBeUndefined();
    expect(value('relearn_model_labelled_share')).toBeCloseTo(0.75, 12);
    expect(value('relearn_model_window_accuracy_lower_bound')).toBeLessThan(0.8);
  });

  it('labelDelay: delay quantiles and the labelled share by prediction age', async () => {
    const res = await sut.gql(
      `{ labelDelay(model: "fraud") { labelled meanSeconds p50Seconds p90Seconds p99Seconds byAge { minAgeSeconds maxAgeSeconds predictions labelled labelledShare } } }`,
    );
    expect(res.errors).toBeUndefined();
    const d = res.data.labelDelay;
    expect(d.labelled).toBe(30);
    expect(d.p50Seconds).toBeGreaterThanOrEqual(0);
    expect(d.p99Seconds).toBeGreaterThanOrEqual(d.p50Seconds);
    expect(d.byAge.reduce((s: number, b: { predictions: number }) => s + b.predictions, 0)).toBe(40);
    expect(d.byAge.reduce((s: number, b: { labelled: number }) => s + b.labelled, 0)).toBe(30);
  });

  it('calibration: the reliability curve and ECE of the live version', async () => {
    const res = await sut.gql(
      `{ calibration(model: "fraud") { version method source count expectedCalibrationError reliability { lower upper count meanConfidence accuracy } } }`,
    );
    expect(res.errors).toBeUndefined();
    const c = res.data.calibration;
    expect(c).toMatchObject({ version: 1, method: 'histogram-binning', source: 'labelled', count: 30 });
    expect(c.reliability.reduce((s: number, b: { count: number }) => s + b.count, 0)).toBe(30);
    expect(c.expectedCalibrationError).toBeGreaterThanOrEqual(0);
    const bad = await sut.gql(`{ calibration(model: "fraud", version: 99) { count } }`);
    expect(bad.errors![0]!.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'version' });
  });
});
