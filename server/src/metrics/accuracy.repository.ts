import { sql } from 'kysely';
import type { Orm } from '../database/orm.js';
import { CONFIDENCE_EDGES, RELIABILITY_BINS } from '../ml/estimation.js';

/** Feedback that counts, as in the headline metrics: quarantined and retracted rows do not. */
const COUNTED = sql`not f.quarantined and f.retracted_at is null`;

/** Predictions of one (version, predicted label, confidence bucket, audit flag): made, labelled, right. */
export interface StratumRow {
  versionId: number;
  label: string;
  bucket: number;
  requested: boolean;
  predictions: number;
  labelled: number;
  correct: number;
}

/** Which predictions: of a model, optionally of one version, made in the last N seconds and/or since a time. */
export interface PredictionFilter {
  modelVersionId: number | null;
  lastSeconds?: number | null;
  since?: Date | null;
}

/** Labels calibration learns from at most (the newest). */
export const CALIBRATION_LABELS = 20_000;

/** Quantiles of the label delay reported. */
export const LABEL_DELAY_QUANTILES = [0.5, 0.9, 0.99] as const;
/** Upper edges (seconds) of the prediction-age buckets: a minute, 10 minutes, an hour, a day, a week, 30 days. */
export const LABEL_AGE_EDGES = [60, 600, 3600, 86_400, 604_800, 2_592_000] as const;

const edges = sql`${[...CONFIDENCE_EDGES]}::float8[]`;

/**
 * The aggregates behind the honest accuracy figures: predictions joined with their feedback
 * (feedback.prediction_id is unique, so each prediction has at most one), grouped by what was
 * known when the model answered. Few groups per model (versions × labels × 8 buckets × 2).
 */
export class AccuracyRepository {
  constructor(private readonly orm: Orm) {}

  private get db() {
    return this.orm.em.getKysely();
  }

  /** The strata of the predictions a window covers (by prediction time), with what their feedback says. */
  async windowStrata(model: string, filter: PredictionFilter): Promise<StratumRow[]> {
    const version = filter.modelVersionId === null ? sql`` : sql`and p.model_version_id = ${filter.modelVersionId}`;
    const recent = filter.lastSeconds ? sql`and p.created_at > now() - make_interval(secs => ${filter.lastSeconds})` : sql``;
    const since = filter.since ? sql`and p.created_at >= ${filter.since}` : sql``;
    const { rows } = await sql<DbStratum>`
      select p.model_version_id as version_id, p.label, width_bucket(p.probability, ${edges}) as bucket,
             p.feedback_requested as requested, count(*) as predictions, count(f.id) as labelled,
             count(*) filter (where f.correct) as correct
      from prediction p left join feedback f on f.prediction_id = p.id and ${COUNTED}
      where p.model = ${model} ${version} ${recent} ${since}
      group by 1, 2, 3, 4`.execute(this.db);
    return rows.map(fromDb);
  }

  /**
   * The most recent CALIBRATION_LABELS labelled predictions of the given versions, by stratum:
   * what calibration learns from. Bounded, so its cost does not grow with a version's age (the
   * newest labels, found backwards along the (model, id) index, are also the most relevant).
   */
  async calibrationStrata(model: string, versionIds: readonly number[]): Promise<StratumRow[]> {
    if (versionIds.length === 0) return [];
    const { rows } = await sql<DbStratum>`
      with recent as (
        select f.prediction_id, f.correct from feedback f
        where ${COUNTED} and f.model = ${model} and f.model_version_id = any(${[...versionIds]}::int[]) and f.prediction_id is not null
        order by f.id desc limit ${CALIBRATION_LABELS})
      select p.model_version_id as version_id, p.label, width_bucket(p.probability, ${edges}) as bucket,
             p.feedback_requested as requested, count(*) as predictions, count(*) as labelled,
             count(*) filter (where r.correct) as correct
      from recent r join prediction p on p.id = r.prediction_id
      group by 1, 2, 3, 4`.execute(this.db);
    return rows.map(fromDb);
  }

  /** Seconds from prediction to feedback over the labelled predictions (of a version): quantiles and mean. */
  async labelDelay(model: string, versionId: number | null): Promise<{ count: number; mean: number | null; quantiles: (number | null)[] }> {
    const version = versionId === null ? sql`` : sql`and f.model_version_id = ${versionId}`;
    const { rows } = await sql<{ n: string; mean: number | null; q: (number | null)[] | null }>`
      select count(*) as n, avg(extract(epoch from f.created_at - p.created_at))::float8 as mean,
             percentile_cont(${[...LABEL_DELAY_QUANTILES]}::float8[]) within group (order by extract(epoch from f.created_at - p.created_at)) as q
      from feedback f join prediction p on p.id = f.prediction_id
      where ${COUNTED} and f.model = ${model} ${version}`.execute(this.db);
    const r = rows[0]!;
    return {
      count: Number(r.n),
      mean: r.mean === null ? null : Number(r.mean),
      quantiles: (r.q ?? LABEL_DELAY_QUANTILES.map(() => null)).map((x) => (x === null ? null : Number(x))),
    };
  }

  /** Predictions of the last LABEL_AGE_EDGES' span by age (now − prediction time): how many, how many labelled so far. */
  async labelledByAge(model: string, versionId: number | null): Promise<{ bucket: number; predictions: number; labelled: number }[]> {
    const version = versionId === null ? sql`` : sql`and p.model_version_id = ${versionId}`;
    const oldest = LABEL_AGE_EDGES.at(-1)!;
    const { rows } = await sql<{ bucket: number; n: string; labelled: string }>`
      select width_bucket(extract(epoch from now() - p.created_at)::float8, ${[...LABEL_AGE_EDGES]}::float8[]) as bucket, count(*) as n, count(f.id) as labelled
      from prediction p left join feedback f on f.prediction_id = p.id and ${COUNTED}
      where p.model = ${model} and p.created_at > now() - make_interval(secs => ${oldest}) ${version}
      group by 1`.execute(this.db);
    return rows.map((r) => ({ bucket: Number(r.bucket), predictions: Number(r.n), labelled: Number(r.labelled) }));
  }

  /** Reliability bins (equal width over [0, 1]) of one version's labelled predictions. */
  async reliabilityBins(
    model: string,
    versionId: number,
    auditedOnly: boolean,
  ): Promise<{ bin: number; count: number; confidenceSum: number; correct: number }[]> {
    const audited = auditedOnly ? sql`and p.feedback_requested` : sql``;
    const { rows } = await sql<{ bin: number; n: string; confidence_sum: number; correct: string }>`
      select least(floor(p.probability * ${RELIABILITY_BINS}), ${RELIABILITY_BINS - 1})::int as bin, count(*) as n,
             sum(p.probability) as confidence_sum, count(*) filter (where f.correct) as correct
      from feedback f join prediction p on p.id = f.prediction_id
      where ${COUNTED} and f.model = ${model} and f.model_version_id = ${versionId} ${audited}
      group by 1`.execute(this.db);
    return rows.map((r) => ({ bin: Number(r.bin), count: Number(r.n), confidenceSum: Number(r.confidence_sum), correct: Number(r.correct) }));
  }
}

interface DbStratum {
  version_id: number;
  label: string;
  bucket: number;
  requested: boolean;
  predictions: string;
  labelled: string;
  correct: string;
}

function fromDb(r: DbStratum): StratumRow {
  return {
    versionId: Number(r.version_id),
    label: r.label,
    bucket: Number(r.bucket),
    requested: r.requested,
    predictions: Number(r.predictions),
    labelled: Number(r.labelled),
    correct: Number(r.correct),
  };
}
