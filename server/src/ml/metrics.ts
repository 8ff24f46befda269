/** Binary confusion counts for one positive label. */
export interface Confusion {
  tp: number;
  tn: number;
  fp: number;
  fn: number;
}

export interface ClassificationMetrics {
  accuracy: number | null;
  precision: number | null;
  recall: number | null;
  f1: number | null;
}

// Undefined ratios are reported as null (not NaN, not 0) so a dashboard can show "no data"
// instead of a misleading number, and JSON stays valid.
function ratio(numerator: number, denominator: number): number | null {
  return denominator === 0 ? null : numerator / denominator;
}

export function classificationMetrics(c: Confusion): ClassificationMetrics {
  return {
    accuracy: ratio(c.tp + c.tn, c.tp + c.tn + c.fp + c.fn),
    precision: ratio(c.tp, c.tp + c.fp),
    recall: ratio(c.tp, c.tp + c.fn),
    // 2TP / (2TP + FP + FN) equals the harmonic mean of precision and recall where both exist,
    // and is still defined (0) when there were positives but none was predicted, or vice versa.
    f1: ratio(2 * c.tp, 2 * c.tp + c.fp + c.fn),
  };
}

export function confusionOf(pairs: Iterable<{ predicted: string; actual: string }>, positiveLabel: string): Confusion {
  const c: Confusion = { tp: 0, tn: 0, fp: 0, fn: 0 };
  for (const { predicted, actual } of pairs) {
    const p = predicted === positiveLabel;
    const a = actual === positiveLabel;
    if (p && a) c.tp++;
    else if (p) c.fp++;
    else if (a) c.fn++;
    else c.tn++;
  }
  return c;
}

/**
 * Wilson score interval for a proportion: unlike the normal approximation it stays inside [0, 1]
 * and is sensible for small n and for 0 or n successes. Null when there is no data.
 */
export function wilsonInterval(successes: number, n: number, z = 1.96): { low: number; high: number } | null {
  if (!Number.isFinite(n) || n < 0 || !Number.isFinite(successes) || successes < 0 || successes > n) {
    throw new RangeError(`wilsonInterval needs 0 <= successes <= n, got successes=${successes}, n=${n}`);
  }
  if (!Number.isFinite(z) || z < 0) throw new RangeError(`wilsonInterval needs z >= 0, got ${z}`);
  if (n === 0) return null;
  const p = successes / n;
  const z2 = z * z;
  const denom = 1 + z2 / n;
  const centre = (p + z2 / (2 * n)) / denom;
  const half = (z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / denom;
  // Clamp only against rounding; mathematically the interval is already inside [0, 1].
  return { low: Math.max(0, centre - half), high: Math.min(1, centre + half) };
}

const LOG_LOSS_EPSILON = 1e-15;

/**
 * Mean negative log probability given to the actual label. Probabilities are clipped to
 * [1e-15, 1 - 1e-15] (as sklearn does) so one confident mistake gives a large but finite loss.
 * Null when there is nothing to average.
 */
export function logLoss(probabilitiesOfActual: number[]): number | null {
  if (probabilitiesOfActual.length === 0) return null;
  let sum = 0;
  for (const p of probabilitiesOfActual) {
    if (typeof p !== 'number' || Number.isNaN(p)) throw new RangeError(`logLoss needs probabilities, got ${p}`);
    const clipped = Math.min(1 - LOG_LOSS_EPSILON, Math.max(LOG_LOSS_EPSILON, p));
    sum -= Math.log(clipped);
  }
  return sum / probabilitiesOfActual.length;
}
