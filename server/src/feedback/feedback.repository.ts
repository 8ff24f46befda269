import { sql } from 'kysely';
import type { Orm } from '../database/orm.js';
import type { FeedbackRecord } from './feedback.types.js';
import { countUnseenFeedback, readUnseenFeedback, readUnseenRetractions, type FeedbackCursor, type LabelledPage } from './learning-cursor.js';

/** A feedback row before it is stored: what it says, who taught it, and what the trust gate decided. */
export type NewFeedback = Omit<FeedbackRecord, 'id' | 'createdAt' | 'xid' | 'review' | 'retractedAt'> & {
  kind: 'feedback' | 'outcome';
  /** sha-256 of the prediction's canonical input (null for outcomes). */
  inputKey: string | null;
};

/** Rows that count: in the headline metrics and the triggers. Quarantined and retracted rows do not. */
const COUNTS = sql`not quarantined and retracted_at is null`;

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
      insert into feedback (model, prediction_id, model_version_id, predicted, actual, correct, idempotency_key, kind,
                            source, end_user_id, input_key, quarantined, quarantine_reason, learned_at)
      select model, prediction_id, model_version_id, predicted, actual, correct, idempotency_key, kind,
             source, end_user_id, input_key, quarantined, quarantine_reason, case when quarantined then null else now() end from unnest(
        ${rows.map((r) => r.model)}::text[], ${rows.map((r) => r.predictionId)}::uuid[], ${rows.map((r) => r.modelVersionId)}::int[],
        ${rows.map((r) => r.predicted)}::text[], ${rows.map((r) => r.actual)}::text[], ${rows.map((r) => r.correct)}::bool[],
        ${rows.map((r) => r.idempotencyKey)}::text[], ${rows.map((r) => r.kind)}::text[], ${rows.map((r) => r.source)}::text[],
        ${rows.map((r) => r.endUserId)}::text[], ${rows.map((r) => r.inputKey)}::text[], ${rows.map((r) => r.quarantined)}::bool[],
        ${rows.map((r) => r.quarantineReason)}::text[]
      ) with ordinality as t(model, prediction_id, model_version_id, predicted, actual, correct, idempotency_key, kind,
                             source, end_user_id, input_key, quarantined, quarantine_reason, ord)
      order by ord
      on conflict do nothing
      returning *`.execute(this.db);
    // Match returned rows back to the batch by their unique keys (idempotency keys are per source).
    const scoped = (source: string, key: string) => `${source}\u0000${key}`;
    const byPrediction = new Map<string, DbFeedback>();
    const byKey = new Map<string, DbFeedback>();
    const outcomes: DbFeedback[] = [];
    for (const r of stored) {
      if (r.prediction_id) byPrediction.set(r.prediction_id, r);
      else if (r.idempotency_key === null) outcomes.push(r);
      if (r.idempotency_key) byKey.set(scoped(r.source, r.idempotency_key), r);
    }
    outcomes.sort((a, b) => Number(a.id) - Number(b.id));
    const results = rows.map((row) => {
      let match: DbFeedback | undefined;
      if (row.predictionId) match = byPrediction.get(row.predictionId);
      else if (row.idempotencyKey) match = byKey.get(scoped(row.source, row.idempotencyKey));
      else match = outcomes.shift();
      if (!match || match.idempotency_key !== row.idempotencyKey || match.actual !== row.actual) return null;
      if (row.predictionId) byPrediction.delete(row.predictionId);
      return fromDb(match);
    });
    return { results, inserted: stored.map(fromDb) };
  }

  /**
   * The stored feedback `row` conflicted with: same idempotency key of the same source first (keys
   * are scoped to their source, the principal: one client cannot block another's), else same prediction.
   */
  async findConflicting(row: NewFeedback): Promise<FeedbackRecord | null> {
    const { rows } = await sql<DbFeedback>`select * from feedback
      where (${row.idempotencyKey}::text is not null and source = ${row.source} and idempotency_key = ${row.idempotencyKey})
         or (${row.predictionId}::uuid is not null and prediction_id = ${row.predictionId})
      order by (source = ${row.source} and idempotency_key is not distinct from ${row.idempotencyKey}) desc limit 1`.execute(this.db);
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
    /** One source's feedback only (metrics by source); its quarantined rows are then counted too. */
    source: string | null = null,
  ): Promise<FeedbackCounts> {
    const version = modelVersionId === null ? sql`` : sql`and model_version_id = ${modelVersionId}`;
    const counting = source === null ? sql`and ${COUNTS}` : sql`and source = ${source} and retracted_at is null`;
    const since = window.lastSeconds ? sql`and created_at > now() - make_interval(secs => ${window.lastSeconds})` : sql``;
    const limit = window.lastFeedback ? sql`order by id desc limit ${window.lastFeedback}` : sql``;
    const { rows } = await sql<{ tp: string; tn: string; fp: string; fn: string; labelled: string; span_start: Date | null }>`
      with w as (select predicted, actual, prediction_id from feedback where model = ${model} ${counting} ${version} ${since} ${limit})
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
        select correct from feedback where model = ${model} and model_version_id = ${modelVersionId} and ${COUNTS}
        order by id desc limit ${size}) w`.execute(this.db);
    return { n: Number(rows[0]!.n), correct: Number(rows[0]!.correct) };
  }

  /** One page of the labelled feedback `cursor` does not cover (replays, catch-ups, datasets). */
  unseen(
    model: string,
    cursor: FeedbackCursor,
    page: { afterId: number; limit: number; exceptIds?: readonly number[]; withoutRetracted?: boolean },
  ): Promise<LabelledPage> {
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

  /** The sources that taught `model`, with how many rows each (quarantined ones apart), most first. */
  async sources(model: string, limit: number): Promise<{ source: string; feedback: number; quarantined: number }[]> {
    const { rows } = await sql<{ source: string; n: string; q: string }>`
      select source, count(*) filter (where ${COUNTS}) as n, count(*) filter (where quarantined and review is null and retracted_at is null) as q
      from feedback where model = ${model} group by source order by count(*) desc, source limit ${limit}`.execute(this.db);
    return rows.map((r) => ({ source: r.source, feedback: Number(r.n), quarantined: Number(r.q) }));
  }

  /** The review queue of `model`: quarantined, not reviewed, not retracted; oldest first. */
  async quarantined(model: string, limit: number): Promise<FeedbackRecord[]> {
    const { rows } = await sql<DbFeedback>`select * from feedback
      where model = ${model} and quarantined and review is null and retracted_at is null
      order by id limit ${limit}`.execute(this.db);
    return rows.map(fromDb);
  }

  /**
   * Decides queued rows (by id, or every queued row of `source`): `released` rows teach from now
   * on — their `xid` becomes this transaction's, so every process's learning cursor (and the next
   * dataset) meets them as newly committed rows and learns each exactly once; `rejected` rows stay
   * quarantined for good. Returns the rows decided.
   */
  async review(
    target: { ids: readonly number[] } | { model: string; source: string },
    decision: 'released' | 'rejected',
    actor: string,
  ): Promise<{ feedback: FeedbackRecord; version: number | null }[]> {
    const which = 'ids' in target ? sql`f.id = any(${target.ids}::bigint[])` : sql`f.model = ${target.model} and f.source = ${target.source}`;
    const release = decision === 'released' ? sql`, quarantined = false, xid = pg_current_xact_id(), learned_at = now()` : sql``;
    // With the number of the version that served each row's prediction: released rows count from
    // now on, in the same Prometheus series as feedback that passed the gate at once.
    const { rows } = await sql<DbFeedback & { served_version: number | null }>`
      update feedback f set review = ${decision}, reviewed_by = ${actor}, reviewed_at = now() ${release}
      where ${which} and f.quarantined and f.review is null and f.retracted_at is null
      returning f.*, (select mv.version from model_version mv where mv.id = f.model_version_id) as served_version`.execute(this.db);
    return rows.map((r) => ({ feedback: fromDb(r), version: r.served_version }));
  }

  /**
   * Retracts feedback (by ids, source and/or time range; at least one is given) in one transaction:
   * records the retraction, marks the rows, and gives the rows that taught a model this
   * transaction's id as `retracted_xid`, by which every process unlearns each exactly once
   * (learning-cursor.ts). Quarantined rows taught nothing: they are only marked.
   */
  async retract(
    criteria: { model: string | null; ids: readonly number[] | null; source: string | null; from: Date | null; to: Date | null },
    actor: string,
    reason: string,
  ): Promise<{ retractionId: number; rows: { id: number; model: string }[] }> {
    return this.db.transaction().execute(async (tx) => {
      const recorded = {
        model: criteria.model,
        ids: criteria.ids,
        source: criteria.source,
        from: criteria.from?.toISOString() ?? null,
        to: criteria.to?.toISOString() ?? null,
      };
      const { rows: created } = await sql<{ id: number }>`
        insert into feedback_retraction (model, actor, reason, criteria) values (${criteria.model}, ${actor}, ${reason}, ${JSON.stringify(recorded)}::jsonb)
        returning id`.execute(tx);
      const retractionId = created[0]!.id;
      const conditions = [
        criteria.model === null ? null : sql`model = ${criteria.model}`,
        criteria.ids === null ? null : sql`id = any(${criteria.ids}::bigint[])`,
        criteria.source === null ? null : sql`source = ${criteria.source}`,
        criteria.from === null ? null : sql`created_at >= ${criteria.from}`,
        criteria.to === null ? null : sql`created_at < ${criteria.to}`,
      ].filter((c) => c !== null);
      const { rows } = await sql<{ id: string; model: string }>`
        update feedback set retraction_id = ${retractionId}, retracted_at = now(),
          retracted_xid = case when quarantined then null else pg_current_xact_id() end
        where retracted_at is null and ${sql.join(conditions, sql` and `)}
        returning id, model`.execute(tx);
      await sql`update feedback_retraction set count = ${rows.length} where id = ${retractionId}`.execute(tx);
      return { retractionId, rows: rows.map((r) => ({ id: Number(r.id), model: r.model })) };
    });
  }

  /**
   * The feedback of `model` retracted as `snapshot` sees it (a new dataset leaves these out of its
   * parent's rows): the same snapshot its new rows were read through, so that a model trained on
   * the dataset unlearns by its retraction cursor exactly the retractions the dataset did not apply.
   */
  async retractedIn(model: string, snapshot: string): Promise<Set<number>> {
    const { rows } = await sql<{ id: string }>`
      select id from feedback where model = ${model} and retracted_xid is not null
        and pg_visible_in_snapshot(retracted_xid, ${snapshot}::pg_snapshot)`.execute(this.db);
    return new Set(rows.map((r) => Number(r.id)));
  }

  /** Unlearning's query: retractions `snapshot` does not cover (see learning-cursor.ts). */
  unseenRetractions(model: string, snapshot: string, page: { afterId: number; limit: number; exceptIds?: readonly number[] }) {
    return readUnseenRetractions(this.db, model, snapshot, page);
  }

  /** Labels of `source` against the model (not what it predicted) since `seconds` ago, quarantined or not: the burst detector's count. */
  async recentAgainst(model: string, source: string, seconds: number): Promise<number> {
    const { rows } = await sql<{ n: string }>`
      select count(*) as n from feedback
      where model = ${model} and source = ${source} and not correct and created_at > now() - make_interval(secs => ${seconds})`.execute(this.db);
    return Number(rows[0]!.n);
  }

  /**
   * How `source`'s labels compare with those of `trusted` sources on the same inputs: distinct
   * inputs where they agree and where they disagree. Only inputs a trusted source labelled count,
   * so agreeing with the model (which anyone can ask first) earns nothing by itself.
   */
  async agreementWithTrusted(model: string, source: string, trusted: readonly string[]): Promise<{ agree: number; disagree: number }> {
    if (trusted.length === 0) return { agree: 0, disagree: 0 };
    const { rows } = await sql<{ agree: string; disagree: string }>`
      with mine as (
        select distinct on (input_key) input_key, actual from feedback
        where model = ${model} and source = ${source} and input_key is not null and retracted_at is null
        order by input_key, id
      ), reference as (
        select distinct on (t.input_key) t.input_key, t.actual from feedback t join mine m on m.input_key = t.input_key
        where t.model = ${model} and t.source = any(${trusted}::text[]) and t.source <> ${source} and not t.quarantined and t.retracted_at is null
        order by t.input_key, t.id
      )
      select count(*) filter (where m.actual = r.actual) as agree, count(*) filter (where m.actual <> r.actual) as disagree
      from mine m join reference r on r.input_key = m.input_key`.execute(this.db);
    return { agree: Number(rows[0]!.agree), disagree: Number(rows[0]!.disagree) };
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
  end_user_id: string | null;
  quarantined: boolean;
  quarantine_reason: string | null;
  review: 'released' | 'rejected' | null;
  retracted_at: Date | null;
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
    source: r.source,
    endUserId: r.end_user_id,
    quarantined: r.quarantined,
    quarantineReason: r.quarantine_reason,
    review: r.review,
    retractedAt: r.retracted_at ? new Date(r.retracted_at) : null,
    createdAt: new Date(r.created_at),
    xid: String(r.xid),
  };
}

/** The feedback row and its mapping, for reads that join feedback to something else (the prediction list). */
export { fromDb as feedbackFromRow, type DbFeedback as FeedbackRow };
