import { sql } from 'kysely';
import type { Orm } from '../database/orm.js';
import type { FeedbackRecord } from './feedback.types.js';
import { countUnseenFeedback, readUnseenFeedback, type FeedbackCursor, type LabelledPage } from './learning-cursor.js';

/** A feedback row before it is stored. */
export type NewFeedback = Omit<FeedbackRecord, 'id' | 'createdAt' | 'xid'> & { source: 'feedback' | 'outcome' };

/** Confusion counts of a model's feedback in a window, and what the predictions count needs. */
export interface FeedbackCounts {
  tp: number;
  tn: number;
  fp: number;
  fn: number;
  /** Feedback on predictions Relearn served (outcomes of predictions made elsewhere excluded). */
  labelled: number;
  /** When the oldest prediction the window's feedback labels was made (null: none). */
  spanStart: Date | null;
}

/**
 * The SQL of the `feedback` table: what the feedback and metrics services ask of it, and online
 * learning's query (written once, in learning-cursor.ts) run on this database.
 */
export class FeedbackRepository {
  constructor(private readonly orm: Orm) {}

  private get db() {
    return this.orm.em.getKysely();
  }

  /**
   * One statement for a batch. Returns each row as stored, in the batch's order, or null where
   * the row hit a unique constraint (its prediction or idempotency key already has feedback);
   * and every row inserted.
   */
  async insertMany(rows: readonly NewFeedback[]): Promise<{ results: (FeedbackRecord | null)[]; inserted: FeedbackRecord[] }> {
    const { rows: stored } = await sql<DbFeedback & { ord: number }>`
      insert into feedback (model, prediction_id, model_version_id, predicted, actual, correct, idempotency_key, source)
      select model, prediction_id, model_version_id, predicted, actual, correct, idempotency_key, source from unnest(
        ${rows.map((r) => r.model)}::text[], ${rows.map((r) => r.predictionId)}::uuid[], ${rows.map((r) => r.modelVersionId)}::int[],
        ${rows.map((r) => r.predicted)}::text[], ${rows.map((r) => r.actual)}::text[], ${rows.map((r) => r.correct)}::bool[],
        ${rows.map((r) => r.idempotencyKey)}::text[], ${rows.map((r) => r.source)}::text[]
      ) with ordinality as t(model, prediction_id, model_version_id, predicted, actual, correct, idempotency_key, source, ord)
      order by ord
      on conflict do nothing
      returning *`.execute(this.db);
    // Match returned rows back to the batch by their unique keys.
    const byPrediction = new Map<string, DbFeedback>();
    const byKey = new Map<string, DbFeedback>();
    const outcomes: DbFeedback[] = [];
    for (const r of stored) {
      if (r.prediction_id) byPrediction.set(r.prediction_id, r);
      else if (r.idempotency_key === null) outcomes.push(r);
      if (r.idempotency_key) byKey.set(r.idempotency_key, r);
    }
    outcomes.sort((a, b) => Number(a.id) - Number(b.id));
    const results = rows.map((row) => {
      let match: DbFeedback | undefined;
      if (row.predictionId) match = byPrediction.get(row.predictionId);
      else if (row.idempotencyKey) match = byKey.get(row.idempotencyKey);
      else match = outcomes.shift();
      if (!match || match.idempotency_key !== row.idempotencyKey || match.actual !== row.actual) return null;
      if (row.predictionId) byPrediction.delete(row.predictionId);
      return fromDb(match);
    });
    return { results, inserted: stored.map(fromDb) };
  }

  /** The stored feedback `row` conflicted with: same idempotency key first, else same prediction. */
  async findConflicting(row: NewFeedback): Promise<FeedbackRecord | null> {
    const { rows } = await sql<DbFeedback>`select * from feedback
      where (${row.idempotencyKey}::text is not null and idempotency_key = ${row.idempotencyKey})
         or (${row.predictionId}::uuid is not null and prediction_id = ${row.predictionId})
      order by (idempotency_key is not distinct from ${row.idempotencyKey}) desc limit 1`.execute(this.db);
    return rows[0] ? fromDb(rows[0]) : null;
  }

  /**
   * Confusion counts of `model`'s feedback: lifetime, or of the last `lastSeconds` and/or the last
   * `lastFeedback` rows, optionally of one version; `positive` is the task's positive label.
   */
  async counts(
    model: string,
    positive: string,
    window: { lastFeedback?: number | null; lastSeconds?: number | null },
    modelVersionId: number | null,
  ): Promise<FeedbackCounts> {
    const version = modelVersionId === null ? sql`` : sql`and model_version_id = ${modelVersionId}`;
    const since = window.lastSeconds ? sql`and created_at > now() - make_interval(secs => ${window.lastSeconds})` : sql``;
    const limit = window.lastFeedback ? sql`order by id desc limit ${window.lastFeedback}` : sql``;
    const { rows } = await sql<{ tp: string; tn: string; fp: string; fn: string; labelled: string; span_start: Date | null }>`
      with w as (select predicted, actual, prediction_id from feedback where model = ${model} ${version} ${since} ${limit})
      select count(*) filter (where predicted = ${positive} and actual = ${positive}) as tp,
             count(*) filter (where predicted <> ${positive} and actual <> ${positive}) as tn,
             count(*) filter (where predicted = ${positive} and actual <> ${positive}) as fp,
             count(*) filter (where predicted <> ${positive} and actual = ${positive}) as fn,
             count(*) filter (where prediction_id is not null) as labelled,
             (select min(p.created_at) from prediction p join w on p.id = w.prediction_id) as span_start
      from w`.execute(this.db);
    const r = rows[0]!;
    return {
      tp: Number(r.tp),
      tn: Number(r.tn),
      fp: Number(r.fp),
      fn: Number(r.fn),
      labelled: Number(r.labelled),
      spanStart: r.span_start ? new Date(r.span_start) : null,
    };
  }

  /** The last `size` feedback of one version: how many, and how many were right. */
  async recentWindow(model: string, modelVersionId: number, size: number): Promise<{ n: number; correct: number }> {
    const { rows } = await sql<{ n: string; correct: string }>`
      select count(*) as n, count(*) filter (where correct) as correct from (
        select correct from feedback where model = ${model} and model_version_id = ${modelVersionId}
        order by id desc limit ${size}) w`.execute(this.db);
    return { n: Number(rows[0]!.n), correct: Number(rows[0]!.correct) };
  }

  /** One page of the labelled feedback `cursor` does not cover (replays, catch-ups, datasets). */
  unseen(model: string, cursor: FeedbackCursor, page: { afterId: number; limit: number; exceptIds?: readonly number[] }): Promise<LabelledPage> {
    return readUnseenFeedback(this.db, model, cursor, page);
  }

  /** How many labelled feedback rows `cursor` does not cover (the retrain trigger's count). */
  countUnseen(model: string, cursor: FeedbackCursor): Promise<number> {
    return countUnseenFeedback(this.db, model, cursor);
  }

  /** When the model last received feedback (null before the first). */
  async lastCreatedAt(model: string): Promise<Date | null> {
    const { rows } = await sql<{ at: Date | null }>`select max(created_at) as at from feedback where model = ${model}`.execute(this.db);
    return rows[0]?.at ? new Date(rows[0].at) : null;
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
