import type { EventBus } from '../events/event-bus.js';
import type { FeedbackRepository } from '../feedback/feedback.repository.js';
import type { Confusion } from '../ml/metrics.js';
import type { PredictionRepository } from '../predictions/prediction.repository.js';
import { PromiseCache } from '../shared/promise-cache.js';
import type { TaskRegistry } from '../tasks/task-registry.js';
import pLimit from 'p-limit';
import { LABEL_AGE_EDGES, type AccuracyRepository, type StratumRow } from './accuracy.repository.js';
import type { HistoryAxis, HistoryMarker, HistoryRepository, HourEstimate } from './history.repository.js';
import { reportFromConfusion, type ClassificationReport } from './classification-report.js';
import { reliability, type Interval, type ReliabilityBin } from '../ml/estimation.js';
import { MIN_AUDITED_FOR_CALIBRATION, honestAccuracy, type HonestAccuracy } from './honest-accuracy.js';

/** Week-long catch-up chunks of the history rollup one history request may roll (history.repository.ts). */
const REQUEST_CATCH_UP_CHUNKS = 4;

/** Which feedback the live metrics count. Lifetime when empty. */
export interface MetricsWindow {
  /** The most recent N feedback (predictions are then counted from the oldest one they label). */
  lastFeedback?: number | null;
  /** Feedback of the last N seconds. */
  lastSeconds?: number | null;
}

export interface LiveMetrics extends ClassificationReport {
  model: string;
  predictionCount: number;
  feedbackCount: number;
  /** Feedback on predictions Relearn served (outcomes recorded for predictions made elsewhere excluded). */
  labelledPredictionCount: number;
  /** Internal id of the version these figures are restricted to, if any. */
  modelVersionId: number | null;
  /**
   * Corrected, audited and estimated accuracy over the window's predictions: a second aggregate,
   * run only when a field asks for it and once per figures object. Absent on training metrics.
   */
  honest?: () => Promise<HonestAccuracy>;
}

/** A version's calibration quality on its labelled predictions. */
export interface Calibration {
  model: string;
  version: number;
  source: 'audited' | 'labelled';
  count: number;
  bins: ReliabilityBin[];
  expectedCalibrationError: number | null;
}

/** How long labels take to arrive, and how many predictions of each age have one. */
export interface LabelDelay {
  model: string;
  labelled: number;
  meanSeconds: number | null;
  p50Seconds: number | null;
  p90Seconds: number | null;
  p99Seconds: number | null;
  byAge: { minAgeSeconds: number; maxAgeSeconds: number; predictions: number; labelled: number; labelledShare: number | null }[];
}

/** One time bucket of metricsHistory. */
export interface MetricsBucket extends ClassificationReport {
  start: Date;
  end: Date;
  predictionCount: number;
  feedbackCount: number;
  honest: HonestAccuracy;
  markers: HistoryMarker[];
  /** The estimate its hours had when they closed (null: none stored, e.g. by feedback time or per version). */
  estimatedThen: EstimatedThen | null;
}

/** The bucket's stored hourly estimates, weighted by the unlabelled predictions each was about. */
export interface EstimatedThen {
  value: number;
  /** Weighted like the value (as if the hours' errors moved together: wider than independent hours would give). */
  interval: Interval | null;
  /** Unlabelled predictions the estimates were about, when they were made. */
  unlabelled: number;
  /** When the newest of them was made. */
  madeAt: Date;
}

/** Hours that closed longer ago than this when the rollup first saw them get no "estimated then": it would be an estimate made now. */
const ESTIMATE_THEN_WITHIN_MS = 86_400_000;
const HOUR_MS = 3_600_000;
/** How long metricsHistory reuses a calibration (reading it joins 20,000 labels to their predictions). */
const HISTORY_CALIBRATION_MS = 10_000;

/** Subscribers of one push resolve within this; a later push recomputes. */
const SHARED_FOR_MS = 100;

/**
 * Live accuracy from the feedback table. Computed in PostgreSQL so every process agrees;
 * pushes to subscribers are coalesced so a burst of feedback costs one query per interval.
 */
export class MetricsService {
  private readonly dirty = new Set<string>();
  private timer: NodeJS.Timeout | null = null;
  /**
   * One computation per model per push, shared by every subscriber. Kept only briefly: the push
   * may come from another process, so this one cannot know when its copy is stale.
   */
  private readonly shared = new PromiseCache<string, LiveMetrics>(SHARED_FOR_MS);

  constructor(
    private readonly feedback: FeedbackRepository,
    private readonly predictions: PredictionRepository,
    private readonly tasks: TaskRegistry,
    private readonly events: EventBus,
    private readonly pushIntervalMs: number,
    private readonly accuracy: AccuracyRepository,
    private readonly historyRows: HistoryRepository,
  ) {}

  /** Rolls up every closed hour of `model` now (the catch-up a history request does a month at a time). */
  async catchUpHistory(model: string): Promise<number> {
    const task = this.tasks.get(model);
    if (!task) throw new Error(`unknown model ${model}`);
    return this.historyRows.refreshRollup(model, task.positiveLabel);
  }

  /**
   * Time-bucketed metrics of [from, to): by prediction time (the predictions made in each bucket,
   * with the feedback they have by now: raw, corrected, audited and estimated accuracy) or by
   * feedback time (the feedback given in each bucket). Buckets without data are returned empty,
   * so a chart's axis is continuous; markers fall in the bucket of their time.
   */
  async history(
    model: string,
    range: { from: Date; to: Date; bucketSeconds: number; modelVersionId: number | null; axis: HistoryAxis; source?: 'rollup' | 'raw' },
  ): Promise<MetricsBucket[]> {
    const task = this.tasks.get(model);
    if (!task) throw new Error(`unknown model ${model}`);
    // By prediction time from the hourly rollup (brought up to date first: closed hours, and hours
    // whose feedback changed); `source: 'raw'` reads every prediction (what the rollup is checked against).
    const rows = await this.honestAtOnce(async () => {
      if (range.axis !== 'prediction' || range.source === 'raw') return this.historyRows.buckets(model, task.positiveLabel, range);
      // A request rolls up at most a month of not-yet-rolled hours: the first read after a
      // deployment with a year of predictions would otherwise build the whole rollup (a minute)
      // while holding feedback writes a week at a time; each later read rolls the next month.
      await this.historyRows.refreshRollup(model, task.positiveLabel, Date.now(), { catchUpChunks: REQUEST_CATCH_UP_CHUNKS });
      await this.estimateClosedHours(model, task.positiveLabel);
      return this.historyRows.rolledBuckets(model, task.positiveLabel, range);
    });
    const estimates = range.axis === 'prediction' && range.modelVersionId === null ? await this.historyRows.estimates(model, range.from, range.to) : [];
    const versions = [...new Set(rows.map((r) => r.versionId))].sort((a, b) => a - b);
    // Calibration moves slowly (the newest 20,000 labels): shared by the history reads of a few seconds.
    const calibration = await this.historyCalibration.get(`${model}\u0000${versions.join(',')}`, () =>
      this.honestAtOnce(() => this.accuracy.calibrationStrata(model, versions)),
    );
    const markers = await this.historyRows.markers(model, range.from, range.to);
    const count = Math.ceil((range.to.getTime() - range.from.getTime()) / (range.bucketSeconds * 1000));
    const byBucket = Array.from({ length: count }, () => [] as typeof rows);
    for (const r of rows) byBucket[r.bucket]?.push(r);
    return byBucket.map((bucketRows, i) => {
      const start = new Date(range.from.getTime() + i * range.bucketSeconds * 1000);
      const end = new Date(Math.min(range.to.getTime(), start.getTime() + range.bucketSeconds * 1000));
      const confusion: Confusion = { tp: 0, tn: 0, fp: 0, fn: 0 };
      for (const r of bucketRows) {
        confusion.tp += r.tp;
        confusion.tn += r.tn;
        confusion.fp += r.fp;
        confusion.fn += r.fn;
      }
      const strata: StratumRow[] = bucketRows.map((r) => ({ ...r, bucket: r.confidenceBucket }));
      const report = reportFromConfusion(confusion);
      return {
        ...report,
        start,
        end,
        predictionCount: bucketRows.reduce((s, r) => s + r.predictions, 0),
        feedbackCount: report.count,
        honest: honestAccuracy(strata, calibration),
        markers: markers.filter((m) => m.at >= start && m.at < end),
        estimatedThen: combineEstimates(estimates.filter((e) => e.hour >= start && e.hour.getTime() + HOUR_MS <= end.getTime())),
      };
    });
  }

  /**
   * Stores the estimate of each hour that closed since the last look (within a day): the
   * estimated accuracy of its predictions still without a label, from the calibration as it is
   * now — what history shows later as "estimated then" beside the accuracy the labels realise.
   */
  private async estimateClosedHours(model: string, positive: string): Promise<void> {
    const hours = await this.historyRows.unestimatedHours(model, new Date(Date.now() - ESTIMATE_THEN_WITHIN_MS));
    if (!hours.length) return;
    const from = hours[0]!;
    const to = new Date(hours.at(-1)!.getTime() + HOUR_MS);
    const rows = await this.historyRows.rolledBuckets(model, positive, { from, to, bucketSeconds: 3600, modelVersionId: null });
    const calibration = await this.accuracy.calibrationStrata(model, [...new Set(rows.map((r) => r.versionId))]);
    await this.historyRows.saveEstimates(
      model,
      hours.map((hour) => {
        const index = Math.round((hour.getTime() - from.getTime()) / HOUR_MS);
        const honest = honestAccuracy(
          rows.filter((r) => r.bucket === index).map((r) => ({ ...r, bucket: r.confidenceBucket })),
          calibration,
        );
        const e = honest.estimated;
        return { hour, unlabelled: honest.unlabelled, estimated: e?.value ?? null, lower: e?.interval?.lower ?? null, upper: e?.interval?.upper ?? null };
      }),
    );
  }

  /** The calibration history reads share, per model and versions, for HISTORY_CALIBRATION_MS. */
  private readonly historyCalibration = new PromiseCache<string, StratumRow[]>(HISTORY_CALIBRATION_MS);

  /** Honest-accuracy aggregates scan predictions: one at a time per process, like the metrics loader's. */
  private readonly honestAtOnce = pLimit(1);

  async compute(model: string, window: MetricsWindow = {}, modelVersionId: number | null = null): Promise<LiveMetrics> {
    const task = this.tasks.get(model);
    if (!task) throw new Error(`unknown model ${model}`);
    const r = await this.feedback.counts(model, task.positiveLabel, window, modelVersionId);
    // A window of the last N feedback spans the predictions they label: count the predictions made
    // since the oldest of those, so the labelled share compares like with like.
    const predictionCount = await this.predictions.count(model, {
      modelVersionId,
      lastSeconds: window.lastSeconds,
      since: window.lastFeedback ? r.spanStart : null,
    });
    const confusion: Confusion = { tp: r.tp, tn: r.tn, fp: r.fp, fn: r.fn };
    const report = reportFromConfusion(confusion);
    let honest: Promise<HonestAccuracy> | null = null;
    const filter = { modelVersionId, lastSeconds: window.lastSeconds, since: window.lastFeedback ? r.spanStart : null };
    return {
      ...report,
      model,
      predictionCount,
      feedbackCount: report.count,
      labelledPredictionCount: r.labelled,
      modelVersionId,
      honest: () => (honest ??= this.honestAtOnce(() => this.honestAccuracy(model, filter))),
    };
  }

  /** Corrected, audited and estimated accuracy of the predictions `filter` selects (by prediction time). */
  async honestAccuracy(model: string, filter: { modelVersionId: number | null; lastSeconds?: number | null; since?: Date | null }): Promise<HonestAccuracy> {
    const strata = await this.accuracy.windowStrata(model, filter);
    const versions = [...new Set(strata.filter((s) => s.predictions > s.labelled).map((s) => s.versionId))];
    const calibration = await this.accuracy.calibrationStrata(model, versions);
    return honestAccuracy(strata, calibration);
  }

  /** How long labels take: delay quantiles, and the labelled share of predictions by their age (the last 30 days). */
  async labelDelay(model: string, versionId: number | null): Promise<LabelDelay> {
    const delay = await this.honestAtOnce(() => this.accuracy.labelDelay(model, versionId));
    const byAge = await this.honestAtOnce(() => this.accuracy.labelledByAge(model, versionId));
    return {
      model,
      labelled: delay.count,
      meanSeconds: delay.mean,
      p50Seconds: delay.quantiles[0] ?? null,
      p90Seconds: delay.quantiles[1] ?? null,
      p99Seconds: delay.quantiles[2] ?? null,
      byAge: LABEL_AGE_EDGES.map((upper, i) => {
        const row = byAge.find((r) => r.bucket === i);
        const predictions = row?.predictions ?? 0;
        return {
          minAgeSeconds: i === 0 ? 0 : LABEL_AGE_EDGES[i - 1]!,
          maxAgeSeconds: upper,
          predictions,
          labelled: row?.labelled ?? 0,
          labelledShare: predictions ? row!.labelled / predictions : null,
        };
      }),
    };
  }

  /** Reliability curve and ECE of one version: on the audit sample once it has enough labels (as the estimate calibrates), else on every label. */
  async calibration(model: string, versionId: number, version: number): Promise<Calibration> {
    const audited = reliability(await this.honestAtOnce(() => this.accuracy.reliabilityBins(model, versionId, true)));
    if (audited.count >= MIN_AUDITED_FOR_CALIBRATION) return { model, version, source: 'audited', ...audited };
    const all = reliability(await this.honestAtOnce(() => this.accuracy.reliabilityBins(model, versionId, false)));
    return { model, version, source: 'labelled', ...all };
  }

  /** The last `size` feedback of one version: how many, and how many were right. */
  recentWindow(model: string, modelVersionId: number, size: number): Promise<{ n: number; correct: number }> {
    return this.feedback.recentWindow(model, modelVersionId, size);
  }

  /** When the model last received feedback (null before the first). */
  lastFeedbackAt(model: string): Promise<Date | null> {
    return this.feedback.lastCreatedAt(model);
  }

  /** Lifetime metrics of a model, shared between all subscribers of one push. */
  current(model: string): Promise<LiveMetrics> {
    return this.shared.get(model, () => this.compute(model));
  }

  /** Called after feedback commits: schedules one push for the burst. */
  changed(model: string): void {
    this.dirty.add(model);
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      for (const m of this.dirty) {
        this.shared.delete(m);
        this.events.publish('metricsChanged', m);
      }
      this.dirty.clear();
    }, this.pushIntervalMs);
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}

function combineEstimates(hours: readonly (HourEstimate & { madeAt: Date })[]): EstimatedThen | null {
  const known = hours.filter((h) => h.estimated !== null && h.unlabelled > 0);
  const n = known.reduce((s, h) => s + h.unlabelled, 0);
  if (n === 0) return null;
  const weighted = (f: (h: HourEstimate) => number) => known.reduce((s, h) => s + f(h) * h.unlabelled, 0) / n;
  const bounded = known.every((h) => h.lower !== null && h.upper !== null);
  return {
    value: weighted((h) => h.estimated!),
    interval: bounded ? { lower: weighted((h) => h.lower!), upper: weighted((h) => h.upper!) } : null,
    unlabelled: n,
    madeAt: new Date(Math.max(...known.map((h) => h.madeAt.getTime()))),
  };
}
