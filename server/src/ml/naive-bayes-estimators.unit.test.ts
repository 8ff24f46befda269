import { describe, expect, it } from 'vitest';
import { inspect } from '../../test/naive-bayes-inspection.js';
import { NaiveBayesModel, type LabelledExample, type NaiveBayesSpec } from './naive-bayes.js';

/** mulberry32: a seeded PRNG so every run sees the same data. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const LABELS = ['legit', 'review', 'fraud'];

function mixedRows(seed: number, n: number): LabelledExample[] {
  const rand = rng(seed);
  return Array.from({ length: n }, () => {
    const c = Math.floor(rand() * 3);
    const tokens = new Map<string, number>();
    for (let t = 0; t < 6; t++) tokens.set(`t${c * 3 + Math.floor(rand() * 12)}`, 1 + Math.floor(rand() * 3));
    return {
      x: { gaussian: [1000 * (c + 1) + (rand() - 0.5) * 1400, Math.floor(rand() * 24)], categorical: [`m${Math.floor(rand() * (4 + c))}`], tokens },
      label: LABELS[c]!,
    };
  });
}

const mixed = (o: Partial<NaiveBayesSpec>): NaiveBayesSpec => ({
  labels: LABELS,
  gaussian: ['amount', 'hour'],
  categorical: ['merchant'],
  multinomial: true,
  ...o,
});
const textOnly = (o: Partial<NaiveBayesSpec>): NaiveBayesSpec => ({ labels: LABELS, gaussian: [], categorical: [], multinomial: true, ...o });

const ESTIMATORS: [string, NaiveBayesSpec][] = [
  ['unbiased + laplace + multinomial (format 2)', mixed({})],
  ['population + categorical + multinomial', mixed({ gaussianVariance: 'population', categories: 'categorical' })],
  ['population + categorical + multinomial on TF-IDF', mixed({ gaussianVariance: 'population', categories: 'categorical', tfidf: true })],
  ['complement', textOnly({ text: 'complement' })],
  ['complement on TF-IDF', textOnly({ text: 'complement', tfidf: true })],
];

function maxDiff(a: NaiveBayesModel, b: NaiveBayesModel, rows: LabelledExample[]): number {
  let max = 0;
  for (const r of rows) {
    const x = a.spec.gaussian.length ? r.x : { ...r.x, gaussian: [], categorical: [] };
    const pa = a.predictProba(x);
    const pb = b.predictProba(x);
    pa.forEach((p, c) => (max = Math.max(max, Math.abs(p - pb[c]!))));
  }
  return max;
}

const adapt = (spec: NaiveBayesSpec, rows: LabelledExample[]) =>
  spec.gaussian.length ? rows : rows.map((r) => ({ ...r, x: { ...r.x, gaussian: [], categorical: [] } }));

describe('naive Bayes estimators', () => {
  describe.each(ESTIMATORS)('%s', (_, spec) => {
    const rows = adapt(spec, mixedRows(1, 900));
    const probes = adapt(spec, mixedRows(2, 300));

    it('learns online, in any order and in merged parts, what it learns in one batch (to 1e-9)', () => {
      const batch = NaiveBayesModel.create(spec);
      batch.learnMany(rows);
      const shuffled = NaiveBayesModel.create(spec);
      const order = rows.map((_, i) => i).sort((a, b) => ((a * 7919) % 901) - ((b * 7919) % 901));
      for (const i of order) shuffled.learn(rows[i]!.x, rows[i]!.label);
      const merged = NaiveBayesModel.create(spec);
      for (let start = 0; start < rows.length; start += 250) {
        const part = NaiveBayesModel.create(spec);
        part.learnMany(rows.slice(start, start + 250));
        merged.merge(part);
      }
      expect(maxDiff(batch, shuffled, probes)).toBeLessThanOrEqual(1e-9);
      expect(maxDiff(batch, merged, probes)).toBeLessThanOrEqual(1e-9);
      // Predicting between updates (the cached variances and TF-IDF totals) sees every update.
      const online = NaiveBayesModel.create(spec);
      for (const r of rows) {
        online.learn(r.x, r.label);
        online.predictProba(probes[0]!.x);
      }
      expect(maxDiff(batch, online, probes)).toBeLessThanOrEqual(1e-9);
    });

    it('round-trips its artifact (format 3) with identical predictions', () => {
      const sut = NaiveBayesModel.create(spec);
      sut.learnMany(rows);
      const json: unknown = JSON.parse(JSON.stringify(sut));
      expect(json).toMatchObject({ formatVersion: 3, spec: { text: sut.spec.text, tfidf: sut.spec.tfidf } });
      const restored = NaiveBayesModel.fromJSON(json);
      expect(restored.toJSON()).toEqual(sut.toJSON());
      // TF-IDF totals are sums over the vocabulary, whose order a loaded model walks differently: equal to rounding.
      expect(maxDiff(sut, restored, probes)).toBeLessThanOrEqual(sut.spec.tfidf ? 1e-12 : 0);
    });
  });

  it('categorical: each label’s distribution over the seen values and "unseen" sums to 1', () => {
    for (const categories of ['categorical', 'laplace'] as const) {
      const sut = NaiveBayesModel.create(mixed({ categories }));
      sut.learnMany(mixedRows(3, 500));
      const seen = new Set(mixedRows(3, 500).map((r) => r.x.categorical[0]!));
      const sums = LABELS.map((_, c) => {
        let total = Math.exp(inspect(sut).categoryLogProbabilities('merchant', 'never-seen')[c]!);
        for (const v of seen) total += Math.exp(inspect(sut).categoryLogProbabilities('merchant', v)[c]!);
        return total;
      });
      if (categories === 'categorical') for (const s of sums) expect(Math.abs(s - 1)).toBeLessThan(1e-12);
      // The format-2 estimator, kept for old artifacts, is not a distribution (what issue 16 measured).
      else expect(sums.some((s) => Math.abs(s - 1) > 1e-6)).toBe(true);
    }
  });

  it('population: scikit-learn’s variance, m2 / n plus var_smoothing × the largest variance over all rows', () => {
    const sut = NaiveBayesModel.create(mixed({ gaussianVariance: 'population', varSmoothing: 1e-3 }));
    const rows = mixedRows(4, 400);
    sut.learnMany(rows);
    const amounts = rows.map((r) => r.x.gaussian[0]!);
    const mean = amounts.reduce((s, v) => s + v, 0) / amounts.length;
    const epsilon = 1e-3 * (amounts.reduce((s, v) => s + (v - mean) ** 2, 0) / amounts.length); // amount varies most
    const fraud = rows.filter((r) => r.label === 'fraud').map((r) => r.x.gaussian[0]!);
    const fm = fraud.reduce((s, v) => s + v, 0) / fraud.length;
    const expected = fraud.reduce((s, v) => s + (v - fm) ** 2, 0) / fraud.length + epsilon;
    const std = inspect(sut).gaussianParameters()[2]!.std[0]!;
    expect(Math.abs(std * std - expected) / expected).toBeLessThan(1e-12);
  });

  it('reads a format 2 artifact as the estimators it was trained with, and refuses estimator fields in one', () => {
    const sut = NaiveBayesModel.create(mixed({}));
    sut.learnMany(mixedRows(5, 300));
    const v3 = sut.toJSON();
    const { gaussianVariance: _g, varSmoothing: _v, categories: _c, text: _t, tfidf: _f, tokens: _k, ...specV2 } = v3.spec;
    const v2 = { ...v3, formatVersion: 2, spec: specV2 };
    const restored = NaiveBayesModel.fromJSON(JSON.parse(JSON.stringify(v2)));
    expect(restored.spec).toMatchObject({ gaussianVariance: 'unbiased', categories: 'laplace', text: 'multinomial', tfidf: false });
    expect(restored.toJSON()).toEqual(v3);
    expect(() => NaiveBayesModel.fromJSON({ ...v2, spec: { ...specV2, tfidf: true } })).toThrow(/formatVersion 2 has no spec\.tfidf/);
  });

  it('refuses complement beside other features, and TF-IDF frequencies the counts cannot have', () => {
    expect(() => NaiveBayesModel.create(mixed({ text: 'complement' }))).toThrow(/complement needs a text-only spec/);
    const sut = NaiveBayesModel.create(textOnly({ tfidf: true }));
    sut.learnMany(adapt(textOnly({}), mixedRows(6, 50)));
    const json = JSON.parse(JSON.stringify(sut)) as { multinomial: { documentFrequency: [number, number][] } };
    json.multinomial.documentFrequency[0]![1] = 51;
    expect(() => NaiveBayesModel.fromJSON(json)).toThrow(/documentFrequency of bucket \d+ is 51/);
  });
});
