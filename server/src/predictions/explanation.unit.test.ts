// Why the model said it: the naive Bayes log-likelihood ratios of `explanation`, against a hand
// computation, and their sum against the model's own probabilities for every estimator.
import { describe, expect, it } from 'vitest';
import { NaiveBayesModel, type EncodedExample, type NaiveBayesSpec } from '../ml/naive-bayes.js';
import { TaskRegistry } from '../tasks/task-registry.js';
import { explain } from './explanation.js';

const tokens = (entries: Record<string, number>) => new Map(Object.entries(entries));
const row = (x: number, c: string, t: Record<string, number>): EncodedExample => ({ gaussian: [x], categorical: [c], tokens: tokens(t) });

/** Two labels, one feature of each kind, five rows small enough to compute by hand. */
function handModel(overrides: Partial<NaiveBayesSpec> = {}) {
  const model = NaiveBayesModel.create({ labels: ['a', 'b'], gaussian: ['x'], categorical: ['c'], multinomial: true, ...overrides });
  model.learn(row(1, 'red', { w: 2, v: 1 }), 'a');
  model.learn(row(3, 'red', { w: 1 }), 'a');
  model.learn(row(10, 'blue', { v: 3 }), 'b');
  model.learn(row(12, 'blue', { v: 1 }), 'b');
  model.learn(row(11, 'blue', {}), 'b');
  return model;
}

const logRatio = (model: NaiveBayesModel, x: EncodedExample, a: number, b: number) => {
  const p = model.predictProba(x);
  return Math.log(p[a]! / p[b]!);
};

describe('termDifferences', () => {
  it('matches a hand computation term by term, and sums to log P(a|x) − log P(b|x) to 1e-9', () => {
    const model = handModel();
    const x = row(2, 'red', { w: 1, v: 1, zz: 1 });
    const t = model.termDifferences(x, 'a', 'b');
    // Priors 2/5 and 3/5.
    expect(t.prior).toBeCloseTo(Math.log(2 / 3), 12);
    // a: mean 2, unbiased variance 2; b: mean 11, variance ((−1)² + 1² + 0²) / 2 = 1.
    const gauss = (v: number, mean: number, variance: number) => -0.5 * Math.log(2 * Math.PI * variance) - (v - mean) ** 2 / (2 * variance);
    expect(t.gaussian[0]).toBeCloseTo(gauss(2, 2, 2) - gauss(2, 11, 1), 12);
    // Laplace over the two values seen: a (red 2 of 2) (2+1)/(2+2), b (red 0 of 3) 1/(3+2).
    expect(t.categorical[0]).toBeCloseTo(Math.log(3 / 4) - Math.log(1 / 5), 12);
    // Multinomial over the 2 known tokens: a counts w 3, v 1 (total 4); b counts w 0, v 4 (total 4).
    const byToken = Object.fromEntries(t.tokens.map((k) => [k.token, k.value]));
    expect(byToken.w).toBeCloseTo(Math.log(4 / 6) - Math.log(1 / 6), 12);
    expect(byToken.v).toBeCloseTo(Math.log(2 / 6) - Math.log(5 / 6), 12);
    expect(t.unknownTokens).toBe(1); // zz was never learned: it counts for nothing
    const sum = t.prior + t.gaussian[0]! + t.categorical[0]! + byToken.w! + byToken.v!;
    expect(Math.abs(sum - logRatio(model, x, 0, 1))).toBeLessThan(1e-9);
  });

  it.each([
    ['scikit-learn GaussianNB and CategoricalNB', { gaussianVariance: 'population', categories: 'categorical' }],
    ['term counts weighted by TF-IDF', { tfidf: true }],
  ] as const)('sums to the log probability ratio with %s', (_, overrides) => {
    const model = handModel(overrides as Partial<NaiveBayesSpec>);
    for (const x of [row(2, 'red', { w: 1, v: 1 }), row(11.5, 'green', { v: 2, q: 1 }), row(6, 'blue', {})]) {
      const t = model.termDifferences(x, 'b', 'a');
      const sum = t.prior + t.gaussian.reduce((s, v) => s + v, 0) + t.categorical.reduce((s, v) => s + v, 0) + t.tokens.reduce((s, v) => s + v.value, 0);
      expect(Math.abs(sum - logRatio(model, x, 1, 0))).toBeLessThan(1e-9);
    }
  });

  it('has no prior term for ComplementNB (text only), and still sums to the log probability ratio', () => {
    const model = NaiveBayesModel.create({ labels: ['a', 'b'], gaussian: [], categorical: [], multinomial: true, text: 'complement' });
    model.learn({ gaussian: [], categorical: [], tokens: tokens({ w: 2, v: 1 }) }, 'a');
    model.learn({ gaussian: [], categorical: [], tokens: tokens({ v: 3, u: 1 }) }, 'b');
    model.learn({ gaussian: [], categorical: [], tokens: tokens({ u: 1 }) }, 'b');
    const x = { gaussian: [], categorical: [], tokens: tokens({ w: 1, u: 2 }) };
    const t = model.termDifferences(x, 'a', 'b');
    expect(t.prior).toBe(0);
    expect(Math.abs(t.tokens.reduce((s, v) => s + v.value, 0) - logRatio(model, x, 0, 1))).toBeLessThan(1e-9);
  });
});

describe('explain', () => {
  it('names each feature of a task, lists the top tokens, and keeps the rest so the sum still holds', async () => {
    const spam = (await TaskRegistry.load()).get('spam')!;
    const model = NaiveBayesModel.create(spam.modelSpec);
    model.learn(spam.encode({ text: 'win a free prize now, claim your cash' }), 'spam');
    model.learn(spam.encode({ text: 'free money, click to win' }), 'spam');
    model.learn(spam.encode({ text: 'lunch at noon tomorrow with the team' }), 'ham');
    model.learn(spam.encode({ text: 'the meeting moved to friday' }), 'ham');
    const input = { text: 'win free cash at the meeting tomorrow, qwzxv' };
    const label = model.predict(spam.encode(input)).label;
    const e = explain(model, spam, input, label, 3)!;
    expect(e.runnerUp).toBe(label === 'spam' ? 'ham' : 'spam');
    expect(e.contributions).toHaveLength(1);
    const [text] = e.contributions;
    expect(text).toMatchObject({ feature: 'text', kind: 'text', value: null });
    expect(text!.tokens).toHaveLength(3);
    const magnitudes = text!.tokens.map((t) => Math.abs(t.contribution));
    expect(magnitudes).toEqual([...magnitudes].sort((a, b) => b - a));
    expect(text!.otherTokens.count).toBeGreaterThan(0);
    expect(text!.unknownTokens).toBeGreaterThan(0);
    const listed = text!.tokens.reduce((s, t) => s + t.contribution, 0) + text!.otherTokens.contribution;
    expect(Math.abs(listed - text!.contribution)).toBeLessThan(1e-12);
    expect(Math.abs(e.priorLogRatio + text!.contribution - e.logProbabilityRatio)).toBeLessThan(1e-12);
    expect(Math.abs(e.logProbabilityRatio - Math.log(e.probability / e.runnerUpProbability))).toBeLessThan(1e-9);
  });

  it('explains a tabular task per feature, with the input values, largest |contribution| first', async () => {
    const fraud = (await TaskRegistry.load()).get('fraud')!;
    const model = NaiveBayesModel.create(fraud.modelSpec);
    const base = { amount: 40, hour: 14, dayOfWeek: 3, merchantCategory: 'grocery', previousAmount: 38, timeSinceLast: 20 };
    for (let i = 0; i < 5; i++) {
      model.learn(
        fraud.encode({ amount: 30 + i * 7, hour: 10 + i, dayOfWeek: i, merchantCategory: 'grocery', previousAmount: 30 + i * 3, timeSinceLast: 10 + i * 5 }),
        'legit',
      );
      model.learn(
        fraud.encode({
          amount: 2000 + i * 300,
          hour: 1 + i,
          dayOfWeek: i + 2,
          merchantCategory: 'crypto',
          previousAmount: 10 + i,
          timeSinceLast: 0.1 + i / 10,
        }),
        'fraud',
      );
    }
    const input = { ...base, amount: 1500, hour: 3, merchantCategory: 'crypto' };
    const e = explain(model, fraud, input, 'fraud', 10)!;
    expect(e.contributions.map((c) => c.feature).sort()).toEqual(['amount', 'dayOfWeek', 'hour', 'merchantCategory', 'previousAmount', 'timeSinceLast']);
    expect(e.contributions.find((c) => c.feature === 'merchantCategory')).toMatchObject({ kind: 'category', value: 'crypto' });
    expect(e.contributions.find((c) => c.feature === 'amount')).toMatchObject({ kind: 'number', value: 1500 });
    const magnitudes = e.contributions.map((c) => Math.abs(c.contribution));
    expect(magnitudes).toEqual([...magnitudes].sort((a, b) => b - a));
    const sum = e.priorLogRatio + e.contributions.reduce((s, c) => s + c.contribution, 0);
    expect(Math.abs(sum - e.logProbabilityRatio)).toBeLessThan(1e-12);
    // So far from one label that its probability underflows to 0: the ratio stays finite in log space.
    expect(Math.min(e.probability, e.runnerUpProbability)).toBe(0);
    expect(Math.abs(e.logProbabilityRatio)).toBeGreaterThan(745); // beyond -log(Number.MIN_VALUE)
    expect(Number.isFinite(e.logProbabilityRatio)).toBe(true);
    // Nearer the middle the probabilities are representable, and the sum is their log ratio.
    const middle = explain(
      model,
      fraud,
      { amount: 100, hour: 6, dayOfWeek: 3, merchantCategory: 'grocery', previousAmount: 25, timeSinceLast: 1 },
      'fraud',
      10,
    )!;
    expect(middle.runnerUpProbability).toBeGreaterThan(1e-300);
    expect(Math.abs(middle.logProbabilityRatio - Math.log(middle.probability / middle.runnerUpProbability))).toBeLessThan(1e-9);
  });
});
