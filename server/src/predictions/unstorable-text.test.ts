import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, PREDICT_FRAUD, SUBMIT_FEEDBACK, aFraudInput, startTestApp, type TestApp } from '../../test/test-app.js';

// Text PostgreSQL cannot store (text/jsonb): the sender's own BAD_USER_INPUT, never anyone else's failure.
const NUL = 'gro\u0000cery';
const LONE_HIGH = 'spam \ud800 offer';
const LONE_LOW = 'spam \udc00 offer';

describe('text PostgreSQL cannot store', () => {
  let sut: TestApp;
  beforeAll(async () => {
    sut = await startTestApp();
  });
  afterAll(() => sut?.stop());

  const predictCases: [string, Record<string, unknown>, string][] = [
    ['NUL in spam.text', { spam: { text: `hello ${NUL}` } }, 'spam.text'],
    ['a lone high surrogate in spam.text', { spam: { text: LONE_HIGH } }, 'spam.text'],
    ['a lone low surrogate in spam.text', { spam: { text: LONE_LOW } }, 'spam.text'],
    ['NUL in fraud.merchantCategory', { fraud: aFraudInput({ merchantCategory: NUL }) }, 'fraud.merchantCategory'],
    ['a lone surrogate in fraud.merchantCategory', { fraud: aFraudInput({ merchantCategory: '\ud83d' }) }, 'fraud.merchantCategory'],
  ];
  it.each(predictCases)('predict refuses %s with BAD_USER_INPUT naming the field', async (_, input, field) => {
    const res = await sut.gql(PREDICT_FRAUD, { input });
    expect(res.data?.predict ?? null).toBeNull();
    expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
  });

  it('still takes astral characters (well-formed surrogate pairs) and stores them intact', async () => {
    const text = 'Free 😀 prize 𝒳 now';
    const res = await sut.gql(PREDICT_FRAUD, { input: { spam: { text } } });
    expect(res.errors).toBeUndefined();
    const stored = await sut.gql(`query($id: ID!) { prediction(id: $id) { input } }`, { id: res.data.predict.id });
    expect(stored.data.prediction.input.text).toBe(text);
  });

  it('predictBatch names the bad input and stores none of the batch', async () => {
    const marker = `fine ${randomUUID()}`;
    const res = await sut.gql(`mutation($inputs: [PredictInput!]!) { predictBatch(inputs: $inputs) { id } }`, {
      inputs: [{ spam: { text: marker } }, { spam: { text: `bad ${NUL}` } }],
    });
    expect(res.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(res.errors?.[0]?.extensions?.field).toMatch(/spam\.text$/);
    const { rows } = await sql<{ n: string }>`select count(*) as n from prediction where input->>'text' = ${marker}`.execute(sut.app.orm.em.getKysely());
    expect(Number(rows[0]!.n)).toBe(0);
  });

  it.each([
    ['NUL', `key-${NUL}`],
    ['a lone surrogate', 'key-\ud800'],
  ])('submitFeedback and recordOutcomes refuse %s in idempotencyKey', async (_, key) => {
    const p = (await sut.gql(PREDICT_FRAUD, { input: { fraud: aFraudInput() } })).data.predict;
    const fb = await sut.gql(SUBMIT_FEEDBACK, { input: { predictionId: p.id, correct: true, idempotencyKey: key } });
    expect(fb.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'idempotencyKey' });
    const oc = await sut.gql(`mutation($o: [OutcomeInput!]!) { recordOutcomes(model: "fraud", outcomes: $o) { count } }`, {
      o: [
        { predicted: 'fraud', actual: 'fraud', idempotencyKey: 'fine-key' },
        { predicted: 'legit', actual: 'legit', idempotencyKey: key },
      ],
    });
    expect(oc.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'outcomes.1.idempotencyKey' });
    // The feedback was not taken: the same prediction still accepts a good one.
    const ok = await sut.gql(SUBMIT_FEEDBACK, { input: { predictionId: p.id, correct: true } });
    expect(ok.errors).toBeUndefined();
  });

  it('outcome labels with NUL are refused as unknown labels', async () => {
    const res = await sut.gql(`mutation($o: [OutcomeInput!]!) { recordOutcomes(model: "fraud", outcomes: $o) { count } }`, {
      o: [{ predicted: `fraud\u0000`, actual: 'fraud' }],
    });
    expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'outcomes.0.predicted' });
  });

  it('admin reasons (retrain, activation) with NUL or a lone surrogate are BAD_USER_INPUT naming reason', async () => {
    for (const reason of [`why${NUL}`, 'why \ud800']) {
      const retrain = await sut.gql(`mutation($r: String) { triggerRetrain(model: "fraud", reason: $r) { id } }`, { r: reason }, { token: ADMIN_TOKEN });
      expect(retrain.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'reason' });
      const activate = await sut.gql(
        `mutation($r: String) { activateModelVersion(model: "fraud", version: 1, reason: $r) { version } }`,
        { r: reason },
        { token: ADMIN_TOKEN },
      );
      expect(activate.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'reason' });
    }
  });

  it('four clients sending NULs fail none of the concurrent innocent predictions', async () => {
    let innocentFailures = 0;
    let innocentServed = 0;
    const refusals = new Map<string, number>();
    const innocent = async (n: number) => {
      for (let i = 0; i < n; i++) {
        const res = await sut.gql(PREDICT_FRAUD, { input: i % 2 ? { fraud: aFraudInput({ amount: 5 + i }) } : { spam: { text: `meeting at ${i}` } } });
        if (res.errors || !res.data?.predict?.id) innocentFailures++;
        else innocentServed++;
      }
    };
    const hostile = async (n: number) => {
      for (let i = 0; i < n; i++) {
        const input = i % 2 ? { fraud: aFraudInput({ merchantCategory: NUL }) } : { spam: { text: `x${NUL}${i}` } };
        const res = await sut.gql(PREDICT_FRAUD, { input });
        const code = String(res.errors?.[0]?.extensions?.code);
        refusals.set(code, (refusals.get(code) ?? 0) + 1);
      }
    };
    await Promise.all([...Array.from({ length: 8 }, () => innocent(60)), ...Array.from({ length: 4 }, () => hostile(60))]);
    expect(innocentFailures).toBe(0);
    expect(innocentServed).toBe(8 * 60);
    expect(Object.fromEntries(refusals)).toEqual({ BAD_USER_INPUT: 4 * 60 });
  });
});
