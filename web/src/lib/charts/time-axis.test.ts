import { describe, expect, it } from 'vitest';
import { formatTime } from '../format.js';
import { bucketMidpoint, timeRanges, timeScale, timeTooltipTitle, windowEnding } from './time-axis.js';

describe('timeRanges', () => {
  it('offers the named ranges in the order given, with their lengths', () => {
    expect(timeRanges('1 h', '24 h', '7 days', '30 days')).toEqual([
      { label: '1 h', seconds: 3600 },
      { label: '24 h', seconds: 86_400 },
      { label: '7 days', seconds: 604_800 },
      { label: '30 days', seconds: 2_592_000 },
    ]);
    expect(timeRanges('15 min', '6 h').map((r) => r.seconds)).toEqual([900, 21_600]);
  });
});

describe('windowEnding', () => {
  const now = Date.parse('2026-12-02T08:00:00.000Z');

  it('ends a second after now and spans the range', () => {
    expect(windowEnding(3600, now)).toEqual({ from: '2026-12-02T07:00:01.000Z', to: '2026-12-02T08:00:01.000Z' });
  });

  it('spans whole days for the long ranges', () => {
    const { from, to } = windowEnding(30 * 86_400, now);
    expect(Date.parse(to) - Date.parse(from)).toBe(30 * 86_400_000);
  });
});

describe('the time axis', () => {
  it('places a bucket at the middle of its span', () => {
    expect(bucketMidpoint({ start: '2026-12-02T07:00:00.000Z', end: '2026-12-02T08:00:00.000Z' })).toBe(Date.parse('2026-12-02T07:30:00.000Z'));
  });

  it('writes ticks and tooltip titles as times of day', () => {
    const at = Date.parse('2026-12-02T07:30:00.000Z');
    const scale = timeScale();
    expect(scale.type).toBe('linear');
    expect(scale.ticks.callback(at)).toBe(formatTime(at));
    expect(scale.ticks.callback(String(at))).toBe(formatTime(at));
    expect(timeTooltipTitle([{ parsed: { x: at } }])).toBe(formatTime(at));
    expect(timeTooltipTitle([])).toBe(formatTime(0));
  });
});
