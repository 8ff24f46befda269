import { z } from 'zod';
import { DEFAULT_CATEGORY_BUCKETS, DEFAULT_TOKEN_BUCKETS, MAX_FEATURE_BUCKETS } from './feature-hashing.js';
import { TERM_FREQUENCIES, TOKENIZERS, type TermFrequency, type TokenizerName } from './text.js';

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
  /**
   * How a gaussian feature's variance is estimated. `unbiased` (absent: as every artifact before
   * format 3): m2 / (n − 1) with tiny floors, as ml-naivebayes. `population`: scikit-learn's
   * GaussianNB, m2 / n plus `varSmoothing` × the largest variance of any feature over all rows.
   */
  gaussianVariance?: GaussianVariance;
  /** scikit-learn's var_smoothing (default 1e-9); only with `population`. */
  varSmoothing?: number;
  /**
   * How P(value | label) of a categorical feature is estimated. `laplace` (absent: as every
   * artifact before format 3): (c + 1) / (n_c + V) for the V values seen, 1 / (n_c + V + 1) for an
   * unseen one, which does not sum to 1. `categorical`: scikit-learn's CategoricalNB (alpha 1) over
   * the V values seen plus one outcome "any value not seen in training" with no count:
   * (c + 1) / (n_c + V + 1) and 1 / (n_c + V + 1), a distribution over V + 1 outcomes that sums to 1.
   */
  categories?: CategoryEstimator;
  /** `multinomial` (absent) or `complement` (scikit-learn's ComplementNB, alpha 1, no weight normalisation; text-only specs). */
  text?: TextEstimator;
  /** Weight token counts by smoothed inverse document frequency (scikit-learn's TfidfTransformer with norm=None). */
  tfidf?: boolean;
  /**
   * How texts became the token counts these statistics hold. Recorded so a version is always
   * scored the way it was trained, whatever the task's definition says today (absent: `words`,
   * raw counts, as every artifact before the mail tokenizer).
   */
  tokens?: TextEncoding;
}

/** A text feature's tokenizer and what a token's count in one text becomes (ml/text.ts). */
export interface TextEncoding {
  tokenizer: TokenizerName;
  /** Word bigrams (the `mail` tokenizer only). */
  bigrams: boolean;
  termFrequency: TermFrequency;
}

export const DEFAULT_TEXT_ENCODING: Readonly<TextEncoding> = { tokenizer: 'words', bigrams: true, termFrequency: 'raw' };

export function sameTextEncoding(a: Readonly<TextEncoding>, b: Readonly<TextEncoding>): boolean {
  return a.tokenizer === b.tokenizer && a.bigrams === b.bigrams && a.termFrequency === b.termFrequency;
}

export const GAUSSIAN_VARIANCES = ['unbiased', 'population'] as const;
export type GaussianVariance = (typeof GAUSSIAN_VARIANCES)[number];
export const CATEGORY_ESTIMATORS = ['laplace', 'categorical'] as const;
export type CategoryEstimator = (typeof CATEGORY_ESTIMATORS)[number];
export const TEXT_ESTIMATORS = ['multinomial', 'complement'] as const;
export type TextEstimator = (typeof TEXT_ESTIMATORS)[number];
export const DEFAULT_VAR_SMOOTHING = 1e-9;

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
      gaussianVariance: z.enum(GAUSSIAN_VARIANCES).default('unbiased'),
      varSmoothing: z.number().finite().min(0).default(DEFAULT_VAR_SMOOTHING),
      categories: z.enum(CATEGORY_ESTIMATORS).default('laplace'),
      text: z.enum(TEXT_ESTIMATORS).default('multinomial'),
      tfidf: z.boolean().default(false),
      tokens: z
        .object({
          tokenizer: z.enum(TOKENIZERS),
          bigrams: z.boolean(),
          termFrequency: z.enum(TERM_FREQUENCIES),
        })
        .default({ ...DEFAULT_TEXT_ENCODING }),
    },
    { error: 'must be an object' },
  )
  .superRefine((s, ctx) => {
    const clash = s.gaussian.find((name) => s.categorical.includes(name));
    if (clash !== undefined) ctx.addIssue({ code: 'custom', message: `feature ${JSON.stringify(clash)} is both gaussian and categorical` });
    if (s.categoryBuckets !== undefined && s.categoryBuckets.length !== s.categorical.length) {
      ctx.addIssue({ code: 'custom', path: ['categoryBuckets'], message: `must list one integer from 1 to ${MAX_FEATURE_BUCKETS} per categorical feature` });
    }
    // ComplementNB scores have no class prior, so they do not combine with the other blocks' likelihoods.
    if (s.text === 'complement' && (!s.multinomial || s.gaussian.length > 0 || s.categorical.length > 0)) {
      ctx.addIssue({ code: 'custom', path: ['text'], message: 'complement needs a text-only spec (multinomial, no gaussian or categorical features)' });
    }
  })
  .transform((s): ResolvedSpec => ({
    labels: [...s.labels],
    gaussian: [...s.gaussian],
    categorical: [...s.categorical],
    multinomial: s.multinomial,
    tokenBuckets: s.tokenBuckets,
    categoryBuckets: s.categoryBuckets ? [...s.categoryBuckets] : s.categorical.map(() => DEFAULT_CATEGORY_BUCKETS),
    gaussianVariance: s.gaussianVariance,
    varSmoothing: s.varSmoothing,
    categories: s.categories,
    text: s.text,
    tfidf: s.tfidf,
    tokens: { ...s.tokens },
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
    eq(a.categoryBuckets, b.categoryBuckets) &&
    a.gaussianVariance === b.gaussianVariance &&
    a.varSmoothing === b.varSmoothing &&
    a.categories === b.categories &&
    a.text === b.text &&
    a.tfidf === b.tfidf &&
    sameTextEncoding(a.tokens, b.tokens)
  );
}
