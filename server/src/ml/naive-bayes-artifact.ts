/**
 * The artifact format of a naive Bayes model (what the registry stores as `model/model.json`)
 * and its validation, through zod: a model is only ever made from an artifact that describes
 * consistent statistics, and a bad one is refused naming the first field that is wrong.
 */
import { z } from 'zod';
import type { CountEntry, HashedCounts } from './feature-hashing.js';
import { NaiveBayesStatistics } from './naive-bayes-statistics.js';
import { issuePath, resolveSpec, type ResolvedSpec } from './naive-bayes-spec.js';

export const ARTIFACT_FORMAT = 'relearn.naive-bayes';
/**
 * 3: the spec names its estimators (gaussian variance, categories, text, TF-IDF) and TF-IDF
 * document frequencies are stored. 2 (still read, as `unbiased` / `laplace` / `multinomial`, the
 * estimators it was trained for): counts per hashed bucket. 1 (still read, the same estimators):
 * counts per token and category value, hashed on load.
 */
export const ARTIFACT_VERSION = 3;
const READABLE_VERSIONS: readonly unknown[] = [1, 2, ARTIFACT_VERSION];
/** Spec fields an artifact before format 3 cannot have: it was scored by the estimators that are their defaults. */
const ESTIMATOR_FIELDS = ['gaussianVariance', 'varSmoothing', 'categories', 'text', 'tfidf', 'tokens'];

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
  /** `documentFrequency` (rows per token bucket) only when spec.tfidf. */
  multinomial: { totals: number[]; tokens: CountEntry[]; documentFrequency?: [bucket: number, rows: number][] } | null;
}

const PREFIX = 'Invalid naive Bayes artifact: ';

function describe(v: unknown): string {
  if (v === undefined) return 'undefined';
  if (typeof v === 'number' || typeof v === 'boolean' || v === null) return String(v);
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
  return Array.isArray(v) ? 'an array' : typeof v;
}

const isCount = (n: number) => Number.isFinite(n) && n >= 0;
const invalidNumber = (iss: { input?: unknown }) => `is not a valid number: ${describe(iss.input)}`;
const count = z.number({ error: invalidNumber }).refine(isCount, { error: invalidNumber });
const finite = z.number({ error: invalidNumber }).refine(Number.isFinite, { error: invalidNumber });
const fixed = <T extends z.ZodType>(item: T, n: number) => {
  const error = `must be an array of length ${n}`;
  return z.array(item, { error }).length(n, { error });
};

/** A message printed as it is, without the field path in front (it names what it is about). */
const BARE = { bare: true };

const header = z
  .object(
    {
      format: z.unknown().refine((v) => v === ARTIFACT_FORMAT, { error: (iss) => `must be ${JSON.stringify(ARTIFACT_FORMAT)}, got ${describe(iss.input)}` }),
      formatVersion: z.unknown().refine((v) => READABLE_VERSIONS.includes(v), {
        error: (iss) => `unsupported formatVersion ${describe(iss.input)}; this build reads ${READABLE_VERSIONS.join(' and ')}`,
        params: BARE,
      }),
      spec: z.unknown(),
    },
    { error: 'must be an object' },
  )
  .loose();

/** The body of an artifact whose spec is `spec` (lengths and feature spaces follow from it). */
function bodySchema(spec: ResolvedSpec, keyed: boolean) {
  const k = spec.labels.length;
  const g = spec.gaussian.length;
  const counts = fixed(count, k);
  // Count lists can hold hundreds of thousands of entries (a text model's vocabulary): one
  // refinement walks them in a loop rather than a zod tuple per entry (5× faster to load).
  const entries = (buckets: number) => {
    const error = keyed ? 'must be a [string, number[]] entry' : `must be a [bucket, number[]] entry with a bucket below ${buckets}`;
    const validKey = keyed ? (v: unknown) => typeof v === 'string' : (v: unknown) => Number.isInteger(v) && (v as number) >= 0 && (v as number) < buckets;
    return z.array(z.unknown(), { error: 'must be an array of [bucket, counts] entries' }).transform((list, ctx) => {
      const seen = new Set<unknown>();
      for (let i = 0; i < list.length; i++) {
        const entry = list[i];
        if (!Array.isArray(entry) || entry.length !== 2 || !validKey(entry[0])) {
          ctx.addIssue({ code: 'custom', path: [i], message: error });
          return z.NEVER;
        }
        const values: unknown = entry[1];
        if (!Array.isArray(values) || values.length !== k) {
          ctx.addIssue({ code: 'custom', path: [i, 1], message: `must be an array of length ${k}` });
          return z.NEVER;
        }
        for (let c = 0; c < k; c++) {
          if (typeof values[c] !== 'number' || !isCount(values[c] as number)) {
            ctx.addIssue({ code: 'custom', path: [i, 1, c], message: invalidNumber({ input: values[c] }) });
            return z.NEVER;
          }
        }
        if (seen.has(entry[0])) {
          ctx.addIssue({ code: 'custom', message: `has duplicate key ${JSON.stringify(entry[0])}` });
          return z.NEVER;
        }
        seen.add(entry[0]);
      }
      return list as [string | number, number[]][];
    });
  };
  const whole = z.number().refine(Number.isInteger, { error: 'must be an integer' });
  return z.object(
    {
      classCounts: fixed(count.pipe(whole), k),
      gaussian: z.object(
        { mean: fixed(fixed(finite, g), k), m2: fixed(fixed(count, g), k), pooledMean: fixed(finite, g), pooledM2: fixed(count, g) },
        { error: 'must be an object' },
      ),
      categorical: z.tuple(spec.categoryBuckets.map((b) => entries(b)) as [ReturnType<typeof entries>], {
        error: `must be an array of length ${spec.categorical.length}`,
      }),
      multinomial: spec.multinomial
        ? z.object(
            {
              totals: counts,
              tokens: entries(spec.tokenBuckets),
              documentFrequency: spec.tfidf
                ? z.array(
                    z.tuple([
                      z
                        .number()
                        .int()
                        .min(0)
                        .max(spec.tokenBuckets - 1),
                      count.pipe(whole),
                    ]),
                    {
                      error: 'must be an array of [bucket, rows] entries',
                    },
                  )
                : z.undefined({ error: 'is only stored when spec.tfidf' }),
            },
            { error: 'must be an object' },
          )
        : z.null({ error: 'must be null when spec.multinomial is false' }).optional(),
    },
    { error: 'must be an object' },
  );
}

function problem(error: z.ZodError): string {
  const issue = error.issues[0]!;
  if ((issue as { params?: { bare?: boolean } }).params?.bare) return `${PREFIX}${issue.message}`;
  const where = issue.path.length ? issuePath('', issue.path) : 'artifact';
  return `${PREFIX}${where} ${issue.message}`;
}

/** The statistics and spec an artifact describes; throws naming the first problem. */
export function readArtifact(json: unknown): { spec: ResolvedSpec; statistics: NaiveBayesStatistics } {
  const head = header.safeParse(json);
  if (!head.success) throw new Error(problem(head.error));
  // Version 1 keyed counts by token and value: hashed into the default feature spaces here.
  const keyed = head.data.formatVersion === 1;
  const rawSpec = head.data.spec;
  const isObject = rawSpec !== null && typeof rawSpec === 'object';
  if (keyed && isObject && ('tokenBuckets' in rawSpec || 'categoryBuckets' in rawSpec)) {
    throw new Error(`${PREFIX}formatVersion 1 has no feature buckets`);
  }
  const early = ESTIMATOR_FIELDS.find((f) => head.data.formatVersion !== ARTIFACT_VERSION && isObject && f in rawSpec);
  if (early !== undefined) throw new Error(`${PREFIX}formatVersion ${String(head.data.formatVersion)} has no spec.${early}`);
  const spec = resolveSpec(rawSpec, 'spec');
  const body = bodySchema(spec, keyed).safeParse(json);
  if (!body.success) throw new Error(problem(body.error));
  const a = body.data;

  const stats = new NaiveBayesStatistics(spec);
  const { k, g } = stats;
  stats.counts.set(a.classCounts);
  stats.total = a.classCounts.reduce((s, n) => s + n, 0);
  for (let c = 0; c < k; c++) {
    stats.mean.set(a.gaussian.mean[c]!, c * g);
    stats.m2.set(a.gaussian.m2[c]!, c * g);
  }
  stats.pooledMean.set(a.gaussian.pooledMean);
  stats.pooledM2.set(a.gaussian.pooledM2);
  a.categorical.forEach((list, f) => {
    const table = stats.categories[f]!;
    fill(table, list);
    // Every row adds exactly one value per feature, so per-label sums must equal the class counts.
    const sums = table.sums();
    for (let c = 0; c < k; c++) {
      if (sums[c] !== a.classCounts[c]) {
        throw new Error(`${PREFIX}categorical[${f}] counts for label ${JSON.stringify(spec.labels[c])} sum to ${sums[c]}, expected ${a.classCounts[c]}`);
      }
    }
  });
  if (spec.multinomial && a.multinomial) {
    stats.tokenTotals.set(a.multinomial.totals);
    fill(stats.tokenCounts, a.multinomial.tokens);
    for (const [bucket, rows] of a.multinomial.documentFrequency ?? []) {
      if (rows > stats.total || (rows > 0 && !stats.tokenCounts.has(bucket))) {
        throw new Error(`${PREFIX}multinomial.documentFrequency of bucket ${bucket} is ${rows}, inconsistent with the counts`);
      }
      stats.documentFrequency[bucket] = rows;
    }
  }
  return { spec, statistics: stats };
}

function fill(into: HashedCounts, entries: readonly (readonly [string | number, readonly number[]])[]): void {
  for (const [key, counts] of entries) {
    const bucket = typeof key === 'string' ? into.bucketOf(key) : key;
    counts.forEach((n, c) => into.add(bucket, c, n));
  }
}

/** The artifact of a model with this spec and these statistics. */
export function writeArtifact(spec: Readonly<ResolvedSpec>, stats: NaiveBayesStatistics): NaiveBayesArtifact {
  const { g } = stats;
  const rows = (a: Float64Array) => spec.labels.map((_, c) => Array.from(a.subarray(c * g, (c + 1) * g)));
  return {
    format: ARTIFACT_FORMAT,
    formatVersion: ARTIFACT_VERSION,
    spec: {
      labels: [...spec.labels],
      gaussian: [...spec.gaussian],
      categorical: [...spec.categorical],
      multinomial: spec.multinomial,
      tokenBuckets: spec.tokenBuckets,
      categoryBuckets: [...spec.categoryBuckets],
      gaussianVariance: spec.gaussianVariance,
      varSmoothing: spec.varSmoothing,
      categories: spec.categories,
      text: spec.text,
      tfidf: spec.tfidf,
      tokens: { ...spec.tokens },
    },
    classCounts: Array.from(stats.counts),
    gaussian: {
      mean: rows(stats.mean),
      m2: rows(stats.m2),
      pooledMean: Array.from(stats.pooledMean),
      pooledM2: Array.from(stats.pooledM2),
    },
    categorical: stats.categories.map((t) => t.entries()),
    multinomial: spec.multinomial
      ? {
          totals: Array.from(stats.tokenTotals),
          tokens: stats.tokenCounts.entries(),
          ...(spec.tfidf ? { documentFrequency: documentFrequencies(stats) } : {}),
        }
      : null,
  };
}

function documentFrequencies(stats: NaiveBayesStatistics): [number, number][] {
  const out: [number, number][] = [];
  stats.documentFrequency.forEach((rows, bucket) => rows > 0 && out.push([bucket, rows]));
  return out;
}
