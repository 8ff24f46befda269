// The time axis the dashboard's history charts share: which ranges a reader can pick, the window a
// range asks the server for, where a bucket sits on the axis, and how the axis writes its times.
import { formatTime } from '../format.js';

const RANGE_SECONDS = {
  '15 min': 15 * 60,
  '1 h': 3600,
  '6 h': 6 * 3600,
  '24 h': 86_400,
  '7 days': 7 * 86_400,
  '30 days': 30 * 86_400,
} as const;

export type RangeLabel = keyof typeof RANGE_SECONDS;
export interface TimeRange {
  readonly label: RangeLabel;
  readonly seconds: number;
}

/** The ranges a chart offers, in the order given (the labels are the buttons' names). */
export function timeRanges(...labels: RangeLabel[]): readonly TimeRange[] {
  return labels.map((label) => ({ label, seconds: RANGE_SECONDS[label] }));
}

/**
 * The window of the last `seconds` as the history queries take it. It ends a second ahead of now:
 * buckets are half-open ([start, end)), so a prediction made this instant still falls in the last one.
 */
export function windowEnding(seconds: number, now: number = Date.now()): { from: string; to: string } {
  const to = now + 1000;
  return { from: new Date(to - seconds * 1000).toISOString(), to: new Date(to).toISOString() };
}

/** A bucket's place on the axis: the middle of its span, in epoch milliseconds. */
export function bucketMidpoint(bucket: { start: string; end: string }): number {
  return (Date.parse(bucket.start) + Date.parse(bucket.end)) / 2;
}

/** The x scale of a chart whose x values are epoch milliseconds. */
export function timeScale() {
  return { type: 'linear' as const, ticks: { maxTicksLimit: 6, callback: (value: number | string) => formatTime(Number(value)) } };
}

/** A tooltip's title: the time of the point under the pointer. */
export function timeTooltipTitle(items: readonly { parsed: { x: number | null } }[]): string {
  return formatTime(items[0]?.parsed.x ?? 0);
}
