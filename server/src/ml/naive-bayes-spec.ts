import { z } from 'zod';
import { DEFAULT_CATEGORY_BUCKETS, DEFAULT_TOKEN_BUCKETS, MAX_FEATURE_BUCKETS } from './feature-hashing.js';

/** What a naive Bayes model is over: its labels and features, and the feature spaces of the hashed ones. */
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

const SPEC_PREFIX = 'Invalid naive Bayes spec: ';

const names = z.array(z.string(), { error: 'must be an array of strings' }).superRefine((list, ctx) => {
  const seen = new Set<string>();
  for (const s of list) {
    if (seen.has(s)) ctx.addIssue({ code: 'custom', message: `has duplicate entry ${JSON.stringify(s)}` });
    seen.add(s);
  }
});

const BUCKETS = `must be an integer from 1 to ${MAX_FEATURE_BUCKETS}`;
const buckets = z.number({ error: BUCKETS }).int({ error: BUCKETS }).min(1, { error: BUCKETS }).max(MAX_FEATURE_BUCKETS, { error: BUCKETS });

/** The spec as a zod schema: the same rules for `NaiveBayesModel.create` and for an artifact's `spec`. */
export const specSchema = z
  .object(
    {
      labels: names.refine((l) => l.length > 0, 'must not be empty'),
      gaussian: names,
      categorical: names,
      multinomial: z.boolean({ error: 'must be a boolean' }),
      tokenBuckets: buckets.default(DEFAULT_TOKEN_BUCKETS),
      categoryBuckets: z.array(buckets, { error: 'must list one bucket count per categorical feature' }).optional(),
    },
    { error: 'must be an object' },
  )
  .superRefine((s, ctx) => {
    const clash = s.gaussian.find((name) => s.categorical.includes(name));
    if (clash !== undefined) ctx.addIssue({ code: 'custom', message: `feature ${JSON.stringify(clash)} is both gaussian and categorical` });
    if (s.categoryBuckets !== undefined && s.categoryBuckets.length !== s.categorical.length) {
      ctx.addIssue({ code: 'custom', path: ['categoryBuckets'], message: `must list one integer from 1 to ${MAX_FEATURE_BUCKETS} per categorical feature` });
    }
  })
  .transform((s): ResolvedSpec => ({
    labels: [...s.labels],
    gaussian: [...s.gaussian],
    categorical: [...s.categorical],
    multinomial: s.multinomial,
    tokenBuckets: s.tokenBuckets,
    categoryBuckets: s.categoryBuckets ? [...s.categoryBuckets] : s.categorical.map(() => DEFAULT_CATEGORY_BUCKETS),
  }));

/** `spec.labels[1]`-style path of a zod issue, under `root`. */
export function issuePath(root: string, path: readonly PropertyKey[]): string {
  let out = root;
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : `${out ? '.' : ''}${String(p)}`;
  return out;
}

/** The first problem of a failed parse as one sentence: `<prefix><path> <reason>`. */
export function firstProblem(prefix: string, root: string, error: z.ZodError): string {
  const issue = error.issues[0]!;
  const where = issuePath(root, issue.path);
  return `${prefix}${where ? `${where} ` : ''}${issue.message}`;
}

/** Resolves and checks a spec; throws naming the first problem (under `path`, e.g. `spec`). */
export function resolveSpec(v: unknown, path = 'spec', prefix = SPEC_PREFIX): ResolvedSpec {
  const parsed = specSchema.safeParse(v);
  if (!parsed.success) throw new Error(firstProblem(prefix, path, parsed.error));
  return parsed.data;
}

export function sameSpec(a: Readonly<ResolvedSpec>, b: Readonly<ResolvedSpec>): boolean {
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
