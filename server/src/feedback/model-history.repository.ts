import { sql, type RawBuilder } from 'kysely';
import type { Orm } from '../database/orm.js';
import type { IModelVersion } from '../models/model-version.entity.js';
import type { TaskInput } from '../tasks/task.js';

/** A version as time travel needs it: its artifact and which feedback its training data covered. */
export interface VersionAtRest {
  id: number;
  version: number;
  artifact: unknown;
  /** pg_snapshot text of the training data's feedback, or null (an id cursor: trainedThroughFeedbackId). */
  trainedSnapshot: string | null;
  trainedThroughFeedbackId: number;
  datasetVersion: number | null;
  datasetVersionId: number | null;
}

/** A version row (loaded with its artifact and dataset) as time travel reads it. */
export function versionAtRest(row: IModelVersion): VersionAtRest {
  return {
    id: row.id,
    version: row.version,
    artifact: row.artifact,
    trainedSnapshot: row.trainedFeedbackSnapshot ?? null,
    trainedThroughFeedbackId: row.trainedThroughFeedbackId,
    datasetVersion: row.datasetVersion?.version ?? null,
    datasetVersionId: row.datasetVersion?.id ?? null,
  };
}

/** A row that taught (or untaught) a model: what it said about which input. */
export interface TeachingRow {
  id: number;
  input: TaskInput;
  label: string;
}

/** Rows read per page when a past model is rebuilt. */
const PAGE_ROWS = 5000;

/**
 * The queries of time travel and lineage (model-history.ts): what a version had learned online,
 * and which of its training rows had been retracted, as of a time (the version itself comes from
 * models/model-version.repository.ts). A row teaches from its
 * `learned_at` (its commit, or its release from quarantine) until its `retracted_at`.
 */
export class ModelHistoryRepository {
  constructor(private readonly orm: Orm) {}

  private get db() {
    return this.orm.em.getKysely();
  }

  /** Feedback `version` had learned online at `asOf` and not unlearned by then, in id order, one page. */
  async learnedOnline(model: string, v: VersionAtRest, asOf: Date, afterId: number): Promise<TeachingRow[]> {
    const { rows } = await sql<{ id: string; actual: string; input: TaskInput }>`
      select f.id, f.actual, p.input from feedback f join prediction p on p.id = f.prediction_id
      where f.model = ${model} and f.id > ${afterId} and not f.quarantined and f.learned_at <= ${asOf}
        and (f.retracted_at is null or f.retracted_at > ${asOf}) and ${notTrained(v)}
      order by f.id limit ${PAGE_ROWS}`.execute(this.db);
    return rows.map((r) => ({ id: Number(r.id), input: r.input, label: r.actual }));
  }

  /** How many rows `learnedOnline` would give, and their id range (lineage, without the inputs). */
  async learnedOnlineRange(model: string, v: VersionAtRest, asOf: Date): Promise<{ count: number; fromId: number | null; toId: number | null }> {
    const { rows } = await sql<{ n: string; lo: string | null; hi: string | null }>`
      select count(*) as n, min(f.id) as lo, max(f.id) as hi from feedback f
      where f.model = ${model} and f.prediction_id is not null and not f.quarantined and f.learned_at <= ${asOf}
        and (f.retracted_at is null or f.retracted_at > ${asOf}) and ${notTrained(v)}`.execute(this.db);
    const r = rows[0]!;
    return { count: Number(r.n), fromId: r.lo === null ? null : Number(r.lo), toId: r.hi === null ? null : Number(r.hi) };
  }

  /** Rows of `version`'s training data retracted after it was trained and by `asOf` (unlearned by then), one page. */
  async unlearnedFromTraining(model: string, v: VersionAtRest, asOf: Date, afterId: number): Promise<TeachingRow[]> {
    if (v.trainedSnapshot === null) return [];
    const { rows } = await sql<{ id: string; actual: string; input: TaskInput }>`
      select f.id, f.actual, p.input from feedback f join prediction p on p.id = f.prediction_id
      where f.model = ${model} and f.id > ${afterId} and f.retracted_xid is not null and f.retracted_at <= ${asOf}
        and pg_visible_in_snapshot(f.xid, ${v.trainedSnapshot}::pg_snapshot)
        and not pg_visible_in_snapshot(f.retracted_xid, ${v.trainedSnapshot}::pg_snapshot)
      order by f.id limit ${PAGE_ROWS}`.execute(this.db);
    return rows.map((r) => ({ id: Number(r.id), input: r.input, label: r.actual }));
  }

  /** The feedback given on prediction `predictionId`, if any: when it began to teach (null: it never did) and when it was retracted. */
  async feedbackOn(predictionId: string): Promise<{ id: number; learnedAt: Date | null; retractedAt: Date | null; quarantined: boolean } | null> {
    const { rows } = await sql<{ id: string; learned_at: Date | null; retracted_at: Date | null; quarantined: boolean }>`
      select id, learned_at, retracted_at, quarantined from feedback where prediction_id = ${predictionId}`.execute(this.db);
    const r = rows[0];
    if (!r) return null;
    return {
      id: Number(r.id),
      learnedAt: r.learned_at ? new Date(r.learned_at) : null,
      retractedAt: r.retracted_at ? new Date(r.retracted_at) : null,
      quarantined: r.quarantined,
    };
  }

  static readonly pageRows = PAGE_ROWS;
}

/** SQL: feedback row `f` is not covered by version `v`'s training data (so it was learned online). */
function notTrained(v: VersionAtRest): RawBuilder<boolean> {
  if (v.trainedSnapshot === null) return sql<boolean>`f.id > ${v.trainedThroughFeedbackId}`;
  return sql<boolean>`(f.xid >= pg_snapshot_xmin(${v.trainedSnapshot}::pg_snapshot) and not pg_visible_in_snapshot(f.xid, ${v.trainedSnapshot}::pg_snapshot))`;
}
