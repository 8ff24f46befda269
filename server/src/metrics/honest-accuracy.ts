import { correctedAccuracy, estimatedAccuracy, proportionInterval, type Estimate, type Interval, type Stratum } from '../ml/estimation.js';
import type { StratumRow } from './accuracy.repository.js';

/**
 * Audited predictions calibrate the estimate once there are this many labelled ones: they are
 * a random sample, so their calibration is not bent by who chose to give feedback. Below it,
 * every labelled prediction calibrates (unbiased when feedback depends only on the stratum).
 */
export const MIN_AUDITED_FOR_CALIBRATION = 100;

/** Raw accuracy's honest companions over the predictions of a window (by prediction time). */
export interface HonestAccuracy {
  predictions: number;
  labelled: number;
  /** Labelled share of the window's predictions (null without predictions). */
  labelledShare: number | null;
  /** Accuracy of all the window's predictions, corrected for which ones got feedback. */
  corrected: Estimate | null;
  /** Predictions that asked for feedback (audit sample), how many got it, and their accuracy. */
  audit: { requested: number; labelled: number; accuracy: number | null; interval: Interval | null };
  /** Accuracy of the window's predictions that have no label yet, from calibrated confidence. */
  estimated: Estimate | null;
  unlabelled: number;
  /** What calibrated the estimate: the audited labels, every label, or nothing yet. */
  calibrationSource: 'audited' | 'labelled' | null;
}

/** Strata per version and label: a version's confidence means what it means for that version only. */
function keyed(rows: readonly StratumRow[], pick: (r: StratumRow) => Pick<Stratum, 'predictions' | 'labelled' | 'correct'>): Stratum[] {
  const map = new Map<string, Stratum>();
  for (const r of rows) {
    const label = `${r.versionId}\u0000${r.label}`;
    const key = `${label}\u0000${r.bucket}`;
    const s = map.get(key) ?? { label, bucket: r.bucket, predictions: 0, labelled: 0, correct: 0 };
    const v = pick(r);
    s.predictions += v.predictions;
    s.labelled += v.labelled;
    s.correct += v.correct;
    map.set(key, s);
  }
  return [...map.values()];
}

export function honestAccuracy(window: readonly StratumRow[], calibration: readonly StratumRow[]): HonestAccuracy {
  const sum = (rows: readonly StratumRow[], f: (r: StratumRow) => number) => rows.reduce((s, r) => s + f(r), 0);
  const predictions = sum(window, (r) => r.predictions);
  const labelled = sum(window, (r) => r.labelled);
  const requested = window.filter((r) => r.requested);
  const auditLabelled = sum(requested, (r) => r.labelled);
  const auditCorrect = sum(requested, (r) => r.correct);

  const auditedCalibration = calibration.filter((r) => r.requested);
  const source =
    sum(auditedCalibration, (r) => r.labelled) >= MIN_AUDITED_FOR_CALIBRATION ? 'audited' : sum(calibration, (r) => r.labelled) > 0 ? 'labelled' : null;
  const target = keyed(window, (r) => ({ predictions: r.predictions - r.labelled, labelled: 0, correct: 0 }));
  const unlabelled = predictions - labelled;
  const estimated =
    source === null || unlabelled === 0
      ? null
      : estimatedAccuracy(
          target,
          keyed(source === 'audited' ? auditedCalibration : calibration, (r) => ({ predictions: r.labelled, labelled: r.labelled, correct: r.correct })),
        );
  return {
    predictions,
    labelled,
    labelledShare: predictions > 0 ? labelled / predictions : null,
    corrected: correctedAccuracy(keyed(window, (r) => r)),
    audit: {
      requested: sum(requested, (r) => r.predictions),
      labelled: auditLabelled,
      accuracy: auditLabelled > 0 ? auditCorrect / auditLabelled : null,
      interval: proportionInterval(auditCorrect, auditLabelled),
    },
    estimated,
    unlabelled,
    calibrationSource: estimated ? source : null,
  };
}
