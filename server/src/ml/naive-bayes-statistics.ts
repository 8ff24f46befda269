import { HashedCounts } from './feature-hashing.js';
import type { ResolvedSpec } from './naive-bayes-spec.js';

/** One row as the statistics see it: already checked against the spec by the model. */
export interface CountedExample {
  gaussian: readonly number[];
  categorical: readonly string[];
  tokens?: ReadonlyMap<string, number> | undefined;
}

/**
 * The sufficient statistics of a naive Bayes model: everything learning changes and an artifact
 * stores, nothing a prediction derives from them. Every field is a sum or a Welford moment over
 * the rows learned, so learning row by row equals learning them in one batch and two sets of
 * statistics merge exactly. A method that takes a row back (retractions) belongs here, beside
 * `add`, and must undo exactly what `add` did.
 */
export class NaiveBayesStatistics {
  readonly k: number;
  readonly g: number;
  /** Rows learned per label. */
  readonly counts: Float64Array;
  total = 0;
  /** [label * g + feature] running mean and sum of squared deviations (Welford M2). */
  readonly mean: Float64Array;
  readonly m2: Float64Array;
  /** The same over all rows regardless of label (variance floors, var_smoothing). */
  readonly pooledMean: Float64Array;
  readonly pooledM2: Float64Array;
  /** Per categorical feature: counts per hashed value and label. */
  readonly categories: HashedCounts[];
  /** Token counts per hashed token and label; no memory when the spec has no text. */
  readonly tokenCounts: HashedCounts;
  /** Sum of token counts per label. */
  readonly tokenTotals: Float64Array;
  /** Per token bucket: how many rows contain it (TF-IDF's document frequency); empty unless the spec weighs by TF-IDF. */
  readonly documentFrequency: Float64Array;
  /** Bumped by every change, so what a model derives from the statistics can be cached until they change. */
  version = 0;

  constructor(spec: Readonly<ResolvedSpec>) {
    this.k = spec.labels.length;
    this.g = spec.gaussian.length;
    this.counts = new Float64Array(this.k);
    this.mean = new Float64Array(this.k * this.g);
    this.m2 = new Float64Array(this.k * this.g);
    this.pooledMean = new Float64Array(this.g);
    this.pooledM2 = new Float64Array(this.g);
    this.categories = spec.categoryBuckets.map((buckets) => new HashedCounts(buckets, this.k));
    this.tokenCounts = new HashedCounts(spec.multinomial ? spec.tokenBuckets : 0, this.k);
    this.tokenTotals = new Float64Array(this.k);
    this.documentFrequency = new Float64Array(spec.multinomial && spec.tfidf ? spec.tokenBuckets : 0);
  }

  /** Counts one row of label index `c`. */
  add(x: CountedExample, c: number): void {
    this.version++;
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
    if (this.tokenCounts.buckets > 0 && x.tokens !== undefined) {
      const table = this.tokenCounts;
      for (const [token, count] of x.tokens) {
        if (count === 0) continue; // a zero count must not grow the vocabulary
        table.add(table.bucketOf(token), c, count);
        this.tokenTotals[c]! += count;
      }
      if (this.documentFrequency.length > 0) {
        // Once per bucket per row: two tokens hashed to one bucket are one column, as for a vectorizer.
        const buckets = new Set<number>();
        for (const [token, count] of x.tokens) if (count > 0) buckets.add(table.bucketOf(token));
        for (const b of buckets) this.documentFrequency[b]! += 1;
      }
    }
  }

  /**
   * Takes back one row of label index `c` that `add` counted (a retraction): Welford run
   * backwards for the moments, every sum decremented. Counts come back exactly; means and M2
   * agree with never having counted the row to rounding (M2 floored at 0 against it).
   */
  remove(x: CountedExample, c: number): void {
    if (!(this.counts[c]! >= 1)) throw new Error('cannot remove a row from a label without rows');
    this.version++;
    const g = this.g;
    const n = --this.counts[c]!;
    const N = --this.total;
    const base = c * g;
    const gx = x.gaussian;
    for (let f = 0; f < g; f++) {
      const v = gx[f]!;
      [this.mean[base + f], this.m2[base + f]] = withoutValue(this.mean[base + f]!, this.m2[base + f]!, n, v);
      [this.pooledMean[f], this.pooledM2[f]] = withoutValue(this.pooledMean[f]!, this.pooledM2[f]!, N, v);
    }
    const cx = x.categorical;
    for (let f = 0; f < this.categories.length; f++) {
      const table = this.categories[f]!;
      table.add(table.bucketOf(cx[f]!), c, -1);
    }
    if (this.tokenCounts.buckets > 0 && x.tokens !== undefined) {
      const table = this.tokenCounts;
      for (const [token, count] of x.tokens) {
        if (count === 0) continue;
        table.add(table.bucketOf(token), c, -count);
        this.tokenTotals[c]! -= count;
      }
      if (this.documentFrequency.length > 0) {
        const buckets = new Set<number>();
        for (const [token, count] of x.tokens) if (count > 0) buckets.add(table.bucketOf(token));
        for (const b of buckets) this.documentFrequency[b]! -= 1;
      }
    }
  }

  /** Adds `other`'s statistics (same spec), as if these had also counted its rows. */
  merge(other: NaiveBayesStatistics): void {
    this.version++;
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
    for (let b = 0; b < this.documentFrequency.length; b++) this.documentFrequency[b]! += other.documentFrequency[b]!;
  }

  copyFrom(other: NaiveBayesStatistics): void {
    this.counts.set(other.counts);
    this.total = other.total;
    this.mean.set(other.mean);
    this.m2.set(other.m2);
    this.pooledMean.set(other.pooledMean);
    this.pooledM2.set(other.pooledM2);
    other.categories.forEach((table, f) => this.categories[f]!.copyFrom(table));
    this.tokenCounts.copyFrom(other.tokenCounts);
    this.tokenTotals.set(other.tokenTotals);
    this.documentFrequency.set(other.documentFrequency);
    this.version++;
  }
}

/** (mean, M2) of n + 1 values with `v` taken out, leaving n (Welford's update solved backwards). */
function withoutValue(mean: number, m2: number, n: number, v: number): [number, number] {
  if (n === 0) return [0, 0];
  const previous = mean - (v - mean) / n;
  return [previous, Math.max(0, m2 - (v - mean) * (v - previous))];
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
