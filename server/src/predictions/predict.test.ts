import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PREDICT_FRAUD, aFraudInput, startTestApp, type TestApp } from '../../test/test-app.js';

describe('predict', () => {
  let sut: TestApp;
  beforeAll(async () => {
    sut = await startTestApp();
  });
  afterAll(() => sut?.stop());

  it('scores a fraud input with class probabilities and the serving version, and stores it', async () => {
    const res = await sut.gql(PREDICT_FRAUD, { input: { fraud: aFraudInput() } });
    expect(res.errors).toBeUndefined();
    const p = res.data.predict;
    expect(['fraud', 'legit']).toContain(p.label);
    expect(p.scores.map((s: any) => s.label)).toEqual(['legit', 'fraud']);
    const total = p.scores.reduce((sum: number, s: any) => sum + s.probability, 0);
    expect(total).toBeCloseTo(1, 12);
    expect(p.probability).toBe(Math.max(...p.scores.map((s: any) => s.probability)));
    expect(p.modelVersion.version).toBe(1);

    const stored = await sut.gql(`query($id: ID!) { prediction(id: $id) { id label input modelVersion { version } } }`, { id: p.id });
    expect(stored.data.prediction).toMatchObject({ id: p.id, label: p.label, modelVersion: { version: 1 } });
    expect(stored.data.prediction.input).toMatchObject(aFraudInput());
  });

  it('tells a typical card-testing fraud from an everyday purchase', async () => {
    const fraud = await sut.gql(PREDICT_FRAUD, {
      input: { fraud: aFraudInput({ amount: 1900, hour: 3, merchantCategory: 'electronics', previousAmount: 12, timeSinceLast: 0.2 }) },
    });
    const legit = await sut.gql(PREDICT_FRAUD, { input: { fraud: aFraudInput() } });
    expect(fraud.data.predict.label).toBe('fraud');
    expect(legit.data.predict.label).toBe('legit');
  });

  it('classifies spam text, including tokens and categories it has never seen', async () => {
    const spam = await sut.gql(PREDICT_FRAUD, {
      input: { spam: { text: 'Subject: FREE money!!! Click here to claim your prize, limited offer, act now zqxjvv' } },
    });
    expect(spam.errors).toBeUndefined();
    expect(spam.data.predict.model).toBe('spam');
    expect(spam.data.predict.label).toBe('spam');
    const unseen = await sut.gql(PREDICT_FRAUD, { input: { fraud: aFraudInput({ merchantCategory: 'never-seen-before' }) } });
    expect(unseen.errors).toBeUndefined();
    expect(Number.isFinite(unseen.data.predict.probability)).toBe(true);
  });

  it('predicts a batch across tasks and stores every prediction', async () => {
    const res = await sut.gql(`mutation($inputs: [PredictInput!]!) { predictBatch(inputs: $inputs) { id model label } }`, {
      inputs: [{ fraud: aFraudInput() }, { spam: { text: 'Meeting moved to 3pm, see agenda attached' } }, { fraud: aFraudInput({ hour: 2 }) }],
    });
    expect(res.errors).toBeUndefined();
    expect(res.data.predictBatch.map((p: any) => p.model)).toEqual(['fraud', 'spam', 'fraud']);
    for (const p of res.data.predictBatch) {
      const stored = await sut.gql(`query($id: ID!) { prediction(id: $id) { id } }`, { id: p.id });
      expect(stored.data.prediction?.id).toBe(p.id);
    }
  });

  describe('bad input', () => {
    const cases: [string, Record<string, unknown>, string][] = [
      ['hour 25', { fraud: aFraudInput({ hour: 25 }) }, 'fraud.hour'],
      ['a negative amount', { fraud: aFraudInput({ amount: -5 }) }, 'fraud.amount'],
      ['a zero amount', { fraud: aFraudInput({ amount: 0 }) }, 'fraud.amount'],
      ['an absurd amount (1.8e17)', { fraud: aFraudInput({ amount: 1.8e17 }) }, 'fraud.amount'],
      ['a day of week 7', { fraud: aFraudInput({ dayOfWeek: 7 }) }, 'fraud.dayOfWeek'],
      ['an empty merchant category', { fraud: aFraudInput({ merchantCategory: '  ' }) }, 'fraud.merchantCategory'],
      ['an empty text', { spam: { text: '   ' } }, 'spam.text'],
      ['an oversized text', { spam: { text: 'a'.repeat(100_001) } }, 'spam.text'],
    ];
    it.each(cases)('refuses %s with BAD_USER_INPUT naming the field', async (_, input, field) => {
      const res = await sut.gql(PREDICT_FRAUD, { input });
      expect(res.data?.predict ?? null).toBeNull();
      expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
      expect(res.errors?.[0]?.extensions?.reason).toMatch(/must/);
    });

    it('refuses an input naming two tasks, or none (@oneOf)', async () => {
      for (const input of [{ fraud: aFraudInput(), spam: { text: 'hi' } }, {}]) {
        const res = await sut.gql(PREDICT_FRAUD, { input });
        expect(res.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
      }
    });

    it('refuses a non-integer hour and a missing field without an internal error', async () => {
      for (const input of [{ fraud: aFraudInput({ hour: 2.5 }) }, { fraud: { amount: 10 } }]) {
        const res = await sut.gql(PREDICT_FRAUD, { input });
        expect(res.errors?.length).toBeGreaterThan(0);
        expect(res.errors![0]!.extensions?.code).toBe('BAD_USER_INPUT');
      }
    });

    it('refuses an empty or oversized batch', async () => {
      const q = `mutation($inputs: [PredictInput!]!) { predictBatch(inputs: $inputs) { id } }`;
      for (const inputs of [[], Array.from({ length: 1001 }, () => ({ fraud: aFraudInput() }))]) {
        const res = await sut.gql(q, { inputs });
        expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'inputs' });
      }
    });
  });

  describe('GraphQL abuse limits', () => {
    it('rejects a deeply nested query', async () => {
      const res = await sut.gql(
        `{ models { liveVersion { liveMetrics { liveVersion { liveMetrics { liveVersion { liveMetrics { liveVersion { version } } } } } } } } }`,
      );
      expect(res.data ?? null).toBeNull();
      expect(res.errors?.[0]?.message).toMatch(/depth/i);
    });

    it('rejects a query with too many aliases', async () => {
      const aliases = Array.from({ length: 50 }, (_, i) => `a${i}: models { name }`).join(' ');
      const res = await sut.gql(`{ ${aliases} }`);
      expect(res.errors?.[0]?.message).toMatch(/alias/i);
    });

    it('rejects a huge document', async () => {
      const fields = Array.from({ length: 6000 }, () => 'name').join(' ');
      const res = await sut.gql(`{ models { ${fields} } }`);
      expect(res.errors?.[0]?.message).toMatch(/token/i);
    });

    it('refuses a body over the size limit with 413', async () => {
      const res = await fetch(`${sut.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: '{ models { name } }', variables: { pad: 'x'.repeat(3 * 1024 * 1024) } }),
      });
      expect(res.status).toBe(413);
    });
  });
});
