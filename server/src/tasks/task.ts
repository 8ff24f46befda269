import { z } from 'zod';
import { DEFAULT_TOKEN_BUCKETS, type EncodedExample, type NaiveBayesSpec } from '../ml/naive-bayes.js';
import { DEFAULT_TEXT_ENCODING, sameTextEncoding, type ResolvedSpec, type TextEncoding } from '../ml/naive-bayes-spec.js';
import { tokenizerFor } from '../ml/text.js';
import { AppError, type InputProblem } from '../shared/app-error.js';
import { unstorableTextReason } from '../shared/storable-text.js';
import type { FeatureDefinition, TaskDefinition } from './task-definition.js';

export type TaskInput = Record<string, number | string>;

/** Inputs are stored (jsonb) before anyone learns from them: refuse what PostgreSQL cannot hold. */
function storable(value: string, ctx: z.RefinementCtx): void {
  const reason = unstorableTextReason(value);
  if (reason !== null) ctx.addIssue({ code: 'custom', message: reason });
}

function featureValidator(f: FeatureDefinition): z.ZodType<number | string> {
  switch (f.type) {
    case 'float':
    case 'int': {
      let n = z.number({ error: 'must be a number' }).refine(Number.isFinite, 'must be a finite number');
      if (f.type === 'int') n = n.refine(Number.isInteger, 'must be a whole number');
      return n
        .refine((v) => (f.exclusiveMin ? v > f.min : v >= f.min), f.exclusiveMin ? `must be greater than ${f.min}` : `must be at least ${f.min}`)
        .refine((v) => v <= f.max, `must be at most ${f.max}`);
    }
    case 'category':
      return z
        .string({ error: 'must be a string' })
        .superRefine(storable)
        .trim()
        .min(1, 'must not be empty')
        .max(f.maxLength, `must be at most ${f.maxLength} characters`);
    case 'text':
      return z
        .string({ error: 'must be a string' })
        .superRefine(storable)
        .refine((s) => s.trim().length > 0, 'must not be empty')
        .refine((s) => s.length <= f.maxLength, `must be at most ${f.maxLength} characters`);
  }
}

/** NUL, or any surrogate half (paired ones included): where `storable` must look closer, the plain check defers to zod. */
const MAYBE_UNSTORABLE = /[\u0000\ud800-\udfff]/;

/** featureValidator's rules for values it returns unchanged, in plain JavaScript (see Task.isPlainValid). */
function plainCheck(f: FeatureDefinition): (v: unknown) => boolean {
  switch (f.type) {
    case 'float':
    case 'int': {
      const { min, max, exclusiveMin } = f;
      const integer = f.type === 'int';
      return (v) => typeof v === 'number' && Number.isFinite(v) && (!integer || Number.isInteger(v)) && (exclusiveMin ? v > min : v >= min) && v <= max;
    }
    case 'category': {
      const maxLength = f.maxLength;
      return (v) => typeof v === 'string' && v.length > 0 && v.length <= maxLength && v.trim() === v && !MAYBE_UNSTORABLE.test(v);
    }
    case 'text': {
      const maxLength = f.maxLength;
      return (v) => typeof v === 'string' && v.length <= maxLength && v.trim().length > 0 && !MAYBE_UNSTORABLE.test(v);
    }
  }
}

/** A task at run time: validates and encodes inputs for its classifier. */
export class Task {
  readonly name: string;
  readonly labels: readonly string[];
  readonly positiveLabel: string;
  readonly modelSpec: NaiveBayesSpec;
  private readonly inputSchema: z.ZodType<TaskInput>;
  private readonly gaussian: string[];
  private readonly categorical: string[];
  private readonly textFeature: string | undefined;
  private readonly tokenize: (text: string) => Map<string, number>;
  private readonly tokens: Readonly<TextEncoding>;
  private readonly plainChecks: readonly ((v: unknown) => boolean)[];
  private readonly featureNames: readonly string[];

  /**
   * `tokens`: how this instance turns text into token counts; by default the definition's. A live
   * version is scored with the encoding its artifact records (`forModel`).
   */
  constructor(
    readonly definition: TaskDefinition,
    tokens?: Readonly<TextEncoding>,
  ) {
    this.name = definition.name;
    this.labels = definition.labels;
    this.positiveLabel = definition.positiveLabel;
    this.gaussian = definition.features.filter((f) => f.type === 'float' || f.type === 'int').map((f) => f.name);
    this.categorical = definition.features.filter((f) => f.type === 'category').map((f) => f.name);
    const text = definition.features.find((f) => f.type === 'text');
    this.textFeature = text?.name;
    this.tokens = tokens ?? (text ? { tokenizer: text.tokenizer, bigrams: text.bigrams, termFrequency: text.termFrequency } : DEFAULT_TEXT_ENCODING);
    this.tokenize = tokenizerFor(this.tokens.tokenizer, { bigrams: this.tokens.bigrams, termFrequency: this.tokens.termFrequency });
    this.modelSpec = {
      labels: [...definition.labels],
      gaussian: this.gaussian,
      categorical: this.categorical,
      multinomial: text !== undefined,
      tokenBuckets: text?.featureBuckets ?? DEFAULT_TOKEN_BUCKETS,
      categoryBuckets: definition.features.flatMap((f) => (f.type === 'category' ? [f.featureBuckets] : [])),
      ...definition.naiveBayes,
      tokens: { ...this.tokens },
    };
    this.inputSchema = z.strictObject(Object.fromEntries(definition.features.map((f) => [f.name, featureValidator(f)]))) as unknown as z.ZodType<TaskInput>;
    this.featureNames = definition.features.map((f) => f.name);
    this.plainChecks = definition.features.map(plainCheck);
  }

  /**
   * True only when `validate(input)` would succeed and return an object equal to `input` (no
   * trimming to do): a check in plain JavaScript, several times cheaper than the zod schema, for
   * rows read in bulk (a retrain streams millions). False says nothing: call `validate`, which
   * decides (and names the problem) exactly as before.
   */
  isPlainValid(input: unknown): input is TaskInput {
    if (typeof input !== 'object' || input === null || Array.isArray(input)) return false;
    const names = this.featureNames;
    let keys = 0;
    // Exactly the features (a strict object): as many keys as features, and every feature passes its check.
    for (const _ in input) keys++;
    if (keys !== names.length) return false;
    const record = input as Record<string, unknown>;
    for (let i = 0; i < names.length; i++) if (!this.plainChecks[i]!(record[names[i]!])) return false;
    return true;
  }

  /** Returns the normalised input, or throws BAD_USER_INPUT naming every bad field. */
  validate(input: unknown, fieldPrefix = this.name): TaskInput {
    const parsed = this.inputSchema.safeParse(input);
    if (parsed.success) return parsed.data;
    throw AppError.badInput(
      parsed.error.issues.map((i): InputProblem => ({
        field: [fieldPrefix, ...i.path.map(String)].filter(Boolean).join('.'),
        reason: i.code === 'unrecognized_keys' ? `unknown field(s) ${i.keys.join(', ')}` : i.message,
      })),
    );
  }

  /**
   * This task as `spec`'s model must be fed: with the text encoding that model was trained with
   * (a version trained before the task's tokenizer changed keeps its own until it is retrained).
   */
  forModel(spec: Readonly<ResolvedSpec>): Task {
    return sameTextEncoding(spec.tokens, this.tokens) ? this : new Task(this.definition, spec.tokens);
  }

  isLabel(label: string): boolean {
    return this.labels.includes(label);
  }

  encode(input: TaskInput): EncodedExample {
    return {
      gaussian: this.gaussian.map((f) => input[f] as number),
      categorical: this.categorical.map((f) => input[f] as string),
      ...(this.textFeature ? { tokens: this.tokenize(input[this.textFeature] as string) } : {}),
    };
  }
}
