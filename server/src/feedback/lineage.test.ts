import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, startTestApp, type TestApp } from '../../test/test-app.js';

const TEXT = 'Meeting moved to Thursday at 10am, please bring the quarterly report and the budget spreadsheet. Thanks, Anna';
const PREDICT = `mutation($text: String!) { predict(input: { spam: { text: $text } }) { id label probability scores { label probability } } }`;
const LINEAGE = `query($id: ID!) { prediction(id: $id) { id lineage {
  version datasetVersion trainedThroughFeedbackId learnedFeedbackCount learnedFeedbackFromId learnedFeedbackToId
  feedbackId taughtAt retractedAt replay { maxDifference scores { label probability } } } } }`;

describe.each(['postgres', 'embedded'] as const)('time travel and lineage on the %s database', (database) => {
  let sut: TestApp;
  beforeAll(async () => {
    sut = await startTestApp({ database, env: { AUTH_MODE: 'open', AUTO_RETRAIN: 'off', TRAINER: 'off' } });
  }, 120_000);
  afterAll(() => sut?.stop());

  let predictionIds: string[] = [];
  const predict = async (text = TEXT) => (await sut.gql(PREDICT, { text })).data.predict as { id: string; scores: { label: string; probability: number }[] };
  const teach = async (n: number, actual: string) => {
    const ids: string[] = [];
    predictionIds = [];
    for (let i = 0; i < n; i++) {
      const p = await predict(`${TEXT} (${actual} ${i})`);
      const f = await sut.gql(
        `mutation($input: FeedbackInput!) { submitFeedback(input: $input) { id } }`,
        { input: { predictionId: p.id, actual } },
        { token: ADMIN_TOKEN },
      );
      ids.push(f.data.submitFeedback.id);
      predictionIds.push(p.id);
    }
    return ids;
  };
  const lineage = async (id: string) => {
    const r = await sut.gql(LINEAGE, { id });
    expect(r.errors).toBeUndefined();
    return r.data.prediction.lineage;
  };

  it('each prediction names its version, dataset and the online updates it had learned; rebuilt as of then, the model gives the probabilities served', async () => {
    const first = await predict();
    const taught = await teach(6, 'spam');
    const second = await predict();
    const retract = await sut.gql(
      `mutation($ids: [ID!]) { retractFeedback(input: { ids: $ids, reason: "lineage test" }) { count } }`,
      { ids: taught.slice(0, 2) },
      { token: ADMIN_TOKEN },
    );
    expect(retract.data.retractFeedback.count).toBe(2);
    const third = await predict();
    // The model moved between them (or the replay would prove nothing).
    expect(second.scores[1]!.probability).not.toBe(first.scores[1]!.probability);
    expect(third.scores[1]!.probability).not.toBe(second.scores[1]!.probability);

    const [l1, l2, l3] = [await lineage(first.id), await lineage(second.id), await lineage(third.id)];
    expect(l1).toMatchObject({ version: 1, learnedFeedbackCount: 0, learnedFeedbackFromId: null });
    expect(l1.datasetVersion).toBe(1);
    // l1's own teaching predictions came after it: its counts say 0; the second saw 6, the third 4.
    expect(l2).toMatchObject({ learnedFeedbackCount: 6, learnedFeedbackFromId: taught[0], learnedFeedbackToId: taught[5] });
    expect(l3).toMatchObject({ learnedFeedbackCount: 4, learnedFeedbackFromId: taught[2], learnedFeedbackToId: taught[5] });
    for (const l of [l1, l2, l3]) expect(l.replay.maxDifference).toBeLessThanOrEqual(1e-12);

    // modelAt: the same past state by time, scoring any input.
    const at = await sut.gql(
      `query($asOf: DateTime!, $input: JSON!) { modelAt(model: "spam", version: 1, asOf: $asOf) { learnedFeedbackCount predict(input: $input) { label probability } } }`,
      { asOf: new Date(Date.now() + 60_000).toISOString(), input: { text: TEXT } },
    );
    expect(at.data.modelAt.learnedFeedbackCount).toBe(4);
    const now = await predict();
    expect(Math.abs(at.data.modelAt.predict[1].probability - now.scores[1]!.probability)).toBeLessThanOrEqual(1e-12);

    // What became of the teaching predictions: their feedback taught, and the first two were retracted.
    expect(l1.feedbackId).toBeNull();
    const [taughtFirst, taughtLast] = [await lineage(predictionIds[0]!), await lineage(predictionIds[5]!)];
    expect(taughtFirst).toMatchObject({ feedbackId: taught[0] });
    expect(taughtFirst.taughtAt).not.toBeNull();
    expect(taughtFirst.retractedAt).not.toBeNull();
    expect(taughtLast).toMatchObject({ feedbackId: taught[5], retractedAt: null });
  });

  it('modelAt refuses an unknown version or model with a typed error', async () => {
    const asOf = new Date().toISOString();
    expect(
      (await sut.gql(`query($asOf: DateTime!) { modelAt(model: "spam", version: 99, asOf: $asOf) { version } }`, { asOf })).errors?.[0]?.extensions?.code,
    ).toBe('NOT_FOUND');
    expect(
      (await sut.gql(`query($asOf: DateTime!) { modelAt(model: "nope", version: 1, asOf: $asOf) { version } }`, { asOf })).errors?.[0]?.extensions,
    ).toMatchObject({
      code: 'BAD_USER_INPUT',
      field: 'model',
    });
    const bad = await sut.gql(`query($asOf: DateTime!) { modelAt(model: "spam", version: 1, asOf: $asOf) { predict(input: { nope: 1 }) { label } } }`, {
      asOf,
    });
    expect(bad.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });
});
