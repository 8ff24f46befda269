import { describe, expect, it } from 'vitest';
import { AppError } from '../shared/app-error.js';
import { checkWindow, historyRange } from './query-args.js';

const limits = { maxBuckets: 200, maxDays: 400 };
const at = (iso: string) => new Date(iso);

function refusal(f: () => unknown): { code: string; field: unknown } {
  try {
    f();
  } catch (e) {
    if (e instanceof AppError) return { code: e.code, field: e.details?.field };
    throw e;
  }
  throw new Error('not refused');
}

describe(historyRange.name, () => {
  it('picks the smallest step that gives at most 100 buckets when none is asked for', () => {
    expect(historyRange({ from: at('2026-12-01T00:00:00Z'), to: at('2026-12-01T01:00:00Z') }, limits).bucketSeconds).toBe(60);
    expect(historyRange({ from: at('2026-12-01T00:00:00Z'), to: at('2026-12-02T00:00:00Z') }, limits).bucketSeconds).toBe(900);
    expect(historyRange({ from: at('2026-11-01T00:00:00Z'), to: at('2026-12-01T00:00:00Z') }, limits).bucketSeconds).toBe(86_400);
    expect(historyRange({ from: at('2026-01-01T00:00:00Z'), to: at('2026-12-01T00:00:00Z') }, limits).bucketSeconds).toBe(604_800);
    // Over 100 weeks: a hundredth of the span.
    const long = historyRange({ from: at('2025-01-01T00:00:00Z'), to: at('2027-01-01T00:00:00Z') }, { maxBuckets: 200, maxDays: 1000 });
    expect(long.bucketSeconds).toBe(Math.ceil((730 * 86_400) / 100));
  });

  it('keeps an asked bucket size and the span', () => {
    const range = historyRange({ from: at('2026-12-01T00:00:00Z'), to: at('2026-12-01T01:00:00Z'), bucketSeconds: 120 }, limits);
    expect(range).toEqual({ from: at('2026-12-01T00:00:00Z'), to: at('2026-12-01T01:00:00Z'), bucketSeconds: 120 });
  });

  it('refuses, naming the argument, an empty or too long span and buckets too small or too many', () => {
    const from = at('2026-12-01T00:00:00Z');
    expect(refusal(() => historyRange({ from, to: from }, limits))).toEqual({ code: 'BAD_USER_INPUT', field: 'to' });
    expect(refusal(() => historyRange({ from, to: at('2028-02-01T00:00:00Z') }, limits))).toEqual({ code: 'BAD_USER_INPUT', field: 'to' });
    expect(refusal(() => historyRange({ from, to: at('2026-12-02T00:00:00Z'), bucketSeconds: 0 }, limits))).toEqual({
      code: 'BAD_USER_INPUT',
      field: 'bucketSeconds',
    });
    expect(refusal(() => historyRange({ from, to: at('2026-12-02T00:00:00Z'), bucketSeconds: 60 }, limits))).toEqual({
      code: 'BAD_USER_INPUT',
      field: 'bucketSeconds',
    });
  });
});

describe(checkWindow.name, () => {
  it('takes counts from 1 to 100,000,000 and names the one out of range', () => {
    expect(() => checkWindow({ lastFeedback: 1, lastSeconds: 100_000_000 })).not.toThrow();
    expect(refusal(() => checkWindow({ lastFeedback: 5, lastSeconds: 0 }))).toEqual({ code: 'BAD_USER_INPUT', field: 'window.lastSeconds' });
    expect(refusal(() => checkWindow({ lastFeedback: 100_000_001 }))).toEqual({ code: 'BAD_USER_INPUT', field: 'window.lastFeedback' });
  });
});
