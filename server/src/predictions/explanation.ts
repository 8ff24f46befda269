import type { ModelService } from '../models/model-service.js';
import type { ModelVersionRepository } from '../models/model-version.repository.js';
import { NaiveBayesModel, type EncodedExample } from '../ml/naive-bayes.js';
import { AppError } from '../shared/app-error.js';
import type { TaskRegistry } from '../tasks/task-registry.js';
import type { Task, TaskInput } from '../tasks/task.js';
import type { PredictionRecord } from './prediction.types.js';

/** Which statistics explained a prediction. */
export type ExplanationBasis = 'LIVE_MODEL' | 'VERSION_ARTIFACT' | 'AS_SERVED';

export interface TokenContribution {
  token: string;
  /** Its count in the text (or term frequency weight, as the task encodes text). */
  count: number;
  contribution: number;
}

/** One input feature's share of log P(label | x) − log P(runnerUp | x). */
export interface FeatureContribution {
  feature: string;
  kind: 'number' | 'category' | 'text';
  /** The input's value (null for text: the prediction's input holds it). */
  value: number | string | null;
  contribution: number;
  /** Text: the tokens with the largest |contribution|, largest first (at most the asked number). */
  tokens: TokenContribution[];
  /** Text: the in-vocabulary tokens left out of `tokens`, and their summed contribution. */
  otherTokens: { count: number; contribution: number };
  /** Text: distinct tokens the model has never seen (they contribute nothing). */
  unknownTokens: number;
}

export interface PredictionExplanation {
  label: string;
  runnerUp: string;
  /** The explaining model's probabilities of the two (they can differ from those served if it has learned since). */
  probability: number;
  runnerUpProbability: number;
  priorLogRatio: number;
  /** priorLogRatio + Σ contributions = log(probability / runnerUpProbability), computed in log space so it stays finite near 0 and 1. */
  logProbabilityRatio: number;
  /** Largest |contribution| first. */
  contributions: FeatureContribution[];
  basis: ExplanationBasis;
  version: number;
}

/**
 * The naive-Bayes log-likelihood ratio of two labels, feature by feature and token by token.
 * Pure: `model` and `task` must be the pair the prediction was scored with.
 */
export function explain(
  model: NaiveBayesModel,
  task: Task,
  input: TaskInput,
  label: string,
  maxTokens: number,
): Omit<PredictionExplanation, 'basis' | 'version'> | null {
  const labels = model.spec.labels;
  if (labels.length < 2) return null;
  const x: EncodedExample = task.encode(input);
  const proba = model.predictProba(x);
  const a = model.labelIndexOf(label);
  let b = a === 0 ? 1 : 0;
  for (let c = 0; c < labels.length; c++) if (c !== a && proba[c]! > proba[b]!) b = c;
  const terms = model.termDifferences(x, label, labels[b]!);
  const contributions: FeatureContribution[] = [];
  const none = { tokens: [], otherTokens: { count: 0, contribution: 0 }, unknownTokens: 0 };
  model.spec.gaussian.forEach((feature, f) =>
    contributions.push({ feature, kind: 'number', value: input[feature] ?? null, contribution: terms.gaussian[f]!, ...none }),
  );
  model.spec.categorical.forEach((feature, f) =>
    contributions.push({ feature, kind: 'category', value: input[feature] ?? null, contribution: terms.categorical[f]!, ...none }),
  );
  const text = task.definition.features.find((f) => f.type === 'text');
  if (text && model.spec.multinomial) {
    const byMagnitude = [...terms.tokens].sort((p, q) => Math.abs(q.value) - Math.abs(p.value));
    const shown = byMagnitude.slice(0, maxTokens);
    const rest = byMagnitude.slice(maxTokens);
    contributions.push({
      feature: text.name,
      kind: 'text',
      value: null,
      contribution: terms.tokens.reduce((s, t) => s + t.value, 0),
      tokens: shown.map((t) => ({ token: t.token, count: t.count, contribution: t.value })),
      otherTokens: { count: rest.length, contribution: rest.reduce((s, t) => s + t.value, 0) },
      unknownTokens: terms.unknownTokens,
    });
  }
  contributions.sort((p, q) => Math.abs(q.contribution) - Math.abs(p.contribution));
  const logProbabilityRatio = terms.prior + contributions.reduce((s, c) => s + c.contribution, 0);
  return {
    label,
    runnerUp: labels[b]!,
    probability: proba[a]!,
    runnerUpProbability: proba[b]!,
    priorLogRatio: terms.prior,
    logProbabilityRatio,
    contributions,
  };
}

/** Versions whose artifacts are kept parsed for explaining predictions they served (each is a whole model). */
const ARTIFACT_CACHE_SIZE = 4;

/**
 * Explains a stored prediction with the version that served it: the live model's statistics when
 * that version is still live here (it may have learned since), else the version's artifact as trained.
 */
export class PredictionExplainer {
  private readonly artifacts = new Map<number, Promise<NaiveBayesModel>>();

  constructor(
    private readonly models: Pick<ModelService, 'getLive'>,
    private readonly versions: Pick<ModelVersionRepository, 'byId'>,
    private readonly tasks: TaskRegistry,
    /** Tokens one explanation may list (EXPLANATION_MAX_TOKENS). */
    readonly maxTokens: number,
    /** The serving version rebuilt as it was when it served (time travel, feedback/model-history.ts); null: not offered. */
    private readonly asServed: ((prediction: PredictionRecord) => Promise<{ model: NaiveBayesModel; task: Task }>) | null = null,
  ) {}

  /**
   * `exact`: with the model rebuilt as of the prediction (its artifact plus what it had learned
   * online then): the probabilities it served, at the cost of replaying that feedback.
   */
  async explain(prediction: PredictionRecord, tokens: number | null, exact = false): Promise<PredictionExplanation | null> {
    const n = tokens ?? Math.min(10, this.maxTokens);
    if (!Number.isInteger(n) || n < 0 || n > this.maxTokens) {
      throw AppError.badInput([{ field: 'tokens', reason: `must be 0 to ${this.maxTokens} (EXPLANATION_MAX_TOKENS); got ${tokens}` }]);
    }
    const task = this.tasks.get(prediction.model);
    if (!task) return null;
    if (exact && this.asServed) {
      const past = await this.asServed(prediction);
      const e = explain(past.model, past.task, prediction.input, prediction.label, n);
      return e && { ...e, basis: 'AS_SERVED', version: prediction.version };
    }
    const live = this.models.getLive(prediction.model);
    if (live && live.versionId === prediction.modelVersionId) {
      const e = explain(live.model, live.task, prediction.input, prediction.label, n);
      return e && { ...e, basis: 'LIVE_MODEL', version: live.version };
    }
    const model = await this.artifact(prediction.modelVersionId);
    const e = explain(model, task.forModel(model.spec), prediction.input, prediction.label, n);
    return e && { ...e, basis: 'VERSION_ARTIFACT', version: prediction.version };
  }

  private artifact(versionId: number): Promise<NaiveBayesModel> {
    const cached = this.artifacts.get(versionId);
    if (cached) {
      // Most recently used last: the first key is the one to evict.
      this.artifacts.delete(versionId);
      this.artifacts.set(versionId, cached);
      return cached;
    }
    const loading = this.versions.byId(versionId, { artifact: true }).then((row) => {
      if (!row) throw new AppError('NOT_FOUND', `the version that served this prediction (id ${versionId}) does not exist`);
      return NaiveBayesModel.fromJSON(row.artifact);
    });
    loading.catch(() => this.artifacts.delete(versionId));
    this.artifacts.set(versionId, loading);
    while (this.artifacts.size > ARTIFACT_CACHE_SIZE) this.artifacts.delete(this.artifacts.keys().next().value!);
    return loading;
  }
}
