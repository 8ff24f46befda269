import { describe, expect, it } from 'vitest';
import {
  MERCHANT_CATEGORIES,
  fraudStream,
  generateFraudRows,
  generateInitialData,
  generateNewBatch,
} from './fraud-generator.js';
import type { FraudInput, LabelledRow } from './types.js';

type Row = LabelledRow<FraudInput>;

const isNight = (h: number) => h < 6 || h >= 22;
const frac = (rows: Row[], pred: (r: Row) => boolean) => rows.filter(pred).length / rows.length;
const frauds = (rows: Row[]) => rows.filter((r) => r.label === 'fraud');
const legits = (rows: Row[]) => rows.filter((r) => r.label === 'legit');
const EVERYDAY = new Set(['grocery', 'retail', 'fuel']);

/** Balanced accuracy of the rule "predict fraud when pred(row)". 0.5 = chance. */
function balancedAccuracy(rows: Row[], pred: (r: Row) => boolean): number {
  return (frac(frauds(rows), pred) + frac(legits(rows), (r) => !pred(r))) / 2;
}

/**
 * Minimal naive Bayes (Gaussian on log features, Laplace-smoothed categoricals), written here
 * only to show that drift hurts a model trained on drift-0 data.
 */
function trainNaiveBayes(rows: Row[]): (x: FraudInput) => string {
  const numeric = (x: FraudInput) => [
    Math.log(x.amount),
    Math.log1p(x.timeSinceLast),
    Math.log((x.previousAmount + 1) / (x.amount + 1)),
  ];
  const classes = ['fraud', 'legit'].map((label) => {
    const rs = rows.filter((r) => r.label === label);
    const feats = rs.map((r) => numeric(r.input));
    const mean = [0, 1, 2].map((j) => feats.reduce((s, f) => s + f[j]!, 0) / feats.length);
    const sd = [0, 1, 2].map((j) =>
      Math.sqrt(feats.reduce((s, f) => s + (f[j]! - mean[j]!) ** 2, 0) / feats.length + 1e-6),
    );
    const count = (key: (x: FraudInput) => string, values: readonly string[]) =>
      new Map(values.map((v) => [v, Math.log((rs.filter((r) => key(r.input) === v).length + 1) / (rs.length + values.length))]));
    const hours = Array.from({ length: 24 }, (_, h) => String(h));
    return {
      label,
      prior: Math.log(rs.length / rows.length),
      mean,
      sd,
      cat: count((x) => x.merchantCategory, MERCHANT_CATEGORIES),
      hour: count((x) => String(x.hour), hours),
    };
  });
  return (x) => {
    const f = numeric(x);
    let best = '';
    let bestScore = -Infinity;
    for (const c of classes) {
      let s = c.prior + c.cat.get(x.merchantCategory)! + c.hour.get(String(x.hour))!;
      for (let j = 0; j < 3; j++) s += -Math.log(c.sd[j]!) - ((f[j]! - c.mean[j]!) ** 2) / (2 * c.sd[j]! ** 2);
      if (s > bestScore) [best, bestScore] = [c.label, s];
    }
    return best;
  };
}

describe('fraud generator', () => {
  it('produces valid values', () => {
    // Collect offenders and assert once: 60k rows x 11 expect() calls would take seconds.
    const isCents = (v: number) => Math.round(v * 100) / 100 === v;
    const valid = ({ input: x, label, source }: Row) =>
      (label === 'fraud' || label === 'legit') &&
      source === 'synthetic' &&
      Number.isFinite(x.amount) && x.amount > 0 && x.amount < 1e6 && isCents(x.amount) &&
      Number.isInteger(x.hour) && x.hour >= 0 && x.hour <= 23 &&
      Number.isInteger(x.dayOfWeek) && x.dayOfWeek >= 0 && x.dayOfWeek <= 6 &&
      MERCHANT_CATEGORIES.includes(x.merchantCategory) &&
      Number.isFinite(x.previousAmount) && x.previousAmount >= 0 && x.previousAmount < 1e6 &&
      isCents(x.previousAmount) &&
      Number.isFinite(x.timeSinceLast) && x.timeSinceLast >= 0 && isCents(x.timeSinceLast);
    for (const drift of [0, 0.5, 1]) {
      const rows = generateNewBatch(20_000, { seed: 3, drift });
      expect(rows.filter((r) => !valid(r)).slice(0, 3)).toEqual([]);
    }
  });

  it('is deterministic for a seed and differs across seeds', () => {
    expect(generateNewBatch(2000, { seed: 42, drift: 0.3 })).toEqual(generateNewBatch(2000, { seed: 42, drift: 0.3 }));
    expect(generateInitialData(500, { seed: 9 })).toEqual(generateInitialData(500, { seed: 9 }));
    expect(generateInitialData(500, { seed: 9 })).not.toEqual(generateInitialData(500, { seed: 10 }));
    // Unseeded calls draw a random seed, so two batches differ.
    expect(generateNewBatch(200)).not.toEqual(generateNewBatch(200));
  });

  it('matches the documented marginals at drift 0', () => {
    const rows = generateInitialData(100_000, { seed: 1 });
    expect(frac(rows, (r) => r.label === 'fraud')).toBeCloseTo(0.08, 2);
    const amounts = legits(rows).map((r) => r.input.amount).sort((a, b) => a - b);
    const median = amounts[amounts.length >> 1]!;
    expect(median).toBeGreaterThan(40);
    expect(median).toBeLessThan(50);
    // dayOfWeek uniform: every day close to 1/7.
    for (let d = 0; d < 7; d++) expect(frac(rows, (r) => r.input.dayOfWeek === d)).toBeCloseTo(1 / 7, 2);
    const meanGap = legits(rows).reduce((s, r) => s + r.input.timeSinceLast, 0) / legits(rows).length;
    expect(meanGap).toBeGreaterThan(19);
    expect(meanGap).toBeLessThan(21);
  });

  it('honours fraudRate, including 0 and 1', () => {
    expect(frac(generateNewBatch(20_000, { seed: 5, fraudRate: 0.3 }), (r) => r.label === 'fraud')).toBeCloseTo(0.3, 1);
    expect(frauds(generateNewBatch(1000, { seed: 5, fraudRate: 0 }))).toHaveLength(0);
    expect(legits(generateNewBatch(1000, { seed: 5, fraudRate: 1 }))).toHaveLength(0);
  });

  it('rejects invalid options', () => {
    expect(() => generateNewBatch(10, { drift: 1.5 })).toThrow(RangeError);
    expect(() => generateNewBatch(10, { fraudRate: -0.1 })).toThrow(RangeError);
    expect(() => generateNewBatch(-1)).toThrow(RangeError);
    expect(() => generateNewBatch(1.5)).toThrow(RangeError);
    expect(() => fraudStream({ driftPerRow: -1 })).toThrow(RangeError);
    expect(generateNewBatch(0)).toEqual([]);
  });

  it('generateInitialData ignores drift', () => {
    expect(generateInitialData(1000, { seed: 2, drift: 1 })).toEqual(generateNewBatch(1000, { seed: 2, drift: 0 }));
  });

  it('shifts the fraud pattern under drift while legit traffic stays put', () => {
    const d0 = generateNewBatch(100_000, { seed: 11, drift: 0 });
    const d1 = generateNewBatch(100_000, { seed: 12, drift: 1 });
    // Hours: fraud moves from night to day.
    expect(frac(frauds(d0), (r) => isNight(r.input.hour))).toBeGreaterThan(0.85);
    expect(frac(frauds(d1), (r) => isNight(r.input.hour))).toBeLessThan(0.05);
    // Categories: from electronics/online/crypto/jewelry/gambling to grocery/retail/fuel.
    expect(frac(frauds(d0), (r) => EVERYDAY.has(r.input.merchantCategory))).toBeLessThan(0.05);
    expect(frac(frauds(d1), (r) => EVERYDAY.has(r.input.merchantCategory))).toBeGreaterThan(0.9);
    // previousAmount: much smaller than amount -> much larger.
    expect(frac(frauds(d0), (r) => r.input.previousAmount < r.input.amount / 3)).toBeGreaterThan(0.8);
    expect(frac(frauds(d1), (r) => r.input.previousAmount > r.input.amount * 3)).toBeGreaterThan(0.8);
    // Legit traffic does not drift.
    const nightLegit0 = frac(legits(d0), (r) => isNight(r.input.hour));
    const nightLegit1 = frac(legits(d1), (r) => isNight(r.input.hour));
    expect(Math.abs(nightLegit0 - nightLegit1)).toBeLessThan(0.01);
  });

  it('keeps fraud and legit separable at every drift by simple rules', () => {
    for (const drift of [0, 0.5, 1]) {
      const rows = generateNewBatch(50_000, { seed: 20 + drift * 10, drift });
      // One threshold on one feature is already far better than chance at any drift.
      expect(balancedAccuracy(rows, (r) => r.input.timeSinceLast < 3)).toBeGreaterThan(0.8);
    }
    // But the rule that worked at drift 0 ("big amount at night") is useless at drift 1.
    const oldRule = (r: Row) => r.input.amount > 150 || isNight(r.input.hour);
    expect(balancedAccuracy(generateNewBatch(50_000, { seed: 30, drift: 0 }), oldRule)).toBeGreaterThan(0.9);
    expect(balancedAccuracy(generateNewBatch(50_000, { seed: 31, drift: 1 }), oldRule)).toBeLessThan(0.6);
  });

  it('a model trained at drift 0 loses accuracy at drift 1', () => {
    const predict = trainNaiveBayes(generateInitialData(20_000, { seed: 100 }));
    const evaluate = (rows: Row[]) => ({
      accuracy: frac(rows, (r) => predict(r.input) === r.label),
      recall: frac(frauds(rows), (r) => predict(r.input) === 'fraud'),
    });
    const at0 = evaluate(generateNewBatch(20_000, { seed: 101, drift: 0 }));
    const at1 = evaluate(generateNewBatch(20_000, { seed: 102, drift: 1 }));
    expect(at0.accuracy).toBeGreaterThan(0.97);
    expect(at0.recall).toBeGreaterThan(0.85);
    expect(at1.recall).toBeLessThan(at0.recall - 0.5);
    expect(at1.accuracy).toBeLessThan(at0.accuracy - 0.03);
  });

  it('fraudStream raises drift gradually and matches the batch path', () => {
    const stream = fraudStream({ seed: 8, driftPerRow: 1 / 50_000 });
    const rows: Row[] = [];
    for (let i = 0; i < 100_000; i++) rows.push(stream.next().value as Row);
    expect(rows).toEqual(generateFraudRows(100_000, { seed: 8, driftPerRow: 1 / 50_000 }));
    const nightFraud = (rs: Row[]) => frac(frauds(rs), (r) => isNight(r.input.hour));
    const early = rows.slice(0, 5000);
    const middle = rows.slice(22_500, 27_500); // drift ~0.5
    const late = rows.slice(60_000); // capped at 1
    expect(nightFraud(early)).toBeGreaterThan(0.8);
    expect(nightFraud(middle)).toBeGreaterThan(0.3);
    expect(nightFraud(middle)).toBeLessThan(0.7);
    expect(nightFraud(late)).toBeLessThan(0.05);
  });

  it('generates 1,000,000 rows quickly', () => {
    const t0 = performance.now();
    const rows = generateFraudRows(1_000_000, { seed: 1 });
    const ms = performance.now() - t0;
    expect(rows).toHaveLength(1_000_000);
    // 0.35-0.65 s measured on Node 24; the bound is loose so a busy CI machine does not flake.
    expect(ms).toBeLessThan(5000);
  });
});
