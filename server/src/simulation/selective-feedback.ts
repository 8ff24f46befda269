/**
 * Who gives feedback, as the honest-accuracy scenarios model it, and a synthetic stream of
 * predictions whose truth is known: fast enough to measure the coverage of every estimator over
 * hundreds of seeds without a server (selective-feedback.unit.test.ts). The API scenarios
 * (simulate.ts) use the same labelling policies on real predictions.
 */
import { confidenceBucket, type Stratum } from '../ml/estimation.js';
import { createRng } from './scenarios.js';

export const LABELLING_POLICIES = ['random', 'wrong-mostly', 'flagged-mostly'] as const;
export type LabellingPolicy = (typeof LABELLING_POLICIES)[number];

export const LABELLING_DOCS: Record<LabellingPolicy, string> = {
  random: '20% of predictions get feedback, whatever they are',
  'wrong-mostly': '90% of wrong and 10% of right predictions get feedback (people complain)',
  'flagged-mostly': '80% of predictions of the positive label and of unsure ones (< 0.9) get feedback, 5% of the others (people check what is flagged)',
};

/** Whether a caller gives feedback on its own (audit requests aside). */
export function givesFeedback(policy: LabellingPolicy, p: { correct: boolean; positive: boolean; probability: number }, rng: () => number): boolean {
  if (policy === 'random') return rng() < 0.2;
  if (policy === 'wrong-mostly') return rng() < (p.correct ? 0.1 : 0.9);
  return rng() < (p.positive || p.probability < 0.9 ? 0.8 : 0.05);
}

export interface SyntheticPrediction {
  label: string;
  probability: number;
  correct: boolean;
  feedbackRequested: boolean;
  labelled: boolean;
}

export interface SyntheticOptions {
  count: number;
  seed: number;
  policy: LabellingPolicy;
  /** Share of predictions that carry feedbackRequested; callers honour every request. */
  auditRate: number;
  /** Moves the inputs: a larger share of unsure predictions (covariate shift, same calibration). */
  shift?: number;
}

/**
 * Predictions of a model that is over-confident the way naive Bayes is: it says p, it is right
 * with probability p^2 (a prediction of 0.95 is right 90% of the time). 20% predict the positive label.
 */
export function syntheticWindow(o: SyntheticOptions): SyntheticPrediction[] {
  const rng = createRng(o.seed);
  const out: SyntheticPrediction[] = [];
  for (let i = 0; i < o.count; i++) {
    const positive = rng() < 0.2;
    const unsure = rng() < 0.25 + (o.shift ?? 0);
    const probability = unsure ? 0.5 + 0.4 * rng() : 0.9 + 0.1 * rng();
    const correct = rng() < probability * probability;
    const feedbackRequested = rng() < o.auditRate;
    const labelled = feedbackRequested || givesFeedback(o.policy, { correct, positive, probability }, rng);
    out.push({ label: positive ? 'fraud' : 'legit', probability, correct, feedbackRequested, labelled });
  }
  return out;
}

/** The strata the estimators see (what SQL aggregates): all predictions, or only some. */
export function strataOf(predictions: readonly SyntheticPrediction[], include: (p: SyntheticPrediction) => boolean = () => true): Stratum[] {
  const map = new Map<string, Stratum>();
  for (const p of predictions) {
    if (!include(p)) continue;
    const bucket = confidenceBucket(p.probability);
    const key = `${p.label}\u0000${bucket}`;
    const s = map.get(key) ?? { label: p.label, bucket, predictions: 0, labelled: 0, correct: 0 };
    s.predictions++;
    if (p.labelled) {
      s.labelled++;
      if (p.correct) s.correct++;
    }
    map.set(key, s);
  }
  return [...map.values()];
}
