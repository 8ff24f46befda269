import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { FeedbackRecord } from '../feedback/feedback-service.js';
import type { ModelService } from '../models/model-service.js';
import type { PredictionRecord } from '../predictions/prediction-service.js';
import type { Task } from '../tasks/task.js';
import type { TaskRegistry } from '../tasks/task-registry.js';
import type { MetricsService } from './metrics-service.js';

/**
 * Prometheus metrics. Counters count what this process did (Prometheus sums processes); the
 * quality gauges are read from PostgreSQL at scrape time so every process reports the same
 * truth. Label values are model names and version numbers only: never ids.
 */
export class ServingMetrics {
  readonly registry = new Registry();
  private readonly confusion: Record<'tp' | 'tn' | 'fp' | 'fn', Counter<'model' | 'version'>>;
  private readonly predictions: Counter<'model' | 'version' | 'label'>;
  private readonly feedback: Counter<'model' | 'version' | 'correct'>;
  private readonly latency: Histogram<'model'>;

  constructor() {
    collectDefaultMetrics({ register: this.registry });
    const counter = (name: string, help: string) =>
      new Counter({ name, help, labelNames: ['model', 'version'] as const, registers: [this.registry] });
    this.confusion = {
      tp: counter('true_positives_total', 'Feedback where the model said positive and was right'),
      tn: counter('true_negatives_total', 'Feedback where the model said negative and was right'),
      fp: counter('false_positives_total', 'Feedback where the model said positive and was wrong'),
      fn: counter('false_negatives_total', 'Feedback where the model said negative and was wrong'),
    };
    this.predictions = new Counter({
      name: 'relearn_predictions_total',
      help: 'Predictions served, by predicted label',
      labelNames: ['model', 'version', 'label'] as const,
      registers: [this.registry],
    });
    this.feedback = new Counter({
      name: 'relearn_feedback_total',
      help: 'Feedback recorded (including outcomes of predictions made elsewhere)',
      labelNames: ['model', 'version', 'correct'] as const,
      registers: [this.registry],
    });
    this.latency = new Histogram({
      name: 'relearn_predict_duration_seconds',
      help: 'Time to validate, predict and durably store one prediction',
      labelNames: ['model'] as const,
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
      registers: [this.registry],
    });
  }

  /** Quality gauges of each live version, computed when Prometheus scrapes. */
  attachQualityGauges(tasks: TaskRegistry, models: ModelService, metrics: MetricsService): void {
    const names = {
      accuracy: ['model_accuracy', 'Accuracy of the live version on its feedback (0-1)'],
      precision: ['model_precision', 'Precision of the live version on its feedback (0-1)'],
      recall: ['model_recall', 'Recall of the live version on its feedback (0-1)'],
      f1: ['model_f1_score', 'F1 score of the live version on its feedback (0-1)'],
    } as const;
    // One scrape-time query fills all four gauges; prom-client collects them concurrently, so they share it.
    let pending: Promise<void> | null = null;
    const collectOnce = () => (pending ??= fill().finally(() => (pending = null)));
    const fill = async () => {
      for (const g of Object.values(gauges)) g.reset();
      for (const task of tasks.all()) {
        const live = models.getLive(task.name);
        if (!live) continue;
        const m = await metrics.compute(task.name, {}, live.versionId);
        const labels = { model: task.name, version: String(live.version) };
        // A metric with no data is absent, never NaN.
        for (const key of Object.keys(names) as (keyof typeof names)[]) {
          const value = m[key];
          if (value !== null) gauges[key].set(labels, value);
        }
      }
    };
    const gauges = Object.fromEntries(
      Object.entries(names).map(([key, [name, help]]) => [
        key,
        new Gauge({
          name,
          help,
          labelNames: ['model', 'version'] as const,
          registers: [this.registry],
          collect: collectOnce,
        }),
      ]),
    ) as Record<keyof typeof names, Gauge<'model' | 'version'>>;
  }

  /** The confusion counters of a live version exist from the start (at 0), so sums and rates work at once. */
  modelLive(model: string, version: number): void {
    for (const c of Object.values(this.confusion)) c.inc({ model, version: String(version) }, 0);
  }

  predictionServed(p: PredictionRecord, seconds: number): void {
    this.predictions.inc({ model: p.model, version: String(p.version), label: p.label });
    this.latency.observe({ model: p.model }, seconds);
  }

  /** `version` is the version that served the prediction; null for outcomes of unknown origin. */
  feedbackRecorded(task: Task, f: FeedbackRecord, version: number | null): void {
    const labels = { model: task.name, version: version === null ? 'unknown' : String(version) };
    const predictedPositive = f.predicted === task.positiveLabel;
    const key = f.correct ? (predictedPositive ? 'tp' : 'tn') : predictedPositive ? 'fp' : 'fn';
    this.confusion[key].inc(labels);
    this.feedback.inc({ ...labels, correct: String(f.correct) });
  }

  contentType(): string {
    return this.registry.contentType;
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }
}
