/**
 * Naive Bayes kept as sufficient statistics, so that learning one labelled row at a time gives
 * exactly the model that batch training on all rows would give, and two models trained on
 * disjoint data can be merged. The maths follows ml-naivebayes 4.0.0 (GaussianNB and
 * MultinomialNB) wherever that library is well defined; the extra guards only apply where it
 * would produce NaN or -Infinity.
 */

export interface NaiveBayesSpec {
  labels: string[];
  gaussian: string[];
  categorical: string[];
  multinomial: boolean;
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

/** Per-category or per-token counts, one entry per spec label. Entries keep insertion order. */
export type CountEntry = [key: string, countsPerLabel: number[]];

export interface NaiveBayesArtifact {
  format: typeof ARTIFACT_FORMAT;
  formatVersion: typeof ARTIFACT_VERSION;
  spec: NaiveBayesSpec;
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
  /** One list per categorical feature. */
  categorical: CountEntry[][];
  multinomial: { totals: number[]; tokens: CountEntry[] } | null;
}

export const ARTIFACT_FORMAT = 'relearn.naive-bayes';
export const ARTIFACT_VERSION = 1;

const LOG_2PI = Math.log(2 * Math.PI);
// Relative and absolute variance floors, in the spirit of sklearn's var_smoothing: they only
// matter for constant features or classes with fewer than two rows.
const RELATIVE_VARIANCE_FLOOR = 1e-9;
const ABSOLUTE_VARIANCE_FLOOR = 1e-12;

export class NaiveBayesModel {
  readonly spec: Readonly<NaiveBayesSpec>;
  private readonly labelIndex: Map<string, number>;
  private readonly k: number;
  private readonly g: number;

  private readonly counts: Float64Array; // [label]
  private total = 0;
  private readonly mean: Float64Array; // [label * g + feature]
  private readonly m2: Float64Array;
  private readonly pooledMean: Float64Array; // [feature]
  private readonly pooledM2: Float64Array;
  private readonly categories: Map<string, Float64Array>[]; // [feature] value -> counts per label
  private readonly tokenCounts: Map<string, Float64Array>; // token -> counts per label
  private readonly tokenTotals: Float64Array; // [label]

  // Scratch buffers reused by predict so the hot path allocates only its result.
  private readonly scratchScores: Float64Array;
  private readonly scratchLog: Float64Array;

  private constructor(spec: NaiveBayesSpec) {
    this.spec = Object.freeze({
      labels: Object.freeze([...spec.labels]) as string[],
      gaussian: Object.freeze([...spec.gaussian]) as string[],
      categorical: Object.freeze([...spec.categorical]) as string[],
      multinomial: spec.multinomial,
    });
    this.k = spec.labels.length;
    this.g = spec.gaussian.length;
    this.labelIndex = new Map(spec.labels.map((label, i) => [label, i]));
    this.counts = new Float64Array(this.k);
    this.mean = new Float64Array(this.k * this.g);
    this.m2 = new Float64Array(this.k * this.g);
    this.pooledMean = new Float64Array(this.g);
    this.pooledM2 = new Float64Array(this.g);
    this.categories = spec.categorical.map(() => new Map());
    this.tokenCounts = new Map();
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
      const value = cx[f]!;
      let row = table.get(value);
      if (row === undefined) {
        row = new Float64Array(this.k);
        table.set(value, row);
      }
      row[c]! += 1;
    }

    if (this.spec.multinomial && x.tokens !== undefined) {
      for (const [token, count] of x.tokens) {
        if (count === 0) continue; // a zero count must not grow the vocabulary
        let row = this.tokenCounts.get(token);
        if (row === undefined) {
          row = new Float64Array(this.k);
          this.tokenCounts.set(token, row);
        }
        row[c]! += count;
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
    for (let f = 0; f < this.categories.length; f++) {
      addCounts(this.categories[f]!, other.categories[f]!, this.k);
    }
    addCounts(this.tokenCounts, other.tokenCounts, this.k);
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
    const row = table.get(value);
    const v = table.size;
    return Array.from(this.counts, (n, c) => (row ? Math.log((row[c]! + 1) / (n + v)) : -Math.log(n + v + 1)));
  }

  /** log P(token | label) per label, or null when the token is outside the learned vocabulary. */
  tokenLogProbabilities(token: string): number[] | null {
    const row = this.tokenCounts.get(token);
    if (row === undefined) return null;
    const v = this.tokenCounts.size;
    return Array.from(row, (count, c) => Math.log((count + 1) / (this.tokenTotals[c]! + v)));
  }

  /** Number of distinct tokens learned. */
  get vocabularySize(): number {
    return this.tokenCounts.size;
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
    // Entry lists rather than objects: keys are user data and "__proto__" must survive.
    const entries = (m: Map<string, Float64Array>): CountEntry[] => Array.from(m, ([key, v]) => [key, Array.from(v)]);
    return {
      format: ARTIFACT_FORMAT,
      formatVersion: ARTIFACT_VERSION,
      spec: {
        labels: [...this.spec.labels],
        gaussian: [...this.spec.gaussian],
        categorical: [...this.spec.categorical],
        multinomial: this.spec.multinomial,
      },
      classCounts: Array.from(this.counts),
      gaussian: {
        mean: rows(this.mean),
        m2: rows(this.m2),
        pooledMean: Array.from(this.pooledMean),
        pooledM2: Array.from(this.pooledM2),
      },
      categorical: this.categories.map(entries),
      multinomial: this.spec.multinomial
        ? { totals: Array.from(this.tokenTotals), tokens: entries(this.tokenCounts) }
        : null,
    };
  }

  static fromJSON(json: unknown): NaiveBayesModel {
    const a = asObject(json, 'artifact');
    if (a.format !== ARTIFACT_FORMAT) {
      throw new Error(`${PREFIX}format must be ${JSON.stringify(ARTIFACT_FORMAT)}, got ${describe(a.format)}`);
    }
    if (a.formatVersion !== ARTIFACT_VERSION) {
      throw new Error(`${PREFIX}unsupported formatVersion ${describe(a.formatVersion)}; this build reads ${ARTIFACT_VERSION}`);
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
      readEntries(cats[f], k, path, model.categories[f]!);
      // Every row adds exactly one value per feature, so per-label sums must equal the class counts.
      const sums = new Float64Array(k);
      for (const row of model.categories[f]!.values()) for (let c = 0; c < k; c++) sums[c]! += row[c]!;
      for (let c = 0; c < k; c++) {
        if (sums[c] !== counts[c]) {
          throw new Error(`${PREFIX}${path} counts for label ${JSON.stringify(spec.labels[c])} sum to ${sums[c]}, expected ${counts[c]}`);
        }
      }
    }

    if (spec.multinomial) {
      const mn = asObject(a.multinomial, 'multinomial');
      model.tokenTotals.set(numberArray(mn.totals, k, 'multinomial.totals', isCount));
      readEntries(mn.tokens, k, 'multinomial.tokens', model.tokenCounts);
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
    other.categories.forEach((table, f) => {
      for (const [value, row] of table) this.categories[f]!.set(value, row.slice());
    });
    for (const [token, row] of other.tokenCounts) this.tokenCounts.set(token, row.slice());
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
      const row = table.get(x.categorical[f]!);
      const v = table.size;
      for (let c = 0; c < k; c++) {
        const n = this.counts[c]!;
        // Laplace smoothing over the V values seen; an unseen value counts as one extra value
        // with zero observations, so it gets 1 / (n_c + V + 1) for every label.
        out[c]! += row !== undefined ? Math.log((row[c]! + 1) / (n + v)) : -Math.log(n + v + 1);
      }
    }

    if (this.spec.multinomial && x.tokens !== undefined && x.tokens.size > 0) {
      const vocab = this.tokenCounts.size;
      const logDenom = this.scratchLog;
      for (let c = 0; c < k; c++) logDenom[c] = Math.log(this.tokenTotals[c]! + vocab);
      for (const [token, count] of x.tokens) {
        // Tokens never learned are outside the vocabulary and ignored, like a fixed vectorizer.
        if (!(count >= 0 && count < Infinity)) {
          throw new Error(`Token ${JSON.stringify(token)} count must be a finite non-negative number, got ${describe(count)}`);
        }
        const row = this.tokenCounts.get(token);
        if (row === undefined || count === 0) continue;
        for (let c = 0; c < k; c++) out[c]! += count * (Math.log(row[c]! + 1) - logDenom[c]!);
      }
    }
  }
}

/** Chan et al. parallel combination of (count, mean, M2), written back into slot i. */
function mergeMoments(
  mean: Float64Array,
  m2: Float64Array,
  i: number,
  na: number,
  meanB: number,
  m2B: number,
  nb: number,
  n: number,
): void {
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

function addCounts(into: Map<string, Float64Array>, from: Map<string, Float64Array>, k: number): void {
  for (const [key, row] of from) {
    const target = into.get(key);
    if (target === undefined) {
      into.set(key, row.slice());
    } else {
      for (let c = 0; c < k; c++) target[c]! += row[c]!;
    }
  }
}

function sameSpec(a: Readonly<NaiveBayesSpec>, b: Readonly<NaiveBayesSpec>): boolean {
  const eq = (x: readonly string[], y: readonly string[]) => x.length === y.length && x.every((v, i) => v === y[i]);
  return (
    eq(a.labels, b.labels) &&
    eq(a.gaussian, b.gaussian) &&
    eq(a.categorical, b.categorical) &&
    a.multinomial === b.multinomial
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

function readEntries(v: unknown, k: number, path: string, into: Map<string, Float64Array>): void {
  if (!Array.isArray(v)) throw new Error(`${PREFIX}${path} must be an array of [key, counts] entries`);
  for (let i = 0; i < v.length; i++) {
    const entry: unknown = v[i];
    if (!Array.isArray(entry) || entry.length !== 2 || typeof entry[0] !== 'string') {
      throw new Error(`${PREFIX}${path}[${i}] must be a [string, number[]] entry`);
    }
    const key = entry[0];
    if (into.has(key)) throw new Error(`${PREFIX}${path} has duplicate key ${JSON.stringify(key)}`);
    into.set(key, Float64Array.from(numberArray(entry[1], k, `${path}[${i}][1]`, isCount)));
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

function validateSpec(v: unknown, path: string): NaiveBayesSpec {
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
  return { labels, gaussian, categorical, multinomial: s.multinomial };
}
