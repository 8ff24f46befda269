import { NaiveBayesModel } from '../ml/naive-bayes.js';
import type { PredictionRecord } from '../predictions/prediction.types.js';
import { AppError } from '../shared/app-error.js';
import type { TaskRegistry } from '../tasks/task-registry.js';
import type { Task } from '../tasks/task.js';
import type { IModelVersion } from '../models/model-version.entity.js';
import type { ModelVersionRepository } from '../models/model-version.repository.js';
import { ModelHistoryRepository, versionAtRest, type TeachingRow, type VersionAtRest } from './model-history.repository.js';

/** A version's model rebuilt as it was at a time. */
export interface PastModel {
  task: Task;
  version: VersionAtRest;
  asOf: Date;
  model: NaiveBayesModel;
  /** Feedback it had learned online by then (and not unlearned). */
  learned: number;
  /** Rows of its training data unlearned by then (retracted after it was trained). */
  unlearned: number;
}

/** Where a prediction came from, and what came of it. */
export interface PredictionLineage {
  prediction: PredictionRecord;
  version: VersionAtRest;
  /** The online updates its version had learned when it served: how many, and their id range. */
  learnedOnline: { count: number; fromId: number | null; toId: number | null };
  /** The feedback given on it, and whether (since when, until when) it taught the model. */
  feedback: { id: number; learnedAt: Date | null; retractedAt: Date | null; quarantined: boolean } | null;
}

/**
 * Time travel: the model of version V after the feedback up to a time is its artifact, plus every
 * row it learned online that taught by then (`learned_at` ≤ t: its commit, or its release from
 * quarantine) and was not retracted by then, minus the rows of its training data retracted by
 * then. Naive Bayes statistics are sums, so that is the model the live one was at t, exactly —
 * for a process that had caught up by t (one that learns its own commits at once, as each
 * answers after its model learned; another process catches up within its announcement delay).
 */
/** A version as time travel reads it: with its artifact and its dataset. */
const AT_REST = { artifact: true, dataset: true } as const;

export class ModelHistory {
  constructor(
    private readonly repository: ModelHistoryRepository,
    private readonly versions: ModelVersionRepository,
    private readonly tasks: TaskRegistry,
    /** Which feedback a dataset version holds: a training row the dataset had dropped is not taken back. */
    private readonly trainingFeedbackIds: ((datasetVersionId: number) => Promise<ReadonlySet<number>>) | null = null,
  ) {}

  async modelAt(model: string, version: number, asOf: Date): Promise<PastModel> {
    const task = this.tasks.get(model);
    if (!task) throw AppError.badInput([{ field: 'model', reason: `unknown model; known: ${this.tasks.names().join(', ')}` }]);
    const v = this.versionAtRest(await this.versions.get(model, version, AT_REST));
    if (!v) throw new AppError('NOT_FOUND', `model ${model} has no version ${version}`);
    return this.rebuild(task, v, asOf);
  }

  async lineage(prediction: PredictionRecord): Promise<PredictionLineage> {
    const v = this.versionAtRest(await this.versions.byId(prediction.modelVersionId, AT_REST));
    if (!v) throw new AppError('NOT_FOUND', `the version of prediction ${prediction.id} does not exist`);
    const [learnedOnline, feedback] = await Promise.all([
      this.repository.learnedOnlineRange(prediction.model, v, prediction.createdAt),
      this.repository.feedbackOn(prediction.id),
    ]);
    return { prediction, version: v, learnedOnline, feedback };
  }

  /** The model that served `prediction`, rebuilt as of when it served, and its probabilities for the prediction's input. */
  async replay(prediction: PredictionRecord): Promise<{ past: PastModel; scores: { label: string; probability: number }[] }> {
    const task = this.tasks.get(prediction.model)!;
    const v = this.versionAtRest(await this.versions.byId(prediction.modelVersionId, AT_REST));
    if (!v) throw new AppError('NOT_FOUND', `the version of prediction ${prediction.id} does not exist`);
    const past = await this.rebuild(task, v, prediction.createdAt);
    return { past, scores: past.model.predict(past.task.encode(prediction.input)).scores };
  }

  private versionAtRest(row: IModelVersion | null): VersionAtRest | null {
    return row ? versionAtRest(row) : null;
  }

  private async rebuild(current: Task, v: VersionAtRest, asOf: Date): Promise<PastModel> {
    const model = NaiveBayesModel.fromJSON(v.artifact);
    const task = current.forModel(model.spec);
    const apply = async (read: (afterId: number) => Promise<TeachingRow[]>, step: (row: TeachingRow) => void) => {
      let n = 0;
      for (let afterId = 0; ;) {
        const rows = await read(afterId);
        for (const r of rows) step(r);
        n += rows.length;
        if (rows.length < ModelHistoryRepository.pageRows) return n;
        afterId = rows.at(-1)!.id;
      }
    };
    const learned = task.definition.onlineLearning
      ? await apply(
          (after) => this.repository.learnedOnline(task.name, v, asOf, after),
          (r) => model.learn(task.encode(r.input), r.label),
        )
      : 0;
    const inDataset = v.datasetVersionId !== null && this.trainingFeedbackIds ? await this.trainingFeedbackIds(v.datasetVersionId) : null;
    const unlearned = await apply(
      (after) => this.repository.unlearnedFromTraining(task.name, v, asOf, after),
      (r) => {
        if (!inDataset || inDataset.has(r.id)) model.unlearn(task.encode(r.input), r.label);
      },
    );
    return { task, version: v, asOf, model, learned, unlearned };
  }
}
