import type { Metrics } from '../graphql/types.js';

export interface MetricsPoint {
  at: number;
  accuracy: number | null;
  precision: number | null;
  recall: number | null;
  f1: number | null;
  feedbackCount: number;
}

/**
 * The live metrics of one model and their series over time, kept in the browser: the first point
 * comes from the initial query, the next from each metricsUpdated push.
 */
export class MetricsHistory {
  current = $state<Metrics | null>(null);
  points = $state<MetricsPoint[]>([]);
  /** When the figures shown were last received (ms since epoch). */
  updatedAt = $state<number | null>(null);
  readonly limit: number;

  constructor(limit = 300) {
    this.limit = limit;
  }

  /** Records the latest figures; a push that changes nothing plotted adds no point. */
  push(metrics: Metrics, at = Date.now()): void {
    if (this.current && this.current.model !== metrics.model) this.reset();
    this.current = metrics;
    this.updatedAt = at;
    const point: MetricsPoint = {
      at,
      accuracy: metrics.accuracy,
      precision: metrics.precision,
      recall: metrics.recall,
      f1: metrics.f1,
      feedbackCount: metrics.feedbackCount,
    };
    const last = this.points.at(-1);
    if (
      last &&
      last.feedbackCount === point.feedbackCount &&
      last.accuracy === point.accuracy &&
      last.precision === point.precision &&
      last.recall === point.recall
    ) {
      return;
    }
    this.points = [...this.points, point].slice(-this.limit);
  }

  reset(): void {
    this.current = null;
    this.updatedAt = null;
    this.points = [];
  }
}

export const metricsHistory = new MetricsHistory();
