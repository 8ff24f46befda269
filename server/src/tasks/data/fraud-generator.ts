/**
 * Synthetic card transactions for the built-in fraud-detection task.
 *
 * GENERATING PROCESS (everything below is what the code does; same seed => same rows)
 *
 * Random source: mulberry32 (32-bit state, seeded with `seed >>> 0`) gives U ~ Uniform[0,1).
 * Normals N(mu, sd) come from Box–Muller (both values of each pair are used, in order).
 * Exp(mean) = -mean * ln(1 - U). LogNormal(median m, sigma s) = m * exp(N(0, s)).
 * "Wrap" of an hour = round(x) mod 24, into 0..23.
 *
 * For each row, in this order:
 *   1. fraud = U < fraudRate (default 0.08).
 *   2. dayOfWeek = floor(U * 7)   (uniform 0..6, 0 = Sunday; same for legit and fraud).
 *   3. Legit row:
 *        typical       = LogNormal(45, 0.7)          (this customer's usual spend)
 *        amount        = typical * LogNormal(1, 0.5)  (overall median ~45)
 *        hour          = with prob 0.9 wrap(N(14, 3.5)) (daytime), else floor(U * 24)
 *        category      ~ LEGIT_WEIGHTS (grocery .25, restaurant .18, retail .17, fuel .14,
 *                        online .11, travel .06, electronics .05, gambling .015,
 *                        jewelry .015, crypto .01)
 *        previousAmount = typical * LogNormal(1, 0.3) (close to the customer's usual spend)
 *        timeSinceLast = Exp(20) hours
 *   4. Fraud row: pattern B ("new scheme") with probability `drift`, else pattern A. This
 *      mixture is the drift: at 0 all fraud is A, at 1 all fraud is B, in between the new
 *      scheme gradually replaces the old one.
 *      Pattern A (original, drift 0) — big purchases at night on resellable goods:
 *        amount        = LogNormal(400, 0.8)
 *        hour          = wrap(N(2, 2))               (mostly 22:00-06:00)
 *        category      ~ FRAUD_A_WEIGHTS (electronics .25, online .22, crypto .18,
 *                        jewelry .17, gambling .10, travel .04, retail .02, grocery .01,
 *                        restaurant .005, fuel .005)
 *        previousAmount = LogNormal(45, 0.7) * LogNormal(1, 0.3)  (victim's usual spend,
 *                        so much smaller than amount)
 *        timeSinceLast = Exp(1.5) hours
 *      Pattern B (drift 1) — small, everyday-looking purchases in quick succession:
 *        amount        = LogNormal(55, 0.5)          (close to legit amounts)
 *        hour          = wrap(N(13, 3))              (daytime, like legit)
 *        category      ~ FRAUD_B_WEIGHTS (grocery .35, retail .35, fuel .25, restaurant .05)
 *        previousAmount = amount * LogNormal(6, 0.4)  (much larger than amount)
 *        timeSinceLast = Exp(0.1) hours              (~6 minutes)
 *   5. Rounding/clamping: amount and previousAmount to cents, amount in [0.01, 999999.99],
 *      previousAmount in [0, 999999.99]; timeSinceLast to 2 decimals (>= 0).
 *   6. label = 'fraud' | 'legit', source = 'synthetic'.
 *
 * A model trained at drift 0 learns "night + electronics/crypto + big amount"; at drift 1 fraud
 * looks legit on those features and is only recognisable by short timeSinceLast and
 * previousAmount >> amount, so its accuracy drops (see fraud-generator.unit.test.ts).
 *
 * Without a seed each call draws a random one, so repeated unseeded batches differ.
 */
import type { FraudInput, LabelledRow } from './types.js';

export interface FraudGeneratorOptions {
  seed?: number;
  fraudRate?: number;
  drift?: number;
}

export const FRAUD_LABEL = 'fraud';
export const LEGIT_LABEL = 'legit';

export const MERCHANT_CATEGORIES: readonly string[] = Object.freeze([
  'grocery',
  'restaurant',
  'fuel',
  'retail',
  'travel',
  'electronics',
  'online',
  'gambling',
  'crypto',
  'jewelry',
]);

type Weights = Readonly<Record<string, number>>;

const LEGIT_WEIGHTS: Weights = {
  grocery: 0.25, restaurant: 0.18, fuel: 0.14, retail: 0.17, travel: 0.06,
  electronics: 0.05, online: 0.11, gambling: 0.015, crypto: 0.01, jewelry: 0.015,
};
const FRAUD_A_WEIGHTS: Weights = {
  grocery: 0.01, restaurant: 0.005, fuel: 0.005, retail: 0.02, travel: 0.04,
  electronics: 0.25, online: 0.22, gambling: 0.1, crypto: 0.18, jewelry: 0.17,
};
const FRAUD_B_WEIGHTS: Weights = { grocery: 0.35, retail: 0.35, fuel: 0.25, restaurant: 0.05 };

/** Cumulative table over MERCHANT_CATEGORIES so sampling is a short linear scan, no allocation. */
function cumulative(weights: Weights): Float64Array {
  const out = new Float64Array(MERCHANT_CATEGORIES.length);
  let sum = 0;
  MERCHANT_CATEGORIES.forEach((c, i) => {
    sum += weights[c] ?? 0;
    out[i] = sum;
  });
  // Normalise so the last bucket is exactly 1 and rounding can never fall off the end.
  for (let i = 0; i < out.length; i++) out[i] = out[i]! / sum;
  return out;
}
const LEGIT_CUM = cumulative(LEGIT_WEIGHTS);
const FRAUD_A_CUM = cumulative(FRAUD_A_WEIGHTS);
const FRAUD_B_CUM = cumulative(FRAUD_B_WEIGHTS);

const MAX_AMOUNT = 999_999.99;
const DEFAULT_FRAUD_RATE = 0.08;
/** fraudStream default: drift goes 0 -> 1 over 100k rows. */
export const DEFAULT_DRIFT_PER_ROW = 1e-5;

/** Seeded uniform + normal source. A class with fields (not closures) keeps the hot loop fast. */
class Rng {
  private state: number;
  private spare = 0;
  private hasSpare = false;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** mulberry32: tiny, fast, good enough statistically for simulation. */
  uniform(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) | 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Standard normal via Box–Muller; the second value is cached for the next call. */
  normal(): number {
    if (this.hasSpare) {
      this.hasSpare = false;
      return this.spare;
    }
    // 1 - U is in (0, 1], so the log is finite.
    const r = Math.sqrt(-2 * Math.log(1 - this.uniform()));
    const theta = 2 * Math.PI * this.uniform();
    this.spare = r * Math.sin(theta);
    this.hasSpare = true;
    return r * Math.cos(theta);
  }

  logNormal(median: number, sigma: number): number {
    return median * Math.exp(sigma * this.normal());
  }

  exponential(mean: number): number {
    return -mean * Math.log(1 - this.uniform());
  }

  category(cum: Float64Array): string {
    const u = this.uniform();
    let i = 0;
    while (i < cum.length - 1 && u >= cum[i]!) i++;
    return MERCHANT_CATEGORIES[i]!;
  }
}

function wrapHour(x: number): number {
  return ((Math.round(x) % 24) + 24) % 24;
}

function cents(x: number, min: number): number {
  const v = Math.round(x * 100) / 100;
  return v < min ? min : v > MAX_AMOUNT ? MAX_AMOUNT : v;
}

function generateRow(rng: Rng, fraudRate: number, drift: number): LabelledRow<FraudInput> {
  const fraud = rng.uniform() < fraudRate;
  const dayOfWeek = Math.floor(rng.uniform() * 7);
  let amount: number;
  let hour: number;
  let merchantCategory: string;
  let previousAmount: number;
  let timeSinceLast: number;

  if (!fraud) {
    const typical = rng.logNormal(45, 0.7);
    amount = typical * rng.logNormal(1, 0.5);
    hour = rng.uniform() < 0.9 ? wrapHour(14 + 3.5 * rng.normal()) : Math.floor(rng.uniform() * 24);
    merchantCategory = rng.category(LEGIT_CUM);
    previousAmount = typical * rng.logNormal(1, 0.3);
    timeSinceLast = rng.exponential(20);
  } else if (rng.uniform() < drift) {
    amount = rng.logNormal(55, 0.5);
    hour = wrapHour(13 + 3 * rng.normal());
    merchantCategory = rng.category(FRAUD_B_CUM);
    previousAmount = amount * rng.logNormal(6, 0.4);
    timeSinceLast = rng.exponential(0.1);
  } else {
    amount = rng.logNormal(400, 0.8);
    hour = wrapHour(2 + 2 * rng.normal());
    merchantCategory = rng.category(FRAUD_A_CUM);
    previousAmount = rng.logNormal(45, 0.7) * rng.logNormal(1, 0.3);
    timeSinceLast = rng.exponential(1.5);
  }

  return {
    input: {
      amount: cents(amount, 0.01),
      hour,
      dayOfWeek,
      merchantCategory,
      previousAmount: cents(previousAmount, 0),
      timeSinceLast: Math.round(timeSinceLast * 100) / 100,
    },
    label: fraud ? FRAUD_LABEL : LEGIT_LABEL,
    source: 'synthetic',
  };
}

interface Resolved {
  rng: Rng;
  fraudRate: number;
  drift: number;
}

function checkUnit(name: string, v: number): number {
  if (!Number.isFinite(v) || v < 0 || v > 1) throw new RangeError(`${name} must be in [0, 1], got ${v}`);
  return v;
}

function resolve(opts: FraudGeneratorOptions, defaultDrift: number): Resolved {
  const seed = opts.seed ?? Math.floor(Math.random() * 2 ** 32);
  if (!Number.isFinite(seed)) throw new RangeError(`seed must be a finite number, got ${seed}`);
  return {
    rng: new Rng(seed),
    fraudRate: checkUnit('fraudRate', opts.fraudRate ?? DEFAULT_FRAUD_RATE),
    drift: checkUnit('drift', opts.drift ?? defaultDrift),
  };
}

function checkCount(n: number): void {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`n must be a non-negative integer, got ${n}`);
}

/**
 * The fast path: a preallocated array filled in one tight loop of plain objects.
 * Measured on Node 24: 1,000,000 rows in 0.35-0.65 s and ~190 MB of heap (the test times it).
 * With `driftPerRow`, drift rises from `drift` by that much per row, capped at 1.
 */
export function generateFraudRows(
  n: number,
  opts: FraudGeneratorOptions & { driftPerRow?: number } = {},
): LabelledRow<FraudInput>[] {
  checkCount(n);
  const r = resolve(opts, 0);
  const step = opts.driftPerRow ?? 0;
  if (!Number.isFinite(step) || step < 0) throw new RangeError(`driftPerRow must be >= 0, got ${step}`);
  const out = new Array<LabelledRow<FraudInput>>(n);
  for (let i = 0; i < n; i++) {
    const drift = step === 0 ? r.drift : Math.min(1, r.drift + i * step);
    out[i] = generateRow(r.rng, r.fraudRate, drift);
  }
  return out;
}

/** Bootstrap data: always the original (drift 0) fraud pattern, whatever opts.drift says. */
export function generateInitialData(n: number, opts: FraudGeneratorOptions = {}): LabelledRow<FraudInput>[] {
  return generateFraudRows(n, { ...opts, drift: 0 });
}

/** A later batch at the given drift (default 0). */
export function generateNewBatch(n: number, opts: FraudGeneratorOptions = {}): LabelledRow<FraudInput>[] {
  return generateFraudRows(n, opts);
}

/**
 * Endless stream; drift starts at opts.drift (default 0) and rises by driftPerRow
 * (default 1e-5, i.e. fully drifted after 100k rows) per row, capped at 1.
 * Row i equals row i of generateFraudRows(n, opts) for the same seed and explicit driftPerRow.
 */
export function fraudStream(
  opts: FraudGeneratorOptions & { driftPerRow?: number },
): Generator<LabelledRow<FraudInput>> {
  // Validate now rather than on the first next(), which is where a generator body would.
  const r = resolve(opts, 0);
  const step = opts.driftPerRow ?? DEFAULT_DRIFT_PER_ROW;
  if (!Number.isFinite(step) || step < 0) throw new RangeError(`driftPerRow must be >= 0, got ${step}`);
  return (function* () {
    for (let i = 0; ; i++) {
      yield generateRow(r.rng, r.fraudRate, Math.min(1, r.drift + i * step));
    }
  })();
}
