import { createHash, hash } from 'node:crypto';
import { NaiveBayesModel, type EncodedExample } from '../ml/naive-bayes.js';
import type { Confusion } from '../ml/metrics.js';
import { reportFromConfusion, type ClassificationReport } from '../metrics/classification-report.js';
import type { LabelledRow } from '../tasks/data/types.js';
import type { Task, TaskInput } from '../tasks/task.js';
import { isAppError } from '../shared/app-error.js';

/** A row of a dataset version; `feedbackId` marks rows that came from feedback. */
export interface DatasetRow extends LabelledRow<TaskInput> {
  feedbackId?: number;
}

export type DropReason = 'invalid' | 'outlier' | 'duplicate' | 'window';

export interface PreparedDataset {
  /** Canonical JSON Lines: `{input, label, source, feedbackId?}` per row, inputs in feature order. */
  jsonl: string;
  contentHash: string;
  rowCount: number;
  labelCounts: Record<string, number>;
  trainRows: number;
  holdoutRows: number;
  droppedRows: number;
  dropped: Record<DropReason, number>;
  sources: string[];
  feedbackIdRange: [number, number] | null;
}

interface KeptRow {
  input: TaskInput;
  label: string;
  source: string;
  holdout: boolean;
  feedbackId?: number;
}

export interface BuiltDataset {
  summary: PreparedDataset;
  rows: KeptRow[];
}

/**
 * A row's holdout membership follows from its content (input and label), so a row stays on the
 * same side of the split in every later dataset version, and champion and challenger are
 * judged on the same holdout.
 */
export function isHoldout(contentKey: string, holdoutFraction: number): boolean {
  const h = hash('sha1', contentKey, 'buffer').readUInt32BE(0);
  return h / 0x1_0000_0000 < holdoutFraction;
}

/**
 * Builds a dataset version: the parent's rows plus new rows, each validated against the task,
 * new numeric values far outside the parent's distribution dropped as outliers, exact duplicates
 * dropped, and only the newest `maxTrainingRows` kept.
 *
 * A feedback row is never a duplicate of another row: each one is evidence that the live model
 * learned online (a second "this is spam" about a message already in the corpus counts twice
 * there), so the dataset keeps it and a refit knows what the live model knew. Only rows without
 * a feedback id (bootstrap data) are deduplicated by content; a feedback row takes its holdout
 * side from its content like any other row.
 */
export function buildDataset(
  task: Task,
  parentRows: Iterable<DatasetRow>,
  newRows: Iterable<DatasetRow>,
  options: { maxTrainingRows?: number } = {},
): BuiltDataset {
  const holdoutFraction = task.definition.dataset.holdoutFraction;
  const dropped: Record<DropReason, number> = { invalid: 0, outlier: 0, duplicate: 0, window: 0 };
  const seen = new Set<string>();
  const kept: (KeptRow & { line: string })[] = [];
  const numeric = task.definition.features.filter((f) => f.type === 'float' || f.type === 'int').map((f) => f.name);
  const parentValues: number[][] = numeric.map(() => []);

  const add = (row: DatasetRow, isNew: boolean, bounds: OutlierBounds | null) => {
    let input: TaskInput;
    try {
      input = task.validate(row.input);
    } catch (error) {
      if (isAppError(error, 'BAD_USER_INPUT')) return void dropped.invalid++;
      throw error;
    }
    if (!task.isLabel(row.label)) return void dropped.invalid++;
    if (isNew && bounds && bounds.isOutlier(input)) return void dropped.outlier++;
    const canonical = canonicalInput(task, input);
    const key = JSON.stringify([canonical, row.label]);
    const identity = row.feedbackId === undefined ? key : `feedback:${row.feedbackId}`;
    if (seen.has(identity)) return void dropped.duplicate++;
    seen.add(identity);
    if (!isNew) numeric.forEach((f, i) => parentValues[i]!.push(input[f] as number));
    const source = row.source ?? (row.feedbackId === undefined ? 'unknown' : 'feedback');
    const feedback = row.feedbackId === undefined ? {} : { feedbackId: row.feedbackId };
    const line = JSON.stringify({ input: canonical, label: row.label, source, ...feedback });
    kept.push({ input, label: row.label, source, holdout: isHoldout(key, holdoutFraction), line, ...feedback });
  };

  for (const row of parentRows) add(row, false, null);
  const bounds = numeric.length > 0 && parentValues[0]!.length >= 30 ? new OutlierBounds(numeric, parentValues) : null;
  for (const row of newRows) add(row, true, bounds);

  // Rows are in age order (parent first, then feedback by id): the window keeps the newest.
  const max = options.maxTrainingRows;
  const windowed = max !== undefined && kept.length > max ? kept.slice(kept.length - max) : kept;
  dropped.window = kept.length - windowed.length;

  const labelCounts: Record<string, number> = Object.fromEntries(task.labels.map((l) => [l, 0]));
  const sources = new Set<string>();
  let holdoutRows = 0;
  let minFeedback = Infinity;
  let maxFeedback = -Infinity;
  const lines: string[] = [];
  for (const row of windowed) {
    labelCounts[row.label] = (labelCounts[row.label] ?? 0) + 1;
    if (row.holdout) holdoutRows++;
    if (row.feedbackId !== undefined) {
      minFeedback = Math.min(minFeedback, row.feedbackId);
      maxFeedback = Math.max(maxFeedback, row.feedbackId);
    }
    lines.push(row.line);
    sources.add(row.source);
  }
  const jsonl = lines.length ? lines.join('\n') + '\n' : '';
  return {
    summary: {
      jsonl,
      contentHash: createHash('sha256').update(jsonl).digest('hex'),
      rowCount: windowed.length,
      labelCounts,
      trainRows: windowed.length - holdoutRows,
      holdoutRows,
      droppedRows: dropped.invalid + dropped.outlier + dropped.duplicate + dropped.window,
      dropped,
      sources: [...sources].sort(),
      feedbackIdRange: Number.isFinite(minFeedback) ? [minFeedback, maxFeedback] : null,
    },
    rows: windowed.map(({ line: _line, ...row }) => row),
  };
}

export function parseDatasetJsonl(jsonl: string): DatasetRow[] {
  const rows: DatasetRow[] = [];
  let start = 0;
  while (start < jsonl.length) {
    let end = jsonl.indexOf('\n', start);
    if (end === -1) end = jsonl.length;
    if (end > start) rows.push(JSON.parse(jsonl.slice(start, end)) as DatasetRow);
    start = end + 1;
  }
  return rows;
}

export interface Evaluation {
  /** On the dataset's holdout. */
  holdout: ClassificationReport;
  /** On the newest holdout rows that came from feedback (what the model meets now). */
  recent: ClassificationReport;
}

export interface FittedModel {
  /**
   * What goes live if the gate lets it: the judged model refit on every row of the dataset, the
   * holdout included, so the served model never knows less than the rows it was judged with.
   */
  artifact: unknown;
  challenger: Evaluation;
  /** The live version as it was trained, on the same rows; null when there is none. */
  champion: Evaluation | null;
}

/**
 * Trains on the training split and judges challenger and champion on the same held-out rows,
 * then refits the challenger on the holdout too (the artifact that goes live). The champion is
 * judged as it was judged itself: trained on its own dataset's training split (`championRows`,
 * with its own estimators), since the artifact it serves has learned its holdout rows, which
 * are also in this holdout.
 */
export function fitAndEvaluate(
  task: Task,
  rows: readonly KeptRow[],
  options: { championArtifact?: unknown; championRows?: readonly KeptRow[]; recentRows: number },
  onStep: (step: 'TRAINING' | 'EVALUATING') => void = () => {},
): FittedModel {
  onStep('TRAINING');
  const model = NaiveBayesModel.create(task.modelSpec);
  const holdout: { input: TaskInput; x: ReturnType<Task['encode']>; label: string; feedback: boolean }[] = [];
  for (const row of rows) {
    const x = task.encode(row.input);
    if (row.holdout) holdout.push({ input: row.input, x, label: row.label, feedback: row.feedbackId !== undefined });
    else model.learn(x, row.label);
  }
  if (model.sampleCount === 0) throw new Error(`task ${task.name}: no training rows`);
  onStep('EVALUATING');
  const recent = holdout.filter((r) => r.feedback).slice(-options.recentRows);
  const champion = options.championArtifact ? judgedChampion(task, options.championArtifact, options.championRows) : null;
  const challenger = { holdout: evaluate(task, model, holdout), recent: evaluate(task, model, recent) };
  const served = model.clone();
  for (const row of holdout) served.learn(row.x, row.label);
  return {
    artifact: served.toJSON(),
    challenger,
    champion: champion
      ? { holdout: evaluate(task, champion.model, champion.encoded(holdout)), recent: evaluate(task, champion.model, champion.encoded(recent)) }
      : null,
  };
}

/** The champion as the gate judged it: its estimators, trained on its dataset's training split (or its artifact when that is unknown). */
function judgedChampion(
  task: Task,
  artifact: unknown,
  rows: readonly KeptRow[] | undefined,
): { model: NaiveBayesModel; encoded: <R extends { input: TaskInput; x: EncodedExample }>(rows: R[]) => R[] } {
  const served = NaiveBayesModel.fromJSON(artifact);
  const same = <R>(r: R[]) => r;
  if (rows && rows.length > 0) {
    // Retrained with today's text encoding, so it reads the same encoded holdout as the challenger.
    const judged = NaiveBayesModel.create({ ...served.spec, tokens: task.modelSpec.tokens ?? served.spec.tokens });
    for (const row of rows) if (!row.holdout) judged.learn(task.encode(row.input), row.label);
    if (judged.sampleCount > 0) return { model: judged, encoded: same };
  }
  // The artifact as served: fed the holdout the way it was trained (its own text encoding).
  const own = task.forModel(served.spec);
  return { model: served, encoded: own === task ? same : (r) => r.map((row) => ({ ...row, x: own.encode(row.input) })) };
}

export function evaluate(task: Task, model: NaiveBayesModel, rows: Iterable<{ x: ReturnType<Task['encode']>; label: string }>): ClassificationReport {
  const report = new ReportAccumulator(task);
  for (const row of rows) report.add(model.predictProba(row.x), row.label);
  return report.report();
}

/** A classification report built one prediction at a time (the streamed gate holds no rows). */
export class ReportAccumulator {
  private readonly confusion: Confusion = { tp: 0, tn: 0, fp: 0, fn: 0 };
  private logLossSum = 0;
  private count = 0;

  constructor(private readonly task: Task) {}

  add(probabilities: readonly number[], actual: string): void {
    let best = 0;
    for (let i = 1; i < probabilities.length; i++) if (probabilities[i]! > probabilities[best]!) best = i;
    const predicted = this.task.labels[best]!;
    const p = predicted === this.task.positiveLabel;
    const a = actual === this.task.positiveLabel;
    if (p && a) this.confusion.tp++;
    else if (p) this.confusion.fp++;
    else if (a) this.confusion.fn++;
    else this.confusion.tn++;
    // logLoss's clipped sum, in the same order (so the mean is the same to the last bit).
    const pActual = checkedProbability(probabilities[this.task.labels.indexOf(actual)]!);
    this.logLossSum -= Math.log(Math.min(1 - LOG_LOSS_EPSILON, Math.max(LOG_LOSS_EPSILON, pActual)));
    this.count++;
  }

  report(): ClassificationReport {
    return reportFromConfusion({ ...this.confusion }, this.count === 0 ? null : this.logLossSum / this.count);
  }
}

const LOG_LOSS_EPSILON = 1e-15;

function checkedProbability(p: number): number {
  if (typeof p !== 'number' || Number.isNaN(p)) throw new RangeError(`logLoss needs probabilities, got ${p}`);
  return p;
}

function canonicalInput(task: Task, input: TaskInput): TaskInput {
  return Object.fromEntries(task.definition.features.map((f) => [f.name, input[f.name]!]));
}

/**
 * Bounds from the parent's values: a new value is an outlier when it lies beyond the parent's
 * range by more than the larger of 50 MADs and the range itself. Lenient on purpose: drift is
 * new data to learn, not noise; only absurd values are dropped.
 */
export class OutlierBounds {
  private readonly bounds: { feature: string; low: number; high: number }[];

  constructor(features: string[], values: readonly ArrayLike<number>[]) {
    this.bounds = features.map((feature, i) => {
      const sorted = Float64Array.from(values[i]!).sort();
      const median = quantile(sorted, 0.5);
      const deviations = Float64Array.from(sorted, (v) => Math.abs(v - median)).sort();
      const min = sorted[0]!;
      const max = sorted[sorted.length - 1]!;
      // The floor keeps a constant feature from making every new value an outlier.
      const spread = Math.max(50 * 1.4826 * quantile(deviations, 0.5), max - min, 1e-6 * Math.max(1, Math.abs(median)));
      return { feature, low: min - spread, high: max + spread };
    });
  }

  isOutlier(input: TaskInput): boolean {
    // A loop, not .some: this runs for every new row of a retrain.
    for (const b of this.bounds) {
      const v = input[b.feature] as number;
      if (v < b.low || v > b.high) return true;
    }
    return false;
  }
}

function quantile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return 0;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}
