import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../test/test-app.js';
import { runRetrainDemo } from './retrain-demo.js';

/**
 * The closed loop on real data: bootstrapped on SpamAssassin's earlier groups, the spam model
 * meets the later groups; truthful feedback shows live accuracy falling, which triggers a
 * retrain by itself, and the promoted version recovers. Online learning is off so the recovery
 * is the retrain's alone.
 */
describe(runRetrainDemo.name, () => {
  let sut: TestApp;
  beforeAll(async () => {
    sut = await startTestApp({ env: { ONLINE_LEARNING: 'off' } });
  });
  afterAll(() => sut?.stop());

  it('on the SpamAssassin stream: the accuracy drop triggers a retrain and the promoted model recovers accuracy', async () => {
    const report = await runRetrainDemo({ url: `${sut.url}/graphql`, model: 'spam', rows: 1200, batch: 50, seed: 3 });
    expect(report.trigger?.reason).toMatch(/^live accuracy 0\.\d+ over the last \d+ feedback of version 1 \(95% upper bound 0\.\d+\) is below 0\.93/);
    expect(report.promotion?.version).toBe(2);
    expect(report.beforeTrigger.accuracy!).toBeLessThan(0.9);
    expect(report.afterPromotion.rows).toBeGreaterThan(100);
    expect(report.afterPromotion.accuracy!).toBeGreaterThan(report.beforeTrigger.accuracy! + 0.05);
  }, 180_000);
});
