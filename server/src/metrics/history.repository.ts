import { sql } from 'kysely';
import type { Orm } from '../database/orm.js';
import { CONFIDENCE_EDGES } from '../ml/estimation.js';

/** Feedback that counts, as in the headline metrics: quarantined and retracted rows do not. */
const COUNTED = sql`not f.quarantined and f.retracted_at is null`;

/** One stratum of one time bucket, with the confusion counts of its labelled predictions. */
export interface HistoryRow {
  bucket: number;
  versionId: number;
  label: string;
  confidenceBucket: number;
  requested: boolean;
  predictions: number;
  labelled: number;
  correct: number;
  tp: number;
  fp: number;
  fn: number;
  tn: number;
}

/** Something that happened to a model: a retrain, an activation, an alert. */
export interface HistoryMarker {
  kind: 'retrain' | 'activation' | 'alert';
  at: Date;
  version: number | null;
  message: string;
}

export type HistoryAxis = 'prediction' | 'feedback';

/**
 * The time-bucketed reads of metricsHistory. By prediction time (when the model answered) a
 * bucket holds the predictions made in it and whatever feedback they have by now; by feedback
 * time it holds the feedback given in it. Both are range scans of an index on (model, time):
 * prediction_model_created_at_covering carries every column the first one reads, so PostgreSQL
 * answers it from the index (index-only scan) and joins feedback by its unique prediction_id.
 * The markers read the other domains' tables here because history is one read model of them.
 */
export class HistoryRepository {
  constructor(private readonly orm: Orm) {}

  private get db() {
    return this.orm.em.getKysely();
  }

  async buckets(
    model: string,
    positive: string,
    range: { from: Date; to: Date; bucketSeconds: number; modelVersionId: number | null; axis: HistoryAxis },
  ): Promise<HistoryRow[]> {
    const edges = sql`${[...CONFIDENCE_EDGES]}::float8[]`;
    const version = range.modelVersionId === null ? sql`` : sql`and p.model_version_id = ${range.modelVersionId}`;
    const time = range.axis === 'prediction' ? sql`p.created_at` : sql`f.created_at`;
    const source =
      range.axis === 'prediction'
        ? sql`prediction p left join feedback f on f.prediction_id = p.id and ${COUNTED}
              where p.model = ${model} and p.created_at >= ${range.from} and p.created_at < ${range.to} ${version}`
        : sql`feedback f join prediction p on p.id = f.prediction_id
              where ${COUNTED} and f.model = ${model} and f.created_at >= ${range.from} and f.created_at < ${range.to} ${version}`;
    const { rows } = await sql<Record<string, string | number | boolean>>`
      select floor(extract(epoch from ${time} - ${range.from}::timestamptz) / ${range.bucketSeconds})::int as bucket,
             p.model_version_id as version_id, p.label, width_bucket(p.probability, ${edges}) as confidence_bucket,
             p.feedback_requested as requested, count(*) as predictions, count(f.id) as labelled,
             count(*) filter (where f.correct) as correct,
             count(*) filter (where f.predicted = ${positive} and f.actual = ${positive}) as tp,
             count(*) filter (where f.predicted = ${positive} and f.actual <> ${positive}) as fp,
             count(*) filter (where f.predicted <> ${positive} and f.actual = ${positive}) as fn,
             count(*) filter (where f.predicted <> ${positive} and f.actual <> ${positive}) as tn
      from ${source}
      group by 1, 2, 3, 4, 5`.execute(this.db);
    return rows.map((r) => ({
      bucket: Number(r.bucket),
      versionId: Number(r.version_id),
      label: String(r.label),
      confidenceBucket: Number(r.confidence_bucket),
      requested: Boolean(r.requested),
      predictions: Number(r.predictions),
      labelled: Number(r.labelled),
      correct: Number(r.correct),
      tp: Number(r.tp),
      fp: Number(r.fp),
      fn: Number(r.fn),
      tn: Number(r.tn),
    }));
  }

  /** Retrains finished, versions activated and alerts received in [from, to). */
  async markers(model: string, from: Date, to: Date): Promise<HistoryMarker[]> {
    const { rows } = await sql<{ kind: HistoryMarker['kind']; at: Date; version: number | null; message: string }>`
      select 'retrain' as kind, coalesce(j.finished_at, j.created_at) as at, j.version, j.state || coalesce(': ' || j.message, '') as message
        from retrain_job j where j.model = ${model} and coalesce(j.finished_at, j.created_at) >= ${from} and coalesce(j.finished_at, j.created_at) < ${to}
      union all
      select 'activation', a.created_at, v.version, a.actor || ': ' || a.reason
        from model_activation a join model_version v on v.id = a.model_version_id
        where a.model = ${model} and a.created_at >= ${from} and a.created_at < ${to}
      union all
      select 'alert', e.received_at, null, coalesce(e.alert_name, 'alert') || ' ' || e.status || ' (' || e.action || ')'
        from alert_event e where e.model = ${model} and e.received_at >= ${from} and e.received_at < ${to}
      order by 2`.execute(this.db);
    return rows.map((r) => ({ kind: r.kind, at: new Date(r.at), version: r.version === null ? null : Number(r.version), message: r.message }));
  }
}
