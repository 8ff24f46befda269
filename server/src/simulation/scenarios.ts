/**
 * Where the simulated traffic comes from. Every row carries its true label (from the fraud
 * generator or the SpamAssassin corpus), so the feedback the simulation sends is the truth and
 * the live accuracy it produces is real; scenarios differ only in which inputs they draw.
 */
import { fraudStream } from '../tasks/data/fraud-generator.js';
import { BOOTSTRAP_GROUPS, loadSpamAssassin, STREAM_GROUPS } from '../tasks/data/spam-assassin.js';
import type { FraudInput, LabelledRow } from '../tasks/data/types.js';

export const SIMULATION_MODELS = ['fraud', 'spam'] as const;
export type SimulationModel = (typeof SIMULATION_MODELS)[number];

export const SCENARIOS = ['good', 'mixed', 'poor', 'recovery', 'drift'] as const;
export type Scenario = (typeof SCENARIOS)[number];

/**
 * Fraud share of the `poor` pool. At drift 1 all fraud follows the new scheme (small daytime
 * purchases in quick succession) that the bootstrap model calls legit, so with most rows fraud
 * the model is mostly wrong until online learning catches up.
 */
export const POOR_FRAUD_RATE = 0.7;

/** What each scenario sends, per model; shown by `simulate --help`. */
export const SCENARIO_DOCS: Record<Scenario, { summary: string; fraud: string; spam: string }> = {
  good: {
    summary: 'in-distribution inputs: the model is mostly right',
    fraud: 'generator at drift 0 (the bootstrap distribution, 8% fraud)',
    spam: `the bootstrap groups ${BOOTSTRAP_GROUPS.join(', ')}, shuffled`,
  },
  mixed: {
    summary: 'each row drawn from the good or the poor pool with probability 1/2',
    fraud: 'half drift 0, half the poor pool',
    spam: 'half bootstrap groups, half stream groups',
  },
  poor: {
    summary: 'inputs the model gets wrong more often: it never saw their kind',
    fraud: `generator at drift 1 with ${POOR_FRAUD_RATE * 100}% fraud: the new fraud scheme looks legit to the model`,
    spam: `the later groups ${STREAM_GROUPS.join(', ')}, shuffled`,
  },
  recovery: {
    summary: 'the first half of the run is poor, the second half good',
    fraud: 'poor pool, then drift 0',
    spam: 'stream groups, then bootstrap groups',
  },
  drift: {
    summary: 'the input distribution moves away from the training data over the run',
    fraud: 'generator drift rises linearly from 0 at the first row to 1 at the last (fraudStream)',
    spam: 'row i comes from the stream groups with probability i/(count-1), else from the bootstrap groups',
  },
};

export type SimulationInput = { fraud: FraudInput } | { spam: { text: string } };

export interface SimulationRow {
  /** The `PredictInput` to send. */
  input: SimulationInput;
  /** The true label: what the feedback reports. */
  label: string;
  /** Where the row came from, e.g. "drift 0.42" or "spam-2". */
  origin: string;
}

export interface ScenarioSource {
  /** The next row of the run: call it once per row, in row order. */
  next(): SimulationRow;
  /** What rows [from, to) of the run are, for the per-quarter table. */
  describe(from: number, to: number): string;
}

/** mulberry32: a small seeded uniform source, same as the fraud generator's. */
export function createRng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    let t = (state = (state + 0x6d2b79f5) | 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** An independent seed for the k-th random stream of a run. */
export function deriveSeed(seed: number, k: number): number {
  let h = (seed ^ Math.imul(k + 1, 0x9e3779b9)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b) >>> 0;
  return (h ^ (h >>> 13)) >>> 0;
}

type Pool = () => SimulationRow;

/** Draws without replacement; reshuffles when the deck runs out, so any count works. */
function deck<T>(items: readonly T[], rng: () => number): () => T {
  if (items.length === 0) throw new Error('cannot draw from an empty pool');
  const order = items.map((_, i) => i);
  let pos = order.length;
  return () => {
    if (pos >= order.length) {
      for (let i = order.length - 1; i > 0; i--) {
        const j = Math.floor(rng() * (i + 1));
        [order[i], order[j]] = [order[j]!, order[i]!];
      }
      pos = 0;
    }
    return items[order[pos++]!]!;
  };
}

function fraudPool(stream: Iterator<LabelledRow<FraudInput>>, origin: (i: number) => string): Pool {
  let i = 0;
  return () => {
    const row = stream.next().value as LabelledRow<FraudInput>;
    return { input: { fraud: row.input }, label: row.label, origin: origin(i++) };
  };
}

function spamPool(rows: readonly LabelledRow<{ text: string }>[], rng: () => number): Pool {
  const draw = deck(rows, rng);
  return () => {
    const row = draw();
    return { input: { spam: { text: row.input.text } }, label: row.label, origin: row.source ?? 'spam-assassin' };
  };
}

const pct = (x: number) => `${Math.round(x * 100)}%`;

/** The rows of one run. `seed` makes the inputs reproducible. */
export async function createScenario(model: SimulationModel, scenario: Scenario, options: { count: number; seed: number }): Promise<ScenarioSource> {
  const { count, seed } = options;
  const last = Math.max(1, count - 1);
  const mixRng = createRng(deriveSeed(seed, 0));
  const half = Math.floor(count / 2);

  // Pools are built lazily: a fraud pool is an endless stream, a spam pool a shuffled deck.
  let good: () => Pool;
  let poor: () => Pool;
  let drifting: () => Pool;
  if (model === 'fraud') {
    good = () => fraudPool(fraudStream({ seed: deriveSeed(seed, 1), drift: 0, driftPerRow: 0 }), () => 'drift 0');
    poor = () =>
      fraudPool(
        fraudStream({ seed: deriveSeed(seed, 2), drift: 1, driftPerRow: 0, fraudRate: POOR_FRAUD_RATE }),
        () => `drift 1, ${pct(POOR_FRAUD_RATE)} fraud`,
      );
    drifting = () => fraudPool(fraudStream({ seed: deriveSeed(seed, 3), drift: 0, driftPerRow: 1 / last }), (i) => `drift ${Math.min(1, i / last).toFixed(2)}`);
  } else {
    const needBootstrap = scenario !== 'poor';
    const needStream = scenario !== 'good';
    const [bootstrap, stream] = await Promise.all([
      needBootstrap ? loadSpamAssassin(BOOTSTRAP_GROUPS) : Promise.resolve([]),
      needStream ? loadSpamAssassin(STREAM_GROUPS) : Promise.resolve([]),
    ]);
    good = () => spamPool(bootstrap, createRng(deriveSeed(seed, 1)));
    poor = () => spamPool(stream, createRng(deriveSeed(seed, 2)));
    drifting = () => {
      const g = good();
      const p = poor();
      let i = 0;
      return () => (mixRng() < i++ / last ? p() : g());
    };
  }

  const source = (next: Pool, describe: ScenarioSource['describe']): ScenarioSource => ({ next, describe });
  switch (scenario) {
    case 'good':
      return source(good(), () => 'good');
    case 'poor':
      return source(poor(), () => 'poor');
    case 'mixed': {
      const g = good();
      const p = poor();
      return source(
        () => (mixRng() < 0.5 ? p() : g()),
        () => '50% good / 50% poor',
      );
    }
    case 'recovery': {
      const g = good();
      const p = poor();
      let i = 0;
      return source(
        () => (i++ < half ? p() : g()),
        (from, to) => (to <= half ? 'poor' : from >= half ? 'good' : 'poor, then good'),
      );
    }
    case 'drift': {
      const label = model === 'fraud' ? 'drift' : 'stream share';
      return source(drifting(), (from, to) => `${label} ${(from / last).toFixed(2)}–${(Math.max(from, to - 1) / last).toFixed(2)}`);
    }
  }
}
