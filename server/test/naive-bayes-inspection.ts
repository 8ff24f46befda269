/**
 * What tests read out of a naive Bayes model to compare it with a reference implementation term
 * by term (priors, gaussian parameters, per-value log probabilities). Not part of the model's
 * API: production code only learns and predicts. Computed with the same functions predict uses.
 */
import { categoryLogProbability, gaussianVariance, tokenLogProbability, writeLogPriors, type NaiveBayesModel } from '../src/ml/naive-bayes.js';

export function inspect(model: NaiveBayesModel) {
  const stats = model.statistics;
  const { k, g } = stats;
  return {
    /** Log prior per label, in spec.labels order. */
    logPriors(): number[] {
      const out = new Float64Array(k);
      writeLogPriors(stats, out);
      return Array.from(out);
    },
    /** Mean and effective standard deviation per label and gaussian feature; NaN for a label without rows. */
    gaussianParameters(): { label: string; mean: number[]; std: number[] }[] {
      return model.spec.labels.map((label, c) => {
        const n = stats.counts[c]!;
        const mean: number[] = [];
        const std: number[] = [];
        for (let f = 0; f < g; f++) {
          mean.push(n > 0 ? stats.mean[c * g + f]! : Number.NaN);
          std.push(n > 0 ? Math.sqrt(gaussianVariance(stats, model.spec, c, f)) : Number.NaN);
        }
        return { label, mean, std };
      });
    },
    /** log P(value | label) for one categorical feature, per label (an unseen value included). */
    categoryLogProbabilities(feature: string, value: string): number[] {
      const f = model.spec.categorical.indexOf(feature);
      if (f < 0) throw new Error(`Unknown categorical feature ${JSON.stringify(feature)}`);
      const b = stats.categories[f]!.bucketOf(value);
      return Array.from({ length: k }, (_, c) => categoryLogProbability(stats, f, b, c, model.spec.categories));
    },
    /** log P(token | label) of the plain multinomial per label, or null when the token's bucket has never been learned. */
    tokenLogProbabilities(token: string): number[] | null {
      if (!model.spec.multinomial) return null;
      const b = stats.tokenCounts.bucketOf(token);
      if (!stats.tokenCounts.has(b)) return null;
      return Array.from({ length: k }, (_, c) => tokenLogProbability(stats, b, c));
    },
  };
}
