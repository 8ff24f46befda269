import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../test/test-app.js';
import { renderHonestSummary, runHonestSimulation } from './honest-simulation.js';

describe('honest-accuracy scenarios through the API (fraud, AUDIT_SAMPLE_RATE=0.2)', () => {
  let sut: TestApp;
  beforeAll(async () => {
    // The simulated callers are trusted (else the trust gate would quarantine their complaints), and
    // no retrain moves the model under the windows.
    sut = await startTestApp({ env: { AUDIT_SAMPLE_RATE: '0.2', TRUSTED_SOURCES: 'anonymous', AUTO_RETRAIN: 'off', ONLINE_LEARNING: 'off' } });
  });
  afterAll(() => sut?.stop());

  it('complaints: raw accuracy is far below the truth, the audit sample holds it', async () => {
    const s = await runHonestSimulation({ url: `${sut.url}/graphql`, scenario: 'audited', windows: 4, perWindow: 300, seed: 1 });
    console.info(renderHonestSummary(s));
    for (const w of s.windows) {
      expect(w.final.accuracy!).toBeLessThan(w.trueAccuracy);
      expect(w.final.auditedAccuracyInterval!.lower).toBeLessThanOrEqual(w.trueAccuracy);
      expect(w.final.auditedAccuracyInterval!.upper).toBeGreaterThanOrEqual(w.trueAccuracy);
    }
    expect(s.coverage.raw.covered).toBeLessThanOrEqual(1);
    expect(s.coverage.audited.covered).toBe(s.coverage.audited.of);
  });

  it('inputs drift before labels arrive: drift is flagged in the first shifted window, the estimate is there before the labels', async () => {
    const s = await runHonestSimulation({ url: `${sut.url}/graphql`, scenario: 'input-drift', windows: 5, perWindow: 300, seed: 2 });
    console.info(renderHonestSummary(s));
    expect(s.windows.filter((w) => !w.shifted).every((w) => w.drifted === false)).toBe(true);
    expect(s.windows.find((w) => w.shifted)!.drifted).toBe(true);
    // Right after a window its labels are three windows away: only the estimate speaks of it.
    for (const w of s.windows) {
      expect(w.atEnd.feedbackCount).toBeLessThan(w.final.feedbackCount);
      expect(w.atEnd.estimatedAccuracy).not.toBeNull();
    }
  });
});
