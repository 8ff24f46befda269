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

  it('gives the share of GraphQL answers with errors between two reads, with the commonest codes', () => {
    const answers = (ok: number, error: number, codes: Record<string, number>) =>
      `relearn_graphql_responses_total{outcome="ok"} ${ok}\nrelearn_graphql_responses_total{outcome="error"} ${error}\n` +
      Object.entries(codes)
        .map(([code, n]) => `relearn_graphql_errors_total{code="${code}"} ${n}`)
        .join('\n');
    const a = parseServingSample(answers(90, 10, { BAD_USER_INPUT: 8, UNAUTHENTICATED: 2 }), 'fraud', 0);
    const b = parseServingSample(answers(180, 30, { BAD_USER_INPUT: 10, UNAUTHENTICATED: 20 }), 'fraud', 5000);
    expect(servingHealth(null, a)).toMatchObject({
      errorRate: 0.1,
      topErrorCodes: [
        { code: 'BAD_USER_INPUT', count: 8 },
        { code: 'UNAUTHENTICATED', count: 2 },
      ],
    });
    // Between the reads: 20 of 110 answers had errors, 18 UNAUTHENTICATED and 2 BAD_USER_INPUT.
    const h = servingHealth(a, b);
    expect(h.errorRate).toBeCloseTo(20 / 110, 12);
    expect(h.topErrorCodes).toEqual([
      { code: 'UNAUTHENTICATED', count: 18 },
      { code: 'BAD_USER_INPUT', count: 2 },
    ]);
    // No answers at all: no rate, rather than 0 or NaN.
    expect(servingHealth(null, parseServingSample('', 'fraud', 0)).errorRate).toBeNull();
  });
});
