// How an explanation (Prediction.explanation) becomes bars a person reads at a glance: one bar
// per feature (and per listed token), drawn from a centre line, right towards the predicted label,
// left towards the runner-up, all on one scale so their lengths compare.
import type { DashboardExplanationFieldsFragment } from './graphql/generated/graphql.js';

export type Explanation = DashboardExplanationFieldsFragment;

export interface ContributionBar {
  key: string;
  name: string;
  /** What the input had (a number, a category, a token's count). */
  detail: string;
  value: number;
  /** Share of the half-width this bar takes (0..100), at least 1 when non-zero so no evidence is invisible. */
  width: number;
  /** Towards the predicted label (for) or the runner-up (against). */
  towards: 'for' | 'against' | 'none';
  /** Token bars sit under their text feature. */
  level: 0 | 1;
}

/** A log ratio, signed, short: +3.21, −0.05, +1.6e+9. */
export function formatContribution(value: number): string {
  const sign = value > 0 ? '+' : value < 0 ? '−' : '±';
  const a = Math.abs(value);
  const digits = a === 0 ? '0' : a >= 1e4 || a < 1e-3 ? a.toExponential(1) : a >= 100 ? a.toFixed(0) : a.toFixed(2);
  return `${sign}${digits}`;
}

const shorten = (s: string, max: number) => (s.length > max ? `${s.slice(0, max - 1)}…` : s);

/** The bars of an explanation: the prior first, then each feature (largest first, as the API orders them), text tokens under their feature. */
export function contributionBars(e: Explanation): ContributionBar[] {
  const rows: Omit<ContributionBar, 'width' | 'towards'>[] = [{ key: 'prior', name: 'prior', detail: 'before the input', value: e.priorLogRatio, level: 0 }];
  for (const c of e.contributions) {
    const detail =
      c.kind === 'text'
        ? `${c.tokens.length + c.otherTokenCount} known tokens${c.unknownTokenCount ? `, ${c.unknownTokenCount} never seen` : ''}`
        : shorten(String(c.value ?? ''), 24);
    rows.push({ key: `f:${c.feature}`, name: c.feature, detail, value: c.contribution, level: 0 });
    for (const t of c.tokens) {
      rows.push({
        key: `t:${c.feature}:${t.token}`,
        name: `“${shorten(t.token, 28)}”`,
        detail: t.count === 1 ? '' : `×${t.count}`,
        value: t.contribution,
        level: 1,
      });
    }
    if (c.otherTokenCount > 0) {
      rows.push({ key: `o:${c.feature}`, name: `${c.otherTokenCount} other tokens`, detail: '', value: c.otherTokensContribution, level: 1 });
    }
  }
  const scale = Math.max(...rows.map((r) => (Number.isFinite(r.value) ? Math.abs(r.value) : 0)), 1e-12);
  return rows.map((r) => ({
    ...r,
    width: r.value === 0 ? 0 : Math.max(1, Math.min(100, (Math.abs(r.value) / scale) * 100)),
    towards: r.value > 0 ? 'for' : r.value < 0 ? 'against' : 'none',
  }));
}

/** One line about an explanation: which label won, by how much, and whose statistics said so. */
export function explanationSummary(e: Explanation): string {
  const odds = e.logProbabilityRatio / Math.LN10;
  const by = Math.abs(odds) < 1e4 ? `odds 10^${odds.toFixed(1)} : 1` : `log-odds ${formatContribution(e.logProbabilityRatio)}`;
  const basis = e.basis === 'LIVE_MODEL' ? `v${e.version} as it is now` : `v${e.version} as trained`;
  return `${e.label} over ${e.runnerUp}, ${by} (${basis}); natural-log contributions, positive towards ${e.label}`;
}

/** A short summary of a prediction's input for a list row (the text's start, or the first values). */
export function describeInput(input: unknown, max = 70): string {
  if (input == null || typeof input !== 'object') return '';
  const entries = Object.entries(input as Record<string, unknown>);
  const text = entries.find(([, v]) => typeof v === 'string' && v.length > 30);
  if (text) return shorten(String(text[1]).replace(/\s+/g, ' ').trim(), max);
  return shorten(entries.map(([k, v]) => `${k} ${String(v)}`).join(' · '), max);
}
