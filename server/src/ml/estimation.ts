import { wilsonInterval, type Confusion } from './metrics.js';

/**
 * Honest live accuracy: 95% intervals for every figure, accuracy corrected for who gave
 * feedback, and accuracy estimated from calibrated confidence before labels arrive. Pure
 * functions of counts (what PostgreSQL aggregates), so the simulation can check them against
 * the truth over many seeds in a unit test.
 */
export interface Interval {
  lower: number;
  upper: number;
}

/** An estimate and its 95% interval. */
export interface Estimate {
  value: number;
  interval: Interval;
}

const Z95 = 1.96;

/** Wilson score interval of a proportion (the one the retrain trigger judges with); null when n = 0. */
export function proportionInterval(successes: number, n: number): Interval | null {
  const w = wilsonInterval(successes, n, Z95);
  return w ? { lower: w.low, upper: w.high } : null;
}

/**
 * Intervals of accuracy, precision and recall (Wilson each) and of F1.
 *
 * F1 = 2TP / (2TP + FP + FN) is a monotone function of the Jaccard index J = TP / (TP + FP + FN),
 * F1 = 2J / (1 + J). Given the rows that are positive in the prediction or the truth
 * (TP + FP + FN of them), TP is binomial with probability J (a multinomial cell given a sum of
 * cells), so the Wilson interval of J mapped through 2j / (1 + j) is an interval of F1 with the
 * Wilson interval's coverage: closed form, no resampling, sensible at 0 and n.
 */
export function confusionIntervals(c: Confusion): { accuracy: Interval | null; precision: Interval | null; recall: Interval | null; f1: Interval | null } {
  const jaccard = proportionInterval(c.tp, c.tp + c.fp + c.fn);
  const toF1 = (j: number) => (2 * j) / (1 + j);
  return {
    accuracy: proportionInterval(c.tp + c.tn, c.tp + c.tn + c.fp + c.fn),
    precision: proportionInterval(c.tp, c.tp + c.fp),
    recall: proportionInterval(c.tp, c.tp + c.fn),
    f1: jaccard ? { lower: toF1(jaccard.lower), upper: toF1(jaccard.upper) } : null,
  };
}

/**
 * Predictions grouped by what is known when the model answers: the predicted label and a
 * confidence bucket (`CONFIDENCE_EDGES`). `predictions` is how many were made, `labelled` how
 * many of them have feedback, `correct` how many of those were right.
 */
export interface Stratum {
  label: string;
  bucket: number;
  predictions: number;
  labelled: number;
  correct: number;
}

/**
 * Upper edges of the confidence buckets (probability of the predicted label): bucket k holds
 * probabilities in [EDGES[k-1], EDGES[k]) as PostgreSQL's width_bucket numbers them (0 below the
 * first edge). Naive Bayes is often very sure, hence the fine steps near 1.
 */
export const CONFIDENCE_EDGES = [0.6, 0.7, 0.8, 0.9, 0.95, 0.99, 0.999] as const;

/** The bucket of a probability, as `width_bucket(probability, CONFIDENCE_EDGES)` computes it. */
export function confidenceBucket(probability: number): number {
  let k = 0;
  while (k < CONFIDENCE_EDGES.length && probability >= CONFIDENCE_EDGES[k]!) k++;
  return k;
}

/** A stratum is merged with its neighbours (same label, next confidence) until it has this many labels. */
export const MIN_LABELLED_PER_STRATUM = 5;

/**
 * Merges sparse strata: within each predicted label, adjacent confidence buckets are pooled
 * until each pool has MIN_LABELLED_PER_STRATUM labels (a remainder joins the last pool). A label
 * with fewer labels than that in total stays one pool, possibly with none.
 */
export function poolStrata(strata: readonly Stratum[]): Stratum[] {
  const byLabel = new Map<string, Stratum[]>();
  for (const s of strata) {
    if (s.predictions === 0 && s.labelled === 0) continue;
    const list = byLabel.get(s.label) ?? [];
    list.push(s);
    byLabel.set(s.label, list);
  }
  const pools: Stratum[] = [];
  for (const [label, list] of [...byLabel].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    list.sort((a, b) => a.bucket - b.bucket);
    const own: Stratum[] = [];
    let open: Stratum | null = null;
    for (const s of list) {
      open ??= { label, bucket: s.bucket, predictions: 0, labelled: 0, correct: 0 };
      open.predictions += s.predictions;
      open.labelled += s.labelled;
      open.correct += s.correct;
      if (open.labelled >= MIN_LABELLED_PER_STRATUM) {
        own.push(open);
        open = null;
      }
    }
    if (open) {
      const last = own.at(-1);
      if (last) {
        last.predictions += open.predictions;
        last.labelled += open.labelled;
        last.correct += open.correct;
      } else own.push(open);
    }
    pools.push(...own);
  }
  return pools;
}

/** A stratum's accuracy variance, kept away from 0 when all (or none) of its labels were right. */
function bernoulliVariance(correct: number, labelled: number): number {
  // Agresti-Coull's adjusted proportion: (c + 2) / (l + 4), so 5 of 5 right is not "certain".
  const p = (correct + 2) / (labelled + 4);
  return p * (1 - p);
}

function clamp01(x: number): number {
  return Math.min(1, Math.max(0, x));
}

/**
 * Accuracy of all the predictions, not just the labelled ones: each stratum's accuracy among its
 * labelled predictions, weighted by its share of all predictions. That is the inverse-probability
 * weighting of each label by 1 / (the stratum's labelled share), and it is unbiased when, within a
 * stratum, whether a prediction got feedback does not depend on whether it was right (labelling
 * that depends on the label or the confidence shown is corrected; labelling that depends on the
 * truth itself is not: that needs the audit sample).
 *
 * Interval: normal, with each stratum's variance times the finite-population correction (the
 * target is these predictions' accuracy; a fully labelled stratum contributes no uncertainty).
 * Predictions in strata with no labels at all are assumed as accurate as the rest for the value,
 * and the interval widens to allow anything from 0 to 1 for them (worst-case bounds).
 */
export function correctedAccuracy(strata: readonly Stratum[]): Estimate | null {
  const pools = poolStrata(strata);
  const total = pools.reduce((s, p) => s + p.predictions, 0);
  if (total === 0) return null;
  let value = 0;
  let variance = 0;
  let knownShare = 0;
  for (const p of pools) {
    if (p.labelled === 0) continue;
    const w = p.predictions / total;
    knownShare += w;
    value += w * (p.correct / p.labelled);
    const fpc = p.predictions > 1 ? Math.max(0, (p.predictions - p.labelled) / (p.predictions - 1)) : 0;
    variance += ((w * w * bernoulliVariance(p.correct, p.labelled)) / p.labelled) * fpc;
  }
  if (knownShare === 0) return null;
  const known = value / knownShare;
  const half = (Z95 * Math.sqrt(variance)) / knownShare;
  const unknown = 1 - knownShare;
  return {
    value: known,
    interval: {
      lower: clamp01((known - half) * knownShare),
      upper: clamp01((known + half) * knownShare + unknown),
    },
  };
}

/**
 * Accuracy of predictions that have no label yet, from calibrated confidence: histogram binning
 * (Zadrozny & Elkan 2001) on the strata above, i.e. each unlabelled prediction is given the
 * accuracy of the labelled predictions of its version with the same predicted label and
 * confidence bucket. `target` counts the predictions to estimate (their `labelled`/`correct` are
 * ignored), `calibration` the labelled predictions to learn from (their `predictions` ignored).
 *
 * Interval: normal, two parts: the calibration's own uncertainty (a bucket's accuracy is known
 * from its labels only) and the chance in the outcomes themselves (m predictions of accuracy a
 * are right a·m times only on average). Buckets without calibration data take the pooled one of
 * the label, else of all labels. Valid while the link from confidence to being right holds
 * (inputs may move; the concept may not): compare with the realised accuracy once labels come.
 */
export function estimatedAccuracy(target: readonly Stratum[], calibration: readonly Stratum[]): Estimate | null {
  const pools = poolStrata(calibration.map((c) => ({ ...c, predictions: c.labelled })));
  const m = target.reduce((s, t) => s + t.predictions, 0);
  const allLabelled = pools.reduce((s, p) => s + p.labelled, 0);
  if (m === 0 || allLabelled === 0) return null;
  const allCorrect = pools.reduce((s, p) => s + p.correct, 0);
  const pooledOf = (t: Stratum): { correct: number; labelled: number } => {
    const same = pools.filter((p) => p.label === t.label);
    if (same.length === 0) return { correct: allCorrect, labelled: allLabelled };
    // The pool covering this bucket: the last one starting at or below it.
    let chosen = same[0]!;
    for (const p of same) if (p.bucket <= t.bucket) chosen = p;
    return chosen.labelled > 0 ? chosen : { correct: allCorrect, labelled: allLabelled };
  };
  // Predictions of one calibration pool share its error: sum their weights before squaring.
  const byPool = new Map<{ correct: number; labelled: number }, number>();
  for (const t of target) {
    if (t.predictions === 0) continue;
    const pool = pooledOf(t);
    byPool.set(pool, (byPool.get(pool) ?? 0) + t.predictions);
  }
  let value = 0;
  let variance = 0;
  for (const [pool, count] of byPool) {
    const w = count / m;
    const a = pool.correct / pool.labelled;
    value += w * a;
    const v = bernoulliVariance(pool.correct, pool.labelled);
    variance += (w * w * v) / pool.labelled + (w * v) / m;
  }
  const half = Z95 * Math.sqrt(variance);
  return { value, interval: { lower: clamp01(value - half), upper: clamp01(value + half) } };
}

/** One bin of a reliability curve. */
export interface ReliabilityBin {
  /** Lower and upper edge of the bin's confidence range. */
  lower: number;
  upper: number;
  count: number;
  meanConfidence: number;
  accuracy: number;
}

/** Equal-width bins of confidence over [0, 1] for reliability curves. */
export const RELIABILITY_BINS = 10;

/**
 * The reliability curve (accuracy against mean confidence per bin) and the expected calibration
 * error, ECE = sum over bins of (count / N) · |accuracy − mean confidence| (Naeini et al. 2015).
 * `rows` are bins as aggregated by SQL: `bin` in 0..RELIABILITY_BINS-1, sums per bin.
 */
export function reliability(rows: readonly { bin: number; count: number; confidenceSum: number; correct: number }[]): {
  bins: ReliabilityBin[];
  expectedCalibrationError: number | null;
  count: number;
} {
  const count = rows.reduce((s, r) => s + r.count, 0);
  const bins = rows
    .filter((r) => r.count > 0)
    .sort((a, b) => a.bin - b.bin)
    .map((r) => ({
      lower: r.bin / RELIABILITY_BINS,
      upper: (r.bin + 1) / RELIABILITY_BINS,
      count: r.count,
      meanConfidence: r.confidenceSum / r.count,
      accuracy: r.correct / r.count,
    }));
  const ece = count === 0 ? null : bins.reduce((s, b) => s + (b.count / count) * Math.abs(b.accuracy - b.meanConfidence), 0);
  return { bins, expectedCalibrationError: ece, count };
}
