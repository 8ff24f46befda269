import { GaussianNB, MultinomialNB } from 'ml-naivebayes';
import { describe, expect, it } from 'vitest';
import { NaiveBayesModel, featureBucket, type EncodedExample, type LabelledExample, type NaiveBayesSpec } from './naive-bayes.js';
import { inspect } from '../../test/naive-bayes-inspection.js';

// --- helpers ---------------------------------------------------------------------------------

/** mulberry32: tiny seeded PRNG so every run sees the same data. */
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

function normal(rand: () => number): number {
  const u = 1 - rand();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
}

function pick<T>(rand: () => number, items: readonly T[]): T {
  return items[Math.floor(rand() * items.length)]!;
}

function expectClose(actual: number, expected: number, relative = 1e-9): void {
  const scale = Math.max(Math.abs(expected), 1e-300);
  expect(Math.abs(actual - expected) / scale, `${actual} vs ${expected}`).toBeLessThanOrEqual(relative);
}

function softmax(logs: number[]): number[] {
  const max = Math.max(...logs);
  const exps = logs.map((l) => Math.exp(l - max));
  const sum = exps.reduce((s, e) => s + e, 0);
  return exps.map((e) => e / sum);
}

function argmax(values: number[]): number {
  return values.reduce((best, v, i) => (v > values[best]! ? i : best), 0);
}

function expectValidDistribution(p: number[], k: number): void {
  expect(p).toHaveLength(k);
  for (const v of p) {
    expect(Number.isFinite(v)).toBe(true);
    expect(v).toBeGreaterThanOrEqual(0);
    expect(v).toBeLessThanOrEqual(1);
  }
  expect(Math.abs(p.reduce((s, v) => s + v, 0) - 1)).toBeLessThan(1e-12);
}

const LABELS = ['legit', 'review', 'fraud'];

/** Three gaussian features on very different scales: amount (thousands), hour (0-23), a small ratio. */
function gaussianRows(seed: number, n: number): LabelledExample[] {
  const rand = rng(seed);
  return Array.from({ length: n }, (_, i) => {
    const c = i % 3; // every class present, as ml-naivebayes requires
    const amount = 1500 + c * 900 + normal(rand) * (400 + c * 300);
    const hour = c === 2 ? Math.floor(rand() * 6) : Math.floor(rand() * 24); // fraud at night
    const ratio = 0.002 + c * 0.0007 + normal(rand) * 0.001;
    return { x: { gaussian: [amount, hour, ratio], categorical: [] }, label: LABELS[c]! };
  });
}

const gaussianSpec: NaiveBayesSpec = {
  labels: LABELS,
  gaussian: ['amount', 'hour', 'ratio'],
  categorical: [],
  multinomial: false,
};

/** Log joint per class as ml-naivebayes GaussianNB computes it, from its trained internals. */
function mlGaussianLogJoint(ml: GaussianNB, x: number[]): number[] {
  return ml.calculateProbabilities.map(([prior, ...features], c) =>
    features.reduce((s, [c1, c2], j) => {
      const d = x[j]! - ml.means[c]![j]!;
      return s + Math.log(c1) + (d * d) / c2;
    }, prior),
  );
}

// --- tests -----------------------------------------------------------------------------------

describe(NaiveBayesModel.name, () => {
  describe('gaussian block', () => {
    const train = gaussianRows(1, 600);
    const test = gaussianRows(2, 300);
    const labelIds = train.map((r) => LABELS.indexOf(r.label));
    const ml = new GaussianNB();
    ml.train(
      train.map((r) => r.x.gaussian),
      labelIds,
    );

    it('learns online the same means, unbiased stds and priors as GaussianNB in batch', () => {
      const sut = NaiveBayesModel.create(gaussianSpec);
      for (const row of train) sut.learn(row.x, row.label);

      const params = inspect(sut).gaussianParameters();
      const priors = inspect(sut).logPriors();
      for (let c = 0; c < LABELS.length; c++) {
        expectClose(priors[c]!, ml.calculateProbabilities[c]![0]);
        for (let j = 0; j < 3; j++) {
          const [, c2] = ml.calculateProbabilities[c]![j + 1] as [number, number];
          expectClose(params[c]!.mean[j]!, ml.means[c]![j]!);
          expectClose(params[c]!.std[j]!, Math.sqrt(-c2 / 2));
        }
      }
    });

    it('gives the same posteriors as GaussianNB trained parameters', () => {
      const sut = NaiveBayesModel.create(gaussianSpec);
      sut.learnMany(train);
      const predicted = new Set<number>();
      for (const row of test) {
        const proba = sut.predictProba(row.x);
        const expected = softmax(mlGaussianLogJoint(ml, row.x.gaussian));
        proba.forEach((p, c) => expect(Math.abs(p - expected[c]!)).toBeLessThan(1e-9));
        expect(argmax(proba)).toBe(argmax(expected));
        predicted.add(argmax(proba));
      }
      // Not trivially one class, or agreement would prove little.
      expect(predicted.size).toBe(3);
    });

    it('predicts the same classes as GaussianNB.predict', () => {
      // GaussianNB.predict only reads the first two features (its loop bound is
      // classes[0][1].length, the length of a [C1, C2] pair), so compare on two features,
      // where it is correct.
      const two = (rows: LabelledExample[]) => rows.map((r) => ({ ...r, x: { ...r.x, gaussian: r.x.gaussian.slice(0, 2) } }));
      const ml2 = new GaussianNB();
      ml2.train(
        two(train).map((r) => r.x.gaussian),
        labelIds,
      );
      const sut = NaiveBayesModel.create({ ...gaussianSpec, gaussian: ['amount', 'hour'] });
      sut.learnMany(two(train));

      const mlPredictions = ml2.predict(two(test).map((r) => r.x.gaussian));
      let compared = 0;
      two(test).forEach((row, i) => {
        // GaussianNB returns -1 when exp(log joint) underflows for every class; skip those.
        if (mlPredictions[i] === -1) return;
        expect(sut.predict(row.x).label).toBe(LABELS[mlPredictions[i]!]);
        compared++;
      });
      expect(compared).toBeGreaterThan(test.length * 0.9);
      expect(new Set(mlPredictions).size).toBe(3);
    });
  });

  describe('multinomial block', () => {
    const vocab = Array.from({ length: 30 }, (_, i) => `w${i}`);
    function docs(seed: number, n: number, extraTokens: string[] = []): LabelledExample[] {
      const rand = rng(seed);
      return Array.from({ length: n }, (_, i) => {
        const c = i % 3;
        const tokens = new Map<string, number>();
        const length = 3 + Math.floor(rand() * 12);
        for (let t = 0; t < length; t++) {
          // Each class prefers its own third of the vocabulary, with noise from the rest.
          const token = rand() < 0.6 ? vocab[c * 10 + Math.floor(rand() * 10)]! : pick(rand, vocab);
          tokens.set(token, (tokens.get(token) ?? 0) + 1);
        }
        for (const extra of extraTokens) if (rand() < 0.3) tokens.set(extra, 2);
        return { x: { gaussian: [], categorical: [], tokens }, label: LABELS[c]! };
      });
    }
    const spec: NaiveBayesSpec = { labels: LABELS, gaussian: [], categorical: [], multinomial: true };
    const train = docs(3, 300);
    const test = docs(4, 200, ['never-seen', 'another-unseen']);
    const columns = [...new Set(train.flatMap((r) => [...r.x.tokens!.keys()]))].sort();
    const dense = (tokens: Map<string, number>) => columns.map((t) => tokens.get(t) ?? 0);
    const ml = new MultinomialNB();
    ml.train(
      train.map((r) => dense(r.x.tokens!)),
      train.map((r) => LABELS.indexOf(r.label)),
    );

    it('learns online the same conditional and prior log probabilities as MultinomialNB', () => {
      const sut = NaiveBayesModel.create(spec);
      for (const row of train) sut.learn(row.x, row.label);

      expect(sut.vocabularySize).toBe(columns.length);
      inspect(sut)
        .logPriors()
        .forEach((p, c) => expectClose(p, ml.priorProbability.get(c, 0)));
      columns.forEach((token, j) => {
        const logs = inspect(sut).tokenLogProbabilities(token)!;
        logs.forEach((l, c) => expectClose(l, ml.conditionalProbability.get(c, j)));
      });
    });

    it('gives the same posteriors and predictions, ignoring tokens never learned', () => {
      const sut = NaiveBayesModel.create(spec);
      sut.learnMany(train);
      const mlPredictions = ml.predict(test.map((r) => dense(r.x.tokens!)));
      test.forEach((row, i) => {
        const x = dense(row.x.tokens!);
        const expected = softmax(LABELS.map((_, c) => x.reduce((s, n, j) => s + n * ml.conditionalProbability.get(c, j), ml.priorProbability.get(c, 0))));
        const proba = sut.predictProba(row.x);
        proba.forEach((p, c) => expect(Math.abs(p - expected[c]!)).toBeLessThan(1e-9));
        expect(argmax(proba)).toBe(mlPredictions[i]);
      });
      expect(new Set(mlPredictions).size).toBe(3);
      expect(inspect(sut).tokenLogProbabilities('never-seen')).toBeNull();
    });

    it('does not grow the vocabulary for zero counts', () => {
      const sut = NaiveBayesModel.create(spec);
      sut.learn(
        {
          gaussian: [],
          categorical: [],
          tokens: new Map([
            ['a', 1],
            ['b', 0],
          ]),
        },
        'legit',
      );
      expect(sut.vocabularySize).toBe(1);
    });
  });

  describe('categorical block', () => {
    const colors = ['red', 'green', 'blue', 'black'];
    const sizes = ['s', 'm', 'l'];
    function rows(seed: number, n: number): LabelledExample[] {
      const rand = rng(seed);
      return Array.from({ length: n }, (_, i) => {
        const c = i % 3;
        const color = rand() < 0.5 ? colors[c]! : pick(rand, colors);
        // "l" never occurs for "legit", so its count there is 0 and relies on smoothing.
        const size = c === 0 ? pick(rand, ['s', 'm']) : rand() < 0.6 ? sizes[c]! : pick(rand, sizes);
        return { x: { gaussian: [], categorical: [color, size] }, label: LABELS[c]! };
      });
    }
    const spec: NaiveBayesSpec = { labels: LABELS, gaussian: [], categorical: ['color', 'size'], multinomial: false };
    const train = rows(5, 300);
    const labelIds = train.map((r) => LABELS.indexOf(r.label));
    const values = [colors, sizes];
    const oneHot = (f: number, value: string) => values[f]!.map((v) => (v === value ? 1 : 0));
    // MultinomialNB per categorical feature on that feature's one-hot columns.
    const perFeature = values.map((_, f) => {
      const ml = new MultinomialNB();
      ml.train(
        train.map((r) => oneHot(f, r.x.categorical[f]!)),
        labelIds,
      );
      return ml;
    });

    it('equals MultinomialNB on one-hot columns, feature by feature', () => {
      const sut = NaiveBayesModel.create(spec);
      sut.learnMany(train);
      values.forEach((vs, f) =>
        vs.forEach((value, j) => {
          const logs = inspect(sut).categoryLogProbabilities(spec.categorical[f]!, value);
          logs.forEach((l, c) => expectClose(l, perFeature[f]!.conditionalProbability.get(c, j)));
        }),
      );
      inspect(sut)
        .logPriors()
        .forEach((p, c) => expectClose(p, perFeature[0]!.priorProbability.get(c, 0)));
    });

    it('predicts like MultinomialNB on a single one-hot categorical feature', () => {
      const sut = NaiveBayesModel.create({ ...spec, categorical: ['color'] });
      sut.learnMany(train.map((r) => ({ x: { gaussian: [], categorical: [r.x.categorical[0]!] }, label: r.label })));
      const ml = perFeature[0]!;
      const mlPredictions = ml.predict(colors.map((v) => oneHot(0, v)));
      colors.forEach((color, i) => {
        const proba = sut.predictProba({ gaussian: [], categorical: [color] });
        const expected = softmax(LABELS.map((_, c) => ml.priorProbability.get(c, 0) + ml.conditionalProbability.get(c, i)));
        proba.forEach((p, c) => expect(Math.abs(p - expected[c]!)).toBeLessThan(1e-9));
        expect(argmax(proba)).toBe(mlPredictions[i]);
      });
    });

    it('gives an unseen value 1 / (n_c + V + 1) for every class', () => {
      const sut = NaiveBayesModel.create(spec);
      sut.learnMany(train);
      const counts = sut.classCounts();
      const logs = inspect(sut).categoryLogProbabilities('color', 'purple');
      LABELS.forEach((label, c) => expectClose(logs[c]!, -Math.log(counts[label]! + colors.length + 1)));
      const proba = sut.predictProba({ gaussian: [], categorical: ['purple', 'l'] });
      const expected = softmax(LABELS.map((_, c) => inspect(sut).logPriors()[c]! + logs[c]! + inspect(sut).categoryLogProbabilities('size', 'l')[c]!));
      proba.forEach((p, c) => expect(Math.abs(p - expected[c]!)).toBeLessThan(1e-12));
    });
  });

  /** Rows exercising every block, for merge, serialisation and robustness tests. */
  const mixedSpec: NaiveBayesSpec = {
    labels: LABELS,
    gaussian: ['amount', 'hour'],
    categorical: ['merchant'],
    multinomial: true,
  };
  function mixedRows(seed: number, n: number): LabelledExample[] {
    const rand = rng(seed);
    return Array.from({ length: n }, () => {
      const c = Math.floor(rand() * 3);
      const tokens = new Map<string, number>();
      for (let t = 0; t < 5; t++) tokens.set(`t${c * 3 + Math.floor(rand() * 8)}`, 1 + Math.floor(rand() * 3));
      return {
        x: {
          gaussian: [1000 * (c + 1) + normal(rand) * 700, Math.floor(rand() * 24)],
          categorical: [pick(rand, ['grocery', 'fuel', 'online', 'travel', '__proto__'])],
          tokens,
        },
        label: LABELS[c]!,
      };
    });
  }

  describe('merge', () => {
    it('equals learning every row in one model', () => {
      const rows = mixedRows(6, 500);
      const whole = NaiveBayesModel.create(mixedSpec);
      whole.learnMany(rows);

      // Uneven parts, one with a single class only, and an empty one.
      const parts = [
        rows.slice(0, 37),
        rows.slice(37, 400).filter((r) => r.label === 'fraud'),
        [],
        rows.slice(37, 400).filter((r) => r.label !== 'fraud'),
        rows.slice(400),
      ];
      const sut = NaiveBayesModel.create(mixedSpec);
      for (const part of parts) {
        const m = NaiveBayesModel.create(mixedSpec);
        m.learnMany(part);
        sut.merge(m);
      }

      expect(sut.sampleCount).toBe(whole.sampleCount);
      expect(sut.classCounts()).toEqual(whole.classCounts());
      const a = sut.toJSON();
      const b = whole.toJSON();
      a.gaussian.mean.flat().forEach((v, i) => expectClose(v, b.gaussian.mean.flat()[i]!));
      a.gaussian.m2.flat().forEach((v, i) => expectClose(v, b.gaussian.m2.flat()[i]!));
      a.gaussian.pooledM2.forEach((v, i) => expectClose(v, b.gaussian.pooledM2[i]!));
      expect(new Map(a.categorical[0])).toEqual(new Map(b.categorical[0]));
      expect(new Map(a.multinomial!.tokens)).toEqual(new Map(b.multinomial!.tokens));
      expect(a.multinomial!.totals).toEqual(b.multinomial!.totals);
      for (const row of mixedRows(7, 100)) {
        const p = sut.predictProba(row.x);
        whole.predictProba(row.x).forEach((q, c) => expect(Math.abs(p[c]! - q)).toBeLessThan(1e-9));
      }
    });

    it('merging a model with itself doubles every count', () => {
      const sut = NaiveBayesModel.create(mixedSpec);
      const rows = mixedRows(8, 60);
      sut.learnMany(rows);
      const twice = NaiveBayesModel.create(mixedSpec);
      twice.learnMany([...rows, ...rows]);
      sut.merge(sut);
      expect(sut.classCounts()).toEqual(twice.classCounts());
      const p = sut.predictProba(rows[0]!.x);
      twice.predictProba(rows[0]!.x).forEach((q, c) => expect(Math.abs(p[c]! - q)).toBeLessThan(1e-9));
    });

    it('refuses models with a different spec', () => {
      const sut = NaiveBayesModel.create(mixedSpec);
      const other = NaiveBayesModel.create({ ...mixedSpec, labels: ['legit', 'fraud', 'review'] });
      expect(() => sut.merge(other)).toThrow(/different specs/);
    });
  });

  describe('serialisation', () => {
    it('round-trips through JSON text with identical predictions', () => {
      const sut = NaiveBayesModel.create(mixedSpec);
      sut.learnMany(mixedRows(9, 400));
      const json = JSON.stringify(sut);
      const parsed: unknown = JSON.parse(json);
      expect(parsed).toMatchObject({ format: 'relearn.naive-bayes', formatVersion: 3, spec: mixedSpec });

      const restored = NaiveBayesModel.fromJSON(parsed);
      expect(restored.toJSON()).toEqual(sut.toJSON());
      expect(restored.classCounts()).toEqual(sut.classCounts());
      for (const row of mixedRows(10, 200)) expect(restored.predict(row.x)).toEqual(sut.predict(row.x));
    });

    it('keeps a category named "__proto__" as data', () => {
      const sut = NaiveBayesModel.create(mixedSpec);
      sut.learnMany(mixedRows(11, 100));
      const restored = NaiveBayesModel.fromJSON(JSON.parse(JSON.stringify(sut)));
      const x: EncodedExample = { gaussian: [1000, 3], categorical: ['__proto__'] };
      expect(inspect(restored).categoryLogProbabilities('merchant', '__proto__')).toEqual(inspect(sut).categoryLogProbabilities('merchant', '__proto__'));
      expect(restored.predictProba(x)).toEqual(sut.predictProba(x));
    });

    it('clone is independent of the original', () => {
      const sut = NaiveBayesModel.create(mixedSpec);
      const rows = mixedRows(12, 100);
      sut.learnMany(rows);
      const before = sut.toJSON();
      const copy = sut.clone();
      expect(copy.toJSON()).toEqual(before);
      copy.learnMany(mixedRows(13, 50));
      expect(sut.toJSON()).toEqual(before);
      expect(copy.sampleCount).toBe(150);
    });

    const valid = () => {
      const m = NaiveBayesModel.create(mixedSpec);
      m.learnMany(mixedRows(14, 50));
      return JSON.parse(JSON.stringify(m)) as Record<string, any>;
    };
    it.each([
      ['null', () => null, /artifact must be an object/],
      ['a string', () => 'model', /artifact must be an object/],
      ['an array', () => [], /artifact must be an object/],
      ['a foreign format', () => ({ ...valid(), format: 'NaiveBayes' }), /format must be "relearn.naive-bayes"/],
      ['a newer version', () => ({ ...valid(), formatVersion: 4 }), /unsupported formatVersion 4/],
      ['no spec', () => ({ ...valid(), spec: undefined }), /spec must be an object/],
      ['duplicate labels', () => ({ ...valid(), spec: { ...mixedSpec, labels: ['a', 'a'] } }), /duplicate entry "a"/],
      ['short class counts', () => ({ ...valid(), classCounts: [1, 2] }), /classCounts must be an array of length 3/],
      ['negative count', () => ({ ...valid(), classCounts: [-1, 2, 3] }), /classCounts\[0\] is not a valid number/],
      [
        'a string mean',
        () => {
          const v = valid();
          v.gaussian.mean[1][0] = '12';
          return v;
        },
        /gaussian\.mean\[1\]\[0\]/,
      ],
      [
        'NaN m2',
        () => {
          const v = valid();
          v.gaussian.m2[0][1] = Number.NaN;
          return v;
        },
        /gaussian\.m2\[0\]\[1\]/,
      ],
      [
        'inconsistent categorical counts',
        () => {
          const v = valid();
          v.categorical[0][0][1][0] += 1;
          return v;
        },
        /categorical\[0\] counts for label "legit" sum to/,
      ],
      [
        'a duplicate token',
        () => {
          const v = valid();
          v.multinomial.tokens.push(v.multinomial.tokens[0]);
          return v;
        },
        /duplicate key/,
      ],
      [
        'a malformed token entry',
        () => {
          const v = valid();
          v.multinomial.tokens.push({ t: 1 });
          return v;
        },
        /multinomial\.tokens\[\d+\] must be a \[bucket, number\[\]\] entry/,
      ],
      ['missing multinomial', () => ({ ...valid(), multinomial: null }), /multinomial must be an object/],
    ])('rejects %s with a clear error', (_, make, message) => {
      expect(() => NaiveBayesModel.fromJSON(make())).toThrow(message);
    });

    it('accepts the untouched artifact used by those cases', () => {
      expect(NaiveBayesModel.fromJSON(valid()).sampleCount).toBe(50);
    });
  });

  describe('degenerate data', () => {
    it('stays finite with a constant feature, a one-row class and a class without rows', () => {
      const sut = NaiveBayesModel.create(mixedSpec);
      for (let i = 0; i < 20; i++) {
        sut.learn({ gaussian: [100 + i, 7], categorical: ['fuel'], tokens: new Map([['hello', 1]]) }, 'legit');
      }
      sut.learn({ gaussian: [5000, 7], categorical: ['online'], tokens: new Map([['win', 3]]) }, 'fraud');
      expect(sut.classCounts()).toEqual({ legit: 20, review: 0, fraud: 1 });

      // Laplace priors because "review" has no rows.
      const priors = inspect(sut).logPriors();
      expectClose(priors[1]!, Math.log(1 / 24));
      expectClose(priors[0]!, Math.log(21 / 24));
      for (const std of inspect(sut)
        .gaussianParameters()
        .flatMap((p) => p.std.filter((s) => !Number.isNaN(s)))) {
        expect(std).toBeGreaterThan(0);
        expect(Number.isFinite(std)).toBe(true);
      }

      const probes: EncodedExample[] = [
        { gaussian: [100, 7], categorical: ['fuel'], tokens: new Map([['hello', 1]]) },
        { gaussian: [5000, 7], categorical: ['online'] },
        { gaussian: [5000, 8], categorical: ['never-seen'], tokens: new Map([['unknown', 4]]) },
        { gaussian: [1e12, -1e12], categorical: [''], tokens: new Map() },
        { gaussian: [-1e12, 1e12], categorical: ['fuel'], tokens: new Map([['win', 1e6]]) },
      ];
      for (const x of probes) expectValidDistribution(sut.predictProba(x), 3);
      // The one-row class still wins on its own point, the big class on its own.
      expect(sut.predict(probes[1]!).label).toBe('fraud');
      expect(sut.predict(probes[0]!).label).toBe('legit');
    });

    it('is uniform before learning anything', () => {
      const sut = NaiveBayesModel.create(mixedSpec);
      const p = sut.predictProba({ gaussian: [1, 2], categorical: ['x'], tokens: new Map([['a', 1]]) });
      p.forEach((v) => expectClose(v, 1 / 3, 1e-12));
      expect(sut.predict({ gaussian: [1, 2], categorical: ['x'] }).label).toBe('legit');
    });

    it('stays finite when trained on huge values', () => {
      const sut = NaiveBayesModel.create(gaussianSpec);
      const rand = rng(15);
      for (let i = 0; i < 200; i++) {
        sut.learn({ gaussian: [1e12 + normal(rand) * 1e9, rand() * 1e-6, -1e12], categorical: [] }, LABELS[i % 2]!);
      }
      for (const g of [
        [0, 0, 0],
        [1e12, 1e12, 1e12],
        [-1e12, 5, -1e12],
      ]) {
        expectValidDistribution(sut.predictProba({ gaussian: g, categorical: [] }), 3);
      }
    });

    it('probabilities are a distribution on random inputs', () => {
      const sut = NaiveBayesModel.create(mixedSpec);
      sut.learnMany(mixedRows(16, 300));
      const rand = rng(17);
      for (let i = 0; i < 500; i++) {
        const x: EncodedExample = {
          gaussian: [(rand() - 0.5) * 10 ** (rand() * 12), rand() * 30],
          categorical: [pick(rand, ['grocery', 'fuel', 'nope'])],
          tokens: new Map([[`t${Math.floor(rand() * 20)}`, Math.floor(rand() * 50)]]),
        };
        expectValidDistribution(sut.predictProba(x), 3);
        const prediction = sut.predict(x);
        expect(prediction.scores.map((s) => s.label)).toEqual(LABELS);
        expect(prediction.probability).toBe(Math.max(...prediction.scores.map((s) => s.probability)));
      }
    });
  });

  describe('feature space (hashed buckets)', () => {
    /** Texts of unique words, as a client inventing tokens sends them. */
    function uniqueWordRows(seed: number, n: number, words: number): LabelledExample[] {
      const rand = rng(seed);
      return Array.from({ length: n }, (_, i) => {
        const tokens = new Map<string, number>();
        for (let w = 0; w < words; w++) tokens.set(`u${seed}x${i}x${w}x${Math.floor(rand() * 1e9)}`, 1 + (w % 3));
        return { x: { gaussian: [], categorical: [`merchant-${seed}-${i}`], tokens }, label: LABELS[i % 3]! };
      });
    }
    const small: NaiveBayesSpec = { labels: LABELS, gaussian: [], categorical: ['merchant'], multinomial: true, tokenBuckets: 5000, categoryBuckets: [64] };

    it('never holds more than its buckets, however many distinct tokens and values it learns', () => {
      const sut = NaiveBayesModel.create(small);
      sut.learnMany(uniqueWordRows(30, 40, 2500)); // 100,000 distinct tokens, 40 distinct values
      expect(sut.vocabularySize).toBeLessThanOrEqual(5000);
      expect(sut.vocabularySize).toBeGreaterThan(4900); // the space is filled, not bypassed
      expect(sut.categorySizes[0]).toBeLessThanOrEqual(64);
      const json = sut.toJSON();
      expect(json.multinomial!.tokens.length).toBe(sut.vocabularySize);
      expect(json.spec).toMatchObject({ tokenBuckets: 5000, categoryBuckets: [64] });
      expectValidDistribution(sut.predictProba(uniqueWordRows(31, 1, 100)[0]!.x), 3);
    });

    it('learns online exactly what MultinomialNB learns in batch on the hashed columns, at the cap', () => {
      const rows = uniqueWordRows(32, 60, 400); // 24,000 tokens into 5,000 buckets: many collisions
      const sut = NaiveBayesModel.create(small);
      for (const row of rows) sut.learn(row.x, row.label);
      // The same rows as a fixed vectorizer would give them: one column per bucket.
      const bucketsUsed = [...new Set(rows.flatMap((r) => [...r.x.tokens!.keys()].map((t) => featureBucket(t, 5000))))].sort((a, b) => a - b);
      expect(bucketsUsed.length).toBe(sut.vocabularySize);
      const column = new Map(bucketsUsed.map((b, j) => [b, j]));
      const dense = rows.map((r) => {
        const x = new Array<number>(bucketsUsed.length).fill(0);
        for (const [t, n] of r.x.tokens!) x[column.get(featureBucket(t, 5000))!]! += n;
        return x;
      });
      const ml = new MultinomialNB();
      ml.train(
        dense,
        rows.map((r) => LABELS.indexOf(r.label)),
      );
      for (const [token] of [...rows[0]!.x.tokens!].slice(0, 50)) {
        const j = column.get(featureBucket(token, 5000))!;
        inspect(sut)
          .tokenLogProbabilities(token)!
          .forEach((l, c) => expectClose(l, ml.conditionalProbability.get(c, j)));
      }
    });

    it('gives the same model whatever order the rows are learned in, and merges exactly', () => {
      const rows = uniqueWordRows(33, 90, 300);
      const forward = NaiveBayesModel.create(small);
      forward.learnMany(rows);
      const backward = NaiveBayesModel.create(small);
      backward.learnMany([...rows].reverse());
      expect(backward.toJSON()).toEqual(forward.toJSON());
      const merged = NaiveBayesModel.create(small);
      for (const part of [rows.slice(0, 20), rows.slice(20, 70), rows.slice(70)]) {
        const m = NaiveBayesModel.create(small);
        m.learnMany(part);
        merged.merge(m);
      }
      expect(merged.toJSON()).toEqual(forward.toJSON());
      expect(() => merged.merge(NaiveBayesModel.create({ ...small, tokenBuckets: 5001 }))).toThrow(/different specs/);
    });

    it('reads a version 1 artifact (counts by token and value) into the default buckets', () => {
      const sut = NaiveBayesModel.create(mixedSpec);
      const rows = mixedRows(34, 200);
      sut.learnMany(rows);
      const v2 = sut.toJSON();
      const byToken = new Map<string, number[]>();
      const byValue = new Map<string, number[]>();
      for (const r of rows) {
        const c = LABELS.indexOf(r.label);
        const v = byValue.get(r.x.categorical[0]!) ?? [0, 0, 0];
        v[c]! += 1;
        byValue.set(r.x.categorical[0]!, v);
        for (const [t, n] of r.x.tokens!) {
          const counts = byToken.get(t) ?? [0, 0, 0];
          counts[c]! += n;
          byToken.set(t, counts);
        }
      }
      const v1 = {
        ...v2,
        formatVersion: 1,
        spec: mixedSpec,
        categorical: [[...byValue]],
        multinomial: { totals: v2.multinomial!.totals, tokens: [...byToken] },
      };
      const restored = NaiveBayesModel.fromJSON(JSON.parse(JSON.stringify(v1)));
      expect(restored.toJSON()).toEqual(v2);
    });

    it('refuses an artifact bucket outside its feature space', () => {
      const sut = NaiveBayesModel.create(small);
      sut.learnMany(uniqueWordRows(35, 3, 10));
      const json = JSON.parse(JSON.stringify(sut)) as Record<string, any>;
      json.multinomial.tokens.push([5000, [1, 0, 0]]);
      expect(() => NaiveBayesModel.fromJSON(json)).toThrow(/bucket below 5000/);
      expect(() => NaiveBayesModel.create({ ...small, tokenBuckets: 0 })).toThrow(/tokenBuckets/);
      expect(() => NaiveBayesModel.create({ ...small, categoryBuckets: [] })).toThrow(/categoryBuckets/);
    });
  });

  describe('input validation', () => {
    it('rejects bad rows without changing the model', () => {
      const sut = NaiveBayesModel.create(mixedSpec);
      sut.learnMany(mixedRows(18, 20));
      const before = sut.toJSON();
      const ok: EncodedExample = { gaussian: [1, 2], categorical: ['fuel'], tokens: new Map([['a', 1]]) };
      expect(() => sut.learn(ok, 'spam')).toThrow(/Unknown label "spam"/);
      expect(() => sut.learn({ ...ok, gaussian: [1] }, 'legit')).toThrow(/2 gaussian values/);
      expect(() => sut.learn({ ...ok, gaussian: [1, Number.NaN] }, 'legit')).toThrow(/"hour" must be a finite number/);
      expect(() => sut.learn({ ...ok, categorical: [] }, 'legit')).toThrow(/1 categorical values/);
      expect(() =>
        sut.learn(
          {
            ...ok,
            tokens: new Map([
              ['a', 1],
              ['b', -1],
            ]),
          },
          'legit',
        ),
      ).toThrow(/"b" count/);
      expect(() => sut.predict({ ...ok, gaussian: [Infinity, 1] })).toThrow(/"amount" must be a finite number/);
      expect(() => sut.predict({ ...ok, tokens: new Map([['zzz', Number.NaN]]) })).toThrow(/"zzz" count/);
      expect(sut.toJSON()).toEqual(before);
      // learnMany goes row by row: rows before the bad one are kept.
      expect(() =>
        sut.learnMany([
          { x: ok, label: 'legit' },
          { x: ok, label: 'nope' },
        ]),
      ).toThrow(/Unknown label/);
      expect(sut.sampleCount).toBe(21);
    });

    it('rejects an invalid spec', () => {
      expect(() => NaiveBayesModel.create({ ...mixedSpec, labels: [] })).toThrow(/labels must not be empty/);
      expect(() => NaiveBayesModel.create({ ...mixedSpec, categorical: ['amount'] })).toThrow(/both gaussian and categorical/);
    });
  });

  describe('performance', () => {
    it('learns a million gaussian rows in well under a few seconds', () => {
      const sut = NaiveBayesModel.create(gaussianSpec);
      const rand = rng(19);
      function* rows(): Generator<LabelledExample> {
        for (let i = 0; i < 1_000_000; i++) {
          yield { x: { gaussian: [rand() * 5000, Math.floor(rand() * 24), rand()], categorical: [] }, label: LABELS[i % 3]! };
        }
      }
      const start = performance.now();
      sut.learnMany(rows());
      const elapsed = performance.now() - start;
      expect(sut.sampleCount).toBe(1_000_000);
      expect(elapsed).toBeLessThan(3000);
    });

    it('predicts thousands of rows per second', () => {
      const sut = NaiveBayesModel.create(mixedSpec);
      sut.learnMany(mixedRows(20, 2000));
      const probes = mixedRows(21, 1000).map((r) => r.x);
      const start = performance.now();
      for (let i = 0; i < 50_000; i++) sut.predict(probes[i % probes.length]!);
      const perSecond = 50_000 / ((performance.now() - start) / 1000);
      expect(perSecond).toBeGreaterThan(20_000);
    });
  });
});
