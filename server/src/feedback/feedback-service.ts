import { sql } from 'kysely';
import type { Orm } from '../database/orm.js';
import type { EventBus } from '../events/event-bus.js';
import type { MetricsService } from '../metrics/metrics-service.js';
import type { ServingMetrics } from '../metrics/prometheus.js';
import { NotFoundError, type ModelService } from '../models/model-service.js';
import type { PredictionService } from '../predictions/prediction-service.js';
import type { RetrainTriggers } from '../retraining/retrain-triggers.js';
import { GroupCommit } from '../shared/group-commit.js';
import { unstorableTextReason } from '../shared/storable-text.js';
import { InvalidInputError, type Task } from '../tasks/task.js';
import type { TaskRegistry } from '../tasks/task-registry.js';

export interface FeedbackRecord {
  id: number;
  model: string;
  predictionId: string | null;
  modelVersionId: number | null;
  predicted: string;
  actual: string;
  correct: boolean;
  idempotencyKey: string | null;
  createdAt: Date;
  /** The transaction that committed it (xid8 as text): online learning's cursor. */
  xid: string;
}

export interface FeedbackInput {
  predictionId: string;
  correct?: boolean | null;
  actual?: string | null;
  idempotencyKey?: string | null;
}

export interface OutcomeInput {
  predicted: string;
  actual: string;
  idempotencyKey?: string | null;
}

/** The same feedback cannot be taken twice with different content. */
export class ConflictError extends Error {
  override name = 'ConflictError';
}

type NewFeedback = Omit<FeedbackRecord, 'id' | 'createdAt' | 'xid'> & { source: 'feedback' | 'outcome' };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export class FeedbackService {
  private readonly writer: GroupCommit<NewFeedback, FeedbackRecord | null>;

  constructor(
    private readonly orm: Orm,
    private readonly tasks: TaskRegistry,
    private readonly predictions: PredictionService,
    private readonly models: ModelService,
    private readonly liveMetrics: MetricsService,
    private readonly serving: ServingMetrics,
    private readonly triggers: RetrainTriggers,
    private readonly events: EventBus,
    /** This process, so it can tell its own commits from other processes'. */
    private readonly origin: string,
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
      throw new InvalidInputError([{ field: hasCorrect ? 'correct' : 'actual', reason: 'give exactly one of correct or actual' }]);
    }
    if (!UUID.test(input.predictionId)) {
      throw new InvalidInputError([{ field: 'predictionId', reason: 'is not a prediction id (a UUID)' }]);
    }
    checkIdempotencyKey(input.idempotencyKey);
    const prediction = await this.predictions.get(input.predictionId);
    if (!prediction) throw new NotFoundError(`prediction ${input.predictionId} does not exist`);
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
    this.afterCommit(task, inserted, prediction.version);
    this.models.learn(task.name, { id: inserted.id, xid: BigInt(inserted.xid) }, prediction.input, actual);
    return inserted;
  }

  /** Outcomes of predictions made elsewhere: they count in the metrics, but teach no model (no input). */
  async recordOutcomes(model: string, outcomes: OutcomeInput[], version?: number | null): Promise<FeedbackRecord[]> {
    const task = this.tasks.get(model);
    if (!task) throw new InvalidInputError([{ field: 'model', reason: `unknown model; known: ${this.tasks.names().join(', ')}` }]);
    if (outcomes.length === 0) throw new InvalidInputError([{ field: 'outcomes', reason: 'must not be empty' }]);
    let modelVersionId: number | null = null;
    if (version !== undefined && version !== null) {
      const v = await this.models.version(model, version);
      if (!v) throw new NotFoundError(`model ${model} has no version ${version}`);
      modelVersionId = v.id;
    }
    const rows = outcomes.map((o, i): NewFeedback => {
      const predicted = checkLabel(task, o.predicted, `outcomes.${i}.predicted`);
      const actual = checkLabel(task, o.actual, `outcomes.${i}.actual`);
      checkIdempotencyKey(o.idempotencyKey, `outcomes.${i}.idempotencyKey`);
      return { model, predictionId: null, modelVersionId, predicted, actual, correct: predicted === actual, idempotencyKey: o.idempotencyKey ?? null, source: 'outcome' };
    });
    const results = await this.writer.submitMany(rows);
    const out: FeedbackRecord[] = [];
    for (const [i, r] of results.entries()) {
      if (r) {
        this.afterCommit(task, r, version ?? null);
        out.push(r);
      } else out.push(await this.resolveConflict(rows[i]!));
    }
    return out;
  }

  drain(): Promise<void> {
    return this.writer.drain();
  }

  /** One event per model per batch: other processes learn these rows from the database. */
  private announce(inserted: DbFeedback[]): void {
    const ranges = new Map<string, { from: number; to: number }>();
    for (const r of inserted) {
      if (!r.prediction_id) continue;
      const id = Number(r.id);
      const range = ranges.get(r.model);
      if (range) {
        range.from = Math.min(range.from, id);
        range.to = Math.max(range.to, id);
      } else ranges.set(r.model, { from: id, to: id });
    }
    for (const [model, range] of ranges) this.events.publish('feedbackCommitted', { model, ...range, origin: this.origin });
  }

  private afterCommit(task: Task, f: FeedbackRecord, version: number | null): void {
    this.serving.feedbackRecorded(task, f, version);
    this.liveMetrics.changed(task.name);
    this.triggers.feedbackRecorded(task.name);
  }

  /** A row was not inserted: decide whether it is a retry of what is stored or a real conflict. */
  private async resolveConflict(row: NewFeedback): Promise<FeedbackRecord> {
    const existing = await this.find(row);
    if (!existing) throw new Error('feedback insert conflicted but no conflicting row was found');
    if (row.idempotencyKey !== null && existing.idempotencyKey === row.idempotencyKey) {
      if (existing.predictionId !== row.predictionId || existing.actual !== row.actual) {
        throw new ConflictError(`idempotencyKey "${row.idempotencyKey}" was already used for a different feedback`);
      }
      return existing;
    }
    if (existing.actual === row.actual) return existing;
    throw new ConflictError(
      `prediction ${row.predictionId} already has feedback (actual: ${existing.actual}); task ${row.model} does not take corrections`,
    );
  }

  private async find(row: NewFeedback): Promise<FeedbackRecord | null> {
    const { rows } = await sql<DbFeedback>`select * from feedback
      where (${row.idempotencyKey}::text is not null and idempotency_key = ${row.idempotencyKey})
         or (${row.predictionId}::uuid is not null and prediction_id = ${row.predictionId})
      order by (idempotency_key is not distinct from ${row.idempotencyKey}) desc limit 1`.execute(this.orm.em.getKysely());
    return rows[0] ? fromDb(rows[0]) : null;
  }

  /** One statement per batch; rows that hit a unique constraint come back as null. */
  private async insert(rows: NewFeedback[]): Promise<(FeedbackRecord | null)[]> {
    const { rows: inserted } = await sql<DbFeedback & { ord: number }>`
      insert into feedback (model, prediction_id, model_version_id, predicted, actual, correct, idempotency_key, source)
      select model, prediction_id, model_version_id, predicted, actual, correct, idempotency_key, source from unnest(
        ${rows.map((r) => r.model)}::text[], ${rows.map((r) => r.predictionId)}::uuid[], ${rows.map((r) => r.modelVersionId)}::int[],
        ${rows.map((r) => r.predicted)}::text[], ${rows.map((r) => r.actual)}::text[], ${rows.map((r) => r.correct)}::bool[],
        ${rows.map((r) => r.idempotencyKey)}::text[], ${rows.map((r) => r.source)}::text[]
      ) with ordinality as t(model, prediction_id, model_version_id, predicted, actual, correct, idempotency_key, source, ord)
      order by ord
      on conflict do nothing
      returning *`.execute(this.orm.em.getKysely());
    // Match returned rows back to the batch by their unique keys.
    const byPrediction = new Map<string, DbFeedback>();
    const byKey = new Map<string, DbFeedback>();
    const outcomes: DbFeedback[] = [];
    for (const r of inserted) {
      if (r.prediction_id) byPrediction.set(r.prediction_id, r);
      else if (r.idempotency_key === null) outcomes.push(r);
      if (r.idempotency_key) byKey.set(r.idempotency_key, r);
    }
    outcomes.sort((a, b) => Number(a.id) - Number(b.id));
    this.announce(inserted);
    return rows.map((row) => {
      let match: DbFeedback | undefined;
      if (row.predictionId) match = byPrediction.get(row.predictionId);
      else if (row.idempotencyKey) match = byKey.get(row.idempotencyKey);
      else match = outcomes.shift();
      if (!match || match.idempotency_key !== row.idempotencyKey || match.actual !== row.actual) return null;
      if (row.predictionId) byPrediction.delete(row.predictionId);
      return fromDb(match);
    });
  }
}

interface DbFeedback {
  id: string;
  model: string;
  prediction_id: string | null;
  model_version_id: number | null;
  predicted: string;
  actual: string;
  correct: boolean;
  idempotency_key: string | null;
  source: string;
  created_at: Date;
  xid: string;
}

function fromDb(r: DbFeedback): FeedbackRecord {
  return {
    id: Number(r.id),
    model: r.model,
    predictionId: r.prediction_id,
    modelVersionId: r.model_version_id,
    predicted: r.predicted,
    actual: r.actual,
    correct: r.correct,
    idempotencyKey: r.idempotency_key,
    createdAt: new Date(r.created_at),
    xid: String(r.xid),
  };
}

function checkLabel(task: Task, label: string, field: string): string {
  if (!task.isLabel(label)) {
    throw new InvalidInputError([{ field, reason: `unknown label "${label}"; ${task.name} labels are ${task.labels.join(', ')}` }]);
  }
  return label;
}

function checkIdempotencyKey(key: string | null | undefined, field = 'idempotencyKey'): void {
  if (key === undefined || key === null) return;
  if (key.length === 0 || key.length > 200) throw new InvalidInputError([{ field, reason: 'must be 1 to 200 characters' }]);
  const unstorable = unstorableTextReason(key);
  if (unstorable !== null) throw new InvalidInputError([{ field, reason: unstorable }]);
}

/** "Incorrect" names the actual label only when there is exactly one other label. */
function actualFromCorrect(task: Task, predicted: string, correct: boolean): string {
  if (correct) return predicted;
  const others = task.labels.filter((l) => l !== predicted);
  if (others.length !== 1) {
    throw new InvalidInputError([{ field: 'correct', reason: `task ${task.name} has several other labels: give actual instead` }]);
  }
  return others[0]!;
}
