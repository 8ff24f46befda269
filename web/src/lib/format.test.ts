import { describe, expect, it } from 'vitest';
import { formatDuration, formatLogOdds, formatProbability, log10Odds, withRest } from './format.js';
import { retrainTriggers } from './retrain-state.js';

describe('formatProbability', () => {
  it('writes the distance to 1 from the other classes, where 1 − p is not a double', () => {
    expect(formatProbability(1, 1.6e-182)).toBe('1 − 1.6e-182');
    expect(formatProbability(1.6e-182, 1)).toBe('1.6e-182');
    expect(formatProbability(0.4213, 0.5787)).toBe('42.1%');
    expect(formatProbability(0, 1)).toBe('<1e-308');
  });

  it('pairs each score with the rest', () => {
    expect(withRest([{ probability: 1 }, { probability: 1.6e-182 }]).map((s) => s.rest)).toEqual([1.6e-182, 1]);
  });
});

describe('log-odds', () => {
  it('stays finite where p rounds to 1', () => {
    expect(log10Odds(1, 1e-100)).toBeCloseTo(100, 9);
    expect(formatLogOdds(log10Odds(1, 1.6e-182))).toBe('+182');
    expect(formatLogOdds(log10Odds(0.25, 0.75))).toBe('−0.5');
    expect(formatLogOdds(null)).toBe('—');
  });
});

describe('formatDuration', () => {
  it('reads at every scale', () => {
    expect(formatDuration(420)).toBe('0.42 s');
    expect(formatDuration(185_000)).toBe('3 min 5 s');
    expect(formatDuration(null)).toBe('—');
  });
});

describe('retrainTriggers', () => {
  const policy = { afterFeedback: 500, minAccuracy: 0.85, window: 200, minSamples: 50, cooldownSeconds: 300, promotionMargin: 0.01 };

  it('says how far each trigger is', () => {
    const [count, accuracy, cooldown] = retrainTriggers({
      policy,
      liveFeedback: 188,
      windowed: { accuracy: 0.81, feedbackCount: 200, accuracyInterval: { lower: 0.75, upper: 0.87 } },
      lastRetrainFinishedAt: null,
      now: 0,
    });
    expect(count!.text).toMatch(/^312 more feedback/);
    expect(accuracy!.text).toContain('window accuracy 0.81 vs 0.85 needed, upper bound 0.87');
    expect(accuracy!.due).toBe(false);
    expect(cooldown!.text).toMatch(/^none now/);
  });

  it('names the end of a cooldown', () => {
    const [, , cooldown] = retrainTriggers({ policy, liveFeedback: 0, windowed: null, lastRetrainFinishedAt: new Date(0).toISOString(), now: 1000 });
    expect(cooldown!.text).toMatch(/^automatic triggers wait until /);
  });
});
