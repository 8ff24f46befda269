import type { FeedbackRepository } from '../feedback/feedback.repository.js';
import { cursorOf } from '../feedback/learning-cursor.js';
import type { Logger } from '../logger.js';
import type { ClassificationReport } from '../metrics/classification-report.js';
import type { IModelVersion, PromotionEvaluation } from '../models/model-version.entity.js';
import type { ModelVersionRepository } from '../models/model-version.repository.js';
import type { ModelService } from '../models/model-service.js';
import type { ModelRegistry } from '../registry/model-registry.js';
import type { Task, TaskInput } from '../tasks/task.js';
import { CODE_VERSION } from '../version.js';
import type { DatasetStore } from './dataset-store.js';
import type { IDatasetVersion } from './dataset-version.entity.js';
import { trainInWorker, type TrainingInput } from './train-in-worker.js';
import type { FittedModel } from './train.js';
import type { TrainingDataRepository } from './training-data.repository.js';
import type { TrainingRunRepository } from './training-run.repository.js';

export type TrainingStep = 'SNAPSHOTTING' | 'TRAINING' | 'EVALUATING' | 'REGISTERING';

export interface TrainingOutcome {
  state: 'PROMOTED' | 'REJECTED';
  version: number;
  message: string;
}

export interface TrainingRequest {
  task: Task;
  /** Why this training runs (recorded on the run, the dataset and the version). */
  reason: string;
  /** Set for retrains: a retried job finds the version its earlier attempt registered. */
  retrainJobId?: string;
  onStep?: (step: TrainingStep, progress: number) => Promise<void> | void;
}

/** The tables training reads and writes (small enough to fake in a unit test). */
export interface TrainingRows {
  versions: Pick<ModelVersionRepository, 'live' | 'byRetrainJob' | 'setStatus'>;
  runs: Pick<TrainingRunRepository, 'start' | 'update'>;
  feedback: Pick<FeedbackRepository, 'retractedIn'>;
  data: Pick<TrainingDataRepository, 'snapshot' | 'feedbackPage'>;
}

/**
 * One training from data to decision: snapshot the data (parent dataset + new labelled
 * feedback) into a dataset version, fit a challenger in a worker thread, judge it against the
 * champion on the same held-out rows, record the run and version in the model registry, then
 * promote it (move the `champion` alias, make it live everywhere) or reject it.
 */
export class TrainingPipeline {
  constructor(
    private readonly rows: TrainingRows,
    private readonly models: ModelService,
    private readonly datasets: DatasetStore,
    private readonly registry: ModelRegistry,
    private readonly logger: Logger,
    /** Builds the dataset and fits (a worker thread; memoised for bootstraps in test runs). */
    private readonly fit: typeof trainInWorker = trainInWorker,
    private readonly options: { chunkBytes?: number } = {},
  ) {}

  async train(request: TrainingRequest): Promise<TrainingOutcome> {
    const { task, reason } = request;
    const step = async (s: TrainingStep, progress: number) => request.onStep?.(s, progress);
    const started = Date.now();
    const runId = await this.rows.runs.start(task.name, reason);
    try {
      // A retried job whose earlier attempt already registered its version goes straight to the gate.
      const earlier = request.retrainJobId ? await this.rows.versions.byRetrainJob(request.retrainJobId) : null;
      const version = earlier ?? (await this.fitAndRegister(request, step, runId));
      const outcome = await this.decide(task, version, reason);
      await this.rows.runs.update(runId, {
        state: 'SUCCEEDED',
        modelVersionId: version.id,
        message: outcome.message,
        durationMs: Date.now() - started,
        finishedAt: new Date(),
      });
      return outcome;
    } catch (error) {
      await this.rows.runs.update(runId, {
        state: 'FAILED',
        message: (error as Error).message,
        durationMs: Date.now() - started,
        finishedAt: new Date(),
      });
      throw error;
    }
  }

  private async fitAndRegister(request: TrainingRequest, step: (s: TrainingStep, progress: number) => Promise<void>, runId: number): Promise<IModelVersion> {
    const { task, reason } = request;
    const retrain = task.definition.retrain;
    await step('SNAPSHOTTING', 0.05); // (already SNAPSHOTTING for jobs; this moves the bar)
    const champion = await this.rows.versions.live(task.name, { artifact: true, dataset: true });
    const parent = champion?.datasetVersion ?? (await this.datasets.latest(task.name));
    // One snapshot for the whole read: the new rows are what it sees beyond the parent's cursor.
    const feedbackSnapshot = parent ? await this.rows.data.snapshot() : null;
    let feedbackThrough = parent?.manifest.feedbackThrough ?? 0;
    let dataset: IDatasetVersion | null = null;
    const bootstrap = !parent;
    const writer = this.datasets.writer(task.name);
    const fitted: FittedModel = await this.fit(
      {
        definition: task.definition,
        recentRows: retrain.window,
        ...(this.options.chunkBytes === undefined ? {} : { chunkBytes: this.options.chunkBytes }),
        ...(retrain.maxTrainingRows === undefined || bootstrap ? {} : { maxTrainingRows: retrain.maxTrainingRows }),
        ...(bootstrap
          ? { kind: 'bootstrap' as const }
          : {
              kind: 'retrain' as const,
              retracted: [...(await this.rows.feedback.retractedIn(task.name, feedbackSnapshot!))],
              championArtifact: champion?.artifact ?? null,
            }),
      },
      {
        ...(parent
          ? {
              input: this.retrainRows(task.name, parent, feedbackSnapshot!, (id) => {
                feedbackThrough = Math.max(feedbackThrough, id);
              }),
            }
          : {}),
        onChunk: (bytes) => writer.add(bytes),
        onSnapshot: async (summary) => {
          dataset = await writer.finish(summary, {
            parent,
            feedbackThrough,
            feedbackSnapshot,
            holdoutFraction: task.definition.dataset.holdoutFraction,
          });
          await this.rows.runs.update(runId, { datasetVersionId: dataset.id });
        },
        onStep: (s) => void step(s, s === 'TRAINING' ? 0.35 : 0.65),
      },
    );
    const ds = dataset as IDatasetVersion | null;
    if (!ds) throw new Error('the dataset was not stored');
    const evaluation = gate(fitted, champion, retrain.promotionMargin);
    await this.datasets.attach(ds, `evaluation-${Date.now()}.json`, { reason, ...evaluation });

    await step('REGISTERING', 0.8);
    const registryRun = await this.registry.startRun(task.name, {
      runName: `${task.name}-${request.retrainJobId ? `retrain-${request.retrainJobId.slice(0, 8)}` : 'bootstrap'}`,
      tags: {
        'relearn.dataset_version': String(ds.version),
        'relearn.dataset_hash': ds.contentHash,
        'relearn.trigger_reason': reason.slice(0, 5000),
        'relearn.code_version': CODE_VERSION,
        ...(request.retrainJobId ? { 'relearn.retrain_job': request.retrainJobId } : {}),
      },
    });
    try {
      await this.registry.logRun(registryRun.runId, {
        params: {
          classifier: task.definition.classifier,
          features: task.definition.features.map((f) => `${f.name}:${f.type}`).join(','),
          labels: task.labels.join(','),
          rows: ds.manifest.rowCount,
          train_rows: ds.manifest.trainRows,
          holdout_rows: ds.manifest.holdoutRows,
          holdout_fraction: task.definition.dataset.holdoutFraction,
          max_training_rows: retrain.maxTrainingRows ?? 'all',
          promotion_margin: retrain.promotionMargin,
        },
        metrics: {
          ...metricsOf('holdout', fitted.challenger.holdout),
          ...metricsOf('recent', fitted.challenger.recent),
          ...(fitted.champion ? metricsOf('champion_holdout', fitted.champion.holdout) : {}),
          ...(fitted.champion ? metricsOf('champion_recent', fitted.champion.recent) : {}),
        },
      });
      await this.registry.uploadArtifact(registryRun.runId, 'model/model.json', JSON.stringify(fitted.artifact), 'application/json');
      await this.registry.uploadArtifact(registryRun.runId, 'reports/evaluation.json', JSON.stringify(evaluation, null, 2), 'application/json');
      const registered = await this.registry.registerModelVersion(task.name, registryRun.runId, 'model', {
        'relearn.dataset_version': String(ds.version),
      });
      await this.registry.finishRun(registryRun.runId, 'FINISHED');
      const version = await this.models.registerVersion(task.name, {
        artifact: fitted.artifact,
        trainingMetrics: fitted.challenger.holdout,
        datasetVersionId: ds.id,
        trainedThroughFeedbackId: feedbackThrough,
        trainedFeedbackSnapshot: feedbackSnapshot,
        retrainJobId: request.retrainJobId ?? null,
        firstVersionOnly: bootstrap,
        evaluation,
        registry: { runId: registryRun.runId, runUrl: registryRun.url, version: registered.version, versionUrl: registered.url },
      });
      this.logger.info({ model: task.name, version: version.version, dataset: ds.version, verdict: evaluation.summary }, 'model version registered');
      return version;
    } catch (error) {
      await this.registry.finishRun(registryRun.runId, 'FAILED').catch(() => {});
      throw error;
    }
  }

  /** Promotes or rejects a registered version according to its stored evaluation. */
  private async decide(task: Task, version: IModelVersion, reason: string): Promise<TrainingOutcome> {
    const evaluation = version.evaluation;
    const promote = evaluation?.promote ?? true;
    const summary = evaluation?.summary ?? 'no evaluation recorded';
    if (version.status === 'LIVE') return { state: 'PROMOTED', version: version.version, message: summary };
    if (!promote) {
      await this.rows.versions.setStatus(version.id, 'REJECTED');
      return { state: 'REJECTED', version: version.version, message: summary };
    }
    if (version.registryVersion) await this.registry.setAlias(task.name, 'champion', version.registryVersion);
    await this.models.activate(task.name, version.version, 'trainer', `${reason} — ${summary}`);
    return { state: 'PROMOTED', version: version.version, message: summary };
  }

  /**
   * A retrain's rows in order, streamed: the parent dataset chunk by chunk, then the labelled
   * feedback the parent's cursor does not cover, in pages of FEEDBACK_PAGE_ROWS pinned to
   * `snapshot` (which becomes the new dataset's cursor). Bootstrap datasets hold no feedback:
   * their versions replay all of it (an id cursor through 0).
   */
  private async *retrainRows(model: string, parent: IDatasetVersion, snapshot: string, onFeedbackId: (id: number) => void): AsyncGenerator<TrainingInput> {
    for await (const bytes of this.datasets.rowChunks(parent)) yield { type: 'parent', bytes };
    const cursor = cursorOf({ snapshot: parent.manifest.feedbackSnapshot, throughId: parent.manifest.feedbackThrough });
    for (let afterId = 0; ;) {
      const page = await this.rows.data.feedbackPage(model, cursor, snapshot, afterId, FEEDBACK_PAGE_ROWS);
      if (page.lastId !== null) {
        onFeedbackId(page.lastId);
        afterId = page.lastId;
        yield { type: 'feedback', lines: page.lines };
      }
      if (page.rows < FEEDBACK_PAGE_ROWS) return;
    }
  }
}

/** Feedback rows per page of a retrain's read (about 7 MB of JSON; the worker parses one while the next is read). */
const FEEDBACK_PAGE_ROWS = 50_000;

/**
 * The promotion gate: the challenger may not be worse than the champion by more than the
 * margin, in accuracy, on the holdout nor on the recent feedback (when there is any).
 */
export function gate(fitted: FittedModel, champion: IModelVersion | null, margin: number): PromotionEvaluation {
  const fmt = (x: number | null) => (x === null ? 'n/a' : x.toFixed(4));
  if (!fitted.champion || !champion) {
    return {
      challenger: fitted.challenger,
      champion: null,
      margin,
      promote: true,
      summary: `first version: holdout accuracy ${fmt(fitted.challenger.holdout.accuracy)}`,
    };
  }
  const checks: string[] = [];
  let promote = true;
  for (const set of ['holdout', 'recent'] as const) {
    const c = fitted.challenger[set].accuracy;
    const k = fitted.champion[set].accuracy;
    if (c === null || k === null) continue;
    const ok = c >= k - margin;
    promote &&= ok;
    checks.push(
      `${set} accuracy ${fmt(c)} vs champion v${champion.version} ${fmt(k)} (${fitted.champion[set].count} rows) ${ok ? 'ok' : `worse by more than ${margin}`}`,
    );
  }
  return {
    challenger: fitted.challenger,
    champion: { version: champion.version, ...fitted.champion },
    margin,
    promote,
    summary: `${promote ? 'promoted' : 'rejected'}: ${checks.join('; ') || 'nothing to compare'}`,
  };
}

function metricsOf(prefix: string, report: ClassificationReport): Record<string, number> {
  const out: Record<string, number> = { [`${prefix}_rows`]: report.count };
  for (const key of ['accuracy', 'precision', 'recall', 'f1', 'logLoss'] as const) {
    const value = report[key];
    if (typeof value === 'number' && Number.isFinite(value)) out[`${prefix}_${key === 'logLoss' ? 'log_loss' : key}`] = value;
  }
  return out;
}
