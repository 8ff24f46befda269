/**
 * Naive Bayes kept as sufficient statistics, so that learning one labelled row at a time gives
 * exactly the model that batch training on all rows would give, and two models trained on
 * disjoint data can be merged. The maths follows ml-naivebayes 4.0.0 (GaussianNB and
 * MultinomialNB) wherever that library is well defined; the extra guards only apply where it
 * would produce NaN or -Infinity.
 *
 * Feature space (the hashing trick): clients choose tokens and category values, so the model
 * never keys its counts by them. Each token is counted in bucket `featureBucket(token,
 * tokenBuckets)` and each value of a categorical feature in `featureBucket(value, buckets)` of
 * that feature; the "vocabulary" is the set of buckets that have counts. Memory is therefore
 * fixed by the spec (buckets × labels × 8 bytes per hashed feature), whatever is learned, and
 * counting stays a sum: online learning in any order equals batch training on the same rows,
 * merges are exact, and a replay rebuilds the same model. Tokens sharing a bucket share their
 * counts; with the default 2^20 token buckets the ~94,000 tokens of the spam bootstrap rarely do.
 */

/** Default feature spaces; a task definition may set its own. */
export const DEFAULT_TOKEN_BUCKETS = 1 << 20;
export const DEFAULT_CATEGORY_BUCKETS = 1 << 16;
/** Upper bound of any feature space (128 MiB of counts per label at most). */
export const MAX_FEATURE_BUCKETS = 1 << 24;

export interface NaiveBayesSpec {
  labels: string[];
  gaussian: string[];
  categorical: string[];
  multinomial: boolean;
  /** Buckets tokens are hashed into (default DEFAULT_TOKEN_BUCKETS); only used when multinomial. */
  tokenBuckets?: number;
  /** Buckets of each categorical feature, in `categorical` order (default DEFAULT_CATEGORY_BUCKETS each). */
  categoryBuckets?: number[];
}

/** A spec with every feature space spelled out, as a model holds and an artifact records it. */
export type ResolvedSpec = Required<NaiveBayesSpec>;

/**
 * FNV-1a (32-bit) over the UTF-16 code units, modulo `buckets`. Written here because it is five
 * lines and part of the artifact format: it must never change with a dependency's version.
 */
export function featureBucket(key: string, buckets: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  return (h >>> 0) % buckets;
}

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

/** Counts of one bucket (category values or tokens hashed there), one per spec label; buckets ascending. */
export type CountEntry = [bucket: number, countsPerLabel: number[]];

export interface NaiveBayesArtifact {
  format: typeof ARTIFACT_FORMAT;
  formatVersion: typeof ARTIFACT_VERSION;
  spec: ResolvedSpec;
  /** Rows learned per label, in spec.labels order. */
  classCounts: number[];
  gaussian: {
    /** [label][feature] running mean (Welford). */
    mean: number[][];
    /** [label][feature] sum of squared deviations from the mean (Welford M2). */
    m2: number[][];
    /** Same statistics over all rows regardless of label; only used for the variance floor. */
    pooledMean: number[];
    pooledM2: number[];
  };
  /** One list per categorical feature: its buckets that have counts. */
  categorical: CountEntry[][];
  multinomial: { totals: number[]; tokens: CountEntry[] } | null;
}

export const ARTIFACT_FORMAT = 'relearn.naive-bayes';
/** 2: counts per hashed bucket. 1 (still read): counts per token and category value, hashed on load. */
export const ARTIFACT_VERSION = 2;

const LOG_2PI = Math.log(2 * Math.PI);
// Relative and absolute variance floors, in the spirit of sklearn's var_smoothing: they only
// matter for constant features or classes with fewer than two rows.
const RELATIVE_VARIANCE_FLOOR = 1e-9;
const ABSOLUTE_VARIANCE_FLOOR = 1e-12;

export class NaiveBayesModel {
  readonly spec: Readonly<ResolvedSpec>;
  private readonly labelIndex: Map<string, number>;
  private readonly k: number;
  private readonly g: number;

  private readonly counts: Float64Array; // [label]
  private total = 0;
  private readonly mean: Float64Array; // [label * g + feature]
  private readonly m2: Float64Array;
  private readonly pooledMean: Float64Array; // [feature]
  private readonly pooledM2: Float64Array;
  private readonly categories: HashedCounts[]; // [feature]
  private readonly tokenCounts: HashedCounts;
  private readonly tokenTotals: Float64Array; // [label]

  // Scratch buffers reused by predict so the hot path allocates only its result.
  private readonly scratchScores: Float64Array;
  private readonly scratchLog: Float64Array;

  private constructor(spec: ResolvedSpec) {
    this.spec = Object.freeze({
      labels: Object.freeze([...spec.labels]) as string[],
      gaussian: Object.freeze([...spec.gaussian]) as string[],
      categorical: Object.freeze([...spec.categorical]) as string[],
      multinomial: spec.multinomial,
      tokenBuckets: spec.tokenBuckets,
      categoryBuckets: Object.freeze([...spec.categoryBuckets]) as number[],
    });
    this.k = spec.labels.length;
    this.g = spec.gaussian.length;
    this.labelIndex = new Map(spec.labels.map((label, i) => [label, i]));
    this.counts = new Float64Array(this.k);
    this.mean = new Float64Array(this.k * this.g);
    this.m2 = new Float64Array(this.k * this.g);
    this.pooledMean = new Float64Array(this.g);
    this.pooledM2 = new Float64Array(this.g);
    this.categories = spec.categoryBuckets.map((buckets) => new HashedCounts(buckets, this.k));
    // A model without text spends no memory on a token space.
    this.tokenCounts = new HashedCounts(spec.multinomial ? spec.tokenBuckets : 0, this.k);
    this.tokenTotals = new Float64Array(this.k);
    this.scratchScores = new Float64Array(this.k);
    this.scratchLog = new Float64Array(this.k);
  }

  static create(spec: NaiveBayesSpec): NaiveBayesModel {
    return new NaiveBayesModel(validateSpec(spec, 'spec'));
  }

  get sampleCount(): number {
    return this.total;
  }

  classCounts(): Record<string, number> {
    // fromEntries defines own properties, so a label such as "__proto__" stays a plain key.
    return Object.fromEntries(this.spec.labels.map((label, i) => [label, this.counts[i]!]));
  }

  learn(x: EncodedExample, label: string): void {
    const c = this.labelIndex.get(label);
    if (c === undefined) {
      throw new Error(`Unknown label ${JSON.stringify(label)}; expected one of ${JSON.stringify(this.spec.labels)}`);
    }
    // Validate everything before mutating so a bad row never leaves the model half updated.
    this.checkExample(x, true);

    const g = this.g;
    const n = ++this.counts[c]!;
    const N = ++this.total;
    const base = c * g;
    const gx = x.gaussian;
    for (let f = 0; f < g; f++) {
      const v = gx[f]!;
      // Welford: numerically stable, exact incremental mean and M2.
      const d = v - this.mean[base + f]!;
      const m = this.mean[base + f]! + d / n;
      this.mean[base + f] = m;
      this.m2[base + f]! += d * (v - m);
      const pd = v - this.pooledMean[f]!;
      const pm = this.pooledMean[f]! + pd / N;
      this.pooledMean[f] = pm;
      this.pooledM2[f]! += pd * (v - pm);
    }

    const cx = x.categorical;
    for (let f = 0; f < this.categories.length; f++) {
      const table = this.categories[f]!;
      table.add(table.bucketOf(cx[f]!), c, 1);
    }

    if (this.spec.multinomial && x.tokens !== undefined) {
      const table = this.tokenCounts;
      for (const [token, count] of x.tokens) {
        if (count === 0) continue; // a zero count must not grow the vocabulary
        table.add(table.bucketOf(token), c, count);
        this.tokenTotals[c]! += count;
      }
    }
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
    const g = this.g;
    for (let c = 0; c < this.k; c++) {
      const na = this.counts[c]!;
      const nb = other.counts[c]!;
      if (nb === 0) continue;
      const n = na + nb;
      for (let f = 0; f < g; f++) {
        const i = c * g + f;
        mergeMoments(this.mean, this.m2, i, na, other.mean[i]!, other.m2[i]!, nb, n);
      }
      this.counts[c] = n;
    }
    const Na = this.total;
    const Nb = other.total;
    if (Nb > 0) {
      for (let f = 0; f < g; f++) {
        mergeMoments(this.pooledMean, this.pooledM2, f, Na, other.pooledMean[f]!, other.pooledM2[f]!, Nb, Na + Nb);
      }
      this.total = Na + Nb;
    }
    for (let f = 0; f < this.categories.length; f++) this.categories[f]!.addAll(other.categories[f]!);
    this.tokenCounts.addAll(other.tokenCounts);
    for (let c = 0; c < this.k; c++) this.tokenTotals[c]! += other.tokenTotals[c]!;
  }

  /** Log prior per label, in spec.labels order. */
  logPriors(): number[] {
    const out = new Float64Array(this.k);
    this.writeLogPriors(out);
    return Array.from(out);
  }

  /**
   * Mean and effective (floored) unbiased standard deviation per label and gaussian feature, as
   * used by predict. A label without rows reports NaN: its gaussian block is skipped.
   */
  gaussianParameters(): { label: string; mean: number[]; std: number[] }[] {
    const floor = this.varianceFloors();
    return this.spec.labels.map((label, c) => {
      const n = this.counts[c]!;
      const mean: number[] = [];
      const std: number[] = [];
      for (let f = 0; f < this.g; f++) {
        mean.push(n > 0 ? this.mean[c * this.g + f]! : Number.NaN);
        std.push(n > 0 ? Math.sqrt(this.effectiveVariance(c, f, floor[f]!)) : Number.NaN);
      }
      return { label, mean, std };
    });
  }

  /** log P(value | label) for one categorical feature, per label (an unseen value included). */
  categoryLogProbabilities(feature: string, value: string): number[] {
    const f = this.spec.categorical.indexOf(feature);
    if (f < 0) throw new Error(`Unknown categorical feature ${JSON.stringify(feature)}`);
    const table = this.categories[f]!;
    const b = table.bucketOf(value);
    const seen = table.has(b);
    const v = table.used;
    return Array.from(this.counts, (n, c) => (seen ? Math.log((table.count(b, c) + 1) / (n + v)) : -Math.log(n + v + 1)));
  }

  /** log P(token | label) per label, or null when the token's bucket has never been learned. */
  tokenLogProbabilities(token: string): number[] | null {
    const table = this.tokenCounts;
    if (!this.spec.multinomial) return null;
    const b = table.bucketOf(token);
    if (!table.has(b)) return null;
    const v = table.used;
    return Array.from(this.tokenTotals, (total, c) => Math.log((table.count(b, c) + 1) / (total + v)));
  }

  /** Token buckets with counts: the learned vocabulary, at most `spec.tokenBuckets`. */
  get vocabularySize(): number {
    return this.tokenCounts.used;
  }

  /** Buckets with counts per categorical feature (distinct values seen, at most each feature's buckets). */
  get categorySizes(): number[] {
    return this.categories.map((t) => t.used);
  }

  predictProba(x: EncodedExample): number[] {
    const scores = this.scratchScores;
    this.logJoint(x, scores);
    let max = -Infinity;
    for (let c = 0; c < this.k; c++) if (scores[c]! > max) max = scores[c]!;
    if (!Number.isFinite(max)) {
      // Only reachable if a likelihood overflowed for every label; fall back to the priors
      // rather than return NaN.
      this.writeLogPriors(scores);
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

  clone(): NaiveBayesModel {
    const copy = new NaiveBayesModel(this.spec);
    copy.copyFrom(this);
    return copy;
  }

  toJSON(): NaiveBayesArtifact {
    const g = this.g;
    const rows = (a: Float64Array) => this.spec.labels.map((_, c) => Array.from(a.subarray(c * g, (c + 1) * g)));
    return {
      format: ARTIFACT_FORMAT,
      formatVersion: ARTIFACT_VERSION,
      spec: {
        labels: [...this.spec.labels],
        gaussian: [...this.spec.gaussian],
        categorical: [...this.spec.categorical],
        multinomial: this.spec.multinomial,
        tokenBuckets: this.spec.tokenBuckets,
        categoryBuckets: [...this.spec.categoryBuckets],
      },
      classCounts: Array.from(this.counts),
      gaussian: {
        mean: rows(this.mean),
        m2: rows(this.m2),
        pooledMean: Array.from(this.pooledMean),
        pooledM2: Array.from(this.pooledM2),
      },
      categorical: this.categories.map((t) => t.entries()),
      multinomial: this.spec.multinomial ? { totals: Array.from(this.tokenTotals), tokens: this.tokenCounts.entries() } : null,
    };
  }

  static fromJSON(json: unknown): NaiveBayesModel {
    const a = asObject(json, 'artifact');
    if (a.format !== ARTIFACT_FORMAT) {
      throw new Error(`${PREFIX}format must be ${JSON.stringify(ARTIFACT_FORMAT)}, got ${describe(a.format)}`);
    }
    if (a.formatVersion !== ARTIFACT_VERSION && a.formatVersion !== 1) {
      throw new Error(`${PREFIX}unsupported formatVersion ${describe(a.formatVersion)}; this build reads 1 and ${ARTIFACT_VERSION}`);
    }
    // Version 1 keyed counts by token and value: hashed into the default feature spaces here.
    const keyed = a.formatVersion === 1;
    if (keyed && a.spec !== null && typeof a.spec === 'object' && ('tokenBuckets' in a.spec || 'categoryBuckets' in a.spec)) {
      throw new Error(`${PREFIX}formatVersion 1 has no feature buckets`);
    }
    const spec = validateSpec(a.spec, 'spec');
    const model = new NaiveBayesModel(spec);
    const k = model.k;
    const g = model.g;

    const counts = numberArray(a.classCounts, k, 'classCounts', isCount);
    for (let c = 0; c < k; c++) {
      if (!Number.isInteger(counts[c])) throw new Error(`${PREFIX}classCounts[${c}] must be an integer`);
    }
    model.counts.set(counts);
    model.total = counts.reduce((s, n) => s + n, 0);

    const gauss = asObject(a.gaussian, 'gaussian');
    const means = array(gauss.mean, k, 'gaussian.mean');
    const m2s = array(gauss.m2, k, 'gaussian.m2');
    for (let c = 0; c < k; c++) {
      model.mean.set(numberArray(means[c], g, `gaussian.mean[${c}]`, Number.isFinite), c * g);
      model.m2.set(numberArray(m2s[c], g, `gaussian.m2[${c}]`, isCount), c * g);
    }
    model.pooledMean.set(numberArray(gauss.pooledMean, g, 'gaussian.pooledMean', Number.isFinite));
    model.pooledM2.set(numberArray(gauss.pooledM2, g, 'gaussian.pooledM2', isCount));

    const cats = array(a.categorical, spec.categorical.length, 'categorical');
    for (let f = 0; f < cats.length; f++) {
      const path = `categorical[${f}]`;
      readEntries(cats[f], k, path, model.categories[f]!, keyed);
      // Every row adds exactly one value per feature, so per-label sums must equal the class counts.
      const sums = model.categories[f]!.sums();
      for (let c = 0; c < k; c++) {
        if (sums[c] !== counts[c]) {
          throw new Error(`${PREFIX}${path} counts for label ${JSON.stringify(spec.labels[c])} sum to ${sums[c]}, expected ${counts[c]}`);
        }
      }
    }

    if (spec.multinomial) {
      const mn = asObject(a.multinomial, 'multinomial');
      model.tokenTotals.set(numberArray(mn.totals, k, 'multinomial.totals', isCount));
      readEntries(mn.tokens, k, 'multinomial.tokens', model.tokenCounts, keyed);
    } else if (a.multinomial !== null && a.multinomial !== undefined) {
      throw new Error(`${PREFIX}multinomial must be null when spec.multinomial is false`);
    }
    return model;
  }

  // --- internals -------------------------------------------------------------------------

  private copyFrom(other: NaiveBayesModel): void {
    this.counts.set(other.counts);
    this.total = other.total;
    this.mean.set(other.mean);
    this.m2.set(other.m2);
    this.pooledMean.set(other.pooledMean);
    this.pooledM2.set(other.pooledM2);
    other.categories.forEach((table, f) => this.categories[f]!.copyFrom(table));
    this.tokenCounts.copyFrom(other.tokenCounts);
    this.tokenTotals.set(other.tokenTotals);
  }

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
    const nc = this.categories.length;
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

  private writeLogPriors(out: Float64Array): void {
    const k = this.k;
    let anyEmpty = false;
    for (let c = 0; c < k; c++) if (this.counts[c] === 0) anyEmpty = true;
    // ml-naivebayes uses unsmoothed n_c / N; Laplace smoothing only when that would give log(0).
    const denom = anyEmpty ? this.total + k : this.total;
    const add = anyEmpty ? 1 : 0;
    for (let c = 0; c < k; c++) out[c] = Math.log((this.counts[c]! + add) / denom);
  }

  private varianceFloors(): Float64Array {
    const floors = new Float64Array(this.g);
    for (let f = 0; f < this.g; f++) floors[f] = this.varianceFloor(f);
    return floors;
  }

  private varianceFloor(f: number): number {
    const pooled = this.total > 1 ? this.pooledM2[f]! / (this.total - 1) : 0;
    return Math.max(RELATIVE_VARIANCE_FLOOR * pooled, ABSOLUTE_VARIANCE_FLOOR);
  }

  private effectiveVariance(c: number, f: number, floor: number): number {
    const n = this.counts[c]!;
    // Unbiased (n - 1) like ml-matrix standardDeviation's default; undefined below two rows.
    const variance = n > 1 ? this.m2[c * this.g + f]! / (n - 1) : 0;
    return variance > floor ? variance : floor;
  }

  private logJoint(x: EncodedExample, out: Float64Array): void {
    this.checkExample(x, false);
    const k = this.k;
    const g = this.g;
    this.writeLogPriors(out);

    for (let f = 0; f < g; f++) {
      const v = x.gaussian[f]!;
      const floor = this.varianceFloor(f);
      for (let c = 0; c < k; c++) {
        if (this.counts[c] === 0) continue; // no rows: nothing to say about this feature
        const variance = this.effectiveVariance(c, f, floor);
        const d = v - this.mean[c * g + f]!;
        // log(1 / (sqrt(2π)·std)) − d² / (2·std²), as GaussianNB, without its exp/log round trip.
        out[c]! += -0.5 * (LOG_2PI + Math.log(variance)) - (d * d) / (2 * variance);
      }
    }

    for (let f = 0; f < this.categories.length; f++) {
      const table = this.categories[f]!;
      const b = table.bucketOf(x.categorical[f]!);
      const seen = table.has(b);
      const v = table.used;
      for (let c = 0; c < k; c++) {
        const n = this.counts[c]!;
        // Laplace smoothing over the V values (buckets) seen; an unseen value counts as one extra
        // value with zero observations, so it gets 1 / (n_c + V + 1) for every label.
        out[c]! += seen ? Math.log((table.count(b, c) + 1) / (n + v)) : -Math.log(n + v + 1);
      }
    }

    if (this.spec.multinomial && x.tokens !== undefined && x.tokens.size > 0) {
      const table = this.tokenCounts;
      const vocab = table.used;
      const logDenom = this.scratchLog;
      for (let c = 0; c < k; c++) logDenom[c] = Math.log(this.tokenTotals[c]! + vocab);
      for (const [token, count] of x.tokens) {
        // Tokens never learned are outside the vocabulary and ignored, like a fixed vectorizer.
        if (!(count >= 0 && count < Infinity)) {
          throw new Error(`Token ${JSON.stringify(token)} count must be a finite non-negative number, got ${describe(count)}`);
        }
        if (count === 0) continue;
        const b = table.bucketOf(token);
        if (!table.has(b)) continue;
        for (let c = 0; c < k; c++) out[c]! += count * (Math.log(table.count(b, c) + 1) - logDenom[c]!);
      }
    }
  }
}

/** Chan et al. parallel combination of (count, mean, M2), written back into slot i. */
function mergeMoments(mean: Float64Array, m2: Float64Array, i: number, na: number, meanB: number, m2B: number, nb: number, n: number): void {
  if (na === 0) {
    // Copy rather than compute 0 + meanB·nb/n, which may be off by an ulp.
    mean[i] = meanB;
    m2[i] = m2B;
    return;
  }
  const d = meanB - mean[i]!;
  mean[i] = mean[i]! + (d * nb) / n;
  m2[i] = m2[i]! + m2B + ((d * d * na) / n) * nb;
}

/**
 * Counts per label of each bucket of one hashed feature, dense: `buckets × labels` float64s, fixed
 * when the model is made. `used` counts the buckets that have any count (the V of Laplace smoothing).
 */
class HashedCounts {
  private readonly counts: Float64Array; // [bucket * k + label]
  used = 0;

  constructor(
    readonly buckets: number,
    private readonly k: number,
  ) {
    this.counts = new Float64Array(buckets * k);
  }

  bucketOf(key: string): number {
    return featureBucket(key, this.buckets);
  }

  has(bucket: number): boolean {
    const base = bucket * this.k;
    for (let c = 0; c < this.k; c++) if (this.counts[base + c] !== 0) return true;
    return false;
  }

  count(bucket: number, label: number): number {
    return this.counts[bucket * this.k + label]!;
  }

  add(bucket: number, label: number, n: number): void {
    if (n === 0) return;
    if (!this.has(bucket)) this.used++;
    this.counts[bucket * this.k + label]! += n;
  }

  addAll(other: HashedCounts): void {
    const k = this.k;
    for (let b = 0; b < this.buckets; b++) {
      if (!other.has(b)) continue;
      for (let c = 0; c < k; c++) this.add(b, c, other.counts[b * k + c]!);
    }
  }

  copyFrom(other: HashedCounts): void {
    this.counts.set(other.counts);
    this.used = other.used;
  }

  sums(): Float64Array {
    const out = new Float64Array(this.k);
    for (let i = 0; i < this.counts.length; i++) out[i % this.k]! += this.counts[i]!;
    return out;
  }

  entries(): CountEntry[] {
    const out: CountEntry[] = [];
    for (let b = 0; b < this.buckets; b++) {
      if (this.has(b)) out.push([b, Array.from(this.counts.subarray(b * this.k, (b + 1) * this.k))]);
    }
    return out;
  }
}

function sameSpec(a: Readonly<ResolvedSpec>, b: Readonly<ResolvedSpec>): boolean {
  const eq = (x: readonly unknown[], y: readonly unknown[]) => x.length === y.length && x.every((v, i) => v === y[i]);
  return (
    eq(a.labels, b.labels) &&
    eq(a.gaussian, b.gaussian) &&
    eq(a.categorical, b.categorical) &&
    a.multinomial === b.multinomial &&
    a.tokenBuckets === b.tokenBuckets &&
    eq(a.categoryBuckets, b.categoryBuckets)
  );
}

// --- validation helpers ----------------------------------------------------------------------

const PREFIX = 'Invalid naive Bayes artifact: ';

function describe(v: unknown): string {
  if (v === undefined) return 'undefined';
  if (typeof v === 'number' || typeof v === 'boolean' || v === null) return String(v);
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
  return Array.isArray(v) ? 'an array' : typeof v;
}

function isCount(v: number): boolean {
  return Number.isFinite(v) && v >= 0;
}

function asObject(v: unknown, path: string): Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) {
    throw new Error(`${PREFIX}${path} must be an object, got ${describe(v)}`);
  }
  return v as Record<string, unknown>;
}

function array(v: unknown, length: number, path: string): unknown[] {
  if (!Array.isArray(v) || v.length !== length) {
    throw new Error(`${PREFIX}${path} must be an array of length ${length}`);
  }
  return v;
}

function numberArray(v: unknown, length: number, path: string, ok: (n: number) => boolean): number[] {
  const arr = array(v, length, path);
  for (let i = 0; i < arr.length; i++) {
    const n = arr[i];
    if (typeof n !== 'number' || !ok(n)) throw new Error(`${PREFIX}${path}[${i}] is not a valid number: ${describe(n)}`);
  }
  return arr as number[];
}

/** Reads [bucket, counts] entries (or, from a version 1 artifact, [key, counts] entries hashed here). */
function readEntries(v: unknown, k: number, path: string, into: HashedCounts, keyed: boolean): void {
  if (!Array.isArray(v)) throw new Error(`${PREFIX}${path} must be an array of [bucket, counts] entries`);
  const seen = new Set<string | number>();
  for (let i = 0; i < v.length; i++) {
    const entry: unknown = v[i];
    if (keyed) {
      if (!Array.isArray(entry) || entry.length !== 2 || typeof entry[0] !== 'string') {
        throw new Error(`${PREFIX}${path}[${i}] must be a [string, number[]] entry`);
      }
    } else if (!Array.isArray(entry) || entry.length !== 2 || !Number.isInteger(entry[0]) || entry[0] < 0 || entry[0] >= into.buckets) {
      throw new Error(`${PREFIX}${path}[${i}] must be a [bucket, number[]] entry with a bucket below ${into.buckets}`);
    }
    const key = entry[0] as string | number;
    if (seen.has(key)) throw new Error(`${PREFIX}${path} has duplicate key ${JSON.stringify(key)}`);
    seen.add(key);
    const counts = numberArray(entry[1], k, `${path}[${i}][1]`, isCount);
    const bucket = typeof key === 'string' ? into.bucketOf(key) : key;
    for (let c = 0; c < k; c++) into.add(bucket, c, counts[c]!);
  }
}

function stringList(v: unknown, path: string, prefix: string): string[] {
  if (!Array.isArray(v) || v.some((s) => typeof s !== 'string')) {
    throw new Error(`${prefix}${path} must be an array of strings`);
  }
  const seen = new Set<string>();
  for (const s of v as string[]) {
    if (seen.has(s)) throw new Error(`${prefix}${path} has duplicate entry ${JSON.stringify(s)}`);
    seen.add(s);
  }
  return [...(v as string[])];
}

function validateSpec(v: unknown, path: string): ResolvedSpec {
  const prefix = 'Invalid naive Bayes spec: ';
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new Error(`${prefix}${path} must be an object`);
  const s = v as Record<string, unknown>;
  const labels = stringList(s.labels, `${path}.labels`, prefix);
  if (labels.length === 0) throw new Error(`${prefix}${path}.labels must not be empty`);
  const gaussian = stringList(s.gaussian, `${path}.gaussian`, prefix);
  const categorical = stringList(s.categorical, `${path}.categorical`, prefix);
  const clash = gaussian.find((name) => categorical.includes(name));
  if (clash !== undefined) throw new Error(`${prefix}feature ${JSON.stringify(clash)} is both gaussian and categorical`);
  if (typeof s.multinomial !== 'boolean') throw new Error(`${prefix}${path}.multinomial must be a boolean`);
  const isBuckets = (n: unknown) => Number.isInteger(n) && (n as number) >= 1 && (n as number) <= MAX_FEATURE_BUCKETS;
  const tokenBuckets = s.tokenBuckets ?? DEFAULT_TOKEN_BUCKETS;
  if (!isBuckets(tokenBuckets)) throw new Error(`${prefix}${path}.tokenBuckets must be an integer from 1 to ${MAX_FEATURE_BUCKETS}`);
  const categoryBuckets = s.categoryBuckets ?? categorical.map(() => DEFAULT_CATEGORY_BUCKETS);
  if (!Array.isArray(categoryBuckets) || categoryBuckets.length !== categorical.length || !categoryBuckets.every(isBuckets)) {
    throw new Error(`${prefix}${path}.categoryBuckets must list one integer from 1 to ${MAX_FEATURE_BUCKETS} per categorical feature`);
  }
  return {
    labels,
    gaussian,
    categorical,
    multinomial: s.multinomial,
    tokenBuckets: tokenBuckets as number,
    categoryBuckets: [...(categoryBuckets as number[])],
  };
}
