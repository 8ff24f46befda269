import { describe, expect, it } from 'vitest';
import { createRng } from '../simulation/scenarios.js';
import { generateFraudRows } from '../tasks/data/fraud-generator.js';
import { featureSchema, type FeatureDefinition } from '../tasks/task-definition.js';
import fraud from '../tasks/definitions/fraud.json' with { type: 'json' };
import { buildReference, driftReport, type DriftRow } from './drift-report.js';
import { chiSquaredSurvival, jensenShannon, kolmogorovSmirnov, kolmogorovSurvival, populationStabilityIndex } from './drift-statistics.js';

const features = fraud.features as FeatureDefinition[];
const rowsOf = (n: number, seed: number): DriftRow[] =>
  generateFraudRows(n, { seed }).map((r) => ({ input: r.input as unknown as Record<string, unknown>, label: r.label }));
/** The inputs move: amounts 60% larger, and a merchant category the training data never had takes 15%. */
const shifted = (r: DriftRow, rng: () => number): DriftRow => ({
  ...r,
  input: { ...r.input, amount: Number(r.input.amount) * 1.6, merchantCategory: rng() < 0.15 ? 'bnpl' : r.input.merchantCategory },
});

describe('drift statistics', () => {
  it('match known values', () => {
    expect(chiSquaredSurvival(3.841, 1)).toBeCloseTo(0.05, 3);
    expect(chiSquaredSurvival(18.307, 10)).toBeCloseTo(0.05, 3);
    expect(kolmogorovSurvival(1.358)).toBeCloseTo(0.05, 2);
    expect(jensenShannon(new Map([['a', 1]]), new Map([['b', 1]]))).toBeCloseTo(1, 12);
    const same = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
    expect(populationStabilityIndex(same, same)).toBeCloseTo(0, 12);
    expect(kolmogorovSmirnov(same, same)!.statistic).toBe(0);
    expect(kolmogorovSmirnov(same, [11, 12, 13])!.statistic).toBe(1);
  });
});

describe('input drift of the fraud task (reference: 5,000 training rows)', () => {
  const reference = buildReference(features, rowsOf(5000, 42));

  it('raises few false alarms on a stable stream: 500-prediction windows over 200 seeds', () => {
    let alarms = 0;
    for (let seed = 1; seed <= 200; seed++) if (driftReport(features, reference, rowsOf(500, 1000 + seed)).drifted) alarms++;
    // Each report tests 6 features at 0.01 / 6 (Bonferroni) and needs PSI >= 0.1 too.
    expect(alarms / 200).toBeLessThanOrEqual(0.02);
  });

  it('flags a shift within 250 predictions of its start (sliding window of the last 500, checked every 25)', () => {
    const delays: number[] = [];
    for (let seed = 1; seed <= 30; seed++) {
      const rng = createRng(seed);
      const before = rowsOf(1000, 5000 + seed);
      const after = rowsOf(1000, 9000 + seed).map((r) => shifted(r, rng));
      const stream = [...before, ...after];
      let delay = Infinity;
      for (let end = 1000 + 25; end <= stream.length; end += 25) {
        if (driftReport(features, reference, stream.slice(end - 500, end)).drifted) {
          delay = end - 1000;
          break;
        }
      }
      delays.push(delay);
    }
    expect(Math.max(...delays)).toBeLessThanOrEqual(250);
  });

  it('names what moved and reports the unseen share of a category', () => {
    const rng = createRng(3);
    const report = driftReport(
      features,
      reference,
      rowsOf(1000, 77).map((r) => shifted(r, rng)),
    );
    const byName = new Map(report.features.map((f) => [f.name, f]));
    expect(byName.get('amount')!.drifted).toBe(true);
    expect(byName.get('merchantCategory')!.drifted).toBe(true);
    expect(byName.get('merchantCategory')!.unseenShare).toBeCloseTo(0.15, 1);
    expect(byName.get('hour')!.drifted).toBe(false);
    expect(byName.has('predictedLabel')).toBe(true);
  });
});

describe('text drift (token divergence and out-of-vocabulary share)', () => {
  const text: FeatureDefinition[] = [featureSchema.parse({ name: 'text', type: 'text' })];
  // Zipf-like documents over a vocabulary; the drifted stream speaks of things never seen.
  const docs = (n: number, seed: number, vocabulary: string) => {
    const rng = createRng(seed);
    return Array.from({ length: n }, () => ({
      input: { text: Array.from({ length: 30 }, () => `${vocabulary}${Math.floor(1 / (rng() + 0.002))}`).join(' ') },
      label: rng() < 0.3 ? 'spam' : 'ham',
    }));
  };
  const reference = buildReference(text, docs(3000, 1, 'w'));

  it('stays quiet on the same kind of text and flags new vocabulary', () => {
    let alarms = 0;
    for (let seed = 2; seed < 52; seed++) if (driftReport(text, reference, docs(200, seed, 'w')).drifted) alarms++;
    expect(alarms).toBeLessThanOrEqual(1);
    const moved = [...docs(140, 99, 'w'), ...docs(60, 98, 'x')];
    const report = driftReport(text, reference, moved);
    expect(report.drifted).toBe(true);
    expect(report.features[0]!.unseenShare).toBeGreaterThan(0.2);
  });
});
