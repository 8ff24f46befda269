// Exactly-once learning when feedback does not commit in id order: a transaction that took its id
// early commits late (as a slow group commit of another process would), two API processes teach
// each other, and the live model is reloaded while feedback streams in. Afterwards every committed
// feedback must be in every process's live model exactly once, and in the next dataset version.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NaiveBayesModel } from '../../src/ml/naive-bayes.js';
import { ModelVersion } from '../../src/models/model-version.entity.js';
import { freshDatabaseUrl } from '../database.js';
import { ADMIN_TOKEN, SUBMIT_FEEDBACK, startTestApp, type TestApp } from '../test-app.js';

const PREDICT_MANY = `mutation($inputs: [PredictInput!]!) { predictBatch(inputs: $inputs) { id label } }`;

/** Texts no other test row shares, so each feedback is its own dataset row (no duplicates dropped). */
const text = (i: number, tag: string) => `exactly once ${tag} message ${i} token${i}x${tag} ${i % 2 ? 'win money now' : 'meeting agenda notes'}`;

async function predict(sut: TestApp, texts: string[]): Promise<{ id: string; label: string }[]> {
  const res = await sut.gql(PREDICT_MANY, { inputs: texts.map((t) => ({ spam: { text: t } })) });
  expect(res.errors).toBeUndefined();
  return res.data.predictBatch;
}

async function feedback(sut: TestApp, predictionId: string, actual: string): Promise<number> {
  const res = await sut.gql(SUBMIT_FEEDBACK, { input: { predictionId, actual } });
  expect(res.errors).toBeUndefined();
  return Number(res.data.submitFeedback.id);
}

/**
 * The model every process should serve: the live version as trained, plus each committed
 * feedback row it was not trained on, learned once.
 */
async function expectedModel(sut: TestApp): Promise<NaiveBayesModel> {
  const em = sut.app.orm.em.fork();
  const version = await em.findOneOrFail(ModelVersion, { model: 'spam', status: 'LIVE' }, { populate: ['artifact'] });
  const model = NaiveBayesModel.fromJSON(version.artifact);
  const task = sut.app.services.tasks.get('spam')!;
  const rows = await em.getConnection().execute<{ actual: string; input: { text: string } }[]>(
    `select f.actual, p.input from feedback f join prediction p on p.id = f.prediction_id
     where f.model = 'spam' and f.id > ? order by f.id`,
    [version.trainedThroughFeedbackId],
  );
  for (const r of rows) model.learn(task.encode(r.input), r.actual);
  return model;
}

/** Same counts and the same probabilities on probe texts (counts are integers: exact). */
function expectSameModel(actual: NaiveBayesModel, expected: NaiveBayesModel, sut: TestApp) {
  expect(actual.classCounts()).toEqual(expected.classCounts());
  expect(actual.vocabularySize).toBe(expected.vocabularySize);
  const task = sut.app.services.tasks.get('spam')!;
  for (const probe of ['win money now', 'meeting agenda notes', text(3, 'probe')]) {
    const x = task.encode({ text: probe });
    const [a, e] = [actual.predictProba(x), expected.predictProba(x)];
    a.forEach((p, i) => expect(p).toBeCloseTo(e[i]!, 12));
  }
}

/** Waits until `sut`'s live spam model has learned `samples` rows in all (it must not go past). */
async function untilLearned(sut: TestApp, samples: number) {
  await expect.poll(() => sut.app.services.models.getLive('spam')!.model.sampleCount, { timeout: 30_000, interval: 50 }).toBe(samples);
}

describe('exactly-once learning under concurrency', () => {
  let url: string;
  let a: TestApp;
  let b: TestApp;
  let raw: pg.Client;

  beforeAll(async () => {
    url = await freshDatabaseUrl('exactly_once');
    // All feedback below agrees with the model and stays under the feedback-count threshold, so
    // no retrain starts by itself: the one in the last test is the only one.
    a = await startTestApp({ databaseUrl: url });
    b = await startTestApp({ databaseUrl: url, env: { TRAINER: 'off' } });
    raw = new pg.Client({ connectionString: url });
    await raw.connect();
  });
  afterAll(async () => {
    await raw?.end();
    await b?.stop();
    await a?.stop();
  });

  it('learns a feedback that took its id early and committed after later ids, in both processes, once', async () => {
    const [late, ...others] = await predict(
      a,
      Array.from({ length: 41 }, (_, i) => text(i, 'order')),
    );
    // The late row: its transaction takes an id now and holds its commit.
    await raw.query('begin');
    const { rows } = await raw.query<{ id: string }>(
      `insert into feedback (model, prediction_id, model_version_id, predicted, actual, correct, source)
       select model, id, model_version_id, label, label, true, 'feedback' from prediction where id = $1 returning id`,
      [late!.id],
    );
    const lateId = Number(rows[0]!.id);
    // Later ids commit first, through both processes, and are learned by both.
    const ids = await Promise.all(others.map((p, i) => feedback(i % 2 ? a : b, p.id, p.label)));
    expect(Math.min(...ids)).toBeGreaterThan(lateId);
    const expectedBefore = await expectedModel(a);
    await untilLearned(a, expectedBefore.sampleCount);
    await untilLearned(b, expectedBefore.sampleCount);

    await raw.query('commit');
    // The next feedback of each process is announced to the other; nothing announces the late row.
    const [next1, next2] = await predict(a, [text(100, 'order'), text(101, 'order')]);
    await feedback(a, next1!.id, next1!.label);
    await feedback(b, next2!.id, next2!.label);

    const expected = await expectedModel(a);
    expect(expected.sampleCount).toBe(expectedBefore.sampleCount + 3);
    await untilLearned(a, expected.sampleCount);
    await untilLearned(b, expected.sampleCount);
    expectSameModel(a.app.services.models.getLive('spam')!.model, expected, a);
    expectSameModel(b.app.services.models.getLive('spam')!.model, expected, b);
  });

  it('learns every feedback exactly once while the live model is reloaded under a stream of feedback', async () => {
    const predictions = await predict(
      a,
      Array.from({ length: 240 }, (_, i) => text(i, 'reload')),
    );
    let next = 0;
    const sender = async () => {
      while (next < predictions.length) {
        const i = next++;
        await feedback(i % 2 ? a : b, predictions[i]!.id, predictions[i]!.label);
      }
    };
    const senders = Promise.all(Array.from({ length: 6 }, sender));
    // Reload both processes' live models (the same version) while the stream runs.
    while (next < predictions.length) {
      await Promise.all([a.app.services.models.load('spam'), b.app.services.models.load('spam')]);
    }
    await senders;
    // One more feedback from each side announces the stream's tail to the other.
    const [x, y] = await predict(a, [text(900, 'reload'), text(901, 'reload')]);
    await feedback(a, x!.id, x!.label);
    await feedback(b, y!.id, y!.label);

    const expected = await expectedModel(a);
    await untilLearned(a, expected.sampleCount);
    await untilLearned(b, expected.sampleCount);
    expectSameModel(a.app.services.models.getLive('spam')!.model, expected, a);
    expectSameModel(b.app.services.models.getLive('spam')!.model, expected, b);
  });

  it('puts every committed feedback, the late one included, in the next dataset version', async () => {
    const res = await a.gql(`mutation { triggerRetrain(model: "spam", reason: "exactly-once test") { id } }`, {}, { token: ADMIN_TOKEN });
    expect(res.errors).toBeUndefined();
    const jobId = res.data.triggerRetrain.id;
    await expect
      .poll(
        async () =>
          (await a.gql(`{ retrainJobs(model: "spam") { id state } }`, {}, { token: ADMIN_TOKEN })).data.retrainJobs.find((j: any) => j.id === jobId)?.state,
        {
          timeout: 120_000,
          interval: 250,
        },
      )
      .toMatch(/PROMOTED|REJECTED/);
    const em = a.app.orm.em.fork();
    const feedbackIds = (await em.getConnection().execute<{ id: string }[]>(`select id from feedback where model = 'spam' and prediction_id is not null`)).map(
      (r) => Number(r.id),
    );
    // A dataset version's rows are its parent's plus the feedback its cursor had not covered.
    const latest = (await a.app.services.datasets.latest('spam'))!;
    const lines = (await a.app.services.datasets.rows(latest)).toString('utf8').split('\n').filter(Boolean);
    const inDataset = lines.flatMap((line) => {
      const id = (JSON.parse(line) as { feedbackId?: number }).feedbackId;
      return id === undefined ? [] : [id];
    });
    expect(new Set(inDataset).size).toBe(inDataset.length);
    expect(inDataset.sort((x, y) => x - y)).toEqual(feedbackIds.sort((x, y) => x - y));
    expect(latest.manifest.feedbackSnapshot).toMatch(/^\d+:\d+:/);
  });
});
