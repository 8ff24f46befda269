import { createHash } from 'node:crypto';
import { NaiveBayesModel } from '../ml/naive-bayes.js';
import { confusionOf, logLoss } from '../ml/metrics.js';
import { reportFromConfusion, type ClassificationReport } from '../metrics/classification-report.js';
import type { LabelledRow } from '../tasks/data/types.js';
import { InvalidInputError, Task, type TaskInput } from '../tasks/task.js';

export interface PreparedDataset {
  /** Canonical JSON Lines: one `{input, label}` per row, keys in the task's feature order. */
  jsonl: string;
  contentHash: string;
  rowCount: number;
  labelCounts: Record<string, number>;
  trainRows: number;
  holdoutRows: number;
  droppedRows: number;
  sources: string[];
}

export interface TrainedModel {
  artifact: unknown;
  report: ClassificationReport;
  dataset: PreparedDataset;
}

/**
 * A row's holdout membership follows from its content, so a row stays on the same side of the
 * split in every later dataset version and champion and challenger are judged on the same holdout.
 */
export function isHoldout(canonicalRow: string, holdoutFraction: number): boolean {
  const h = createHash('sha1').update(canonicalRow).digest().readUInt32BE(0);
  return h / 0x1_0000_0000 < holdoutFraction;
}

export function trainTask(task: Task, rows: Iterable<LabelledRow<TaskInput>>): TrainedModel {
  const holdoutFraction = task.definition.dataset.holdoutFraction;
  const model = NaiveBayesModel.create(task.modelSpec);
  const holdout: { x: ReturnType<Task['encode']>; label: string }[] = [];
  const lines: string[] = [];
  const labelCounts: Record<string, number> = Object.fromEntries(task.labels.map((l) => [l, 0]));
  const sources = new Set<string>();
  let dropped = 0;
  for (const row of rows) {
    let input: TaskInput;
    try {
      input = task.validate(row.input);
    } catch (error) {
      if (error instanceof InvalidInputError) {
        dropped++;
        continue;
      }
      throw error;
    }
    if (!task.isLabel(row.label)) {
      dropped++;
      continue;
    }
    const canonical = JSON.stringify({ input: canonicalInput(task, input), label: row.label });
    lines.push(canonical);
    labelCounts[row.label] = (labelCounts[row.label] ?? 0) + 1;
    if (row.source) sources.add(row.source);
    const x = task.encode(input);
    if (isHoldout(canonical, holdoutFraction)) holdout.push({ x, label: row.label });
    else model.learn(x, row.label);
  }
  if (model.sampleCount === 0) throw new Error(`task ${task.name}: no valid training rows (${dropped} dropped)`);
  const jsonl = lines.join('\n') + '\n';
  return {
    artifact: model.toJSON(),
    report: evaluate(task, model, holdout),
    dataset: {
      jsonl,
      contentHash: createHash('sha256').update(jsonl).digest('hex'),
      rowCount: lines.length,
      labelCounts,
      trainRows: lines.length - holdout.length,
      holdoutRows: holdout.length,
      droppedRows: dropped,
      sources: [...sources].sort(),
    },
  };
}

export function evaluate(
  task: Task,
  model: NaiveBayesModel,
  rows: Iterable<{ x: ReturnType<Task['encode']>; label: string }>,
): ClassificationReport {
  const pairs: { predicted: string; actual: string }[] = [];
  const pActual: number[] = [];
  for (const row of rows) {
    const probabilities = model.predictProba(row.x);
    const best = probabilities.indexOf(Math.max(...probabilities));
    pairs.push({ predicted: task.labels[best]!, actual: row.label });
    pActual.push(probabilities[task.labels.indexOf(row.label)]!);
  }
  return reportFromConfusion(confusionOf(pairs, task.positiveLabel), logLoss(pActual));
}

function canonicalInput(task: Task, input: TaskInput): TaskInput {
  return Object.fromEntries(task.definition.features.map((f) => [f.name, input[f.name]!]));
}
