/**
 * The closed loop, shown end to end: a stream the model has not seen arrives, people answer
 * with the truth, live accuracy falls, Relearn retrains by itself, promotes the new version and
 * accuracy recovers. Used by `npm run demo:retrain` and by its test.
 */
import { generateNewBatch } from '../tasks/data/fraud-generator.js';
import { STREAM_GROUPS, loadSpamAssassin } from '../tasks/data/spam-assassin.js';
import { createRng } from './scenarios.js';

export interface RetrainDemoOptions {
  /** GraphQL endpoint, e.g. http://127.0.0.1:4000/graphql. */
  url: string;
  model: 'spam' | 'fraud';
  /** How many stream rows to send (spam: at most the 2,796 messages of the later groups). */
  rows: number;
  batch: number;
  seed: number;
  /** Stop streaming while a retrain runs, so the rows after it are all served by its result. */
  pauseDuringRetrain?: boolean;
  /** Rows per second at most: traffic arrives over time, as it would, and triggers get to look. */
  rate?: number;
}

export interface DemoPhase {
  rows: number;
  accuracy: number | null;
}

export interface RetrainDemoReport {
  model: string;
  rowsSent: number;
  /** Served by the bootstrap version before any retrain was asked for. */
  beforeTrigger: DemoPhase;
  /** Served by the first promoted version. */
  afterPromotion: DemoPhase;
  trigger: { atRow: number; reason: string } | null;
  promotion: { atRow: number; version: number; message: string } | null;
  jobs: { state: string; reason: string; version: number | null; message: string | null }[];
  /** Holdout accuracy at training time, per version ("the first accuracy"). */
  trainingAccuracy: Record<number, number | null>;
  /** Accuracy per block of rows, with the version that served most of it. */
  timeline: { fromRow: number; accuracy: number; version: number }[];
}

const PREDICT_BATCH = `mutation($inputs: [PredictInput!]!) { predictBatch(inputs: $inputs) { id label modelVersion { version } } }`;
const FEEDBACK = `mutation($input: FeedbackInput!) { submitFeedback(input: $input) { id } }`;
const JOBS = `query($model: String!) { retrainJobs(model: $model, limit: 50) { state reason version message createdAt } }`;
const VERSIONS = `query($model: String!) { modelVersions(model: $model) { version trainingMetrics { accuracy } } }`;

async function gql(url: string, query: string, variables: Record<string, unknown>) {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query, variables }) });
  const body = (await res.json()) as { data?: any; errors?: { message: string }[] };
  if (body.errors?.length) throw new Error(`${body.errors[0]!.message}`);
  return body.data;
}

async function streamRows(options: RetrainDemoOptions): Promise<{ input: object; label: string }[]> {
  const rng = createRng(options.seed);
  if (options.model === 'fraud') {
    return generateNewBatch(options.rows, { seed: options.seed, drift: 1, fraudRate: 0.3 }).map((r) => ({ input: { fraud: r.input }, label: r.label }));
  }
  const rows = await loadSpamAssassin(STREAM_GROUPS);
  for (let i = rows.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [rows[i], rows[j]] = [rows[j]!, rows[i]!];
  }
  return rows.slice(0, options.rows).map((r) => ({ input: { spam: { text: r.input.text } }, label: r.label }));
}

export async function runRetrainDemo(
  options: RetrainDemoOptions,
  onProgress: (sent: number, total: number, lastJob: string | null) => void = () => {},
): Promise<RetrainDemoReport> {
  const rows = await streamRows(options);
  const outcomes: { correct: boolean; version: number }[] = [];
  let trigger: RetrainDemoReport['trigger'] = null;
  let promotion: RetrainDemoReport['promotion'] = null;
  let jobs: RetrainDemoReport['jobs'] = [];
  const started = Date.now();
  let paused = 0;
  for (let start = 0; start < rows.length; start += options.batch) {
    const due = started + paused + (start / (options.rate ?? 250)) * 1000;
    if (due > Date.now()) await new Promise((r) => setTimeout(r, due - Date.now()));
    const batch = rows.slice(start, start + options.batch);
    const predicted = (await gql(options.url, PREDICT_BATCH, { inputs: batch.map((r) => r.input) })).predictBatch as {
      id: string;
      label: string;
      modelVersion: { version: number };
    }[];
    await Promise.all(predicted.map((p, i) => gql(options.url, FEEDBACK, { input: { predictionId: p.id, actual: batch[i]!.label } })));
    predicted.forEach((p, i) => outcomes.push({ correct: p.label === batch[i]!.label, version: p.modelVersion.version }));
    const fetchJobs = async () => ((await gql(options.url, JOBS, { model: options.model })).retrainJobs as RetrainDemoReport['jobs']).reverse();
    jobs = await fetchJobs();
    if (!trigger && jobs.length > 0) trigger = { atRow: outcomes.length, reason: jobs[0]!.reason };
    const running = () => jobs.some((j) => !['PROMOTED', 'REJECTED', 'FAILED'].includes(j.state));
    if (options.pauseDuringRetrain ?? true) {
      const pauseStarted = Date.now();
      const waitUntil = Date.now() + 300_000;
      while (running() && Date.now() < waitUntil) {
        onProgress(outcomes.length, rows.length, jobs.at(-1)?.state ?? null);
        await new Promise((r) => setTimeout(r, 250));
        jobs = await fetchJobs();
      }
      paused += Date.now() - pauseStarted;
    }
    const promoted = jobs.find((j) => j.state === 'PROMOTED');
    if (!promotion && promoted) promotion = { atRow: outcomes.length, version: promoted.version!, message: promoted.message ?? '' };
    onProgress(outcomes.length, rows.length, jobs.at(-1)?.state ?? null);
  }
  const accuracy = (xs: { correct: boolean }[]) => (xs.length ? xs.filter((x) => x.correct).length / xs.length : null);
  const before = outcomes.slice(0, trigger?.atRow ?? outcomes.length).filter((o) => o.version === 1);
  const after = promotion ? outcomes.filter((o) => o.version === promotion!.version) : [];
  const versions = (await gql(options.url, VERSIONS, { model: options.model })).modelVersions as {
    version: number;
    trainingMetrics: { accuracy: number | null } | null;
  }[];
  const block = Math.max(options.batch, Math.round(outcomes.length / 12));
  const timeline: RetrainDemoReport['timeline'] = [];
  for (let i = 0; i < outcomes.length; i += block) {
    const slice = outcomes.slice(i, i + block);
    const counts = new Map<number, number>();
    for (const o of slice) counts.set(o.version, (counts.get(o.version) ?? 0) + 1);
    timeline.push({ fromRow: i, accuracy: accuracy(slice)!, version: [...counts.entries()].sort((a, b) => b[1] - a[1])[0]![0] });
  }
  return {
    model: options.model,
    rowsSent: outcomes.length,
    beforeTrigger: { rows: before.length, accuracy: accuracy(before) },
    afterPromotion: { rows: after.length, accuracy: accuracy(after) },
    trigger,
    promotion,
    jobs,
    trainingAccuracy: Object.fromEntries(versions.map((v) => [v.version, v.trainingMetrics?.accuracy ?? null])),
    timeline,
  };
}
