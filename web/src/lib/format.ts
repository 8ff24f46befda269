// How the dashboard writes numbers and times: readable near 0 and 1, never NaN, always with a unit.

export function formatPercent(value: number | null | undefined, digits = 1): string {
  return value == null || !Number.isFinite(value) ? '—' : `${(value * 100).toFixed(digits)}%`;
}

/**
 * A class probability that stays readable near 0 and 1. `rest` is the probability of every other
 * class (the sum of their own scores): near 1, `1 − rest` cannot be held in a double (1 − 1.6e-182
 * is 1), so the distance to 1 is written from `rest` itself.
 */
export function formatProbability(p: number, rest: number = 1 - p): string {
  if (!Number.isFinite(p)) return '—';
  if (p >= 0.9995) return rest > 0 ? `1 − ${exponential(rest)}` : '1 − <1e-308';
  if (p < 0.0005) return p > 0 ? exponential(p) : '<1e-308';
  return formatPercent(p);
}

/** log₁₀ of the odds p : rest, from both sides so that it stays finite where 1 − p underflows. */
export function log10Odds(p: number, rest: number = 1 - p): number | null {
  if (!(p >= 0) || !(rest >= 0)) return null;
  if (p === 0 && rest === 0) return null;
  if (p === 0) return -Infinity;
  if (rest === 0) return Infinity;
  return Math.log10(p) - Math.log10(rest);
}

export function formatLogOdds(value: number | null): string {
  if (value == null || Number.isNaN(value)) return '—';
  if (!Number.isFinite(value)) return value > 0 ? '> +308' : '< −308';
  const rounded = Math.abs(value) >= 10 ? value.toFixed(0) : value.toFixed(1);
  return `${value >= 0 ? '+' : '−'}${rounded.replace('-', '')}`;
}

function exponential(x: number): string {
  return x.toExponential(1).replace('e+', 'e');
}

/** Each score with the probability of the other classes beside it. */
export function withRest<T extends { probability: number }>(scores: readonly T[]): (T & { rest: number })[] {
  return scores.map((s, i) => ({ ...s, rest: scores.reduce((sum, o, j) => (j === i ? sum : sum + o.probability), 0) }));
}

/** 0.42 s, 12 s, 3 min 5 s, 2 h 4 min. */
export function formatDuration(ms: number | null | undefined): string {
  if (ms == null || !Number.isFinite(ms) || ms < 0) return '—';
  if (ms < 10_000) return `${(ms / 1000).toFixed(ms < 1000 ? 2 : 1)} s`;
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

/** The time between two ISO instants (null when either is missing). */
export function durationBetween(from: string | null | undefined, to: string | null | undefined): number | null {
  if (!from || !to) return null;
  return Date.parse(to) - Date.parse(from);
}

/** A time of day, with the date when it is not today. */
export function formatTime(at: string | number | null | undefined, now: Date = new Date()): string {
  if (at == null) return '—';
  const date = new Date(at);
  if (Number.isNaN(date.getTime())) return '—';
  const time = date.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });
  return date.toDateString() === now.toDateString() ? time : `${date.toLocaleDateString([], { day: 'numeric', month: 'short' })} ${time}`;
}
