import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { DEFAULT_CATEGORY_BUCKETS, DEFAULT_TOKEN_BUCKETS, MAX_FEATURE_BUCKETS } from '../ml/feature-hashing.js';
import { TERM_FREQUENCIES, TOKENIZERS } from '../ml/text.js';
import { CATEGORY_ESTIMATORS, DEFAULT_VAR_SMOOTHING, GAUSSIAN_VARIANCES, TEXT_ESTIMATORS } from '../ml/naive-bayes-spec.js';

/**
 * A task is declared in one JSON file: its inputs, labels, classifier, data and retrain policy.
 * Adding a task is a new file plus a dataset; the GraphQL input type, validation, encoding and
 * metrics all follow from the declaration.
 */
const name = z.string().regex(/^[a-z][a-zA-Z0-9]{0,30}$/, 'must be a lower-camel-case GraphQL name');

const numericFeature = z.object({
  name,
  type: z.enum(['float', 'int']),
  description: z.string().optional(),
  min: z.number(),
  max: z.number(),
  /** When true the value must be strictly greater than `min` (e.g. an amount of 0 is not a transaction). */
  exclusiveMin: z.boolean().default(false),
});

/**
 * The feature space of a category or text feature: values (tokens) are hashed into this many
 * buckets, so a model's memory is bounded by its definition (buckets × labels × 8 bytes), never by
 * how many distinct values clients send. See ml/naive-bayes.ts.
 */
const featureBuckets = (fallback: number) => z.number().int().min(1).max(MAX_FEATURE_BUCKETS).default(fallback);

const categoryFeature = z.object({
  name,
  type: z.literal('category'),
  description: z.string().optional(),
  maxLength: z.number().int().positive().default(64),
  featureBuckets: featureBuckets(DEFAULT_CATEGORY_BUCKETS),
});

const textFeature = z.object({
  name,
  type: z.literal('text'),
  description: z.string().optional(),
  /** Characters per text; tokenisation also stops at MAX_TOKENS_PER_DOCUMENT tokens (ml/text.ts). */
  maxLength: z.number().int().positive().max(1_000_000).default(100_000),
  featureBuckets: featureBuckets(DEFAULT_TOKEN_BUCKETS),
  /**
   * `words` (lowercased letter/digit runs) or `mail` (header fields, URLs, addresses, amounts and
   * numbers normalised, and word bigrams unless `bigrams` is false): ml/text.ts. Both count into
   * `featureBuckets`, so a richer tokenizer costs no memory beyond the bound. A version is scored
   * with the tokenizer of the definition it runs under: retrain after changing it.
   */
  tokenizer: z.enum(TOKENIZERS).default('words'),
  bigrams: z.boolean().default(true),
  /** What a token's count in one text becomes: `raw`, `binary` (present or not) or `log` (1 + ln count). */
  termFrequency: z.enum(TERM_FREQUENCIES).default('raw'),
});

/**
 * The estimators of a naive Bayes task (ml/naive-bayes-spec.ts says what each computes). The
 * defaults are scikit-learn's: GaussianNB's population variance with var_smoothing, CategoricalNB
 * (a proper distribution, the unseen value included) and MultinomialNB. They are the ones a
 * reference implementation reproduces to 1e-9 (tested), their probabilities sum to 1 (log loss
 * and calibration mean something), and var_smoothing is a floor scaled to the data rather than a
 * constant. Versions trained before (artifact format 2) keep the estimators they were trained with.
 */
const naiveBayesOptions = z
  .object({
    gaussianVariance: z.enum(GAUSSIAN_VARIANCES).default('population'),
    varSmoothing: z.number().min(0).max(1).default(DEFAULT_VAR_SMOOTHING),
    categories: z.enum(CATEGORY_ESTIMATORS).default('categorical'),
    text: z.enum(TEXT_ESTIMATORS).default('multinomial'),
    tfidf: z.boolean().default(false),
  })
  .prefault({});
export type NaiveBayesOptions = z.infer<typeof naiveBayesOptions>;

export const featureSchema = z.discriminatedUnion('type', [numericFeature, categoryFeature, textFeature]);
export type FeatureDefinition = z.infer<typeof featureSchema>;

const datasetSchema = z.discriminatedUnion('source', [
  z.object({
    source: z.literal('synthetic-fraud'),
    rows: z.number().int().positive(),
    seed: z.number().int(),
    fraudRate: z.number().min(0).max(1).optional(),
  }),
  z.object({ source: z.literal('spam-assassin'), groups: z.array(z.string()).min(1) }),
  z.object({
    source: z.literal('file'),
    /** Relative to the task file. CSV or JSONL with a text and a label column. */
    path: z.string(),
    textField: z.string().optional(),
    labelField: z.string().optional(),
  }),
]);

export const taskDefinitionSchema = z
  .object({
    name,
    description: z.string().default(''),
    /**
     * Set (to the reason) for a task that is an example rather than a model worth relying on, e.g.
     * one whose data is too small to reach its own threshold: shown in the API and the banner.
     */
    experimental: z.string().min(1).optional(),
    /** Name of the GraphQL input object, e.g. `FraudInput`. */
    inputType: z.string().regex(/^[A-Z][A-Za-z0-9]*Input$/, 'must be PascalCase ending in Input'),
    features: z.array(featureSchema).min(1),
    labels: z.array(z.string().min(1).max(128)).min(2),
    positiveLabel: z.string(),
    classifier: z.literal('naive-bayes'),
    naiveBayes: naiveBayesOptions,
    /** Learn from each labelled feedback at once, between batch retrains. */
    onlineLearning: z.boolean(),
    dataset: datasetSchema.and(z.object({ holdoutFraction: z.number().gt(0).lt(1).default(0.2) })),
    /** Share of predictions answered with feedbackRequested (the audit sample); unset = AUDIT_SAMPLE_RATE. */
    auditSampleRate: z.number().min(0).max(1).optional(),
    retrain: z.object({
      /** Retrain when the drift report of the live version says the inputs drifted (same cooldown as the others). */
      onDrift: z.boolean().default(false),
      afterFeedback: z.number().int().positive(),
      minAccuracy: z.number().min(0).max(1),
      window: z.number().int().positive(),
      minSamples: z.number().int().positive(),
      cooldownSeconds: z.number().int().min(0),
      promotionMargin: z.number().min(0).max(1),
      /** Keep only the newest rows when retraining (forget what drifted away); unset = keep all. */
      maxTrainingRows: z.number().int().positive().optional(),
      /** Tries of one retrain before it is FAILED for good (each retried with backoff). */
      maxAttempts: z.number().int().min(1).max(10).default(4),
    }),
    /** The trust gate's rules for this task (server/src/trust/trust-gate.ts); every field has a default. */
    trust: z
      .object({
        /** A prediction this sure (its probability) is "confident": a source without trust may not contradict it. */
        confidentProbability: z.number().gt(0.5).max(1).default(0.95),
        /** Labels against the model one untrusted source may give within `burstWindowSeconds`; past it, the rest is quarantined. */
        burstLimit: z.number().int().min(0).default(10),
        burstWindowSeconds: z.number().int().positive().default(300),
      })
      .prefault({}),
  })
  .superRefine((t, ctx) => {
    if (!t.labels.includes(t.positiveLabel)) {
      ctx.addIssue({ code: 'custom', path: ['positiveLabel'], message: `must be one of ${t.labels.join(', ')}` });
    }
    if (new Set(t.labels).size !== t.labels.length) ctx.addIssue({ code: 'custom', path: ['labels'], message: 'must be distinct' });
    const names = t.features.map((f) => f.name);
    if (new Set(names).size !== names.length) ctx.addIssue({ code: 'custom', path: ['features'], message: 'names must be distinct' });
    if (t.naiveBayes.text === 'complement' && (t.features.length !== 1 || t.features[0]!.type !== 'text')) {
      ctx.addIssue({ code: 'custom', path: ['naiveBayes', 'text'], message: 'complement needs a task whose only feature is a text' });
    }
    if (t.features.filter((f) => f.type === 'text').length > 1) {
      ctx.addIssue({ code: 'custom', path: ['features'], message: 'at most one text feature' });
    }
    t.features.forEach((f, i) => {
      if ((f.type === 'float' || f.type === 'int') && !(f.min <= f.max)) {
        ctx.addIssue({ code: 'custom', path: ['features', i, 'max'], message: 'must be >= min' });
      }
    });
  });

export type TaskDefinition = z.infer<typeof taskDefinitionSchema> & { file: string };

export async function readTaskDefinition(file: string): Promise<TaskDefinition> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    throw new Error(`task file ${file}: ${(error as Error).message}`);
  }
  const parsed = taskDefinitionSchema.safeParse(json);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new Error(`task file ${file} is invalid:\n  - ${problems.join('\n  - ')}`);
  }
  return { ...parsed.data, file };
}
