/**
 * Input drift statistics: a recent window of inputs against a reference (the live version's
 * training data). Pure functions, so their false-alarm rate and detection delay are measured in
 * unit tests over many seeds.
 */

/** Bins with fewer than this share get it, so an empty bin does not make PSI infinite. */
const EPSILON = 1e-4;

/** Population stability index over the reference's decile bins: sum (a − e) · ln(a / e). */
export function populationStabilityIndex(referenceSorted: readonly number[], current: readonly number[], bins = 10): number | null {
  if (referenceSorted.length === 0 || current.length === 0) return null;
  const edges: number[] = [];
  for (let k = 1; k < bins; k++) {
    const q = referenceSorted[Math.floor((k * referenceSorted.length) / bins)]!;
    if (edges.length === 0 || q > edges.at(-1)!) edges.push(q);
  }
  const share = (values: readonly number[]) => {
    const counts = new Array<number>(edges.length + 1).fill(0);
    for (const v of values) counts[upperBound(edges, v)]!++;
    return counts.map((c) => Math.max(EPSILON, c / values.length));
  };
  const e = share(referenceSorted);
  const a = share(current);
  return a.reduce((s, ai, i) => s + (ai - e[i]!) * Math.log(ai / e[i]!), 0);
}

/** Index of the first edge greater than v (values equal to an edge go right, like width_bucket). */
function upperBound(edges: readonly number[], v: number): number {
  let lo = 0;
  let hi = edges.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (edges[mid]! <= v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Two-sample Kolmogorov–Smirnov test: the largest gap between the empirical CDFs, and its asymptotic p-value. */
export function kolmogorovSmirnov(referenceSorted: readonly number[], current: readonly number[]): { statistic: number; pValue: number } | null {
  const n = referenceSorted.length;
  const m = current.length;
  if (n === 0 || m === 0) return null;
  const b = [...current].sort((x, y) => x - y);
  let i = 0;
  let j = 0;
  let d = 0;
  while (i < n && j < m) {
    const x = Math.min(referenceSorted[i]!, b[j]!);
    while (i < n && referenceSorted[i]! <= x) i++;
    while (j < m && b[j]! <= x) j++;
    d = Math.max(d, Math.abs(i / n - j / m));
  }
  const en = Math.sqrt((n * m) / (n + m));
  return { statistic: d, pValue: kolmogorovSurvival((en + 0.12 + 0.11 / en) * d) };
}

/** P(K > x) for the Kolmogorov distribution (Numerical Recipes' probks). */
export function kolmogorovSurvival(x: number): number {
  if (x < 0.2) return 1;
  let sum = 0;
  let sign = 1;
  for (let k = 1; k <= 100; k++) {
    const term = sign * 2 * Math.exp(-2 * k * k * x * x);
    sum += term;
    if (Math.abs(term) < 1e-12) break;
    sign = -sign;
  }
  return Math.min(1, Math.max(0, sum));
}

/** Regularized upper incomplete gamma Q(a, x) (series below a + 1, continued fraction above). */
function gammaQ(a: number, x: number): number {
  if (x <= 0) return 1;
  const lnGammaA = logGamma(a);
  if (x < a + 1) {
    let term = 1 / a;
    let sum = term;
    for (let n = 1; n < 1000; n++) {
      term *= x / (a + n);
      sum += term;
      if (Math.abs(term) < Math.abs(sum) * 1e-14) break;
    }
    return Math.max(0, 1 - sum * Math.exp(-x + a * Math.log(x) - lnGammaA));
  }
  // Lentz's continued fraction.
  let b = x + 1 - a;
  let c = 1 / 1e-300;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < 1000; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < 1e-300) d = 1e-300;
    c = b + an / c;
    if (Math.abs(c) < 1e-300) c = 1e-300;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < 1e-14) break;
  }
  return Math.min(1, Math.exp(-x + a * Math.log(x) - lnGammaA) * h);
}

/** Lanczos approximation of ln Γ(x), x > 0. */
function logGamma(x: number): number {
  const g = [76.18009172947146, -86.50532032941677, 24.01409824083091, -1.231739572450155, 0.1208650973866179e-2, -0.5395239384953e-5];
  let y = x;
  const tmp = x + 5.5 - (x + 0.5) * Math.log(x + 5.5);
  let ser = 1.000000000190015;
  for (const c of g) ser += c / ++y;
  return -tmp + Math.log((2.5066282746310005 * ser) / x);
}

/** P(χ²(df) > statistic). */
export function chiSquaredSurvival(statistic: number, df: number): number {
  if (df <= 0) return 1;
  return gammaQ(df / 2, statistic / 2);
}

/**
 * Pearson's chi-squared goodness of fit of `counts` against the reference shares `expected`
 * (keys missing from the reference are pooled as one "unseen" cell with a tiny expected share).
 * Cells expected below 5 are pooled together so the χ² approximation holds.
 */
export function chiSquaredAgainst(
  expected: ReadonlyMap<string, number>,
  counts: ReadonlyMap<string, number>,
): { statistic: number; df: number; pValue: number } | null {
  const n = [...counts.values()].reduce((s, c) => s + c, 0);
  if (n === 0 || expected.size === 0) return null;
  const cells: { e: number; o: number }[] = [];
  let unseen = 0;
  for (const [key, c] of counts) if (!expected.has(key)) unseen += c;
  for (const [key, share] of expected) cells.push({ e: share * n, o: counts.get(key) ?? 0 });
  cells.push({ e: EPSILON * n, o: unseen });
  const pooled = { e: 0, o: 0 };
  const kept: { e: number; o: number }[] = [];
  for (const cell of cells) {
    if (cell.e < 5) {
      pooled.e += cell.e;
      pooled.o += cell.o;
    } else kept.push(cell);
  }
  if (pooled.e > 0) kept.push(pooled);
  if (kept.length < 2) return { statistic: 0, df: 0, pValue: 1 };
  const statistic = kept.reduce((s, c) => s + ((c.o - c.e) * (c.o - c.e)) / Math.max(c.e, 1e-9), 0);
  const df = kept.length - 1;
  return { statistic, df, pValue: chiSquaredSurvival(statistic, df) };
}

/** Jensen–Shannon divergence (base 2, so 0..1) of two count maps. */
export function jensenShannon(p: ReadonlyMap<string, number>, q: ReadonlyMap<string, number>): number | null {
  const np = [...p.values()].reduce((s, c) => s + c, 0);
  const nq = [...q.values()].reduce((s, c) => s + c, 0);
  if (np === 0 || nq === 0) return null;
  let js = 0;
  for (const key of new Set([...p.keys(), ...q.keys()])) {
    const a = (p.get(key) ?? 0) / np;
    const b = (q.get(key) ?? 0) / nq;
    const m = (a + b) / 2;
    if (a > 0) js += 0.5 * a * Math.log2(a / m);
    if (b > 0) js += 0.5 * b * Math.log2(b / m);
  }
  return Math.max(0, Math.min(1, js));
}
