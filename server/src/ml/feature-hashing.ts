/**
 * The hashing trick: clients choose tokens and category values, so a model never keys its counts
 * by them. Each value is counted in bucket `featureBucket(value, buckets)` of its feature; the
 * "vocabulary" is the set of buckets that have counts. Memory is fixed by the spec (buckets ×
 * labels × 8 bytes per hashed feature) whatever is learned, and counting stays a sum: online
 * learning in any order equals batch training on the same rows, merges are exact, and a replay
 * rebuilds the same model. Values sharing a bucket share their counts; with the default 2^20
 * token buckets the ~94,000 tokens of the spam bootstrap rarely do.
 */

/** Default feature spaces; a task definition may set its own. */
export const DEFAULT_TOKEN_BUCKETS = 1 << 20;
export const DEFAULT_CATEGORY_BUCKETS = 1 << 16;
/** Upper bound of any feature space (128 MiB of counts per label at most). */
export const MAX_FEATURE_BUCKETS = 1 << 24;

/**
 * FNV-1a (32-bit) over the UTF-16 code units, modulo `buckets`. Written here because it is five
 * lines and part of the artifact format: it must never change with a dependency's version.
 */
export function featureBucket(key: string, buckets: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  return (h >>> 0) % buckets;
}

/** Counts of one bucket (category values or tokens hashed there), one per spec label; buckets ascending. */
export type CountEntry = [bucket: number, countsPerLabel: number[]];

/**
 * Counts per label of each bucket of one hashed feature, dense: `buckets × labels` float64s, fixed
 * when the model is made. `used` counts the buckets that have any count (the V of Laplace smoothing).
 */
export class HashedCounts {
  private readonly counts: Float64Array; // [bucket * k + label]
  used = 0;
  // Buckets that ever had counts, in first-use order, so walking the vocabulary costs O(V), not
  // O(buckets); `listed` keeps a bucket from being listed twice (one byte per bucket).
  private listedBuckets: number[] = [];
  private readonly listed: Uint8Array;

  constructor(
    readonly buckets: number,
    private readonly k: number,
  ) {
    this.counts = new Float64Array(buckets * k);
    this.listed = new Uint8Array(buckets);
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

  /** Adds `n` (negative to take a count back) to one bucket's count of one label. */
  add(bucket: number, label: number, n: number): void {
    if (n === 0) return;
    const had = this.has(bucket);
    this.counts[bucket * this.k + label]! += n;
    if (!had) {
      this.used++;
      if (this.listed[bucket] === 0) {
        this.listed[bucket] = 1;
        this.listedBuckets.push(bucket);
      }
    } else if (n < 0 && !this.has(bucket)) this.used--;
  }

  addAll(other: HashedCounts): void {
    const k = this.k;
    other.forEachUsed((b) => {
      for (let c = 0; c < k; c++) this.add(b, c, other.counts[b * k + c]!);
    });
  }

  copyFrom(other: HashedCounts): void {
    this.counts.set(other.counts);
    this.used = other.used;
    this.listed.set(other.listed);
    this.listedBuckets = [...other.listedBuckets];
  }

  /** Calls `fn` for every bucket with counts, in no particular order. */
  forEachUsed(fn: (bucket: number) => void): void {
    for (const b of this.listedBuckets) if (this.has(b)) fn(b);
  }

  /** The buckets with counts, ascending. */
  usedBuckets(): number[] {
    const out: number[] = [];
    this.forEachUsed((b) => out.push(b));
    return out.sort((a, b) => a - b);
  }

  sums(): Float64Array {
    const out = new Float64Array(this.k);
    for (let i = 0; i < this.counts.length; i++) out[i % this.k]! += this.counts[i]!;
    return out;
  }

  entries(): CountEntry[] {
    return this.usedBuckets().map((b): CountEntry => [b, Array.from(this.counts.subarray(b * this.k, (b + 1) * this.k))]);
  }
}
