import { describe, expect, it } from 'vitest';
import { correctedAccuracy, estimatedAccuracy, proportionInterval, type Interval } from '../ml/estimation.js';
import { strataOf, syntheticWindow, type LabellingPolicy, type SyntheticPrediction } from './selective-feedback.js';

const SEEDS = 300;
const COUNT = 2000;

const within = (x: number, i: Interval | null | undefined) => i !== null && i !== undefined && x >= i.lower && x <= i.upper;
const truthOf = (w: readonly SyntheticPrediction[]) => w.filter((p) => p.correct).length / w.length;

/** Over SEEDS windows: how often each estimator's 95% interval holds the window's true accuracy. */
function coverage(policy: LabellingPolicy, auditRate: number) {
  const hits = { raw: 0, corrected: 0, audited: 0 };
  for (let seed = 1; seed <= SEEDS; seed++) {
    const w = syntheticWindow({ count: COUNT, seed, policy, auditRate });
    const truth = truthOf(w);
    const labelled = w.filter((p) => p.labelled);
    const audited = w.filter((p) => p.feedbackRequested && p.labelled);
    if (within(truth, proportionInterval(labelled.filter((p) => p.correct).length, labelled.length))) hits.raw++;
    if (within(truth, correctedAccuracy(strataOf(w))?.interval)) hits.corrected++;
    if (within(truth, proportionInterval(audited.filter((p) => p.correct).length, audited.length))) hits.audited++;
  }
  return { raw: hits.raw / SEEDS, corrected: hits.corrected / SEEDS, audited: hits.audited / SEEDS };
}

describe('honest accuracy under selective feedback (coverage of 95% intervals over 300 seeds, 2,000 predictions each)', () => {
  it('random feedback: every interval covers the truth about 95% of the time', () => {
    const c = coverage('random', 0.05);
    expect(c.raw).toBeGreaterThan(0.9);
    expect(c.corrected).toBeGreaterThan(0.9);
    expect(c.audited).toBeGreaterThan(0.9);
  });

  it('feedback mostly on what was flagged or unsure: raw almost never covers the truth, corrected does', () => {
    const c = coverage('flagged-mostly', 0.05);
    expect(c.raw).toBeLessThan(0.05);
    expect(c.corrected).toBeGreaterThan(0.9);
    expect(c.audited).toBeGreaterThan(0.9);
  });

  it('feedback on 90% of wrong and 10% of right answers: only the audit sample stays honest; corrected narrows the gap', () => {
    const c = coverage('wrong-mostly', 0.05);
    expect(c.raw).toBe(0);
    expect(c.audited).toBeGreaterThan(0.9);
    // Selection on the truth itself cannot be undone from what is known at prediction time.
    expect(c.corrected).toBeLessThan(0.5);
  });

  it('corrected accuracy is closer to the truth than raw when people complain', () => {
    let raw = 0;
    let corrected = 0;
    for (let seed = 1; seed <= 50; seed++) {
      const w = syntheticWindow({ count: COUNT, seed, policy: 'wrong-mostly', auditRate: 0 });
      const truth = truthOf(w);
      const labelled = w.filter((p) => p.labelled);
      raw += Math.abs(labelled.filter((p) => p.correct).length / labelled.length - truth);
      corrected += Math.abs(correctedAccuracy(strataOf(w))!.value - truth);
    }
    expect(corrected).toBeLessThan(raw);
  });

  it('estimated accuracy of unlabelled predictions after an input shift, calibrated on an earlier audited window, covers the truth', () => {
    let hits = 0;
    for (let seed = 1; seed <= SEEDS; seed++) {
      const before = syntheticWindow({ count: COUNT, seed, policy: 'wrong-mostly', auditRate: 0.1 });
      // Calibration from audited predictions only: the complaints would make it pessimistic.
      const calibration = strataOf(before, (p) => p.feedbackRequested);
      const after = syntheticWindow({ count: COUNT / 4, seed: seed + 100_000, policy: 'random', auditRate: 0, shift: 0.4 });
      const estimate = estimatedAccuracy(strataOf(after), calibration);
      if (within(truthOf(after), estimate?.interval)) hits++;
    }
    expect(hits / SEEDS).toBeGreaterThan(0.9);
  });
});
