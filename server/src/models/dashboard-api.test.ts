// What the dashboard reads about a task besides its versions: known categories, the retrain
// policy, and activations pushed as they happen (so no client polls for them).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, startTestApp, type TestApp } from '../../test/test-app.js';

describe('the task API the dashboard reads', () => {
  let sut: TestApp;
  beforeAll(async () => {
    sut = await startTestApp();
  });
  afterAll(() => sut?.stop());

  it('publishes the categories of a category feature and the retrain policy', async () => {
    const res = await sut.gql(`{ models { name features { name categories } retrainPolicy { afterFeedback minAccuracy window cooldownSeconds } } }`);
    const fraud = res.data.models.find((m: { name: string }) => m.name === 'fraud');
    const category = fraud.features.find((f: { name: string }) => f.name === 'merchantCategory');
    expect(category.categories).toEqual(expect.arrayContaining(['electronics', 'grocery', 'crypto']));
    expect(fraud.features.find((f: { name: string }) => f.name === 'amount').categories).toBeNull();
    expect(fraud.retrainPolicy).toEqual({ afterFeedback: 500, minAccuracy: 0.85, window: 200, cooldownSeconds: 300 });
  });

  it('pushes each activation with who, from, to and why (modelActivated)', async () => {
    const client = sut.wsClient();
    const pushes = client.iterate<{ modelActivated: { version: number; previousVersion: number | null; actor: string; reason: string } }>({
      query: `subscription { modelActivated(model: "spam") { version previousVersion actor reason } }`,
    });
    // Re-activating the live version is an activation too; retried until the subscription is set up.
    const next = pushes.next();
    let settled = false;
    void next.then(() => (settled = true));
    await expect
      .poll(
        async () => {
          if (!settled) await sut.gql(`mutation { activateModelVersion(model: "spam", version: 1, reason: "pushed") { version } }`, {}, { token: ADMIN_TOKEN });
          return settled;
        },
        { interval: 200, timeout: 20_000 },
      )
      .toBe(true);
    expect((await next).value?.data?.modelActivated).toEqual({ version: 1, previousVersion: 1, actor: 'admin', reason: 'pushed' });
    await pushes.return?.();
  });

  it('answers the gate of a first version without a champion', async () => {
    const res = await sut.gql(`{ modelVersions(model: "fraud") { version gate { promoted championVersion comparisons { set championAccuracy } } } }`);
    const v1 = res.data.modelVersions.find((v: { version: number }) => v.version === 1);
    if (v1.gate) expect(v1.gate.championVersion).toBeNull();
  });

  it("explains a version's dataset from its manifest", async () => {
    const res = await sut.gql(
      `{ modelVersions(model: "fraud") { version dataset { version contentHash rowCount trainRows holdoutRows labelCounts { key count } droppedByReason { key count } } } }`,
    );
    const { dataset } = res.data.modelVersions.find((v: { version: number }) => v.version === 1);
    expect(dataset.contentHash).toMatch(/^[0-9a-f]{64}$/);
    expect(dataset.trainRows + dataset.holdoutRows).toBe(dataset.rowCount);
    expect(dataset.labelCounts.map((c: { key: string }) => c.key).sort()).toEqual(['fraud', 'legit']);
  });
});
