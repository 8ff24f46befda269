import { DEFAULT_TOKEN_BUCKETS, featureBucket } from '../ml/feature-hashing.js';
import { tokenize } from '../ml/text.js';
import type { FeatureDefinition } from '../tasks/task-definition.js';
import { chiSquaredAgainst, jensenShannon, kolmogorovSmirnov, populationStabilityIndex } from './drift-statistics.js';

/** Rows of the reference kept per numeric feature and documents per text feature: bounds the profile's memory. */
export const MAX_REFERENCE_VALUES = 5000;
/**
 * Characters of a text read for drift. With the tokens hashed into the feature's buckets (as the
 * model counts them), this bounds the memory and work of a report whatever clients send: a flood
 * of unique words costs at most `featureBuckets` cells, not a Map entry per word.
 */
const MAX_DRIFT_TEXT_CHARS = 10_000;
/** Tokens of the reference vocabulary compared one by one; the rest are one "other" cell. */
const TOP_TOKENS = 2000;
/** Family-wise false-alarm rate per report: each feature is tested at DRIFT_ALPHA / features (Bonferroni). */
export const DRIFT_ALPHA = 0.01;
/** Practical significance besides statistical: PSI 0.1 is the usual "moderate shift". */
export const PSI_THRESHOLD = 0.1;
/** Categories: a JS divergence (base 2) below this is too small to act on, however significant. */
const CATEGORY_JS_THRESHOLD = 0.01;
/** Text: drifted when the token divergence exceeds this many times what a same-size reference sample shows, or OOV grows by this much. */
const TEXT_JS_FACTOR = 2;
const TEXT_OOV_MARGIN = 0.1;

export interface FeatureDrift {
  name: string;
  kind: 'numeric' | 'category' | 'text' | 'label';
  /** PSI (numeric), JS divergence (category, text, label). */
  score: number | null;
  /** KS (numeric), chi-squared (category, label); null for text (tokens are not independent draws). */
  pValue: number | null;
  drifted: boolean;
  /** Share of category values (or text tokens) the reference never saw. */
  unseenShare: number | null;
  /** A word about the test: "PSI 0.31, KS D=0.22". */
  detail: string;
  /** Shares of the window and of the training data per bin (numeric: training deciles; category: values), for charts; null for text. */
  distribution?: DriftBin[] | null;
}

export interface DriftBin {
  bin: string;
  training: number;
  live: number;
}

/** Bins of a category distribution shown at most (the rest pooled as "(other)"). */
const MAX_CATEGORY_BINS = 12;

function numericDistribution(referenceSorted: readonly number[], current: readonly number[]): DriftBin[] | null {
  if (!referenceSorted.length || !current.length) return null;
  const edges: number[] = [];
  for (let k = 1; k < 10; k++) {
    const q = referenceSorted[Math.floor((k * referenceSorted.length) / 10)]!;
    if (!edges.length || q > edges.at(-1)!) edges.push(q);
  }
  const share = (values: readonly number[]) => {
    const counts = new Array<number>(edges.length + 1).fill(0);
    for (const v of values) {
      let i = 0;
      while (i < edges.length && edges[i]! <= v) i++;
      counts[i]!++;
    }
    return counts.map((c) => c / values.length);
  };
  const t = share(referenceSorted);
  const l = share(current);
  const label = (i: number) => (i === 0 ? `< ${edges[0]}` : i === edges.length ? `>= ${edges.at(-1)}` : `${edges[i - 1]} – ${edges[i]}`);
  return t.map((training, i) => ({ bin: label(i), training, live: l[i]! }));
}

function categoryDistribution(expected: ReadonlyMap<string, number>, counts: ReadonlyMap<string, number>, n: number): DriftBin[] | null {
  if (!n) return null;
  const keys = new Set([...expected.keys(), ...counts.keys()]);
  const rows = [...keys].map((k) => ({ bin: expected.has(k) ? k : `${k} (unseen)`, training: expected.get(k) ?? 0, live: (counts.get(k) ?? 0) / n }));
  rows.sort((a, b) => Math.max(b.training, b.live) - Math.max(a.training, a.live));
  if (rows.length <= MAX_CATEGORY_BINS) return rows;
  const kept = rows.slice(0, MAX_CATEGORY_BINS - 1);
  const rest = rows.slice(MAX_CATEGORY_BINS - 1);
  kept.push({ bin: '(other)', training: rest.reduce((s, r) => s + r.training, 0), live: rest.reduce((s, r) => s + r.live, 0) });
  return kept;
}

export interface DriftReport {
  drifted: boolean;
  features: FeatureDrift[];
  windowSize: number;
  referenceSize: number;
}

/** What drift is measured against: the training data, summarised. */
export interface ReferenceProfile {
  size: number;
  numeric: Map<string, number[]>;
  categories: Map<string, Map<string, number>>;
  text: Map<
    string,
    { counts: Map<string, number>; vocabulary: Set<string>; baselineJs: Map<number, number>; baselineOov: number; docs: Map<string, number>[] }
  >;
  labels: Map<string, number>;
}

export interface DriftRow {
  input: Record<string, unknown>;
  label: string;
}

/** Every k-th row, so at most `max` rows whatever the dataset size (deterministic: the same profile in every process). */
function thin<T>(rows: readonly T[], max: number): T[] {
  if (rows.length <= max) return [...rows];
  const step = rows.length / max;
  return Array.from({ length: max }, (_, i) => rows[Math.floor(i * step)]!);
}

function shares(values: Iterable<string>): Map<string, number> {
  const counts = new Map<string, number>();
  let n = 0;
  for (const v of values) {
    counts.set(v, (counts.get(v) ?? 0) + 1);
    n++;
  }
  for (const [k, c] of counts) counts.set(k, c / n);
  return counts;
}

/** A text's tokens as the model sees them (hashed into the feature's buckets), from its first MAX_DRIFT_TEXT_CHARS characters. */
function documentTokens(text: string, buckets: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const [token, c] of tokenize(text.slice(0, MAX_DRIFT_TEXT_CHARS))) {
    const key = String(featureBucket(token, buckets));
    out.set(key, (out.get(key) ?? 0) + c);
  }
  return out;
}

const textBuckets = (f: FeatureDefinition) => (f.type === 'text' ? f.featureBuckets : DEFAULT_TOKEN_BUCKETS);

function addCounts(into: Map<string, number>, from: ReadonlyMap<string, number>) {
  for (const [k, c] of from) into.set(k, (into.get(k) ?? 0) + c);
}

/** Token counts folded onto the reference's top tokens, "(other)" and "(unseen)". */
function folded(counts: ReadonlyMap<string, number>, top: ReadonlySet<string>, vocabulary: ReadonlySet<string>): Map<string, number> {
  const out = new Map<string, number>();
  for (const [t, c] of counts) {
    const key = top.has(t) ? t : vocabulary.has(t) ? '(other)' : '(unseen)';
    out.set(key, (out.get(key) ?? 0) + c);
  }
  return out;
}

const topTokens = (counts: ReadonlyMap<string, number>) =>
  new Set(
    [...counts]
      .sort((a, b) => b[1] - a[1])
      .slice(0, TOP_TOKENS)
      .map(([t]) => t),
  );

export function buildReference(features: readonly FeatureDefinition[], rows: readonly DriftRow[]): ReferenceProfile {
  const sample = thin(rows, MAX_REFERENCE_VALUES);
  const profile: ReferenceProfile = {
    size: sample.length,
    numeric: new Map(),
    categories: new Map(),
    text: new Map(),
    labels: shares(sample.map((r) => r.label)),
  };
  for (const f of features) {
    if (f.type === 'float' || f.type === 'int') {
      profile.numeric.set(
        f.name,
        sample
          .map((r) => Number(r.input[f.name]))
          .filter(Number.isFinite)
          .sort((a, b) => a - b),
      );
    } else if (f.type === 'category') {
      profile.categories.set(f.name, shares(sample.map((r) => String(r.input[f.name]))));
    } else {
      const docs = sample.map((r) => documentTokens(String(r.input[f.name] ?? ''), textBuckets(f)));
      const counts = new Map<string, number>();
      for (const d of docs) addCounts(counts, d);
      // The baseline OOV share: documents held out from a vocabulary built on the other 80%.
      const cut = Math.floor(docs.length * 0.8);
      const trainVocab = new Set<string>();
      for (const d of docs.slice(0, cut)) for (const t of d.keys()) trainVocab.add(t);
      let held = 0;
      let oov = 0;
      for (const d of docs.slice(cut)) {
        for (const [t, c] of d) {
          held += c;
          if (!trainVocab.has(t)) oov += c;
        }
      }
      profile.text.set(f.name, { counts, vocabulary: new Set(counts.keys()), baselineJs: new Map(), baselineOov: held ? oov / held : 0, docs });
    }
  }
  return profile;
}

/** JS divergence of `size` reference documents against the whole reference: what sampling alone gives. */
function textBaseline(ref: ReferenceProfile['text'] extends Map<string, infer T> ? T : never, size: number): number {
  const bucket = Math.max(1, 2 ** Math.round(Math.log2(size)));
  const cached = ref.baselineJs.get(bucket);
  if (cached !== undefined) return cached;
  const top = topTokens(ref.counts);
  const full = folded(ref.counts, top, ref.vocabulary);
  let total = 0;
  const rounds = 5;
  for (let r = 0; r < rounds; r++) {
    const part = new Map<string, number>();
    for (let i = 0; i < Math.min(bucket, ref.docs.length); i++) addCounts(part, ref.docs[(r * 7919 + i * 104_729) % ref.docs.length]!);
    total += jensenShannon(folded(part, top, ref.vocabulary), full) ?? 0;
  }
  ref.baselineJs.set(bucket, total / rounds);
  return total / rounds;
}

/** Each feature of the window against the reference, and the predicted labels against the training labels. */
export function driftReport(features: readonly FeatureDefinition[], reference: ReferenceProfile, window: readonly DriftRow[]): DriftReport {
  const alpha = DRIFT_ALPHA / Math.max(1, features.length);
  const out: FeatureDrift[] = [];
  for (const f of features) {
    if (f.type === 'float' || f.type === 'int') {
      const ref = reference.numeric.get(f.name) ?? [];
      const current = window.map((r) => Number(r.input[f.name])).filter(Number.isFinite);
      const psi = populationStabilityIndex(ref, current);
      const ks = kolmogorovSmirnov(ref, current);
      out.push({
        name: f.name,
        kind: 'numeric',
        score: psi,
        pValue: ks?.pValue ?? null,
        drifted: psi !== null && ks !== null && psi >= PSI_THRESHOLD && ks.pValue < alpha,
        unseenShare: null,
        detail: psi === null || !ks ? 'no data' : `PSI ${psi.toFixed(3)}, KS D=${ks.statistic.toFixed(3)} p=${ks.pValue.toPrecision(2)}`,
        distribution: numericDistribution(ref, current),
      });
    } else if (f.type === 'category') {
      const expected = reference.categories.get(f.name) ?? new Map<string, number>();
      const counts = new Map<string, number>();
      for (const r of window) {
        const v = String(r.input[f.name]);
        counts.set(v, (counts.get(v) ?? 0) + 1);
      }
      const chi = chiSquaredAgainst(expected, counts);
      const js = jensenShannon(expected, counts);
      const unseen = window.length ? [...counts].filter(([k]) => !expected.has(k)).reduce((s, [, c]) => s + c, 0) / window.length : null;
      out.push({
        name: f.name,
        kind: 'category',
        score: js,
        pValue: chi?.pValue ?? null,
        drifted: js !== null && chi !== null && js >= CATEGORY_JS_THRESHOLD && chi.pValue < alpha,
        unseenShare: unseen,
        detail: chi && js !== null ? `JS ${js.toFixed(3)}, chi2=${chi.statistic.toFixed(1)} df=${chi.df} p=${chi.pValue.toPrecision(2)}` : 'no data',
        distribution: categoryDistribution(expected, counts, window.length),
      });
    } else {
      const ref = reference.text.get(f.name);
      const counts = new Map<string, number>();
      for (const r of window) addCounts(counts, documentTokens(String(r.input[f.name] ?? ''), textBuckets(f)));
      if (!ref || counts.size === 0) {
        out.push({ name: f.name, kind: 'text', score: null, pValue: null, drifted: false, unseenShare: null, detail: 'no data' });
        continue;
      }
      const top = topTokens(ref.counts);
      const js = jensenShannon(folded(counts, top, ref.vocabulary), folded(ref.counts, top, ref.vocabulary))!;
      const total = [...counts.values()].reduce((s, c) => s + c, 0);
      const oov = [...counts].filter(([t]) => !ref.vocabulary.has(t)).reduce((s, [, c]) => s + c, 0) / total;
      const baseline = textBaseline(ref, window.length);
      out.push({
        name: f.name,
        kind: 'text',
        score: js,
        pValue: null,
        drifted: js > TEXT_JS_FACTOR * baseline || oov > ref.baselineOov + TEXT_OOV_MARGIN,
        unseenShare: oov,
        detail: `token JS ${js.toFixed(3)} (same-size reference sample: ${baseline.toFixed(3)}), OOV ${(oov * 100).toFixed(1)}% (reference held-out: ${(ref.baselineOov * 100).toFixed(1)}%)`,
      });
    }
  }
  // The predicted labels against the training labels: a model's answers move when its inputs do
  // (or when it errs more); reported beside the inputs, not counted in the overall flag, since a
  // model's predicted shares differ from the true ones even without drift.
  const predicted = new Map<string, number>();
  for (const r of window) predicted.set(r.label, (predicted.get(r.label) ?? 0) + 1);
  const chi = chiSquaredAgainst(reference.labels, predicted);
  const js = jensenShannon(reference.labels, predicted);
  out.push({
    name: 'predictedLabel',
    kind: 'label',
    score: js,
    pValue: chi?.pValue ?? null,
    drifted: js !== null && chi !== null && js >= CATEGORY_JS_THRESHOLD && chi.pValue < DRIFT_ALPHA,
    unseenShare: null,
    detail: chi && js !== null ? `predicted-label JS ${js.toFixed(3)} against the training labels, chi2 p=${chi.pValue.toPrecision(2)}` : 'no data',
  });
  return { drifted: out.some((f) => f.kind !== 'label' && f.drifted), features: out, windowSize: window.length, referenceSize: reference.size };
}
