/**
 * Feedback simulation: sends predictions and truthful feedback through the GraphQL API over
 * HTTP, like a client application would, and measures what happened. The CLI
 * (server/src/cli/simulate.ts) only parses options, draws progress and prints the summary.
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { createRng, createScenario, deriveSeed, type Scenario, type SimulationModel } from './scenarios.js';

export interface SimulationOptions {
  model: SimulationModel;
  scenario: Scenario;
  /** Predictions to send. */
  count: number;
  /** Requests in flight at once. */
  concurrency: number;
  /** Share of predictions (0..1) that get feedback. */
  feedbackRate: number;
  /** Makes the inputs and the feedback sampling reproducible. */
  seed: number;
  /** The GraphQL endpoint, e.g. http://127.0.0.1:4000/graphql. */
  url: string;
  /** An API key with PREDICT and FEEDBACK (AUTH_MODE=keys), sent as a bearer token; null: anonymous. */
  token?: string | null;
  /** Per request; default 30 s. */
  requestTimeoutMs?: number;
}

export interface SimulationProgress {
  /** Rows finished (prediction and, if any, its feedback). */
  done: number;
  total: number;
  predictions: number;
  feedback: number;
  /** Predictions the model got right, of those scored. */
  correct: number;
  scored: number;
  accuracy: number | null;
  /** Failed requests. */
  errors: number;
  elapsedMs: number;
  /** Rows per second so far. */
  rate: number;
}

export interface SimulationHooks {
  onProgress?: (progress: SimulationProgress) => void;
  /** Aborting stops sending new rows; requests in flight finish and the summary is returned. */
  signal?: AbortSignal;
}

export interface Confusion {
  tp: number;
  fp: number;
  tn: number;
  fn: number;
}

export interface ServerMetrics {
  accuracy: number | null;
  precision: number | null;
  recall: number | null;
  f1: number | null;
  feedbackCount: number;
  predictionCount: number;
  confusion: Confusion;
  liveVersion: { version: number } | null;
}

export interface QuarterStats {
  quarter: number;
  /** Rows [from, to) of the run. */
  from: number;
  to: number;
  /** What the scenario sent in these rows. */
  phase: string;
  scored: number;
  accuracy: number | null;
  /** Recall of the positive label (fraud, spam) on this run's rows. */
  recall: number | null;
  confusion: Confusion;
}

export interface Percentiles {
  count: number;
  p50: number | null;
  p99: number | null;
}

export interface SimulationSummary {
  model: string;
  scenario: Scenario;
  url: string;
  seed: number;
  count: number;
  concurrency: number;
  feedbackRate: number;
  positiveLabel: string;
  /** True when the run was stopped (signal or too many consecutive failures) before `count` rows. */
  interrupted: boolean;
  interruptReason: string | null;
  rowsDone: number;
  predictionsSent: number;
  predictionsFailed: number;
  feedbackSent: number;
  feedbackFailed: number;
  /** Feedback attempts repeated after a network error. */
  feedbackRetries: number;
  /** Failed requests by error code (GraphQL extensions.code, HTTP_<status>, TIMEOUT, ECONNREFUSED, ...). */
  errors: Record<string, number>;
  errorSamples: { operation: 'predict' | 'feedback' | 'metrics'; code: string; message: string }[];
  /** The model's accuracy on this run's rows, against the true labels. */
  runAccuracy: number | null;
  runRecall: number | null;
  runConfusion: Confusion;
  quarters: QuarterStats[];
  /** Predictions served per model version during the run. */
  versionsSeen: Record<string, number>;
  liveVersionBefore: number | null;
  liveVersionAfter: number | null;
  server: {
    before: { lifetime: ServerMetrics; lastFeedback100: ServerMetrics };
    after: { lifetime: ServerMetrics; lastFeedback100: ServerMetrics } | null;
  };
  durationMs: number;
  throughput: { rowsPerSecond: number; requestsPerSecond: number };
  latencyMs: { predict: Percentiles; feedback: Percentiles; all: Percentiles };
  /** True when any request failed or the run was interrupted: the CLI exits 1. */
  failed: boolean;
}

export class SimulationError extends Error {
  override name = 'SimulationError';
}

// One constant document per operation: the server caches parse/validate per document text.
export const PREDICT_DOCUMENT = /* GraphQL */ `mutation SimulatePredict($input: PredictInput!) {
  predict(input: $input) { id label modelVersion { version } }
}`;
export const FEEDBACK_DOCUMENT = /* GraphQL */ `mutation SimulateFeedback($input: FeedbackInput!) {
  submitFeedback(input: $input) { id correct }
}`;
export const MODELS_DOCUMENT = /* GraphQL */ `query SimulateModels {
  models { name labels positiveLabel liveVersion { version } }
}`;
export const METRICS_DOCUMENT = /* GraphQL */ `query SimulateMetrics($model: String!, $last: Int!) {
  lifetime: metrics(model: $model) { ...SimulateMetricsFields }
  recent: metrics(model: $model, window: { lastFeedback: $last }) { ...SimulateMetricsFields }
}
fragment SimulateMetricsFields on ModelMetrics {
  accuracy precision recall f1 feedbackCount predictionCount confusion { tp fp tn fn } liveVersion { version }
}`;

const RECENT_WINDOW = 100;
const FEEDBACK_TRIES = 3;
const BACKOFF_MS = 100;
/** Stop early when this many requests in a row fail: the server is gone. */
const MAX_CONSECUTIVE_FAILURES = 50;
const MAX_ERROR_SAMPLES = 5;

type Outcome<T> = { ok: true; data: T; ms: number } | { ok: false; code: string; message: string; network: boolean; ms: number | null };

/** `http://host:port` or `.../` means the server's `/graphql` endpoint. */
export function normaliseUrl(url: string): string {
  const u = new URL(url);
  if (u.pathname === '' || u.pathname === '/') u.pathname = '/graphql';
  return u.toString();
}

function networkCode(error: unknown): string {
  const e = error as { name?: string; code?: string; cause?: { code?: string; name?: string } };
  if (e?.name === 'TimeoutError' || e?.cause?.name === 'TimeoutError') return 'TIMEOUT';
  return e?.cause?.code ?? e?.code ?? 'NETWORK';
}

function describeError(error: unknown): string {
  const e = error as Error & { cause?: Error };
  return e?.cause?.message ? `${e.message}: ${e.cause.message}` : String(e?.message ?? error);
}

async function post<T>(url: string, query: string, variables: Record<string, unknown>, timeoutMs: number, authorization: string | null): Promise<Outcome<T>> {
  const started = performance.now();
  let status: number;
  let text: string;
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/graphql-response+json, application/json',
        ...(authorization ? { authorization } : {}),
      },
      body: JSON.stringify({ query, variables }),
      signal: AbortSignal.timeout(timeoutMs),
    });
    status = res.status;
    text = await res.text();
  } catch (error) {
    return { ok: false, code: networkCode(error), message: describeError(error), network: true, ms: null };
  }
  const ms = performance.now() - started;
  let body: { data?: T | null; errors?: { message: string; extensions?: { code?: string } }[] };
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    return { ok: false, code: `HTTP_${status}`, message: text.slice(0, 200), network: false, ms };
  }
  const first = body.errors?.[0];
  if (first)
    return { ok: false, code: first.extensions?.code ?? (status >= 400 ? `HTTP_${status}` : 'GRAPHQL_ERROR'), message: first.message, network: false, ms };
  if (status >= 400 || body.data === undefined || body.data === null) {
    return { ok: false, code: `HTTP_${status}`, message: text.slice(0, 200), network: false, ms };
  }
  return { ok: true, data: body.data, ms };
}

function ratio(n: number, d: number): number | null {
  return d === 0 ? null : n / d;
}

function percentiles(values: number[]): Percentiles {
  if (values.length === 0) return { count: 0, p50: null, p99: null };
  const sorted = Float64Array.from(values).sort();
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
  return { count: sorted.length, p50: at(0.5), p99: at(0.99) };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface MetricsResult {
  lifetime: ServerMetrics;
  recent: ServerMetrics;
}

async function fetchMetrics(url: string, model: string, timeoutMs: number, authorization: string | null) {
  const r = await post<MetricsResult>(url, METRICS_DOCUMENT, { model, last: RECENT_WINDOW }, timeoutMs, authorization);
  if (!r.ok) throw new SimulationError(`could not read the metrics of ${model} from ${url}: ${r.code}: ${r.message}`);
  return { lifetime: r.data.lifetime, lastFeedback100: r.data.recent };
}

/** Sends `count` predictions (and feedback for `feedbackRate` of them) and reports what happened. */
export async function runSimulation(options: SimulationOptions, hooks: SimulationHooks = {}): Promise<SimulationSummary> {
  const { model, scenario, count, concurrency, feedbackRate, seed } = options;
  const url = normaliseUrl(options.url);
  const timeoutMs = options.requestTimeoutMs ?? 30_000;
  const authorization = options.token ? `Bearer ${options.token}` : null;

  // The server must serve the model; its positive label drives recall.
  const models = await post<{ models: { name: string; labels: string[]; positiveLabel: string; liveVersion: { version: number } | null }[] }>(
    url,
    MODELS_DOCUMENT,
    {},
    timeoutMs,
    authorization,
  );
  if (!models.ok) throw new SimulationError(`cannot reach Relearn at ${url}: ${models.code}: ${models.message}`);
  const served = models.data.models.find((m) => m.name === model);
  if (!served) {
    throw new SimulationError(`the server at ${url} does not serve "${model}"; it serves: ${models.data.models.map((m) => m.name).join(', ')}`);
  }
  const positive = served.positiveLabel;
  const before = await fetchMetrics(url, model, timeoutMs, authorization);
  const source = await createScenario(model, scenario, { count, seed });

  const feedbackRng = createRng(deriveSeed(seed, 100));
  const runId = randomUUID().slice(0, 8);
  const bounds = [0, 1, 2, 3].map((q) => [Math.floor((q * count) / 4), Math.floor(((q + 1) * count) / 4)] as const);
  const quarterOf = (i: number) => {
    let q = 3;
    while (q > 0 && i < bounds[q]![0]) q--;
    return q;
  };
  const quarterConfusion: Confusion[] = bounds.map(() => ({ tp: 0, fp: 0, tn: 0, fn: 0 }));
  const runConfusion: Confusion = { tp: 0, fp: 0, tn: 0, fn: 0 };

  let next = 0;
  let done = 0;
  let predictionsSent = 0;
  let predictionsFailed = 0;
  let feedbackSent = 0;
  let feedbackFailed = 0;
  let feedbackRetries = 0;
  let correct = 0;
  let scored = 0;
  let consecutiveFailures = 0;
  let interruptReason: string | null = null;
  const errors: Record<string, number> = {};
  const errorSamples: SimulationSummary['errorSamples'] = [];
  const versionsSeen: Record<string, number> = {};
  const predictLatency: number[] = [];
  const feedbackLatency: number[] = [];
  const started = performance.now();

  const fail = (operation: SimulationSummary['errorSamples'][number]['operation'], code: string, message: string) => {
    errors[code] = (errors[code] ?? 0) + 1;
    if (errorSamples.length < MAX_ERROR_SAMPLES) errorSamples.push({ operation, code, message });
    if (++consecutiveFailures >= MAX_CONSECUTIVE_FAILURES && interruptReason === null) {
      interruptReason = `${MAX_CONSECUTIVE_FAILURES} requests in a row failed (last: ${code}: ${message})`;
    }
  };

  const progress = (): SimulationProgress => {
    const elapsedMs = performance.now() - started;
    return {
      done,
      total: count,
      predictions: predictionsSent,
      feedback: feedbackSent,
      correct,
      scored,
      accuracy: ratio(correct, scored),
      errors: predictionsFailed + feedbackFailed,
      elapsedMs,
      rate: elapsedMs > 0 ? (done * 1000) / elapsedMs : 0,
    };
  };

  const sendFeedback = async (predictionId: string, actual: string, index: number) => {
    const input = { predictionId, actual, idempotencyKey: `simulate-${runId}-${index}` };
    for (let attempt = 1; ; attempt++) {
      const r = await post<{ submitFeedback: { id: string; correct: boolean } }>(url, FEEDBACK_DOCUMENT, { input }, timeoutMs, authorization);
      if (r.ms !== null) feedbackLatency.push(r.ms);
      if (r.ok) {
        feedbackSent++;
        consecutiveFailures = 0;
        return;
      }
      // Only a network failure may be retried: the idempotency key makes a repeat harmless.
      if (r.network && attempt < FEEDBACK_TRIES) {
        feedbackRetries++;
        await sleep(BACKOFF_MS * 2 ** (attempt - 1) * (0.5 + Math.random()));
        continue;
      }
      feedbackFailed++;
      fail('feedback', r.code, r.message);
      return;
    }
  };

  const worker = async () => {
    while (next < count && interruptReason === null && !hooks.signal?.aborted) {
      // Claiming the index and drawing the row happen together, so rows stay in run order.
      const index = next++;
      const row = source.next();
      const wantsFeedback = feedbackRate >= 1 || feedbackRng() < feedbackRate;
      const r = await post<{ predict: { id: string; label: string; modelVersion: { version: number } } }>(
        url,
        PREDICT_DOCUMENT,
        { input: row.input },
        timeoutMs,
        authorization,
      );
      if (r.ms !== null) predictLatency.push(r.ms);
      if (!r.ok) {
        predictionsFailed++;
        fail('predict', r.code, r.message);
      } else {
        predictionsSent++;
        consecutiveFailures = 0;
        const p = r.data.predict;
        const v = String(p.modelVersion.version);
        versionsSeen[v] = (versionsSeen[v] ?? 0) + 1;
        scored++;
        if (p.label === row.label) correct++;
        const cell = p.label === positive ? (row.label === positive ? 'tp' : 'fp') : row.label === positive ? 'fn' : 'tn';
        runConfusion[cell]++;
        quarterConfusion[quarterOf(index)]![cell]++;
        if (wantsFeedback) await sendFeedback(p.id, row.label, index);
      }
      done++;
      hooks.onProgress?.(progress());
    }
  };

  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, count)) }, worker));
  const durationMs = performance.now() - started;
  if (interruptReason === null && hooks.signal?.aborted) interruptReason = 'interrupted by the caller';

  let after: SimulationSummary['server']['after'] = null;
  try {
    after = await fetchMetrics(url, model, timeoutMs, authorization);
  } catch (error) {
    fail('metrics', 'METRICS_UNAVAILABLE', (error as Error).message);
  }

  const recallOf = (c: Confusion) => ratio(c.tp, c.tp + c.fn);
  const requests = predictLatency.length + feedbackLatency.length;
  const failedRequests = predictionsFailed + feedbackFailed + (after === null ? 1 : 0);
  return {
    model,
    scenario,
    url,
    seed,
    count,
    concurrency,
    feedbackRate,
    positiveLabel: positive,
    interrupted: interruptReason !== null,
    interruptReason,
    rowsDone: done,
    predictionsSent,
    predictionsFailed,
    feedbackSent,
    feedbackFailed,
    feedbackRetries,
    errors,
    errorSamples,
    runAccuracy: ratio(correct, scored),
    runRecall: recallOf(runConfusion),
    runConfusion,
    quarters: bounds.map(([from, to], q) => {
      const c = quarterConfusion[q]!;
      const n = c.tp + c.fp + c.tn + c.fn;
      return { quarter: q + 1, from, to, phase: source.describe(from, to), scored: n, accuracy: ratio(c.tp + c.tn, n), recall: recallOf(c), confusion: c };
    }),
    versionsSeen,
    liveVersionBefore: served.liveVersion?.version ?? null,
    liveVersionAfter: after?.lifetime.liveVersion?.version ?? null,
    server: { before, after },
    durationMs,
    throughput: {
      rowsPerSecond: durationMs > 0 ? (done * 1000) / durationMs : 0,
      requestsPerSecond: durationMs > 0 ? (requests * 1000) / durationMs : 0,
    },
    latencyMs: {
      predict: percentiles(predictLatency),
      feedback: percentiles(feedbackLatency),
      all: percentiles(predictLatency.concat(feedbackLatency)),
    },
    failed: failedRequests > 0 || interruptReason !== null,
  };
}
