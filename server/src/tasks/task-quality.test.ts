import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../test/test-app.js';
import { modelQualityWarnings } from '../models/model-quality.js';

describe('tasks not worth relying on are flagged', () => {
  let sut: TestApp;
  beforeAll(async () => {
    sut = await startTestApp({ env: { TASKS: path.resolve('examples/tasks/threat.json'), AUTO_RETRAIN: 'off' } });
  });
  afterAll(() => sut?.stop());

  it('names the experimental task and the version that trained below its own threshold, in the API and the banner', async () => {
    const res = await sut.gql(
      `{ models { name experimental retrainPolicy { minAccuracy } liveVersion { version belowThreshold trainingMetrics { accuracy } } } }`,
    );
    expect(res.errors).toBeUndefined();
    const byName = Object.fromEntries(res.data.models.map((m: { name: string }) => [m.name, m]));
    expect(byName.threat.experimental).toMatch(/60 hand-written messages/);
    expect(byName.threat.liveVersion.trainingMetrics.accuracy).toBeLessThan(byName.threat.retrainPolicy.minAccuracy);
    expect(byName.threat.liveVersion.belowThreshold).toBe(true);
    for (const name of ['fraud', 'spam']) {
      expect(byName[name].experimental).toBeNull();
      expect(byName[name].liveVersion.belowThreshold).toBe(false);
    }
    const banner = await modelQualityWarnings(sut.app.services);
    expect(banner).toEqual([
      expect.stringMatching(/EXPERIMENTAL +threat: /),
      expect.stringMatching(/BELOW THRESHOLD +threat v1: holdout accuracy 0\.\d+ < its threshold 0\.8/),
    ]);
  });
});
