// Hot swaps under load: activateModelVersion back and forth while clients predict; no request may
// fail, and each activation is served within the load (a later prediction carries the new version).
// Clients also give feedback, so the live models learn online while they are swapped.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, aFraudInput, retrainFinished, startTestApp, type TestApp } from '../test-app.js';

const CLIENTS = 4;
const SWAPS = 40;
const PREDICT = `mutation($input: PredictInput!) { predict(input: $input) { id modelVersion { version } } }`;
const FEEDBACK = `mutation($input: FeedbackInput!) { submitFeedback(input: $input) { id } }`;
const ACTIVATE = `mutation($model: String!, $version: Int!) { activateModelVersion(model: $model, version: $version, reason: "hot swap test") { version status } }`;

describe('hot swaps under load', () => {
  let sut: TestApp;

  beforeAll(async () => {
    sut = await startTestApp();
    // A second version of fraud: a retrain after some feedback.
    for (let i = 0; i < 40; i++) {
      const p = await sut.gql(PREDICT, { input: { fraud: aFraudInput({ amount: 20 + i * 50, hour: i % 24 }) } });
      expect(p.errors).toBeUndefined();
      const f = await sut.gql(FEEDBACK, { input: { predictionId: p.data.predict.id, correct: i % 4 !== 0 } });
      expect(f.errors).toBeUndefined();
    }
    const job = await sut.gql(`mutation { triggerRetrain(model: "fraud", reason: "hot swap test") { id } }`, {}, { token: ADMIN_TOKEN });
    expect(job.errors).toBeUndefined();
    const finished = await retrainFinished(sut, 'fraud', job.data.triggerRetrain.id);
    expect(finished, 'the retrain produced version 2').toMatchObject({ version: 2 });
  }, 180_000);

  afterAll(async () => {
    await sut?.stop();
  });

  it(`${SWAPS} activations back and forth while ${CLIENTS} clients predict and give feedback: 0 failed requests`, async () => {
    const versions = (await sut.gql(`query { modelVersions(model: "fraud") { version } }`)).data.modelVersions.map((v: { version: number }) => v.version);
    expect(versions).toEqual(expect.arrayContaining([1, 2]));

    let running = true;
    let requests = 0;
    const failures: string[] = [];
    const served: { version: number; at: number }[] = [];
    const client = async (n: number) => {
      for (let i = 0; running && i < 1_000_000; i++) {
        try {
          const res = await sut.gql(PREDICT, { input: { fraud: aFraudInput({ amount: 5 + ((i * 31 + n) % 3000) }) } });
          requests++;
          if (res.errors) {
            failures.push(JSON.stringify(res.errors[0]));
            continue;
          }
          served.push({ version: res.data.predict.modelVersion.version, at: Date.now() });
          if (i % 2 === 0) {
            const f = await sut.gql(FEEDBACK, { input: { predictionId: res.data.predict.id, correct: i % 3 !== 0 } });
            requests++;
            if (f.errors) failures.push(JSON.stringify(f.errors[0]));
          }
        } catch (error) {
          requests++;
          failures.push((error as Error).message);
        }
      }
    };
    const clients = Array.from({ length: CLIENTS }, (_, n) => client(n));

    const started = Date.now();
    try {
      for (let s = 0; s < SWAPS; s++) {
        const target = s % 2 === 0 ? 1 : 2;
        const res = await sut.gql(ACTIVATE, { model: 'fraud', version: target }, { token: ADMIN_TOKEN });
        expect(res.errors).toBeUndefined();
        const activatedAt = Date.now();
        // The swap reaches the clients: a prediction answered after it carries the new version.
        await expect.poll(() => served.some((p) => p.at > activatedAt && p.version === target), { timeout: 10_000, interval: 10 }).toBe(true);
        expect(failures).toEqual([]);
      }
    } finally {
      running = false;
      await Promise.all(clients);
    }
    console.error(
      `[hot swap] swaps: ${SWAPS}, clients: ${CLIENTS}, requests during swaps: ${requests}, failed: ${failures.length}, ` +
        `seconds: ${((Date.now() - started) / 1000).toFixed(1)}`,
    );
    expect(failures).toEqual([]);
  });
});
