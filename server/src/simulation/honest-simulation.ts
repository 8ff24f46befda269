/**
 * Honest-accuracy scenarios through the API: the truth is known (the fraud generator's labels),
 * feedback is not a random sample, and the summary puts, per window, the true accuracy beside
 * the raw, corrected, audited and estimated ones the server reports, with their intervals.
 */
import { generateFraudRows } from '../tasks/data/fraud-generator.js';
import { createRng, deriveSeed } from './scenarios.js';
import { givesFeedback, type LabellingPolicy } from './selective-feedback.js';

export const HONEST_SCENARIOS = ['selective', 'audited', 'late', 'input-drift'] as const;
export type HonestScenario = (typeof HONEST_SCENARIOS)[number];

export const HONEST_SCENARIO_DOCS: Record<HonestScenario, string> = {
  selective: 'feedback on 90% of wrong and 10% of right predictions; callers ignore feedbackRequested',
  audited: 'the same complaints, but callers answer every prediction served with feedbackRequested',
  late: 'random 20% feedback, given two windows after the prediction (label delay)',
  'input-drift': 'amounts 3x and a new merchant category from window 3 on; labels arrive three windows late',
};

interface ScenarioSettings {
  policy: LabellingPolicy;
  honourAudit: boolean;
  /** Windows between a prediction and its feedback. */
  delayWindows: number;
  /** First window with moved inputs (none: Infinity). */
  shiftFrom: number;
}

const SETTINGS: Record<HonestScenario, ScenarioSettings> = {
  selective: { policy: 'wrong-mostly', honourAudit: false, delayWindows: 0, shiftFrom: Infinity },
  audited: { policy: 'wrong-mostly', honourAudit: true, delayWindows: 0, shiftFrom: Infinity },
  late: { policy: 'random', honourAudit: true, delayWindows: 2, shiftFrom: Infinity },
  'input-drift': { policy: 'random', honourAudit: true, delayWindows: 3, shiftFrom: 2 },
};

export interface HonestSimulationOptions {
  url: string;
  scenario: HonestScenario;
  windows: number;
  perWindow: number;
  seed: number;
  token?: string | null;
}

export interface Interval {
  lower: number;
  upper: number;
}

export interface WindowFigures {
  accuracy: number | null;
  accuracyInterval: Interval | null;
  correctedAccuracy: number | null;
  correctedAccuracyInterval: Interval | null;
  auditedAccuracy: number | null;
  auditedAccuracyInterval: Interval | null;
  estimatedAccuracy: number | null;
  estimatedAccuracyInterval: Interval | null;
  labelledShare: number | null;
  predictionCount: number;
  feedbackCount: number;
}

export interface HonestWindow {
  window: number;
  /** The accuracy of this window's predictions against the simulation's true labels. */
  trueAccuracy: number;
  shifted: boolean;
  /** What the server said right after the window (labels of delayed feedback not there yet). */
  atEnd: WindowFigures;
  /** What it says at the end of the run, when every label that will come has come. */
  final: WindowFigures;
  drifted: boolean | null;
  driftedFeatures: string[];
}

export interface HonestSummary {
  scenario: HonestScenario;
  windows: HonestWindow[];
  /** How often each figure's interval held the true accuracy (windows where it had one). */
  coverage: Record<'raw' | 'corrected' | 'audited' | 'estimated', { covered: number; of: number }>;
}

const BUCKET = /* GraphQL */ `query HonestWindow($from: DateTime!, $to: DateTime!, $bucketSeconds: Int) {
  metricsHistory(model: "fraud", from: $from, to: $to, bucketSeconds: $bucketSeconds) {
    accuracy accuracyInterval { lower upper } correctedAccuracy correctedAccuracyInterval { lower upper }
    auditedAccuracy auditedAccuracyInterval { lower upper } estimatedAccuracy estimatedAccuracyInterval { lower upper }
    labelledShare predictionCount feedbackCount
  }
}`;

async function gql<T>(o: HonestSimulationOptions, query: string, variables: Record<string, unknown>): Promise<T> {
  const res = await fetch(o.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(o.token ? { authorization: `Bearer ${o.token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await res.json()) as { data?: T; errors?: { message: string }[] };
  if (body.errors?.length || !body.data) throw new Error(`GraphQL: ${body.errors?.map((e) => e.message).join('; ') ?? res.status}`);
  return body.data;
}

const within = (x: number, i: Interval | null) => i !== null && x >= i.lower - 1e-12 && x <= i.upper + 1e-12;

export async function runHonestSimulation(o: HonestSimulationOptions): Promise<HonestSummary> {
  const s = SETTINGS[o.scenario];
  const labelRng = createRng(deriveSeed(o.seed, 1));
  const shiftRng = createRng(deriveSeed(o.seed, 2));
  const rows = generateFraudRows(o.windows * o.perWindow, { seed: deriveSeed(o.seed, 0) });
  type Sent = { id: string; actual: string };
  const pendingFeedback = new Map<number, Sent[]>();
  const spans: { from: Date; to: Date; truth: number; shifted: boolean; atEnd: WindowFigures | null; drifted: boolean | null; driftedFeatures: string[] }[] =
    [];

  const sendFeedback = async (items: Sent[]) => {
    // 16 in flight: the API's durable commits batch them (group commit).
    const queue = [...items];
    const worker = async () => {
      for (let f = queue.shift(); f; f = queue.shift()) {
        await gql(o, `mutation($input: FeedbackInput!) { submitFeedback(input: $input) { id } }`, { input: { predictionId: f.id, actual: f.actual } });
      }
    };
    await Promise.all(Array.from({ length: 16 }, worker));
  };

  for (let w = 0; w < o.windows; w++) {
    const shifted = w >= s.shiftFrom;
    const batch = rows.slice(w * o.perWindow, (w + 1) * o.perWindow).map((r) => ({
      ...r,
      input: shifted
        ? { ...r.input, amount: Math.min(1_000_000, r.input.amount * 3), merchantCategory: shiftRng() < 0.3 ? 'bnpl' : r.input.merchantCategory }
        : r.input,
    }));
    let correct = 0;
    let from: Date | null = null;
    let to: Date | null = null;
    const feedback: Sent[] = [];
    for (let i = 0; i < batch.length; i += 100) {
      const chunk = batch.slice(i, i + 100);
      const res = await gql<{ predictBatch: { id: string; label: string; probability: number; feedbackRequested: boolean; createdAt: string }[] }>(
        o,
        `mutation($inputs: [PredictInput!]!) { predictBatch(inputs: $inputs) { id label probability feedbackRequested createdAt } }`,
        { inputs: chunk.map((r) => ({ fraud: r.input })) },
      );
      res.predictBatch.forEach((p, k) => {
        const actual = chunk[k]!.label;
        const right = p.label === actual;
        if (right) correct++;
        const at = new Date(p.createdAt);
        if (!from || at < from) from = at;
        if (!to || at > to) to = at;
        const asked = s.honourAudit && p.feedbackRequested;
        if (asked || givesFeedback(s.policy, { correct: right, positive: p.label === 'fraud', probability: p.probability }, labelRng))
          feedback.push({ id: p.id, actual });
      });
    }
    const due = w + s.delayWindows;
    pendingFeedback.set(due, [...(pendingFeedback.get(due) ?? []), ...feedback]);
    await sendFeedback(pendingFeedback.get(w) ?? []);
    pendingFeedback.delete(w);
    const span = {
      from: from!,
      to: new Date(to!.getTime() + 1),
      truth: correct / batch.length,
      shifted,
      atEnd: null as WindowFigures | null,
      drifted: null as boolean | null,
      driftedFeatures: [] as string[],
    };
    span.atEnd = await figures(o, span.from, span.to);
    const drift = (
      await gql<{ drift: { drifted: boolean; features: { name: string; kind: string; drifted: boolean }[] } }>(
        o,
        `{ drift(model: "fraud", window: { lastFeedback: ${o.perWindow} }) { drifted features { name kind drifted } } }`,
        {},
      )
    ).drift;
    span.drifted = drift.drifted;
    span.driftedFeatures = drift.features.filter((f) => f.drifted && f.kind !== 'label').map((f) => f.name);
    spans.push(span);
  }
  // The labels still owed arrive now: each window's estimate can be compared with what was realised.
  for (const [, items] of [...pendingFeedback].sort(([a], [b]) => a - b)) await sendFeedback(items);

  const windows: HonestWindow[] = [];
  for (const [i, span] of spans.entries()) {
    windows.push({
      window: i + 1,
      trueAccuracy: span.truth,
      shifted: span.shifted,
      atEnd: span.atEnd!,
      final: await figures(o, span.from, span.to),
      drifted: span.drifted,
      driftedFeatures: span.driftedFeatures,
    });
  }
  const coverage = { raw: { covered: 0, of: 0 }, corrected: { covered: 0, of: 0 }, audited: { covered: 0, of: 0 }, estimated: { covered: 0, of: 0 } };
  for (const w of windows) {
    const count = (key: keyof typeof coverage, i: Interval | null) => {
      if (!i) return;
      coverage[key].of++;
      if (within(w.trueAccuracy, i)) coverage[key].covered++;
    };
    count('raw', w.final.accuracyInterval);
    count('corrected', w.final.correctedAccuracyInterval);
    count('audited', w.final.auditedAccuracyInterval);
    // The estimate is judged when it is made: right after the window, before late labels.
    count('estimated', w.atEnd.estimatedAccuracyInterval);
  }
  return { scenario: o.scenario, windows, coverage };
}

async function figures(o: HonestSimulationOptions, from: Date, to: Date): Promise<WindowFigures> {
  const bucketSeconds = Math.max(1, Math.ceil((to.getTime() - from.getTime()) / 1000));
  const data = await gql<{ metricsHistory: WindowFigures[] }>(o, BUCKET, { from: from.toISOString(), to: to.toISOString(), bucketSeconds });
  return data.metricsHistory[0]!;
}

const pct = (x: number | null) => (x === null ? '   -  ' : `${(x * 100).toFixed(1).padStart(5)}%`);
const band = (x: number | null, i: Interval | null) =>
  x === null ? '        -         ' : `${pct(x)} [${pct(i?.lower ?? null)}, ${pct(i?.upper ?? null)}]`.replace(/ +/g, ' ').padEnd(26);

/** The per-window table the CLI prints. */
export function renderHonestSummary(s: HonestSummary): string {
  const lines = [
    `Honest accuracy: ${s.scenario} — ${HONEST_SCENARIO_DOCS[s.scenario]}`,
    'window | true   | raw (feedback)           | corrected                | audited                  | estimated at window end  | labelled | drift',
  ];
  for (const w of s.windows) {
    lines.push(
      [
        String(w.window).padStart(6),
        pct(w.trueAccuracy),
        band(w.final.accuracy, w.final.accuracyInterval),
        band(w.final.correctedAccuracy, w.final.correctedAccuracyInterval),
        band(w.final.auditedAccuracy, w.final.auditedAccuracyInterval),
        band(w.atEnd.estimatedAccuracy, w.atEnd.estimatedAccuracyInterval),
        pct(w.final.labelledShare),
        w.drifted === null ? '-' : w.drifted ? `DRIFT (${w.driftedFeatures.join(', ')})` : 'ok',
      ].join(' | '),
    );
  }
  const c = s.coverage;
  lines.push(
    `true accuracy inside the 95% interval: raw ${c.raw.covered}/${c.raw.of}, corrected ${c.corrected.covered}/${c.corrected.of}, audited ${c.audited.covered}/${c.audited.of}, estimated ${c.estimated.covered}/${c.estimated.of}`,
  );
  return lines.join('\n');
}
