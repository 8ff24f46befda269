import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabaseUrl } from '../../test/database.js';
import { expectSameModel, modelDistance } from '../../test/model-equality.js';
import { ADMIN_TOKEN, retrainFinished, startTestApp, type TestApp } from '../../test/test-app.js';
import { parseDatasetJsonl } from '../training/train.js';
import { NaiveBayesModel } from '../ml/naive-bayes.js';
import { ModelVersionRepository } from '../models/model-version.repository.js';

// The two attacks, as an anonymous client sends them, and what the gate makes of them.
const SPAM =
  'WINNER!! Congratulations, you have been selected for a FREE cash prize of $1,000,000!!! Click here now to claim your prize, ' +
  'limited time offer, act now. Cheap viagra, no prescription needed, 100% free, order today. To be removed from our mailing list reply remove.';
const OTHER_SPAM =
  'Make money fast working from home!!! Earn $5,000 a week with no experience. Click here to order now and get a free bonus, ' +
  'this special offer expires soon. Call now toll free. To unsubscribe click here.';

const PREDICT_BATCH = `mutation($inputs: [PredictInput!]!) { predictBatch(inputs: $inputs) { id label probability } }`;
const FEEDBACK = `mutation($input: FeedbackInput!) { submitFeedback(input: $input) { id source quarantined quarantineReason } }`;
const PROBABILITY = `mutation($text: String!) { predict(input: { spam: { text: $text } }) { label scores { label probability } } }`;
const SPAM_COUNTS = `{ metrics(model: "spam") { feedbackCount } }`;

describe.each(['postgres', 'embedded'] as const)('the trust gate on the %s database', (database) => {
  let sut: TestApp;
  let v1: NaiveBayesModel;
  const live = (model = 'spam') => sut.app.services.models.getLive(model)!.model;
  const spamProbability = async (text: string) => {
    const r = await sut.gql(PROBABILITY, { text });
    return r.data.predict.scores.find((s: { label: string }) => s.label === 'spam').probability as number;
  };
  const encodedSpam = (text: string) => sut.app.services.models.getLive('spam')!.task.encode({ text });
  /** `n` predictions of `text`, each labelled `actual` by the anonymous client or with `token`. */
  const label = async (text: string, n: number, actual: string, token?: string) => {
    const batch = await sut.gql(PREDICT_BATCH, { inputs: Array.from({ length: n }, () => ({ spam: { text } })) });
    const answers = await Promise.all(
      batch.data.predictBatch.map((p: { id: string }) => sut.gql(FEEDBACK, { input: { predictionId: p.id, actual } }, token ? { token } : {})),
    );
    for (const a of answers) expect(a.errors).toBeUndefined();
    return answers.map((a) => a.data.submitFeedback as { id: string; source: string; quarantined: boolean; quarantineReason: string | null });
  };

  /** Spam feedback counted in this process's Prometheus series (every version, correct or not). */
  const prometheusSpamFeedback = async () => {
    const text = await (await fetch(`${sut.url}/metrics`)).text();
    return text
      .split('\n')
      .filter((line) => line.startsWith('relearn_feedback_total{') && line.includes('model="spam"'))
      .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
  };

  beforeAll(async () => {
    // Nobody but the admin is trusted here (the test harness trusts 'anonymous' by default); no retrain runs by itself.
    sut = await startTestApp({ database, env: { AUTH_MODE: 'open', TRUSTED_SOURCES: 'labeller', AUTO_RETRAIN: 'off', TRAINER: 'off' } });
    const row = await new ModelVersionRepository(sut.app.orm).live('spam', { artifact: true });
    v1 = NaiveBayesModel.fromJSON(row!.artifact);
  }, 120_000);
  afterAll(() => sut?.stop());

  it('100 ham labels on a confident spam from an anonymous source are quarantined: the live model does not move, they wait for review', async () => {
    const before = { spam: await spamProbability(SPAM), other: await spamProbability(OTHER_SPAM) };
    expect(before.spam).toBeGreaterThan(0.99);
    const answers = await label(SPAM, 100, 'ham');
    expect(answers.every((a) => a.quarantined && a.source === 'anonymous')).toBe(true);
    expect(answers[0]!.quarantineReason).toMatch(/contradicts a confident prediction .*has not earned trust/);
    // Not one statistic moved: the live model is still version 1 as trained.
    expect(modelDistance(live(), v1)).toBe(0);
    expect(await spamProbability(SPAM)).toBe(before.spam);
    expect(await spamProbability(OTHER_SPAM)).toBe(before.other);
    expect((await sut.gql(SPAM_COUNTS)).data.metrics.feedbackCount).toBe(0);
    expect(await prometheusSpamFeedback()).toBe(0);
    const queue = await sut.gql(`{ quarantinedFeedback(model: "spam") { id source quarantined quarantineReason } }`, {}, { token: ADMIN_TOKEN });
    expect(queue.data.quarantinedFeedback.map((f: { id: string }) => f.id).sort()).toEqual(answers.map((a) => a.id).sort());
    // Metrics by source: the anonymous source counts nothing, its 100 rows wait for review, it has no trust.
    const sources = await sut.gql(`{ feedbackSources(model: "spam") { source feedbackCount quarantinedCount agreement trust { trusted agree disagree } } }`);
    expect(sources.data.feedbackSources).toContainEqual({
      source: 'anonymous',
      feedbackCount: 0,
      quarantinedCount: 100,
      agreement: 0,
      trust: { trusted: false, agree: 0, disagree: 0 },
    });
    // The queue is the admin's.
    expect((await sut.gql(`{ quarantinedFeedback(model: "spam") { id } }`)).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    console.log(`[trust] ${database}: anonymous attack: p(spam) ${before.spam.toFixed(4)} -> ${(await spamProbability(SPAM)).toFixed(4)}`);
  });

  it('released, the quarantined labels teach exactly what they would have taught; retracted, they are unlearned exactly', async () => {
    const released = await sut.gql(`mutation { reviewQuarantineBySource(model: "spam", source: "anonymous", decision: RELEASE) }`, {}, { token: ADMIN_TOKEN });
    expect(released.errors).toBeUndefined();
    expect(released.data.reviewQuarantineBySource).toBe(100);
    const expected = v1.clone();
    for (let i = 0; i < 100; i++) expected.learn(encodedSpam(SPAM), 'ham');
    expectSameModel(live(), expected);
    expect((await sut.gql(SPAM_COUNTS)).data.metrics.feedbackCount).toBe(100);
    // Released rows count in Prometheus too, as feedback that passed the gate at once does.
    expect(await prometheusSpamFeedback()).toBe(100);
    expect((await sut.gql(`{ quarantinedFeedback(model: "spam") { id } }`, {}, { token: ADMIN_TOKEN })).data.quarantinedFeedback).toEqual([]);
    // A second release decides nothing: each row teaches once.
    expect(
      (await sut.gql(`mutation { reviewQuarantineBySource(model: "spam", source: "anonymous", decision: RELEASE) }`, {}, { token: ADMIN_TOKEN })).data
        .reviewQuarantineBySource,
    ).toBe(0);
    const afterRelease = await spamProbability(SPAM);

    const retracted = await sut.gql(
      `mutation { retractFeedback(input: { source: "anonymous", model: "spam", reason: "test: the attack" }) { id count } }`,
      {},
      { token: ADMIN_TOKEN },
    );
    expect(retracted.errors).toBeUndefined();
    expect(retracted.data.retractFeedback.count).toBe(100);
    expectSameModel(live(), v1);
    expect((await sut.gql(SPAM_COUNTS)).data.metrics.feedbackCount).toBe(0);
    // Both decisions are in the audit log.
    await expect
      .poll(async () => (await sut.gql(`{ auditLog(model: "spam", first: 20) { kind actor } }`, {}, { token: ADMIN_TOKEN })).data?.auditLog ?? [])
      .toEqual(
        expect.arrayContaining([
          { kind: 'quarantine.released', actor: 'admin' },
          { kind: 'feedback.retracted', actor: 'admin' },
        ]),
      );
    console.log(`[trust] ${database}: released: p(spam) ${afterRelease.toFixed(4)}; retracted: ${(await spamProbability(SPAM)).toFixed(4)}`);
  });

  it('the same labels from a trusted source (a key of TRUSTED_SOURCES) teach at once; retracting k of N leaves the model trained on the other N - k', async () => {
    const created = await sut.gql(
      `mutation { createApiKey(input: { principal: "labeller", scopes: [PREDICT, FEEDBACK] }) { key } }`,
      {},
      { token: ADMIN_TOKEN },
    );
    expect(created.errors).toBeUndefined();
    const labeller = created.data.createApiKey.key as string;
    const before = { spam: await spamProbability(SPAM), other: await spamProbability(OTHER_SPAM) };
    const answers = await label(SPAM, 100, 'ham', labeller);
    expect(answers.every((a) => !a.quarantined && a.source === 'labeller')).toBe(true);
    const after = { spam: await spamProbability(SPAM), other: await spamProbability(OTHER_SPAM) };
    expect(after.spam).toBeLessThan(0.5);
    console.log(
      `[trust] ${database}: trusted labels: p(spam) ${before.spam.toFixed(4)} -> ${after.spam.toFixed(4)}, other spam ${before.other.toFixed(4)} -> ${after.other.toFixed(4)}`,
    );
    const retract = answers.slice(0, 30).map((a) => a.id);
    const r = await sut.gql(
      `mutation($ids: [ID!]) { retractFeedback(input: { ids: $ids, reason: "test: k of N" }) { count } }`,
      { ids: retract },
      { token: ADMIN_TOKEN },
    );
    expect(r.data.retractFeedback.count).toBe(30);
    const expected = v1.clone();
    for (let i = 0; i < 70; i++) expected.learn(encodedSpam(SPAM), 'ham');
    expectSameModel(live(), expected);
    // Retracting the same rows again takes nothing more back.
    const again = await sut.gql(
      `mutation($ids: [ID!]) { retractFeedback(input: { ids: $ids, reason: "again" }) { count } }`,
      { ids: retract },
      { token: ADMIN_TOKEN },
    );
    expect(again.data.retractFeedback.count).toBe(0);
    expectSameModel(live(), expected);
    const rest = await sut.gql(
      `mutation { retractFeedback(input: { source: "labeller", model: "spam", reason: "test: clean up" }) { count } }`,
      {},
      { token: ADMIN_TOKEN },
    );
    expect(rest.data.retractFeedback.count).toBe(70);
    expectSameModel(live(), v1);
  });

  it('160 fake wrong outcomes from an anonymous source: at most the burst limit counts, no retrain is triggered; from the admin they would', async () => {
    const outcomes = Array.from({ length: 160 }, () => ({ predicted: 'fraud', actual: 'legit' }));
    const OUTCOMES = `mutation($o: [OutcomeInput!]!) { recordOutcomes(model: "fraud", version: 1, outcomes: $o) { count metrics { accuracy confusion { tp tn fp fn } } } }`;
    const res = await sut.gql(OUTCOMES, { o: outcomes });
    expect(res.errors).toBeUndefined();
    expect(res.data.recordOutcomes.count).toBe(160);
    const limit = sut.app.services.tasks.get('fraud')!.definition.trust.burstLimit;
    const counted = (r: typeof res) => Object.values(r.data.recordOutcomes.metrics.confusion as Record<string, number>).reduce((a, b) => a + b, 0);
    expect(counted(res)).toBe(limit);
    expect(await sut.app.triggers.check('fraud')).toBeNull();
    const queue = await sut.gql(`{ quarantinedFeedback(model: "fraud") { quarantineReason } }`, {}, { token: ADMIN_TOKEN });
    expect(queue.data.quarantinedFeedback).toHaveLength(160 - limit);
    expect(queue.data.quarantinedFeedback[0].quarantineReason).toMatch(/^burst: /);
    console.log(`[trust] ${database}: 160 wrong outcomes (anonymous): ${limit} counted, accuracy ${res.data.recordOutcomes.metrics.accuracy}, trigger: none`);

    // The admin's outcomes are trusted: the same 160 drive the version's live accuracy to 0 and ask for a retrain.
    const trusted = await sut.gql(OUTCOMES, { o: outcomes }, { token: ADMIN_TOKEN });
    expect(counted(trusted)).toBe(160 + limit);
    expect(await sut.app.triggers.check('fraud')).toMatch(/live accuracy 0\.000/);
  });

  it('bad review and retraction input gets typed errors naming the field', async () => {
    const code = async (q: string, token: string | null = ADMIN_TOKEN) => (await sut.gql(q, {}, token ? { token } : {})).errors?.[0]?.extensions;
    expect(await code(`mutation { retractFeedback(input: { reason: "nothing" }) { count } }`)).toMatchObject({ code: 'BAD_USER_INPUT', field: 'ids' });
    expect(await code(`mutation { retractFeedback(input: { source: "x", reason: " " }) { count } }`)).toMatchObject({
      code: 'BAD_USER_INPUT',
      field: 'reason',
    });
    expect(await code(`mutation { retractFeedback(input: { ids: ["abc"], reason: "r" }) { count } }`)).toMatchObject({
      code: 'BAD_USER_INPUT',
      field: 'ids.0',
    });
    expect(
      await code(`mutation { retractFeedback(input: { from: "2026-01-02T00:00:00Z", to: "2026-01-01T00:00:00Z", reason: "r" }) { count } }`),
    ).toMatchObject({ code: 'BAD_USER_INPUT', field: 'to' });
    expect(await code(`mutation { retractFeedback(input: { source: "x", reason: "r" }) { count } }`, null)).toMatchObject({ code: 'UNAUTHENTICATED' });
    expect(await code(`mutation { reviewQuarantine(ids: ["1"], decision: RELEASE) }`, null)).toMatchObject({ code: 'UNAUTHENTICATED' });
    expect(await code(`{ quarantinedFeedback(model: "nope") { id } }`)).toMatchObject({ code: 'BAD_USER_INPUT', field: 'model' });
    expect((await sut.gql(`mutation { reviewQuarantine(ids: ["999999"], decision: REJECT) }`, {}, { token: ADMIN_TOKEN })).data.reviewQuarantine).toBe(0);
  });
});

describe('quarantine and retraction across two API processes (PostgreSQL)', () => {
  let a: TestApp;
  let b: TestApp;
  beforeAll(async () => {
    const url = await freshDatabaseUrl('trust-2proc');
    a = await startTestApp({ databaseUrl: url, env: { AUTH_MODE: 'open', TRUSTED_SOURCES: 'labeller', AUTO_RETRAIN: 'off' } });
    b = await startTestApp({ databaseUrl: url, env: { AUTH_MODE: 'open', TRUSTED_SOURCES: 'labeller', AUTO_RETRAIN: 'off', TRAINER: 'off' } });
  }, 120_000);
  afterAll(async () => {
    await b?.stop();
    await a?.stop();
  });

  it('a release on one process teaches the other exactly once; a retraction on one is unlearned by the other exactly once', async () => {
    const modelOf = (app: TestApp) => app.app.services.models.getLive('spam')!.model;
    const v1 = modelOf(b).clone();
    const batch = await a.gql(PREDICT_BATCH, { inputs: Array.from({ length: 20 }, () => ({ spam: { text: SPAM } })) });
    const fed = await Promise.all(batch.data.predictBatch.map((p: { id: string }) => a.gql(FEEDBACK, { input: { predictionId: p.id, actual: 'ham' } })));
    expect(fed.every((f) => f.data.submitFeedback.quarantined)).toBe(true);
    const ids = fed.map((f) => f.data.submitFeedback.id as string);
    // Released on B, learned by A (and B).
    const released = await b.gql(`mutation($ids: [ID!]!) { reviewQuarantine(ids: $ids, decision: RELEASE) }`, { ids }, { token: ADMIN_TOKEN });
    expect(released.data.reviewQuarantine).toBe(20);
    const expected = v1.clone();
    for (let i = 0; i < 20; i++) expected.learn(b.app.services.models.getLive('spam')!.task.encode({ text: SPAM }), 'ham');
    expectSameModel(modelOf(b), expected);
    await expect.poll(() => modelDistance(modelOf(a), expected), { timeout: 15_000 }).toBeLessThanOrEqual(1e-9);
    // More announcements (another catch-up) do not teach them again.
    await a.app.services.models.catchUp('spam');
    expectSameModel(modelOf(a), expected);

    // Retracted on A, unlearned by B.
    const r = await a.gql(
      `mutation($ids: [ID!]) { retractFeedback(input: { ids: $ids, reason: "two processes" }) { count } }`,
      { ids: ids.slice(0, 5) },
      { token: ADMIN_TOKEN },
    );
    expect(r.data.retractFeedback.count).toBe(5);
    const without = v1.clone();
    for (let i = 0; i < 15; i++) without.learn(b.app.services.models.getLive('spam')!.task.encode({ text: SPAM }), 'ham');
    expectSameModel(modelOf(a), without);
    await expect.poll(() => modelDistance(modelOf(b), without), { timeout: 15_000 }).toBeLessThanOrEqual(1e-9);
    await b.app.services.models.catchUp('spam');
    expectSameModel(modelOf(b), without);
  });
});

describe('a retrain after a retraction (PostgreSQL)', () => {
  let sut: TestApp;
  beforeAll(async () => {
    sut = await startTestApp({ env: { AUTH_MODE: 'open', AUTO_RETRAIN: 'off' } });
  }, 120_000);
  afterAll(() => sut?.stop());

  it('the next dataset version leaves retracted feedback out, and the new version does not unlearn it a second time', async () => {
    const inputs = Array.from({ length: 24 }, (_, i) => ({
      fraud: { amount: 20 + i * 37, hour: i % 24, dayOfWeek: i % 7, merchantCategory: 'grocery', previousAmount: 30, timeSinceLast: 5 + i },
    }));
    const batch = await sut.gql(PREDICT_BATCH, { inputs });
    const fed = await Promise.all(
      batch.data.predictBatch.map((p: { id: string }, i: number) =>
        sut.gql(FEEDBACK, { input: { predictionId: p.id, actual: i % 2 ? 'fraud' : 'legit' } }, { token: ADMIN_TOKEN }),
      ),
    );
    const ids = fed.map((f) => Number(f.data.submitFeedback.id));
    const retracted = ids.slice(0, 8);
    const r = await sut.gql(
      `mutation($ids: [ID!]) { retractFeedback(input: { ids: $ids, reason: "before a retrain" }) { count } }`,
      { ids: retracted.map(String) },
      { token: ADMIN_TOKEN },
    );
    expect(r.data.retractFeedback.count).toBe(8);
    const job = await sut.gql(`mutation { triggerRetrain(model: "fraud", reason: "after a retraction") { id } }`, {}, { token: ADMIN_TOKEN });
    const done = await retrainFinished(sut, 'fraud', job.data.triggerRetrain.id);
    expect(['PROMOTED', 'REJECTED']).toContain(done.state);
    const versions = new ModelVersionRepository(sut.app.orm);
    const v2 = await versions.get('fraud', done.version!);
    const dataset = await sut.app.services.datasets.byId(v2!.datasetVersion!.id);
    const rows = parseDatasetJsonl((await sut.app.services.datasets.rows(dataset!)).toString('utf8'));
    const feedbackIds = new Set(rows.flatMap((row) => (row.feedbackId === undefined ? [] : [row.feedbackId])));
    for (const id of retracted) expect(feedbackIds.has(id)).toBe(false);
    for (const id of ids.slice(8)) expect(feedbackIds.has(id)).toBe(true);
    if (done.state === 'PROMOTED') {
      // The retractions came before its training snapshot: the live model is its artifact, nothing unlearned again.
      const row = await versions.live('fraud', { artifact: true });
      expect(row!.version).toBe(done.version);
      expectSameModel(sut.app.services.models.getLive('fraud')!.model, NaiveBayesModel.fromJSON(row!.artifact));
    }
  });

  it('retracting rows a version was trained on takes back exactly the copies its dataset holds', async () => {
    const input = { amount: 41.5, hour: 13, dayOfWeek: 2, merchantCategory: 'grocery', previousAmount: 38, timeSinceLast: 22 };
    const batch = await sut.gql(PREDICT_BATCH, { inputs: Array.from({ length: 10 }, () => ({ fraud: input })) });
    const fed = await Promise.all(
      batch.data.predictBatch.map((p: { id: string }) => sut.gql(FEEDBACK, { input: { predictionId: p.id, actual: 'fraud' } }, { token: ADMIN_TOKEN })),
    );
    const ids = fed.map((f) => f.data.submitFeedback.id as string);
    const job = await sut.gql(`mutation { triggerRetrain(model: "fraud", reason: "duplicates") { id } }`, {}, { token: ADMIN_TOKEN });
    const done = await retrainFinished(sut, 'fraud', job.data.triggerRetrain.id);
    // Live whatever the gate said: the point is what a retraction does to a version trained on deduplicated rows.
    const activated = await sut.gql(
      `mutation($v: Int!) { activateModelVersion(model: "fraud", version: $v, reason: "test") { version } }`,
      { v: done.version },
      { token: ADMIN_TOKEN },
    );
    expect(activated.errors).toBeUndefined();
    const row = await new ModelVersionRepository(sut.app.orm).live('fraud', { artifact: true });
    const trained = NaiveBayesModel.fromJSON(row!.artifact);
    const dataset = await sut.app.services.datasets.byId(row!.datasetVersion!.id);
    const rows = parseDatasetJsonl((await sut.app.services.datasets.rows(dataset!)).toString('utf8'));
    const kept = rows.filter((r) => r.feedbackId !== undefined && ids.includes(String(r.feedbackId)));
    // However many of the ten identical rows the dataset kept (it may drop duplicates), those and only those are taken back.
    expect(kept.length).toBeGreaterThan(0);
    const expected = trained.clone();
    for (const _ of kept) expected.unlearn(sut.app.services.models.getLive('fraud')!.task.encode(input), 'fraud');
    const r = await sut.gql(`mutation($ids: [ID!]) { retractFeedback(input: { ids: $ids, reason: "duplicates" }) { count } }`, { ids }, { token: ADMIN_TOKEN });
    expect(r.data.retractFeedback.count).toBe(10);
    expectSameModel(sut.app.services.models.getLive('fraud')!.model, expected);
  });
});
