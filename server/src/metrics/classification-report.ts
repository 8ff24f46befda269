import { classificationMetrics, type Confusion } from '../ml/metrics.js';

/** Accuracy, precision, recall and F1 with the confusion counts they come from. */
export interface ClassificationReport {
  accuracy: number | null;
  precision: number | null;
  recall: number | null;
  f1: number | null;
  confusion: Confusion;
  /** Rows the figures were measured on. */
  count: number;
  logLoss?: number | null;
}

export function reportFromConfusion(confusion: Confusion, logLoss?: number | null): ClassificationReport {
  const count = confusion.tp + confusion.tn + confusion.fp + confusion.fn;
  return { ...classificationMetrics(confusion), confusion, count, ...(logLoss === undefined ? {} : { logLoss }) };
}
