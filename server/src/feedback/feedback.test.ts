import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { METRICS, PREDICT_FRAUD, SUBMIT_FEEDBACK, aFraudInput, startTestApp, type TestApp } from '../../test/test-app.js';

describe('submitFeedback', () => {
  let sut: TestApp;
  beforeAll(async () => {
    sut = await startTestApp();
  });
  afterAll(() => sut?.stop());

  const predict = async (overrides: Record<string, unknown> = {}) => {
    const res = await sut.gql(PREDICT_FRAUD, { input: { fraud: aFraudInput(overrides) } });
    expect(res.errors).toBeUndefined();
    return res.data.predict as { id: string; label: string; probability: number };
  };
  const feedback = (input: Record<string, unknown>) => sut.gql(SUBMIT_FEEDBACK, { input });
  const other = (label: string) => (label === 'fraud' ? 'legit' : 'fraud');

  it('takes "correct", "incorrect" or the actual label', async () => {
    const a = await predict();
    const b = await predict();
    const c = await predict();
    const ra = await feedback({ predictionId: a.id, correct: true });
    const rb = await feedback({ predictionId: b.id, correct: false });
    const rc = await feedback({ predictionId: c.id, actual: other(c.label) });
    expect(ra.data.submitFeedback).toMatchObject({ actual: a.label, correct: true, prediction: { id: a.id } });
    expect(rb.data.submitFeedback).toMatchObject({ actual: other(b.label), correct: false });
    expect(rc.data.submitFeedback).toMatchObject({ actual: other(c.label), correct: false });
  });

  it('refuses both or neither of correct/actual, unknown labels and malformed ids with BAD_USER_INPUT', async () => {
    const p = await predict();
    const cases: [Record<string, unknown>, string][] = [
      [{ predictionId: p.id, correct: true, actual: 'fraud' }, 'correct'],
      [{ predictionId: p.id }, 'actual'],
      [{ predictionId: p.id, actual: 'maybe' }, 'actual'],
      [{ predictionId: 'not-a-uuid', correct: true }, 'predictionId'],
      [{ predictionId: p.id, correct: true, idempotencyKey: '' }, 'idempotencyKey'],
    ];
    for (const [input, field] of cases) {
      const res = await feedback(input);
      expect(res.errors?.[0]?.extensions, JSON.stringify(input)).toMatchObject({ code: 'BAD_USER_INPUT', field });
    }
  });

  it('answers NOT_FOUND for a prediction that does not exist', async () => {
    const res = await feedback({ predictionId: '00000000-0000-4000-8000-000000000000', correct: true });
    expect(res.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  });

  it('counts a retried feedback once: same idempotency key, or the same answer again', async () => {
    const p = await predict();
    const first = await feedback({ predictionId: p.id, correct: true, idempotencyKey: `retry-${p.id}` });
    const again = await feedback({ predictionId: p.id, correct: true, idempotencyKey: `retry-${p.id}` });
    const noKey = await feedback({ predictionId: p.id, correct: true });
    expect(again.data.submitFeedback.id).toBe(first.data.submitFeedback.id);
    expect(noKey.data.submitFeedback.id).toBe(first.data.submitFeedback.id);
  });

  it('refuses a different answer on an answered prediction, and a key reused for another prediction, with CONFLICT', async () => {
    const p = await predict();
    const q = await predict();
    await feedback({ predictionId: p.id, correct: true, idempotencyKey: `k-${p.id}` });
    const changed = await feedback({ predictionId: p.id, correct: false });
    expect(changed.errors?.[0]?.extensions?.code).toBe('CONFLICT');
    const reused = await feedback({ predictionId: q.id, correct: true, idempotencyKey: `k-${p.id}` });
    expect(reused.errors?.[0]?.extensions?.code).toBe('CONFLICT');
  });

  it('records exactly one feedback when 40 identical submissions race', async () => {
    const p = await predict();
    const results = await Promise.all(
      Array.from({ length: 40 }, (_, i) => feedback({ predictionId: p.id, correct: true, ...(i % 2 ? { idempotencyKey: `race-${p.id}` } : {}) })),
    );
    const ids = new Set(results.map((r) => r.data?.submitFeedback?.id));
    expect(results.every((r) => r.errors === undefined)).toBe(true);
    expect(ids.size).toBe(1);
    const rows = await sut.app.orm.em.getConnection().execute<{ n: number }[]>('select count(*)::int as n from feedback where prediction_id = ?', [p.id]);
    expect(rows[0]!.n).toBe(1);
  });

  it('teaches the live model at once (online learning)', async () => {
    const input = aFraudInput({ amount: 600, hour: 23, merchantCategory: 'jewelry', previousAmount: 80, timeSinceLast: 3 });
    const before = await predict(input);
    const pFraud = async () => {
      const r = await sut.gql(PREDICT_FRAUD, { input: { fraud: input } });
      return r.data.predict.scores.find((s: any) => s.label === 'fraud').probability as number;
    };
    const p0 = await pFraud();
    // Tell the model, repeatedly, that this kind of transaction is legit.
    for (let i = 0; i < 30; i++) {
      const p = await predict(input);
      await feedback({ predictionId: p.id, actual: 'legit' });
    }
    const p1 = await pFraud();
    expect(before.id).toBeTruthy();
    expect(p1).toBeLessThan(p0);
  });
});

describe('metrics', () => {
  let sut: TestApp;
  beforeAll(async () => {
    sut = await startTestApp();
  });
  afterAll(() => sut?.stop());

  it('has null figures, never NaN, before any feedback', async () => {
    const res = await sut.gql(METRICS, { model: 'fraud' });
    expect(res.data.metrics).toMatchObject({ accuracy: null, precision: null, recall: null, f1: null, feedbackCount: 0 });
    expect(res.data.metrics.confusion).toEqual({ tp: 0, tn: 0, fp: 0, fn: 0 });
    expect(res.data.metrics.liveVersion).toEqual({ version: 1 });
  });

  it('counts the confusion matrix exactly, over a lifetime, a window and a version', async () => {
    // Known outcomes: predicted/actual pairs against positive label "fraud".
    const pairs: [string, string][] = [
      ['fraud', 'fraud'],
      ['fraud', 'fraud'],
      ['fraud', 'legit'],
      ['legit', 'legit'],
      ['legit', 'legit'],
      ['legit', 'legit'],
      ['legit', 'fraud'],
    ];
    const res = await sut.gql(
      `mutation($o: [OutcomeInput!]!) { recordOutcomes(model: "fraud", outcomes: $o, version: 1) { count metrics { feedbackCount } } }`,
      { o: pairs.map(([predicted, actual]) => ({ predicted, actual })) },
    );
    expect(res.errors).toBeUndefined();
    expect(res.data.recordOutcomes.count).toBe(7);
    const m = (await sut.gql(METRICS, { model: 'fraud' })).data.metrics;
    expect(m.confusion).toEqual({ tp: 2, tn: 3, fp: 1, fn: 1 });
    expect(m.accuracy).toBeCloseTo(5 / 7, 12);
    expect(m.precision).toBeCloseTo(2 / 3, 12);
    expect(m.recall).toBeCloseTo(2 / 3, 12);
    expect(m.f1).toBeCloseTo(2 / 3, 12);
    const last2 = (await sut.gql(METRICS, { model: 'fraud', window: { lastFeedback: 2 } })).data.metrics;
    expect(last2.confusion).toEqual({ tp: 0, tn: 1, fp: 0, fn: 1 });
    const recent = (await sut.gql(METRICS, { model: 'fraud', window: { lastSeconds: 3600 } })).data.metrics;
    expect(recent.feedbackCount).toBe(7);
    const v1 = (await sut.gql(METRICS, { model: 'fraud', version: 1 })).data.metrics;
    expect(v1.feedbackCount).toBe(7);
    const spam = (await sut.gql(METRICS, { model: 'spam' })).data.metrics;
    expect(spam.feedbackCount).toBe(0);
  });

  it('refuses an unknown model, an unknown version and a bad window', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ model: 'nope' }, 'model'],
      [{ model: 'fraud', version: 99 }, 'version'],
      [{ model: 'fraud', window: { lastFeedback: 0 } }, 'window.lastFeedback'],
    ];
    for (const [vars, field] of cases) {
      const res = await sut.gql(METRICS, vars);
      expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
    }
    const both = await sut.gql(METRICS, { model: 'fraud', window: { lastFeedback: 1, lastSeconds: 1 } });
    expect(both.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });

  it('refuses outcomes with unknown labels', async () => {
    const res = await sut.gql(`mutation { recordOutcomes(model: "fraud", outcomes: [{predicted: "fraud", actual: "cat"}]) { count } }`);
    expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'outcomes.0.actual' });
  });
});
