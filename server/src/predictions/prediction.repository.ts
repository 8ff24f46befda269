import { sql } from 'kysely';
import type { Orm } from '../database/orm.js';
import type { TaskInput } from '../tasks/task.js';
import type { ClassScore } from './prediction.entity.js';
import type { PredictionRecord } from './prediction.types.js';

/** The SQL of the `prediction` table. */
export class PredictionRepository {
  constructor(
    private readonly orm: Orm,
    /**
     * PREDICTION_COMMIT=async: each batch's transaction commits with synchronous_commit off (the
     * commit returns before its WAL is flushed; a crash of PostgreSQL itself can lose the last
     * ~0.2-0.6 s of acknowledged predictions, never corrupts, never feedback). Only these
     * transactions: everything else on the same connections stays synchronous.
     */
    private readonly options: { asyncCommit: boolean } = { asyncCommit: false },
  ) {}

  private get db() {
    return this.orm.em.getKysely();
  }

  /**
   * One INSERT for the whole batch: unnest keeps the statement text constant whatever the batch
   * size. With `asyncCommit`, the statement itself turns synchronous_commit off for its own
   * (implicit) transaction — `set_config(…, true)` is `SET LOCAL`, evaluated once as a constant
   * filter — so it stays one round trip instead of BEGIN, SET LOCAL, INSERT, COMMIT.
   */
  async insertMany(rows: readonly PredictionRecord[]): Promise<void> {
    const asyncCommit = this.options.asyncCommit ? sql`where set_config('synchronous_commit', 'off', true) = 'off'` : sql``;
    await sql`insert into prediction (id, model, model_version_id, input, label, probability, scores, latency_ms, created_at, feedback_requested, source)
      select * from unnest(
        ${rows.map((r) => r.id)}::uuid[], ${rows.map((r) => r.model)}::text[], ${rows.map((r) => r.modelVersionId)}::int[],
        ${rows.map((r) => JSON.stringify(r.input))}::jsonb[], ${rows.map((r) => r.label)}::text[],
        ${rows.map((r) => r.probability)}::float8[], ${rows.map((r) => JSON.stringify(r.scores))}::jsonb[],
        ${rows.map((r) => r.latencyMs)}::float8[], ${rows.map((r) => r.createdAt.toISOString())}::timestamptz[],
        ${rows.map((r) => r.feedbackRequested ?? false)}::bool[], ${rows.map((r) => r.source ?? null)}::text[]) ${asyncCommit}`.execute(this.db);
  }

  /** A stored prediction with the version number that served it; `id` must be a UUID. */
  async get(id: string): Promise<PredictionRecord | null> {
    const { rows } =
      await sql<PredictionRow>`select p.id, p.model, p.model_version_id, v.version, p.input, p.label, p.probability, p.scores, p.latency_ms, p.created_at, p.feedback_requested, p.source
       from prediction p join model_version v on v.id = p.model_version_id where p.id = ${id}`.execute(this.db);
    const r = rows[0];
    return r ? predictionFromRow(r) : null;
  }

  /** Predictions of `model` (optionally of one version) of the last `lastSeconds`, and/or made since `since`. */
  async count(model: string, filter: { modelVersionId: number | null; lastSeconds?: number | null; since?: Date | null }): Promise<number> {
    const version = filter.modelVersionId === null ? sql`` : sql`and model_version_id = ${filter.modelVersionId}`;
    const recent = filter.lastSeconds ? sql`and created_at > now() - make_interval(secs => ${filter.lastSeconds})` : sql``;
    const since = filter.since ? sql`and created_at >= ${filter.since}` : sql``;
    const { rows } = await sql<{ n: string }>`
      select count(*) as n from prediction where model = ${model} ${version} ${recent} ${since}`.execute(this.db);
    return Number(rows[0]!.n);
  }
}

/** A `prediction` row joined to its version's number, as selected by `get` (and the prediction list). */
export interface PredictionRow {
  id: string;
  model: string;
  model_version_id: number;
  version: number;
  input: TaskInput;
  label: string;
  probability: number;
  scores: ClassScore[];
  latency_ms: number;
  created_at: Date;
  feedback_requested: boolean;
  source: string | null;
}

export function predictionFromRow(r: PredictionRow): PredictionRecord {
  return {
    id: r.id,
    model: r.model,
    modelVersionId: r.model_version_id,
    version: r.version,
    input: r.input,
    label: r.label,
    probability: r.probability,
    scores: r.scores,
    latencyMs: r.latency_ms,
    createdAt: new Date(r.created_at),
    feedbackRequested: r.feedback_requested,
    source: r.source,
  };
}
