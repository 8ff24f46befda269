import { sql, type QueryExecutorProvider } from 'kysely';
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

/** An hour's estimated accuracy of its unlabelled predictions, as it was when the hour closed. */
export interface HourEstimate {
  hour: Date;
  unlabelled: number;
  estimated: number | null;
  lower: number | null;
  upper: number | null;
}

const HOUR_MS = 3_600_000;
/** Hours close for the rollup this long after they end: a prediction stamped at 10:59:59 may commit a little later. */
export const ROLLUP_LAG_MS = 5 * 60_000;
/** Hours rolled up per transaction when catching up (a first refresh over a year holds the lock a week at a time). */
const ROLLUP_CHUNK_HOURS = 24 * 7;
/** Hours written by one refresh past which the rollup's statistics are refreshed (ANALYZE). */
const ANALYZE_AFTER_HOURS = 500;
/** Dirty hours recomputed per transaction. */
const DIRTY_CHUNK = 500;
/** The advisory lock the feedback triggers share and a refresh takes alone (see the migration). */
const ROLLUP_LOCK = sql`hashtext('history_rollup')`;

const floorHour = (ms: number) => Math.floor(ms / HOUR_MS) * HOUR_MS;
const ceilHour = (ms: number) => Math.ceil(ms / HOUR_MS) * HOUR_MS;

/** Half-open time intervals [lo, hi) in ms, adjacent ones merged. */
type Intervals = [number, number][];
function pushInterval(list: Intervals, lo: number, hi: number) {
  if (hi <= lo) return;
  const last = list.at(-1);
  if (last && last[1] === lo) last[1] = hi;
  else list.push([lo, hi]);
}

/**
 * Which parts of each bucket of [from, to) the hourly rollup answers: the whole hours inside a
 * bucket that the rollup covers (before `through`); the rest (partial hours at bucket edges, and
 * the hours not rolled up yet) is read raw. An hour that straddles a bucket edge is never taken
 * from the rollup, so every rollup hour falls in exactly one bucket.
 */
export function splitRange(range: { from: Date; to: Date; bucketSeconds: number }, through: number): { rolled: Intervals; raw: Intervals } {
  const rolled: Intervals = [];
  const raw: Intervals = [];
  const from = range.from.getTime();
  const to = range.to.getTime();
  for (let s = from; s < to; s += range.bucketSeconds * 1000) {
    const e = Math.min(to, s + range.bucketSeconds * 1000);
    const lo = ceilHour(s);
    const hi = Math.min(floorHour(e), Math.max(lo, floorHour(through)));
    if (hi > lo) {
      pushInterval(raw, s, lo);
      pushInterval(rolled, lo, hi);
      pushInterval(raw, hi, e);
    } else pushInterval(raw, s, e);
  }
  return { rolled, raw };
}

const iso = (intervals: Intervals, i: 0 | 1) => intervals.map((x) => new Date(x[i]).toISOString());

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

  /** Every bucket from the raw tables (the only way by feedback time; by prediction time, what the rollup is checked against). */
  async buckets(
    model: string,
    positive: string,
    range: { from: Date; to: Date; bucketSeconds: number; modelVersionId: number | null; axis: HistoryAxis },
  ): Promise<HistoryRow[]> {
    return this.rawBuckets(model, positive, range, [[range.from.getTime(), range.to.getTime()]]);
  }

  /**
   * By prediction time from the hourly rollup where it covers whole hours of a bucket, and raw
   * elsewhere: the same rows as `buckets` (a test compares them), read from a few rows per hour.
   * Refresh first (`refreshRollup`) for late feedback to show.
   */
  async rolledBuckets(
    model: string,
    positive: string,
    range: { from: Date; to: Date; bucketSeconds: number; modelVersionId: number | null },
  ): Promise<HistoryRow[]> {
    const state = await this.rollupState(model);
    const usable = state && state.positive === positive ? state.through.getTime() : -Infinity;
    const { rolled, raw } = splitRange(range, usable);
    const rawRows = raw.length ? await this.rawBuckets(model, positive, { ...range, axis: 'prediction' }, raw) : [];
    if (!rolled.length) return rawRows;
    const version = range.modelVersionId === null ? sql`` : sql`and h.model_version_id = ${range.modelVersionId}`;
    const { rows } = await sql<Record<string, string | number | boolean>>`
      select floor(extract(epoch from h.hour - ${range.from}::timestamptz) / ${range.bucketSeconds})::int as bucket,
             h.model_version_id as version_id, h.label, h.confidence_bucket, h.requested,
             sum(h.predictions) as predictions, sum(h.labelled) as labelled, sum(h.correct) as correct,
             sum(h.tp) as tp, sum(h.fp) as fp, sum(h.fn) as fn, sum(h.tn) as tn
      from unnest(${iso(rolled, 0)}::timestamptz[], ${iso(rolled, 1)}::timestamptz[]) as r(lo, hi)
      cross join lateral (select * from history_rollup h where h.model = ${model} and h.hour >= r.lo and h.hour < r.hi ${version}) h
      group by 1, 2, 3, 4, 5`.execute(this.db);
    return [...rawRows, ...rows.map(historyRow)];
  }

  private async rollupState(model: string): Promise<{ through: Date; positive: string } | null> {
    const { rows } = await sql<{ through: Date; positive: string }>`select through, positive from history_rollup_state where model = ${model}`.execute(this.db);
    return rows[0] ? { through: new Date(rows[0].through), positive: rows[0].positive } : null;
  }

  /**
   * Brings the model's rollup up to date: rolls up the hours closed since the last refresh
   * (ROLLUP_LAG_MS after they end), a week per transaction, and recomputes the hours whose
   * feedback changed since (marked by the feedback triggers: late labels, retractions,
   * quarantine and its release). Each transaction holds the exclusive rollup lock, so feedback
   * writes wait for it (a chunk at most); returns the hours it wrote.
   */
  async refreshRollup(model: string, positive: string, now = Date.now(), options: { catchUpChunks?: number } = {}): Promise<number> {
    const target = floorHour(now - ROLLUP_LAG_MS);
    let written = 0;
    // Catch-up chunks this refresh may roll (default: all). Hours past the rollup are read raw, so
    // a bounded refresh is as right as a full one, only slower to read; dirty hours are always
    // recomputed in full, since the rollup below `through` must be current.
    let catchUp = options.catchUpChunks ?? Infinity;
    for (;;) {
      const step = await this.db.transaction().execute(async (tx) => {
        await sql`select pg_advisory_xact_lock(${ROLLUP_LOCK})`.execute(tx);
        const { rows: states } = await sql<{ through: Date; positive: string }>`
          select through, positive from history_rollup_state where model = ${model}`.execute(tx);
        let state = states[0] ? { through: new Date(states[0].through).getTime(), positive: states[0].positive } : null;
        if (state && state.positive !== positive) {
          // The task's positive label changed: the confusion counts are rebuilt from the start.
          await sql`delete from history_rollup where model = ${model}`.execute(tx);
          await sql`delete from history_rollup_dirty where model = ${model}`.execute(tx);
          await sql`delete from history_rollup_state where model = ${model}`.execute(tx);
          state = null;
        }
        if (!state) {
          const { rows } = await sql<{ first: Date | null }>`select min(created_at) as first from prediction where model = ${model}`.execute(tx);
          const first = rows[0]?.first ? floorHour(new Date(rows[0].first).getTime()) : target;
          state = { through: Math.min(first, target), positive };
          await sql`insert into history_rollup_state (model, through, positive) values (${model}, ${new Date(state.through)}, ${positive})`.execute(tx);
        }
        let hours = 0;
        const { rows: dirty } = await sql<{ hour: Date }>`
          select hour from history_rollup_dirty where model = ${model} order by hour limit ${DIRTY_CHUNK}`.execute(tx);
        if (dirty.length) {
          const hoursDirty = dirty.map((d) => new Date(d.hour).toISOString());
          await sql`delete from history_rollup where model = ${model} and hour = any(${hoursDirty}::timestamptz[])`.execute(tx);
          await this.rollUp(
            tx,
            model,
            positive,
            hoursDirty.map((h) => [new Date(h).getTime(), new Date(h).getTime() + HOUR_MS]),
          );
          await sql`delete from history_rollup_dirty where model = ${model} and hour = any(${hoursDirty}::timestamptz[])`.execute(tx);
          hours += dirty.length;
        }
        if (state.through < target && catchUp > 0) {
          catchUp--;
          const next = Math.min(target, state.through + ROLLUP_CHUNK_HOURS * HOUR_MS);
          await this.rollUp(tx, model, positive, [[state.through, next]]);
          await sql`update history_rollup_state set through = ${new Date(next)} where model = ${model}`.execute(tx);
          hours += (next - state.through) / HOUR_MS;
        }
        return hours;
      });
      written += step;
      if (step === 0) {
        // A large catch-up changes the table's size by orders of magnitude: without fresh statistics
        // the planner may scan it whole once per interval instead of reading each range by its key.
        if (written >= ANALYZE_AFTER_HOURS) await sql`analyze history_rollup`.execute(this.db);
        return written;
      }
    }
  }

  /** Inserts the rollup rows of the intervals (whole hours) from the raw tables, in one statement. */
  private async rollUp(tx: QueryExecutorProvider, model: string, positive: string, intervals: Intervals) {
    const edges = sql`${[...CONFIDENCE_EDGES]}::float8[]`;
    await sql`
      insert into history_rollup (model, hour, model_version_id, label, confidence_bucket, requested, predictions, labelled, correct, tp, fp, fn, tn)
      select ${model}, date_bin('1 hour', p.created_at, timestamptz 'epoch'), p.model_version_id, p.label, width_bucket(p.probability, ${edges}),
             p.feedback_requested, count(*), count(f.id), count(*) filter (where f.correct),
             count(*) filter (where f.predicted = ${positive} and f.actual = ${positive}),
             count(*) filter (where f.predicted = ${positive} and f.actual <> ${positive}),
             count(*) filter (where f.predicted <> ${positive} and f.actual = ${positive}),
             count(*) filter (where f.predicted <> ${positive} and f.actual <> ${positive})
      from unnest(${iso(intervals, 0)}::timestamptz[], ${iso(intervals, 1)}::timestamptz[]) as r(lo, hi)
      cross join lateral (select * from prediction p where p.model = ${model} and p.created_at >= r.lo and p.created_at < r.hi) p
      left join feedback f on f.prediction_id = p.id and ${COUNTED}
      group by 2, 3, 4, 5, 6`.execute(tx);
  }

  private async rawBuckets(
    model: string,
    positive: string,
    range: { from: Date; bucketSeconds: number; modelVersionId: number | null; axis: HistoryAxis },
    intervals: Intervals,
  ): Promise<HistoryRow[]> {
    const edges = sql`${[...CONFIDENCE_EDGES]}::float8[]`;
    const version = range.modelVersionId === null ? sql`` : sql`and p.model_version_id = ${range.modelVersionId}`;
    const time = range.axis === 'prediction' ? sql`p.created_at` : sql`f.created_at`;
    const ranges = sql`unnest(${iso(intervals, 0)}::timestamptz[], ${iso(intervals, 1)}::timestamptz[]) as r(lo, hi)`;
    // Lateral: one index range scan per interval (a plain join of many intervals may scan the model's every prediction).
    const source =
      range.axis === 'prediction'
        ? sql`${ranges} cross join lateral (select p.id, p.model_version_id, p.label, p.probability, p.feedback_requested, p.created_at from prediction p
                where p.model = ${model} and p.created_at >= r.lo and p.created_at < r.hi ${version}) p
              left join feedback f on f.prediction_id = p.id and ${COUNTED}`
        : sql`${ranges} cross join lateral (select * from feedback f where f.model = ${model} and f.created_at >= r.lo and f.created_at < r.hi and ${COUNTED}) f
              join prediction p on p.id = f.prediction_id ${version}`;
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
    return rows.map(historyRow);
  }

  /** Rolled-up hours since `since` that have no estimate stored yet (the ones that closed since the last look). */
  async unestimatedHours(model: string, since: Date): Promise<Date[]> {
    const { rows } = await sql<{ hour: Date }>`
      select distinct h.hour from history_rollup h join history_rollup_state s on s.model = h.model
      where h.model = ${model} and h.hour >= ${since} and h.hour < s.through
        and not exists (select 1 from history_estimate e where e.model = h.model and e.hour = h.hour)
      order by 1`.execute(this.db);
    return rows.map((r) => new Date(r.hour));
  }

  /** Stores each hour's estimate as it is now; an hour already estimated keeps its first one. */
  async saveEstimates(model: string, estimates: readonly HourEstimate[]): Promise<void> {
    if (!estimates.length) return;
    const col = <K extends keyof HourEstimate>(k: K) => estimates.map((e) => e[k]);
    await sql`
      insert into history_estimate (model, hour, unlabelled, estimated, lower, upper)
      select ${model}, * from unnest(${col('hour').map((d) => d.toISOString())}::timestamptz[], ${col('unlabelled')}::int[],
                                     ${col('estimated')}::float8[], ${col('lower')}::float8[], ${col('upper')}::float8[])
      on conflict do nothing`.execute(this.db);
  }

  /** The stored estimates of the hours in [from, to). */
  async estimates(model: string, from: Date, to: Date): Promise<(HourEstimate & { madeAt: Date })[]> {
    const { rows } = await sql<{ hour: Date; made_at: Date; unlabelled: number; estimated: number | null; lower: number | null; upper: number | null }>`
      select hour, made_at, unlabelled, estimated, lower, upper from history_estimate
      where model = ${model} and hour >= ${from} and hour < ${to} order by hour`.execute(this.db);
    return rows.map((r) => ({
      hour: new Date(r.hour),
      madeAt: new Date(r.made_at),
      unlabelled: Number(r.unlabelled),
      estimated: r.estimated === null ? null : Number(r.estimated),
      lower: r.lower === null ? null : Number(r.lower),
      upper: r.upper === null ? null : Number(r.upper),
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

function historyRow(r: Record<string, string | number | boolean>): HistoryRow {
  return {
    bucket: Number(r.bucket),
    versionId: Number(r.version_id),
    label: String(r.label),
    confidenceBucket: Number(r.confidence_bucket),
    requested: r.requested === true || r.requested === 't' || r.requested === 'true',
    predictions: Number(r.predictions),
    labelled: Number(r.labelled),
    correct: Number(r.correct),
    tp: Number(r.tp),
    fp: Number(r.fp),
    fn: Number(r.fn),
    tn: Number(r.tn),
  };
}
