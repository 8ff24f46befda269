import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { DriftService } from '../drift/drift-service.js';
import type { FeedbackRecord } from '../feedback/feedback.types.js';
import type { ModelService } from '../models/model-service.js';
import type { PredictionRecord } from '../predictions/prediction.types.js';
import type { Task } from '../tasks/task.js';
import type { TaskRegistry } from '../tasks/task-registry.js';
import { confusionIntervals, proportionInterval, type Interval } from '../ml/estimation.js';
import type { MetricsService } from './metrics-service.js';

/** The honest-accuracy gauges look at the live version's predictions of the last hour (an index range, not a scan). */
export const HONEST_GAUGE_WINDOW_SECONDS = 3600;

/** How long a scrape waits for the quality gauges' database read before serving the last values. */
const QUALITY_READ_TIMEOUT_MS = 2000;

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
  private readonly liveVersion: Gauge<'model'>;
  private readonly retrains: Counter<'model' | 'outcome'>;
  private readonly retrainDuration: Histogram<'model' | 'outcome'>;
  private readonly retrainRunning: Gauge<'model'>;
  private readonly answers: Counter<'outcome'>;
  private readonly answerErrors: Counter<'code'>;

  constructor() {
    collectDefaultMetrics({ register: this.registry });
    const counter = (name: string, help: string) => new Counter({ name, help, labelNames: ['model', 'version'] as const, registers: [this.registry] });
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
      help: 'Time to validate, predict and durably store the predictions of one request (predict or predictBatch)',
      labelNames: ['model'] as const,
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
      registers: [this.registry],
    });
    this.liveVersion = new Gauge({
      name: 'relearn_model_live_version',
      help: 'The version number serving predictions now',
      labelNames: ['model'] as const,
      registers: [this.registry],
    });
    this.retrains = new Counter({
      name: 'relearn_retrains_total',
      help: 'Retrain attempts finished in this process, by outcome (promoted, rejected, failed)',
      labelNames: ['model', 'outcome'] as const,
      registers: [this.registry],
    });
    this.retrainDuration = new Histogram({
      name: 'relearn_retrain_duration_seconds',
      help: 'Time from the start of a retrain attempt to its outcome',
      labelNames: ['model', 'outcome'] as const,
      buckets: [0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600],
      registers: [this.registry],
    });
    this.answers = new Counter({
      name: 'relearn_graphql_responses_total',
      help: 'GraphQL answers sent over HTTP, by outcome (ok: no errors; error: at least one)',
      labelNames: ['outcome'] as const,
      registers: [this.registry],
    });
    this.answerErrors = new Counter({
      name: 'relearn_graphql_errors_total',
      help: 'Errors in GraphQL answers sent over HTTP, by extensions.code (INTERNAL_SERVER_ERROR: a masked unexpected error)',
      labelNames: ['code'] as const,
      registers: [this.registry],
    });
    // Both outcomes exist from the start (at 0), so an error rate reads 0 rather than nothing.
    this.answers.inc({ outcome: 'ok' }, 0);
    this.answers.inc({ outcome: 'error' }, 0);
    this.retrainRunning = new Gauge({
      name: 'relearn_retrain_running',
      help: 'Retrains running in this process now',
      labelNames: ['model'] as const,
      registers: [this.registry],
    });
  }

  retrainStarted(model: string): void {
    this.retrainRunning.inc({ model });
  }

  retrainFinished(model: string, outcome: 'promoted' | 'rejected' | 'failed', seconds: number): void {
    this.retrainRunning.dec({ model });
    this.retrains.inc({ model, outcome });
    this.retrainDuration.observe({ model, outcome }, seconds);
  }

  /** Quality gauges of each live version, computed when Prometheus scrapes. */
  attachQualityGauges(tasks: TaskRegistry, models: ModelService, metrics: MetricsService, drift: Pick<DriftService, 'scrapeReport'> | null = null): void {
    // The feature space each live model uses: bounded by its task's featureBuckets, never by clients.
    new Gauge({
      name: 'relearn_model_vocabulary_size',
      help: "Token buckets with counts in the live model (at most the text feature's featureBuckets)",
      labelNames: ['model'] as const,
      registers: [this.registry],
      collect() {
        this.reset();
        for (const task of tasks.all()) {
          const live = models.getLive(task.name);
          if (live?.model.spec.multinomial) this.set({ model: task.name }, live.model.vocabularySize);
        }
      },
    });
    const names = {
      accuracy: ['model_accuracy', 'Accuracy of the live version on its feedback (0-1)'],
      precision: ['model_precision', 'Precision of the live version on its feedback (0-1)'],
      recall: ['model_recall', 'Recall of the live version on its feedback (0-1)'],
      f1: ['model_f1_score', 'F1 score of the live version on its feedback (0-1)'],
    } as const;
    // What alert rules compare: accuracy over the task's window, against the task's own threshold.
    const windowGauge = (name: string, help: string) =>
      new Gauge({ name, help, labelNames: ['model'] as const, registers: [this.registry], collect: () => collectOnce() });
    const versionGauge = (name: string, help: string) =>
      new Gauge({ name, help, labelNames: ['model', 'version'] as const, registers: [this.registry], collect: () => collectOnce() });
    const windowAccuracy = windowGauge('relearn_model_window_accuracy', "Accuracy of the live version over the task's retrain window of recent feedback (0-1)");
    const windowFeedback = windowGauge('relearn_model_window_feedback', "Feedback in that window (alerts wait for the task's minimum sample)");
    const threshold = windowGauge('relearn_model_accuracy_threshold', "The task's minimum acceptable accuracy (retrain.minAccuracy)");
    const minSamples = windowGauge('relearn_model_min_samples', "The task's minimum sample before accuracy is judged (retrain.minSamples)");
    const lastFeedback = windowGauge('relearn_last_feedback_timestamp_seconds', 'When the model last received feedback (Unix time)');
    // Drift of the live version's last 1,000 predictions (recomputed at most every DRIFT_CACHE_SECONDS); feature names come from the task definition (bounded).
    const featureGauge = (name: string, help: string) =>
      new Gauge({ name, help, labelNames: ['model', 'feature'] as const, registers: [this.registry], collect: () => collectOnce() });
    const driftScore = featureGauge(
      'relearn_feature_drift_score',
      'Drift of one input feature against the training data: PSI (numeric) or JS divergence (category, text, predictedLabel)',
    );
    const driftPValue = featureGauge('relearn_feature_drift_p_value', 'KS (numeric) or chi-squared (category, predictedLabel) p-value of that drift');
    const driftFlag = featureGauge('relearn_feature_drifted', '1 when the feature drifted by its test and threshold, else 0');
    const unseenShare = featureGauge('relearn_feature_unseen_ratio', 'Share of category values or text tokens the training data never had (0-1)');
    const inputDrifted = windowGauge('relearn_model_input_drifted', '1 when any input feature of the live version drifted, else 0');
    const windowBounds = {
      lower: windowGauge('relearn_model_window_accuracy_lower_bound', 'Lower end of the 95% Wilson interval of relearn_model_window_accuracy'),
      upper: windowGauge('relearn_model_window_accuracy_upper_bound', 'Upper end of the 95% Wilson interval of relearn_model_window_accuracy'),
    };
    // Intervals as their own series: a panel draws them as a band, a rule compares one end.
    const boundGauges = Object.fromEntries(
      Object.entries(names).flatMap(([key, [name, help]]) => [
        [`${key}:lower`, versionGauge(`${name}_lower_bound`, `Lower end of the 95% interval of ${name} (${help})`)],
        [`${key}:upper`, versionGauge(`${name}_upper_bound`, `Upper end of the 95% interval of ${name}`)],
      ]),
    ) as Record<`${keyof typeof names}:${'lower' | 'upper'}`, Gauge<'model' | 'version'>>;
    const hour = "over the live version's predictions of the last hour";
    const honestGauges = {
      labelledShare: versionGauge('relearn_model_labelled_share', `Share of predictions with feedback, ${hour} (0-1)`),
      corrected: versionGauge(
        'relearn_model_corrected_accuracy',
        `Accuracy of all predictions corrected for who gave feedback (stratified by predicted label and confidence), ${hour} (0-1)`,
      ),
      correctedLower: versionGauge('relearn_model_corrected_accuracy_lower_bound', 'Lower end of the 95% interval of relearn_model_corrected_accuracy'),
      correctedUpper: versionGauge('relearn_model_corrected_accuracy_upper_bound', 'Upper end of the 95% interval of relearn_model_corrected_accuracy'),
      audited: versionGauge('relearn_model_audited_accuracy', `Accuracy of the audit sample (predictions served with feedbackRequested), ${hour} (0-1)`),
      auditedLower: versionGauge('relearn_model_audited_accuracy_lower_bound', 'Lower end of the 95% Wilson interval of relearn_model_audited_accuracy'),
      auditedUpper: versionGauge('relearn_model_audited_accuracy_upper_bound', 'Upper end of the 95% Wilson interval of relearn_model_audited_accuracy'),
      estimated: versionGauge(
        'relearn_model_estimated_accuracy',
        `Estimated accuracy of predictions without feedback yet, from calibrated confidence, ${hour} (0-1)`,
      ),
      estimatedLower: versionGauge('relearn_model_estimated_accuracy_lower_bound', 'Lower end of the 95% interval of relearn_model_estimated_accuracy'),
      estimatedUpper: versionGauge('relearn_model_estimated_accuracy_upper_bound', 'Upper end of the 95% interval of relearn_model_estimated_accuracy'),
    };
    const readFailures = new Counter({
      name: 'relearn_quality_read_failures_total',
      help: 'Scrapes that served the last known quality gauges because the database did not answer in time',
      registers: [this.registry],
      collect: () => collectOnce(),
    });
    // One scrape-time read fills all these gauges; prom-client collects them concurrently, so they
    // share it. The read is time-bound and the gauges change only when it succeeds: while the
    // database is away a scrape answers at once with the last values (and the process metrics).
    let reading: Promise<void> | null = null;
    let scrape: Promise<void> | null = null;
    const collectOnce = () => (scrape ??= boundedRead().finally(() => (scrape = null)));
    const boundedRead = async () => {
      // A read still in flight from an earlier scrape is waited for again, not started twice.
      reading ??= fill().finally(() => (reading = null));
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), QUALITY_READ_TIMEOUT_MS)));
      const outcome = await Promise.race([
        reading.then(
          () => 'ok' as const,
          () => 'failed' as const,
        ),
        timeout,
      ]);
      clearTimeout(timer);
      if (outcome !== 'ok') readFailures.inc();
    };
    const fill = async () => {
      type Sample = { gauge: Gauge<string>; labels: Record<string, string>; value: number };
      const samples: Sample[] = [];
      for (const task of tasks.all()) {
        const policy = task.definition.retrain;
        samples.push({ gauge: threshold, labels: { model: task.name }, value: policy.minAccuracy });
        samples.push({ gauge: minSamples, labels: { model: task.name }, value: policy.minSamples });
        const last = await metrics.lastFeedbackAt(task.name);
        if (last) samples.push({ gauge: lastFeedback, labels: { model: task.name }, value: last.getTime() / 1000 });
        const live = models.getLive(task.name);
        if (!live) continue;
        const recent = await metrics.recentWindow(task.name, live.versionId, policy.window);
        samples.push({ gauge: windowFeedback, labels: { model: task.name }, value: recent.n });
        if (recent.n > 0) samples.push({ gauge: windowAccuracy, labels: { model: task.name }, value: recent.correct / recent.n });
        const windowInterval = proportionInterval(recent.correct, recent.n);
        if (windowInterval) {
          samples.push({ gauge: windowBounds.lower, labels: { model: task.name }, value: windowInterval.lower });
          samples.push({ gauge: windowBounds.upper, labels: { model: task.name }, value: windowInterval.upper });
        }
        const m = await metrics.compute(task.name, {}, live.versionId);
        const labels = { model: task.name, version: String(live.version) };
        // A metric with no data is absent, never NaN.
        for (const key of Object.keys(names) as (keyof typeof names)[]) {
          const value = m[key];
          if (value !== null) samples.push({ gauge: gauges[key], labels, value });
        }
        const intervals = confusionIntervals(m.confusion);
        for (const key of Object.keys(names) as (keyof typeof names)[]) {
          const i = intervals[key];
          if (!i) continue;
          samples.push({ gauge: boundGauges[`${key}:lower`], labels, value: i.lower });
          samples.push({ gauge: boundGauges[`${key}:upper`], labels, value: i.upper });
        }
        const honest = await metrics.honestAccuracy(task.name, { modelVersionId: live.versionId, lastSeconds: HONEST_GAUGE_WINDOW_SECONDS });
        const put = (gauge: Gauge<'model' | 'version'>, value: number | null | undefined) => {
          if (value !== null && value !== undefined) samples.push({ gauge, labels, value });
        };
        const putInterval = (lower: Gauge<'model' | 'version'>, upper: Gauge<'model' | 'version'>, i: Interval | null | undefined) => {
          put(lower, i?.lower);
          put(upper, i?.upper);
        };
        const report = drift ? await drift.scrapeReport(task.name) : null;
        if (report && report.referenceSize > 0 && report.windowSize > 0) {
          samples.push({ gauge: inputDrifted, labels: { model: task.name }, value: report.drifted ? 1 : 0 });
          for (const f of report.features) {
            const fl = { model: task.name, feature: f.name };
            samples.push({ gauge: driftFlag, labels: fl, value: f.drifted ? 1 : 0 });
            if (f.score !== null) samples.push({ gauge: driftScore, labels: fl, value: f.score });
            if (f.pValue !== null) samples.push({ gauge: driftPValue, labels: fl, value: f.pValue });
            if (f.unseenShare !== null) samples.push({ gauge: unseenShare, labels: fl, value: f.unseenShare });
          }
        }
        put(honestGauges.labelledShare, honest.labelledShare);
        put(honestGauges.corrected, honest.corrected?.value);
        putInterval(honestGauges.correctedLower, honestGauges.correctedUpper, honest.corrected?.interval);
        put(honestGauges.audited, honest.audit.accuracy);
        putInterval(honestGauges.auditedLower, honestGauges.auditedUpper, honest.audit.interval);
        put(honestGauges.estimated, honest.estimated?.value);
        putInterval(honestGauges.estimatedLower, honestGauges.estimatedUpper, honest.estimated?.interval);
      }
      // All read: swap in the new values at once (a version that is no longer live disappears).
      const all = [
        ...Object.values(gauges),
        ...Object.values(boundGauges),
        ...Object.values(honestGauges),
        windowAccuracy,
        windowFeedback,
        lastFeedback,
        threshold,
        minSamples,
      ];
      for (const g of [...all, ...Object.values(windowBounds), driftScore, driftPValue, driftFlag, unseenShare, inputDrifted]) g.reset();
      for (const { gauge, labels, value } of samples) gauge.set(labels, value);
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
    this.liveVersion.set({ model }, version);
    for (const c of Object.values(this.confusion)) c.inc({ model, version: String(version) }, 0);
  }

  /** One predict or predictBatch request stored `predictions` in `seconds`. */
  predictionsServed(predictions: readonly PredictionRecord[], seconds: number): void {
    for (const p of predictions) this.predictions.inc({ model: p.model, version: String(p.version), label: p.label });
    // The latency histogram counts requests: one observation of this request's duration per
    // model it served (a batch of 20 is one observation, not 20 copies of the batch's time).
    for (const model of new Set(predictions.map((p) => p.model))) this.latency.observe({ model }, seconds);
  }

  /** One GraphQL answer went out with errors of these codes (none: it succeeded). */
  graphqlAnswered(codes: readonly string[]): void {
    this.answers.inc({ outcome: codes.length ? 'error' : 'ok' });
    for (const code of codes) this.answerErrors.inc({ code });
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
