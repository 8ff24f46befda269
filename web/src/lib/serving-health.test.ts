import { describe, expect, it } from 'vitest';
import { histogramQuantile, parseServingSample, servingHealth } from './serving-health.js';

const exposition = (predictions: number, b: [string, number][]) => `# HELP relearn_predictions_total Predictions served
relearn_predictions_total{model="fraud",version="1",label="legit"} ${predictions}
relearn_predictions_total{model="spam",version="1",label="ham"} 99
${b.map(([le, n]) => `relearn_predict_duration_seconds_bucket{le="${le}",model="fraud"} ${n}`).join('\n')}
relearn_predict_duration_seconds_count{model="fraud"} ${b.at(-1)![1]}
`;

describe('serving health from /metrics', () => {
  it('reads one model and interpolates percentiles as histogram_quantile does', () => {
    const s = parseServingSample(
      exposition(10, [
        ['0.001', 50],
        ['0.005', 90],
        ['+Inf', 100],
      ]),
      'fraud',
      0,
    );
    expect([s.predictions, s.requests]).toEqual([10, 100]);
    expect(histogramQuantile(0.5, s.buckets)).toBeCloseTo(0.001, 9);
    expect(histogramQuantile(0.7, s.buckets)).toBeCloseTo(0.003, 9);
    expect(histogramQuantile(0.99, s.buckets)).toBe(0.005);
    expect(histogramQuantile(0.5, new Map())).toBeNull();
  });

  it('gives the rate and percentiles between two reads', () => {
    const a = parseServingSample(
      exposition(10, [
        ['0.001', 50],
        ['0.005', 90],
        ['+Inf', 100],
      ]),
      'fraud',
      0,
    );
    const b = parseServingSample(
      exposition(60, [
        ['0.001', 50],
        ['0.005', 140],
        ['+Inf', 150],
      ]),
      'fraud',
      10_000,
    );
    const h = servingHealth(a, b);
    expect(h.predictionsPerSecond).toBe(5);
    expect(h.requests).toBe(50);
    expect(h.p50).toBeCloseTo(0.001 + 0.004 * (25 / 50), 9);
    expect(servingHealth(null, a).predictionsPerSecond).toBeNull();
  });
});
