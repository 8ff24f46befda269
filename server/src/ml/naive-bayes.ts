/**
 * Naive Bayes kept as sufficient statistics (naive-bayes-statistics.ts), so that learning one
 * labelled row at a time gives exactly the model that batch training on all rows would give, and
 * two models trained on disjoint data can be merged. This file is the maths: how the statistics
 * become probabilities. Each block has estimators named by the spec: the `unbiased` gaussian and
 * `laplace` category estimators follow ml-naivebayes 4.0.0 (GaussianNB and MultinomialNB on
 * one-hot columns) and are what every artifact before format 3 used; `population` and
 * `categorical` are scikit-learn's GaussianNB and CategoricalNB; the text block is scikit-learn's
 * MultinomialNB or ComplementNB (alpha 1), optionally on TfidfTransformer(norm=None) weights.
 * Each is a function of sums over the rows, so online learning equals batch training for all of
 * them. The extra guards only apply where a reference would produce NaN or -Infinity. The artifact format and its validation live in naive-bayes-artifact.ts, the feature
 * spaces (hashing) in feature-hashing.ts.
 */
import { readArtifact, writeArtifact, type NaiveBayesArtifact } from './naive-bayes-artifact.js';
import { resolveSpec, sameSpec, type CategoryEstimator, type NaiveBayesSpec, type ResolvedSpec } from './naive-bayes-spec.js';
import { NaiveBayesStatistics } from './naive-bayes-statistics.js';

export { DEFAULT_CATEGORY_BUCKETS, DEFAULT_TOKEN_BUCKETS, MAX_FEATURE_BUCKETS, featureBucket, type CountEntry } from './feature-hashing.js';
export { ARTIFACT_FORMAT, ARTIFACT_VERSION, type NaiveBayesArtifact } from './naive-bayes-artifact.js';
export type { CategoryEstimator, GaussianVariance, NaiveBayesSpec, ResolvedSpec, TextEstimator } from './naive-bayes-spec.js';

export interface EncodedExample {
  gaussian: number[];
  categorical: string[];
  tokens?: Map<string, number>;
}

export interface LabelledExample {
  x: EncodedExample;
  label: string;
}

export interface LabelScore {
  label: string;
  probability: number;
}

export interface Prediction {
  label: string;
  probability: number;
  scores: LabelScore[];
}

/**
 * Why the model prefers label a to label b for one input: each term of the log joint of a minus
 * the same term of b. prior + Σ gaussian + Σ categorical + Σ tokens = log P(a | x) − log P(b | x).
 */
export interface TermDifferences {
  /** log P(a) − log P(b) (0 for ComplementNB, which has no prior). */
  prior: number;
  /** Per gaussian feature, in spec order. */
  gaussian: number[];
  /** Per categorical feature, in spec order. */
  categorical: number[];
  /** Per distinct token of the input that is in the vocabulary (its count, its term difference); others count nothing. */
  tokens: { token: string; count: number; value: number }[];
  /** Distinct tokens of the input outside the vocabulary (ignored by the model). */
  unknownTokens: number;
}

const LOG_2PI = Math.log(2 * Math.PI);
// Relative and absolute variance floors, in the spirit of sklearn's var_smoothing: they only
// matter for constant features or classes with fewer than two rows.
const RELATIVE_VARIANCE_FLOOR = 1e-9;
const ABSOLUTE_VARIANCE_FLOOR = 1e-12;

// --- the maths, as functions of the statistics -----------------------------------------------

/** Log prior per label into `out`: ml-naivebayes's unsmoothed n_c / N, Laplace-smoothed only when that would give log(0). */
export function writeLogPriors(stats: NaiveBayesStatistics, out: Float64Array): void {
  const k = stats.k;
  let anyEmpty = false;
  for (let c = 0; c < k; c++) if (stats.counts[c] === 0) anyEmpty = true;
  const denom = anyEmpty ? stats.total + k : stats.total;
  const add = anyEmpty ? 1 : 0;
  for (let c = 0; c < k; c++) out[c] = Math.log((stats.counts[c]! + add) / denom);
}

/** The floor of feature f's variance (`unbiased`), relative to its variance over all rows. */
export function varianceFloor(stats: NaiveBayesStatistics, f: number): number {
  const pooled = stats.total > 1 ? stats.pooledM2[f]! / (stats.total - 1) : 0;
  return Math.max(RELATIVE_VARIANCE_FLOOR * pooled, ABSOLUTE_VARIANCE_FLOOR);
}

/** The variance the `unbiased` estimator uses for label c and feature f. */
export function effectiveVariance(stats: NaiveBayesStatistics, c: number, f: number, floor: number): number {
  const n = stats.counts[c]!;
  // Unbiased (n - 1) like ml-matrix standardDeviation's default; undefined below two rows.
  const variance = n > 1 ? stats.m2[c * stats.g + f]! / (n - 1) : 0;
  return variance > floor ? variance : floor;
}

/** scikit-learn's epsilon: var_smoothing × the largest population variance of any feature over all rows. */
export function varianceSmoothing(stats: NaiveBayesStatistics, varSmoothing: number): number {
  let max = 0;
  if (stats.total > 0) for (let f = 0; f < stats.g; f++) max = Math.max(max, stats.pooledM2[f]! / stats.total);
  return varSmoothing * max;
}

/** The variance predict uses for label c (with rows) and feature f, by the spec's estimator. */
export function gaussianVariance(stats: NaiveBayesStatistics, spec: Readonly<ResolvedSpec>, c: number, f: number): number {
  if (spec.gaussianVariance === 'unbiased') return effectiveVariance(stats, c, f, varianceFloor(stats, f));
  const n = stats.counts[c]!;
  const variance = (n > 0 ? stats.m2[c * stats.g + f]! / n : 0) + varianceSmoothing(stats, spec.varSmoothing);
  // Only for data where every feature is constant (epsilon 0), where scikit-learn divides by zero.
  return variance > ABSOLUTE_VARIANCE_FLOOR ? variance : ABSOLUTE_VARIANCE_FLOOR;
}

/** TF-IDF's smoothed inverse document frequency of a token bucket: ln((1 + n) / (1 + df)) + 1. */
export function inverseDocumentFrequency(stats: NaiveBayesStatistics, bucket: number): number {
  return Math.log((1 + stats.total) / (1 + stats.documentFrequency[bucket]!)) + 1;
}

/**
 * log P(value in `bucket` | label c) of categorical feature f: Laplace smoothing over the V values
 * (buckets) seen; an unseen value counts as one extra value with zero observations, so it gets
 * 1 / (n_c + V + 1) for every label.
 */
export function categoryLogProbability(stats: NaiveBayesStatistics, f: number, bucket: number, c: number, estimator: CategoryEstimator = 'laplace'): number {
  const table = stats.categories[f]!;
  const n = stats.counts[c]!;
  const v = table.used;
  if (!table.has(bucket)) return -Math.log(n + v + 1);
  // `categorical`: the unseen-value outcome takes part in the denominator, so the V + 1 outcomes sum to 1.
  return Math.log((table.count(bucket, c) + 1) / (n + v + (estimator === 'categorical' ? 1 : 0)));
}

/** log P(token in `bucket` | label c) of the plain multinomial, for a bucket that has counts. */
export function tokenLogProbability(stats: NaiveBayesStatistics, bucket: number, c: number): number {
  const table = stats.tokenCounts;
  return Math.log((table.count(bucket, c) + 1) / (stats.tokenTotals[c]! + table.used));
}

/** Per label, the sum of (TF-IDF weighted) token counts; with `tfidf` a sum over the vocabulary. */
function weightedTokenTotals(stats: NaiveBayesStatistics, tfidf: boolean, out: Float64Array): void {
  if (!tfidf) return void out.set(stats.tokenTotals);
  out.fill(0);
  const table = stats.tokenCounts;
  table.forEachUsed((b) => {
    const idf = inverseDocumentFrequency(stats, b);
    for (let c = 0; c < stats.k; c++) out[c]! += idf * table.count(b, c);
  });
}

// --- the model --------------------------------------------------------------------------------

export class NaiveBayesModel {
  readonly spec: Readonly<ResolvedSpec>;
  /** The sufficient statistics; read them, never write them (learn does). */
  readonly statistics: NaiveBayesStatistics;
  private readonly labelIndex: Map<string, number>;
  private readonly k: number;
  private readonly g: number;

  // Scratch buffers reused by predict so the hot path allocates only its result.
  private readonly scratchScores: Float64Array;
  private readonly scratchLog: Float64Array;
  // What predict derives from the statistics (variances, weighted token totals), recomputed when they change.
  private derivedVersion = -1;
  private readonly variances: Float64Array; // [label * g + feature]
  private readonly textTotals: Float64Array; // [label]

  private constructor(spec: ResolvedSpec, statistics?: NaiveBayesStatistics) {
    this.spec = Object.freeze({
      labels: Object.freeze([...spec.labels]) as string[],
      gaussian: Object.freeze([...spec.gaussian]) as string[],
      categorical: Object.freeze([...spec.categorical]) as string[],
      multinomial: spec.multinomial,
      tokenBuckets: spec.tokenBuckets,
      categoryBuckets: Object.freeze([...spec.categoryBuckets]) as number[],
      gaussianVariance: spec.gaussianVariance,
      varSmoothing: spec.varSmoothing,
      categories: spec.categories,
      text: spec.text,
      tfidf: spec.tfidf,
      tokens: Object.freeze({ ...spec.tokens }),
    });
    this.k = spec.labels.length;
    this.g = spec.gaussian.length;
    this.labelIndex = new Map(spec.labels.map((label, i) => [label, i]));
    // A model without text spends no memory on a token space.
    this.statistics = statistics ?? new NaiveBayesStatistics(this.spec);
    this.scratchScores = new Float64Array(this.k);
    this.scratchLog = new Float64Array(this.k);
    this.variances = new Float64Array(this.k * this.g);
    this.textTotals = new Float64Array(this.k);
  }

  static create(spec: NaiveBayesSpec): NaiveBayesModel {
    return new NaiveBayesModel(resolveSpec(spec, 'spec'));
  }

  static fromJSON(json: unknown): NaiveBayesModel {
    const { spec, statistics } = readArtifact(json);
    return new NaiveBayesModel(spec, statistics);
  }

  toJSON(): NaiveBayesArtifact {
    return writeArtifact(this.spec, this.statistics);
  }

  get sampleCount(): number {
    return this.statistics.total;
  }

  classCounts(): Record<string, number> {
    // fromEntries defines own properties, so a label such as "__proto__" stays a plain key.
    return Object.fromEntries(this.spec.labels.map((label, i) => [label, this.statistics.counts[i]!]));
  }

  /** Token buckets with counts: the learned vocabulary, at most `spec.tokenBuckets`. */
  get vocabularySize(): number {
    return this.statistics.tokenCounts.used;
  }

  /** Buckets with counts per categorical feature (distinct values seen, at most each feature's buckets). */
  get categorySizes(): number[] {
    return this.statistics.categories.map((t) => t.used);
  }

  /** Index of a label in spec order; throws for a label the spec does not have. */
  labelIndexOf(label: string): number {
    const c = this.labelIndex.get(label);
    if (c === undefined) {
      throw new Error(`Unknown label ${JSON.stringify(label)}; expected one of ${JSON.stringify(this.spec.labels)}`);
    }
    return c;
  }

  learn(x: EncodedExample, label: string): void {
    const c = this.labelIndexOf(label);
    // Validate everything before mutating so a bad row never leaves the model half updated.
    this.checkExample(x, true);
    this.statistics.add(x, c);
  }

  /** Takes back a row this model learned (a retraction): afterwards it is the model that never learned it. */
  unlearn(x: EncodedExample, label: string): void {
    const c = this.labelIndexOf(label);
    this.checkExample(x, true);
    this.statistics.remove(x, c);
  }

  learnMany(rows: Iterable<LabelledExample>): void {
    for (const row of rows) this.learn(row.x, row.label);
  }

  /** Adds the statistics of `other` to this model, as if this model had also learned its rows. */
  merge(other: NaiveBayesModel): void {
    if (!sameSpec(this.spec, other.spec)) {
      throw new Error('Cannot merge naive Bayes models with different specs');
    }
    if (other === this) other = this.clone(); // merging with itself must read a stable copy
    this.statistics.merge(other.statistics);
  }

  predictProba(x: EncodedExample): number[] {
    const scores = this.scratchScores;
    this.logJoint(x, scores);
    let max = -Infinity;
    for (let c = 0; c < this.k; c++) if (scores[c]! > max) max = scores[c]!;
    if (!Number.isFinite(max)) {
      // Only reachable if a likelihood overflowed for every label; fall back to the priors
      // rather than return NaN.
      writeLogPriors(this.statistics, scores);
      max = -Infinity;
      for (let c = 0; c < this.k; c++) if (scores[c]! > max) max = scores[c]!;
    }
    // Log-sum-exp: subtracting the max keeps exp() in range however negative the log joints are.
    let sum = 0;
    for (let c = 0; c < this.k; c++) {
      const e = Math.exp(scores[c]! - max);
      scores[c] = e;
      sum += e;
    }
    const out = new Array<number>(this.k);
    for (let c = 0; c < this.k; c++) out[c] = scores[c]! / sum;
    return out;
  }

  /** Most probable label (first in spec order on ties) and every label's probability in spec order. */
  predict(x: EncodedExample): Prediction {
    const proba = this.predictProba(x);
    let best = 0;
    for (let c = 1; c < this.k; c++) if (proba[c]! > proba[best]!) best = c;
    const labels = this.spec.labels;
    return {
      label: labels[best]!,
      probability: proba[best]!,
      scores: proba.map((probability, c) => ({ label: labels[c]!, probability })),
    };
  }

  /**
   * The log joint of `labelA` minus that of `labelB`, term by term (see TermDifferences): the same
   * arithmetic as `logJoint`, kept per feature and per token instead of summed.
   */
  termDifferences(x: EncodedExample, labelA: string, labelB: string): TermDifferences {
    const a = this.labelIndexOf(labelA);
    const b = this.labelIndexOf(labelB);
    this.checkExample(x, false);
    this.derive();
    const stats = this.statistics;
    const spec = this.spec;
    const g = this.g;
    const priors = this.scratchScores;
    if (spec.text === 'complement' && this.k > 1) priors.fill(0);
    else writeLogPriors(stats, priors);
    const gaussianTerm = (c: number, f: number) => {
      if (stats.counts[c] === 0) return 0;
      const variance = this.variances[c * g + f]!;
      const d = x.gaussian[f]! - stats.mean[c * g + f]!;
      return -0.5 * (LOG_2PI + Math.log(variance)) - (d * d) / (2 * variance);
    };
    const gaussian = Array.from({ length: g }, (_, f) => gaussianTerm(a, f) - gaussianTerm(b, f));
    const categorical = stats.categories.map((table, f) => {
      const bucket = table.bucketOf(x.categorical[f]!);
      return categoryLogProbability(stats, f, bucket, a, spec.categories) - categoryLogProbability(stats, f, bucket, b, spec.categories);
    });
    const tokens: TermDifferences['tokens'] = [];
    let unknownTokens = 0;
    if (spec.multinomial && x.tokens !== undefined && x.tokens.size > 0) {
      const table = stats.tokenCounts;
      const vocab = table.used;
      const totals = this.textTotals;
      const complement = spec.text === 'complement';
      let all = 0;
      for (let c = 0; c < this.k; c++) all += totals[c]!;
      const logDenom = (c: number) => Math.log((complement ? all - totals[c]! : totals[c]!) + vocab);
      for (const [token, count] of x.tokens) {
        if (count === 0) continue;
        const bucket = table.bucketOf(token);
        if (!table.has(bucket)) {
          unknownTokens++;
          continue;
        }
        const idf = spec.tfidf ? inverseDocumentFrequency(stats, bucket) : 1;
        const weight = count * idf;
        let value: number;
        if (complement) {
          let feature = 0;
          for (let c = 0; c < this.k; c++) feature += table.count(bucket, c);
          const term = (c: number) => -weight * (Math.log(idf * (feature - table.count(bucket, c)) + 1) - logDenom(c));
          value = term(a) - term(b);
        } else {
          const term = (c: number) => weight * (Math.log(idf * table.count(bucket, c) + 1) - logDenom(c));
          value = term(a) - term(b);
        }
        tokens.push({ token, count, value });
      }
    }
    return { prior: priors[a]! - priors[b]!, gaussian, categorical, tokens, unknownTokens };
  }

  clone(): NaiveBayesModel {
    const copy = new NaiveBayesModel(this.spec);
    copy.statistics.copyFrom(this.statistics);
    return copy;
  }

  // --- internals -------------------------------------------------------------------------

  private checkExample(x: EncodedExample, learning: boolean): void {
    if (x === null || typeof x !== 'object') throw new Error('Example must be an object');
    const { gaussian, categorical, tokens } = x;
    if (!Array.isArray(gaussian) || gaussian.length !== this.g) {
      throw new Error(`Example must have ${this.g} gaussian values (${this.spec.gaussian.join(', ')})`);
    }
    for (let f = 0; f < this.g; f++) {
      const v = gaussian[f];
      if (typeof v !== 'number' || !Number.isFinite(v)) {
        throw new Error(`Gaussian feature ${JSON.stringify(this.spec.gaussian[f])} must be a finite number, got ${describe(v)}`);
      }
    }
    const nc = this.spec.categorical.length;
    if (!Array.isArray(categorical) || categorical.length !== nc) {
      throw new Error(`Example must have ${nc} categorical values (${this.spec.categorical.join(', ')})`);
    }
    for (let f = 0; f < nc; f++) {
      if (typeof categorical[f] !== 'string') {
        throw new Error(`Categorical feature ${JSON.stringify(this.spec.categorical[f])} must be a string, got ${describe(categorical[f])}`);
      }
    }
    if (tokens !== undefined && this.spec.multinomial) {
      if (!(tokens instanceof Map)) throw new Error('Example tokens must be a Map<string, number>');
      // Predict ignores tokens outside the vocabulary, so only learning needs to look at each one.
      if (learning) {
        for (const [token, count] of tokens) {
          if (typeof count !== 'number' || !Number.isFinite(count) || count < 0) {
            throw new Error(`Token ${JSON.stringify(token)} count must be a finite non-negative number, got ${describe(count)}`);
          }
        }
      }
    }
  }

  private derive(): void {
    const stats = this.statistics;
    if (this.derivedVersion === stats.version) return;
    for (let c = 0; c < this.k; c++) {
      if (stats.counts[c] === 0) continue;
      for (let f = 0; f < this.g; f++) this.variances[c * this.g + f] = gaussianVariance(stats, this.spec, c, f);
    }
    if (this.spec.multinomial) weightedTokenTotals(stats, this.spec.tfidf, this.textTotals);
    this.derivedVersion = stats.version;
  }

  private logJoint(x: EncodedExample, out: Float64Array): void {
    this.checkExample(x, false);
    this.derive();
    const stats = this.statistics;
    const spec = this.spec;
    const k = this.k;
    const g = this.g;
    // ComplementNB has no class prior (scikit-learn adds one only for a single class).
    if (spec.text === 'complement' && k > 1) out.fill(0);
    else writeLogPriors(stats, out);

    for (let f = 0; f < g; f++) {
      const v = x.gaussian[f]!;
      for (let c = 0; c < k; c++) {
        if (stats.counts[c] === 0) continue; // no rows: nothing to say about this feature
        const variance = this.variances[c * g + f]!;
        const d = v - stats.mean[c * g + f]!;
        // log(1 / (sqrt(2π)·std)) − d² / (2·std²), as GaussianNB, without its exp/log round trip.
        out[c]! += -0.5 * (LOG_2PI + Math.log(variance)) - (d * d) / (2 * variance);
      }
    }

    for (let f = 0; f < stats.categories.length; f++) {
      const b = stats.categories[f]!.bucketOf(x.categorical[f]!);
      for (let c = 0; c < k; c++) out[c]! += categoryLogProbability(stats, f, b, c, spec.categories);
    }

    if (spec.multinomial && x.tokens !== undefined && x.tokens.size > 0) {
      const table = stats.tokenCounts;
      const vocab = table.used;
      const logDenom = this.scratchLog;
      const totals = this.textTotals;
      const complement = spec.text === 'complement';
      let all = 0;
      for (let c = 0; c < k; c++) all += totals[c]!;
      // Multinomial: log((N_ct + 1) / (N_c + V)); complement: −log((F_t − N_ct + 1) / (F − N_c + V)).
      for (let c = 0; c < k; c++) logDenom[c] = Math.log((complement ? all - totals[c]! : totals[c]!) + vocab);
      for (const [token, count] of x.tokens) {
        // Tokens never learned are outside the vocabulary and ignored, like a fixed vectorizer.
        if (!(count >= 0 && count < Infinity)) {
          throw new Error(`Token ${JSON.stringify(token)} count must be a finite non-negative number, got ${describe(count)}`);
        }
        if (count === 0) continue;
        const b = table.bucketOf(token);
        if (!table.has(b)) continue;
        const idf = spec.tfidf ? inverseDocumentFrequency(stats, b) : 1;
        const weight = count * idf;
        if (complement) {
          let feature = 0;
          for (let c = 0; c < k; c++) feature += table.count(b, c);
          for (let c = 0; c < k; c++) out[c]! -= weight * (Math.log(idf * (feature - table.count(b, c)) + 1) - logDenom[c]!);
        } else {
          for (let c = 0; c < k; c++) out[c]! += weight * (Math.log(idf * table.count(b, c) + 1) - logDenom[c]!);
        }
      }
    }
  }
}

function describe(v: unknown): string {
  if (v === undefined) return 'undefined';
  if (typeof v === 'number' || typeof v === 'boolean' || v === null) return String(v);
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
  return Array.isArray(v) ? 'an array' : typeof v;
}
