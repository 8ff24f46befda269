import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NaiveBayesModel } from '../ml/naive-bayes.js';
import { ModelVersion } from './model-version.entity.js';
import { generateNewBatch } from '../tasks/data/fraud-generator.js';
import { ADMIN_TOKEN, PREDICT_FRAUD, aFraudInput, startTestApp, type TestApp } from '../../test/test-app.js';

const ACTIVATE = `mutation($v: Int!) { activateModelVersion(model: "fraud", version: $v, reason: "test") { version status } }`;

describe('activateModelVersion', () => {
  let sut: TestApp;
  beforeAll(async () => {
    sut = await startTestApp();
    // A second version to move between: v1 plus a drifted batch, as a retrain would produce.
    const models = sut.app.services.models;
    const task = sut.app.services.tasks.get('fraud')!;
    const v1 = await sut.app.orm.em.fork().findOneOrFail(ModelVersion, { model: 'fraud', version: 1 }, { populate: ['artifact'] });
    const nb = NaiveBayesModel.fromJSON(v1.artifact);
    for (const row of generateNewBatch(2000, { seed: 7, drift: 1 })) nb.learn(task.encode(task.validate(row.input)), row.label);
    await models.registerVersion('fraud', { artifact: nb.toJSON(), trainingMetrics: null, trainedThroughFeedbackId: 0 });
  });
  afterAll(() => sut?.stop());

  it('needs the admin token: none or a wrong one is UNAUTHENTICATED and changes nothing', async () => {
    for (const token of [undefined, 'wrong-token-wrong-token-wrong']) {
      const res = await sut.gql(ACTIVATE, { v: 2 }, token ? { token } : {});
      expect(res.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    }
    const live = await sut.gql(`{ models { name liveVersion { version } } }`);
    expect(live.data.models.find((m: any) => m.name === 'fraud').liveVersion.version).toBe(1);
  });

  it('answers NOT_FOUND for a version that does not exist', async () => {
    const res = await sut.gql(ACTIVATE, { v: 42 }, { token: ADMIN_TOKEN });
    expect(res.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  });

  it('switches serving to the version, rolls back, and records who moved it', async () => {
    const promote = await sut.gql(ACTIVATE, { v: 2 }, { token: ADMIN_TOKEN });
    expect(promote.data.activateModelVersion).toEqual({ version: 2, status: 'LIVE' });
    const served = await sut.gql(PREDICT_FRAUD, { input: { fraud: aFraudInput() } });
    expect(served.data.predict.modelVersion.version).toBe(2);

    const rollback = await sut.gql(ACTIVATE, { v: 1 }, { token: ADMIN_TOKEN });
    expect(rollback.data.activateModelVersion).toEqual({ version: 1, status: 'LIVE' });
    const after = await sut.gql(PREDICT_FRAUD, { input: { fraud: aFraudInput() } });
    expect(after.data.predict.modelVersion.version).toBe(1);

    const versions = await sut.gql(`{ modelVersions(model: "fraud") { version status } }`);
    expect(versions.data.modelVersions).toEqual([
      { version: 2, status: 'RETIRED' },
      { version: 1, status: 'LIVE' },
    ]);
    const history = await sut.gql(`{ modelActivations(model: "fraud") { version previousVersion actor reason } }`);
    expect(history.data.modelActivations).toEqual([
      { version: 1, previousVersion: 2, actor: 'admin', reason: 'test' },
      { version: 2, previousVersion: 1, actor: 'admin', reason: 'test' },
      { version: 1, previousVersion: null, actor: 'trainer', reason: expect.stringMatching(/^bootstrap/) },
    ]);
  });

  it('serves every request while versions switch under load', async () => {
    const load = Array.from({ length: 300 }, (_, i) => sut.gql(PREDICT_FRAUD, { input: { fraud: aFraudInput({ hour: i % 24 }) } }));
    const switches = [2, 1, 2, 1].map((v) => sut.gql(ACTIVATE, { v }, { token: ADMIN_TOKEN }));
    const results = await Promise.all(load);
    await Promise.all(switches);
    expect(results.filter((r) => r.errors).length).toBe(0);
    for (const r of results) expect([1, 2]).toContain(r.data.predict.modelVersion.version);
  });
});
