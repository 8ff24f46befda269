import { describe, expect, it } from 'vitest';
import { classificationMetrics, confusionOf, logLoss, wilsonInterval } from './metrics.js';

describe(classificationMetrics.name, () => {
  const sut = classificationMetrics;

  it('computes known values', () => {
    const m = sut({ tp: 40, fp: 10, fn: 20, tn: 30 });
    expect(m.accuracy).toBeCloseTo(0.7, 15);
    expect(m.precision).toBeCloseTo(0.8, 15);
    expect(m.recall).toBeCloseTo(40 / 60, 15);
    expect(m.f1).toBeCloseTo((2 * 0.8 * (2 / 3)) / (0.8 + 2 / 3), 15);
  });

  it('returns null, never NaN, for zero denominators', () => {
    expect(sut({ tp: 0, fp: 0, fn: 0, tn: 0 })).toEqual({ accuracy: null, precision: null, recall: null, f1: null });
    // Only negatives, all predicted negative: nothing to say about the positive class.
    expect(sut({ tp: 0, fp: 0, fn: 0, tn: 5 })).toEqual({ accuracy: 1, precision: null, recall: null, f1: null });
    // Positives exist but none predicted: recall 0, precision undefined, F1 0.
    expect(sut({ tp: 0, fp: 0, fn: 3, tn: 5 })).toEqual({ accuracy: 5 / 8, precision: null, recall: 0, f1: 0 });
    expect(sut({ tp: 0, fp: 2, fn: 0, tn: 0 })).toEqual({ accuracy: 0, precision: 0, recall: null, f1: 0 });
  });
});

describe(confusionOf.name, () => {
  const sut = confusionOf;

  it('counts each cell against the positive label', () => {
    const pairs = [
      { predicted: 'fraud', actual: 'fraud' },
      { predicted: 'fraud', actual: 'legit' },
      { predicted: 'legit', actual: 'fraud' },
      { predicted: 'legit', actual: 'legit' },
      { predicted: 'review', actual: 'legit' },
      { predicted: 'fraud', actual: 'fraud' },
    ];
    expect(sut(pairs, 'fraud')).toEqual({ tp: 2, fp: 1, fn: 1, tn: 2 });
    expect(sut(pairs, 'legit')).toEqual({ tp: 1, fp: 1, fn: 2, tn: 2 });
    expect(sut([], 'fraud')).toEqual({ tp: 0, fp: 0, fn: 0, tn: 0 });
  });

  it('accepts any iterable', () => {
    function* pairs() {
      yield { predicted: 'a', actual: 'a' };
    }
    expect(sut(pairs(), 'a')).toEqual({ tp: 1, fp: 0, fn: 0, tn: 0 });
  });
});

describe(wilsonInterval.name, () => {
  const sut = wilsonInterval;

  it('is null without data', () => {
    expect(sut(0, 0)).toBeNull();
  });

  it('matches a known value', () => {
    // 8 of 10 at 95%: the textbook Wilson interval is [0.4902, 0.9433].
    const i = sut(8, 10)!;
    expect(i.low).toBeCloseTo(0.4902, 4);
    expect(i.high).toBeCloseTo(0.9433, 4);
  });

  it('contains the proportion, stays in [0, 1] and narrows with n', () => {
    for (const [s, n] of [
      [0, 1],
      [1, 1],
      [0, 50],
      [50, 50],
      [3, 7],
      [500, 1000],
    ] as const) {
      const i = sut(s, n)!;
      expect(i.low).toBeGreaterThanOrEqual(0);
      expect(i.high).toBeLessThanOrEqual(1);
      expect(i.low).toBeLessThanOrEqual(s / n);
      expect(i.high).toBeGreaterThanOrEqual(s / n);
    }
    expect(sut(0, 50)!.low).toBe(0);
    expect(sut(0, 50)!.high).toBeGreaterThan(0);
    expect(sut(50, 50)!.high).toBe(1);
    expect(sut(50, 50)!.low).toBeLessThan(1);
    const width = (s: number, n: number) => sut(s, n)!.high - sut(s, n)!.low;
    expect(width(500, 1000)).toBeLessThan(width(50, 100));
    expect(sut(5, 10, 2.576)!.low).toBeLessThan(sut(5, 10)!.low);
  });

  it('rejects impossible counts', () => {
    expect(() => sut(11, 10)).toThrow(RangeError);
    expect(() => sut(-1, 10)).toThrow(RangeError);
    expect(() => sut(Number.NaN, 10)).toThrow(RangeError);
  });
});

describe(logLoss.name, () => {
  const sut = logLoss;

  it('is null without data', () => {
    expect(sut([])).toBeNull();
  });

  it('averages the negative log probability of the actual label', () => {
    expect(sut([1, 1])).toBe(-Math.log(1 - 1e-15)); // clipped just below 1, so tiny but positive
    expect(sut([1, 1])).toBeGreaterThan(0);
    expect(sut([0.5, 0.25])).toBeCloseTo((Math.log(2) + Math.log(4)) / 2, 15);
  });

  it('clips so a certain mistake is large but finite', () => {
    expect(sut([0])).toBeCloseTo(-Math.log(1e-15), 10);
    expect(Number.isFinite(sut([0, 0, 0.9]))).toBe(true);
  });

  it('rejects NaN', () => {
    expect(() => sut([0.5, Number.NaN])).toThrow(RangeError);
  });
});
