import { sql } from 'kysely';
import type { Orm } from '../database/orm.js';
import { feedbackFromRow, type FeedbackRow } from '../feedback/feedback.repository.js';
import type { FeedbackRecord } from '../feedback/feedback.types.js';
import type { PredictionRecord } from './prediction.types.js';
import { predictionFromRow, type PredictionRow } from './prediction.repository.js';

/** What the prediction list narrows to; every field set narrows further (they AND). */
export interface PredictionListFilter {
  /** true: feedback disagrees with the prediction; false: feedback agrees. Retracted feedback counts for neither. */
  wrong?: boolean | null;
  predictedLabel?: string | null;
  actualLabel?: string | null;
  /** The feedback's source (a principal's name, or 'anonymous'). */
  source?: string | null;
  /** true: no feedback at all (so one can still be given); false: some feedback. */
  unlabelled?: boolean | null;
  feedbackRequested?: boolean | null;
  /** The serving version's row id (the service resolves the version number). */
  modelVersionId?: number | null;
}

/** Where a page starts: strictly older than this (created_at, id), as the previous page's last row. */
export interface PredictionKey {
  /** created_at exactly as PostgreSQL holds it (microseconds, UTC), not a JS Date (milliseconds). */
  createdAt: string;
  id: string;
}

/** A listed prediction with the feedback it received (null: none) and its keyset position. */
export interface ListedPrediction extends PredictionRecord {
  feedback: FeedbackRecord | null;
  key: PredictionKey;
}

/** The feedback columns the list selects, each as `f_<column>` (null when the prediction has none); model and prediction_id are the prediction's. */
type ListedFeedbackColumn = Exclude<keyof FeedbackRow, 'model' | 'prediction_id'>;
type PrefixedFeedback = { [K in ListedFeedbackColumn as `f_${K}`]: FeedbackRow[K] | null };

interface Row extends PredictionRow, PrefixedFeedback {
  created_at_exact: string;
}

/**
 * The dashboard's list of recent predictions: newest first, keyset-paginated on (created_at, id),
 * read along `prediction_model_created_at_covering` backwards (EXPLAIN in prediction-list.test.ts).
 * Feedback is found by its unique prediction_id. Plain selects by column name, so a
 * time-partitioned `prediction` keeps the same plan per partition.
 */
export class PredictionListRepository {
  constructor(private readonly orm: Orm) {}

  private get db() {
    return this.orm.em.getKysely();
  }

  /** At most `limit` predictions of `model` matching `filter`, older than `after` when given. */
  async page(model: string, filter: PredictionListFilter, limit: number, after: PredictionKey | null): Promise<ListedPrediction[]> {
    const { rows } = await this.query(model, filter, limit, after).execute(this.db);
    return rows.map(fromRow);
  }

  /** The feedback given on one prediction (null: none), for a prediction not read through `page`. */
  async feedbackOn(predictionId: string): Promise<FeedbackRecord | null> {
    const { rows } = await this.query(null, { id: predictionId }, 1, null).execute(this.db);
    return rows[0] ? fromRow(rows[0]).feedback : null;
  }

  /** The statement `page` runs, for EXPLAIN in tests. */
  query(model: string | null, filter: PredictionListFilter & { id?: string }, limit: number, after: PredictionKey | null) {
    const conditions = model === null ? [] : [sql`p.model = ${model}`];
    if (filter.id !== undefined) conditions.push(sql`p.id = ${filter.id}::uuid`);
    // Written as a range on created_at plus a tie-break, not a row comparison: the index's key is
    // (model, created_at), so only the created_at bound can be an index condition.
    if (after) {
      conditions.push(sql`p.created_at <= ${after.createdAt}::timestamptz`);
      conditions.push(sql`(p.created_at < ${after.createdAt}::timestamptz or p.id < ${after.id}::uuid)`);
    }
    if (filter.predictedLabel != null) conditions.push(sql`p.label = ${filter.predictedLabel}`);
    if (filter.feedbackRequested != null) conditions.push(sql`p.feedback_requested = ${filter.feedbackRequested}`);
    if (filter.modelVersionId != null) conditions.push(sql`p.model_version_id = ${filter.modelVersionId}`);
    // Conditions on the feedback as (not) exists on its unique prediction_id: a left join with
    // `f.id is null` made the planner hash both tables whole (220 ms on 120k rows) where the
    // anti-join walks the index and stops at the limit (0.3 ms).
    const onFeedback = [sql`f.prediction_id = p.id`];
    if (filter.wrong != null) onFeedback.push(sql`f.retracted_at is null and f.correct = ${!filter.wrong}`);
    if (filter.actualLabel != null) onFeedback.push(sql`f.actual = ${filter.actualLabel}`);
    if (filter.source != null) onFeedback.push(sql`f.source = ${filter.source}`);
    const feedbackMatches = sql`exists (select 1 from feedback f where ${sql.join(onFeedback, sql` and `)})`;
    if (filter.unlabelled === true) conditions.push(sql`not ${feedbackMatches}`);
    else if (filter.unlabelled === false || onFeedback.length > 1) conditions.push(feedbackMatches);
    // Two steps: the page's keys first, from the narrow covering index (and the feedback's unique
    // prediction_id), so the planner walks the index backwards and stops at the limit; then the
    // wide columns (input, scores, the feedback row) of those few rows only.
    return sql<Row>`
      with page as materialized (
        select p.id, p.created_at from prediction p
        where ${sql.join(conditions, sql` and `)}
        order by p.created_at desc, p.id desc
        limit ${limit})
      select p.id, p.model, p.model_version_id, v.version, p.input, p.label, p.probability, p.scores, p.latency_ms, p.created_at,
        to_char(p.created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as created_at_exact, p.feedback_requested, p.source,
        f.id as f_id, f.model_version_id as f_model_version_id, f.predicted as f_predicted, f.actual as f_actual, f.correct as f_correct,
        f.idempotency_key as f_idempotency_key, f.source as f_source, f.end_user_id as f_end_user_id, f.quarantined as f_quarantined,
        f.quarantine_reason as f_quarantine_reason, f.review as f_review, f.retracted_at as f_retracted_at, f.created_at as f_created_at,
        f.xid::text as f_xid
      from page
      join prediction p on p.id = page.id and p.created_at = page.created_at
      join model_version v on v.id = p.model_version_id
      left join feedback f on f.prediction_id = p.id
      order by page.created_at desc, page.id desc`;
  }
}

function fromRow(r: Row): ListedPrediction {
  const feedback: FeedbackRecord | null = r.f_id === null ? null : feedbackFromRow(joinedFeedback(r));
  return {
    ...predictionFromRow(r),
    feedback,
    key: { createdAt: r.created_at_exact, id: r.id },
  };
}

/** The `f_` columns of a row that has feedback, as a feedback row (its model and prediction are the row's own). */
function joinedFeedback(r: Row): FeedbackRow {
  const columns: Record<string, unknown> = { model: r.model, prediction_id: r.id };
  for (const [name, value] of Object.entries(r)) if (name.startsWith('f_')) columns[name.slice(2)] = value;
  return columns as unknown as FeedbackRow;
}
