import type { DomainEvents } from '../events/domain-events.js';
import type { ModelService } from '../models/model-service.js';
import type { PredictionService } from '../predictions/prediction-service.js';
import { GroupCommit } from '../shared/group-commit.js';
import { unstorableTextReason } from '../shared/storable-text.js';
import { isUuid } from '../shared/uuid.js';
import type { Task } from '../tasks/task.js';
import type { TaskRegistry } from '../tasks/task-registry.js';
import type { FeedbackRepository, NewFeedback } from './feedback.repository.js';
import type { FeedbackInput, FeedbackRecord, OutcomeInput } from './feedback.types.js';
import { AppError } from '../shared/app-error.js';

export class FeedbackService {
  private readonly writer: GroupCommit<NewFeedback, FeedbackRecord | null>;

  constructor(
    private readonly repository: FeedbackRepository,
    private readonly tasks: TaskRegistry,
    private readonly predictions: PredictionService,
    private readonly models: ModelService,
    /** Told what was committed: metrics, Prometheus, triggers and other processes follow it (see app.ts). */
    private readonly events: DomainEvents,
  ) {
    this.writer = new GroupCommit((rows) => this.insert(rows), { maxBatch: 1000, concurrency: 2 });
  }

  /**
   * Records whether a prediction was right. Answers only after the row is committed; a retry
   * (same idempotency key, or the same answer again) returns the feedback already recorded.
   */
  async recordFeedback(input: FeedbackInput): Promise<FeedbackRecord> {
    const hasCorrect = input.correct !== undefined && input.correct !== null;
    const hasActual = input.actual !== undefined && input.actual !== null;
    if (hasCorrect === hasActual) {
      throw AppError.badInput([{ field: hasCorrect ? 'correct' : 'actual', reason: 'give exactly one of correct or actual' }]);
    }
    if (!isUuid(input.predictionId)) {
      throw AppError.badInput([{ field: 'predictionId', reason: 'is not a prediction id (a UUID)' }]);
    }
    checkIdempotencyKey(input.idempotencyKey);
    const prediction = await this.predictions.get(input.predictionId);
    if (!prediction) throw new AppError('NOT_FOUND', `prediction ${input.predictionId} does not exist`);
    const task = this.tasks.get(prediction.model)!;
    const actual = hasActual ? checkLabel(task, input.actual!, 'actual') : actualFromCorrect(task, prediction.label, input.correct!);
    const row: NewFeedback = {
      model: prediction.model,
      predictionId: prediction.id,
      modelVersionId: prediction.modelVersionId,
      predicted: prediction.label,
      actual,
      correct: actual === prediction.label,
      idempotencyKey: input.idempotencyKey ?? null,
      source: 'feedback',
    };
    const inserted = await this.writer.submit(row);
    if (!inserted) return this.resolveConflict(row);
    this.events.emit('feedbackRecorded', { feedback: inserted, version: prediction.version });
    this.models.learn(task.name, { id: inserted.id, xid: BigInt(inserted.xid) }, prediction.input, actual);
    return inserted;
  }

  /** Outcomes of predictions made elsewhere: they count in the metrics, but teach no model (no input). */
  async recordOutcomes(model: string, outcomes: OutcomeInput[], version?: number | null): Promise<FeedbackRecord[]> {
    const task = this.tasks.get(model);
    if (!task) throw AppError.badInput([{ field: 'model', reason: `unknown model; known: ${this.tasks.names().join(', ')}` }]);
    if (outcomes.length === 0) throw AppError.badInput([{ field: 'outcomes', reason: 'must not be empty' }]);
    let modelVersionId: number | null = null;
    if (version !== undefined && version !== null) {
      const v = await this.models.version(model, version);
      if (!v) throw new AppError('NOT_FOUND', `model ${model} has no version ${version}`);
      modelVersionId = v.id;
    }
    const rows = outcomes.map((o, i): NewFeedback => {
      const predicted = checkLabel(task, o.predicted, `outcomes.${i}.predicted`);
      const actual = checkLabel(task, o.actual, `outcomes.${i}.actual`);
      checkIdempotencyKey(o.idempotencyKey, `outcomes.${i}.idempotencyKey`);
      return {
        model,
        predictionId: null,
        modelVersionId,
        predicted,
        actual,
        correct: predicted === actual,
        idempotencyKey: o.idempotencyKey ?? null,
        source: 'outcome',
      };
    });
    const results = await this.writer.submitMany(rows);
    const out: FeedbackRecord[] = [];
    for (const [i, r] of results.entries()) {
      if (r) {
        this.events.emit('feedbackRecorded', { feedback: r, version: version ?? null });
        out.push(r);
      } else out.push(await this.resolveConflict(rows[i]!));
    }
    return out;
  }

  drain(): Promise<void> {
    return this.writer.drain();
  }

  /** One event per model per batch (other processes learn these rows from the database). */
  private announce(inserted: readonly FeedbackRecord[]): void {
    const ranges = new Map<string, { from: number; to: number }>();
    for (const r of inserted) {
      if (!r.predictionId) continue;
      const id = r.id;
      const range = ranges.get(r.model);
      if (range) {
        range.from = Math.min(range.from, id);
        range.to = Math.max(range.to, id);
      } else ranges.set(r.model, { from: id, to: id });
    }
    for (const [model, range] of ranges) this.events.emit('feedbackBatchCommitted', { model, ...range });
  }

  /** A row was not inserted: decide whether it is a retry of what is stored or a real conflict. */
  private async resolveConflict(row: NewFeedback): Promise<FeedbackRecord> {
    const existing = await this.repository.findConflicting(row);
    if (!existing) throw new Error('feedback insert conflicted but no conflicting row was found');
    if (row.idempotencyKey !== null && existing.idempotencyKey === row.idempotencyKey) {
      if (existing.predictionId !== row.predictionId || existing.actual !== row.actual) {
        throw new AppError('CONFLICT', `idempotencyKey "${row.idempotencyKey}" was already used for a different feedback`);
      }
      return existing;
    }
    if (existing.actual === row.actual) return existing;
    throw new AppError(
      'CONFLICT',
      `prediction ${row.predictionId} already has feedback (actual: ${existing.actual}); task ${row.model} does not take corrections`,
    );
  }

  /** One statement per batch; rows that hit a unique constraint come back as null. */
  private async insert(rows: NewFeedback[]): Promise<(FeedbackRecord | null)[]> {
    const { results, inserted } = await this.repository.insertMany(rows);
    this.announce(inserted);
    return results;
  }
}

function checkLabel(task: Task, label: string, field: string): string {
  if (!task.isLabel(label)) {
    throw AppError.badInput([{ field, reason: `unknown label "${label}"; ${task.name} labels are ${task.labels.join(', ')}` }]);
  }
  return label;
}

function checkIdempotencyKey(key: string | null | undefined, field = 'idempotencyKey'): void {
  if (key === undefined || key === null) return;
  if (key.length === 0 || key.length > 200) throw AppError.badInput([{ field, reason: 'must be 1 to 200 characters' }]);
  const unstorable = unstorableTextReason(key);
  if (unstorable !== null) throw AppError.badInput([{ field, reason: unstorable }]);
}

/** "Incorrect" names the actual label only when there is exactly one other label. */
function actualFromCorrect(task: Task, predicted: string, correct: boolean): string {
  if (correct) return predicted;
  const others = task.labels.filter((l) => l !== predicted);
  if (others.length !== 1) {
    throw AppError.badInput([{ field: 'correct', reason: `task ${task.name} has several other labels: give actual instead` }]);
  }
  return others[0]!;
}
