import { describe, expect, it } from 'vitest';
import { contributionBars, describeInput, explanationSummary, formatContribution, type Explanation } from './explanation-bars.js';

const explanation: Explanation = {
  label: 'spam',
  runnerUp: 'ham',
  probability: 0.99,
  runnerUpProbability: 0.01,
  priorLogRatio: -0.5,
  logProbabilityRatio: 4.6,
  basis: 'LIVE_MODEL',
  version: 3,
  contributions: [
    {
      feature: 'text',
      kind: 'text',
      value: null,
      contribution: 5.1,
      tokens: [
        { token: 'free', count: 2, contribution: 3 },
        { token: 'meeting', count: 1, contribution: -1 },
      ],
      otherTokenCount: 4,
      otherTokensContribution: 3.1,
      unknownTokenCount: 2,
    },
  ],
};

describe('contributionBars', () => {
  it('draws the prior, each feature and its tokens on one scale, towards the label or the runner-up', () => {
    const bars = contributionBars(explanation);
    expect(bars.map((b) => b.name)).toEqual(['prior', 'text', '“free”', '“meeting”', '4 other tokens']);
    expect(bars.map((b) => b.towards)).toEqual(['against', 'for', 'for', 'against', 'for']);
    expect(bars[1]!.width).toBe(100); // the largest
    expect(bars[2]!.width).toBeCloseTo((3 / 5.1) * 100, 9);
    expect(bars[1]!.detail).toBe('6 known tokens, 2 never seen');
    expect(bars[2]!.detail).toBe('×2');
    expect(bars.filter((b) => b.level === 1)).toHaveLength(3);
  });

  it('keeps a tiny non-zero contribution visible and a zero one empty', () => {
    const bars = contributionBars({
      ...explanation,
      priorLogRatio: 0,
      contributions: [
        { ...explanation.contributions[0]!, kind: 'number', feature: 'amount', value: 12, contribution: 1e9, tokens: [], otherTokenCount: 0 },
        { ...explanation.contributions[0]!, kind: 'category', feature: 'merchant', value: 'crypto', contribution: 0.5, tokens: [], otherTokenCount: 0 },
      ],
    });
    expect(bars.map((b) => b.width)).toEqual([0, 100, 1]);
    expect(bars.map((b) => b.detail)).toEqual(['before the input', '12', 'crypto']);
  });
});

describe('formatting', () => {
  it('signs contributions and keeps huge or tiny ones short', () => {
    expect(formatContribution(3.214)).toBe('+3.21');
    expect(formatContribution(-0.05)).toBe('−0.05');
    expect(formatContribution(1.6e9)).toBe('+1.6e+9');
    expect(formatContribution(0)).toBe('±0');
    expect(formatContribution(-250.4)).toBe('−250');
  });

  it('says which label won, by what odds, with whose statistics', () => {
    expect(explanationSummary(explanation)).toBe('spam over ham, odds 10^2.0 : 1 (v3 as it is now); natural-log contributions, positive towards spam');
    expect(explanationSummary({ ...explanation, logProbabilityRatio: 1e6, basis: 'VERSION_ARTIFACT' })).toContain('log-odds +1.0e+6 (v3 as trained)');
  });

  it('summarises an input: the start of its text, or its values', () => {
    expect(describeInput({ text: 'Hello   there, this is a rather long message about a meeting' }, 30)).toBe('Hello there, this is a rather…');
    expect(describeInput({ amount: 12, merchantCategory: 'crypto' })).toBe('amount 12 · merchantCategory crypto');
    expect(describeInput(null)).toBe('');
  });
});
