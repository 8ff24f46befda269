import { CompiledQuery, sql } from 'kysely';
import type { Orm } from '../database/orm.js';
import type { TaskInput } from '../tasks/task.js';
import type { ClassScore } from './prediction.entity.js';
import type { PredictionRecord } from './prediction.types.js';

const INSERT = `insert into prediction (id, model, model_version_id, input, label, probability, scores, latency_ms, created_at, feedback_requested, source)
  select * from unnest($1::uuid[], $2::text[], $3::int[], $4::jsonb[], $5::text[], $6::float8[], $7::jsonb[], $8::float8[], $9::timestamptz[], $10::bool[], $11::text[])`;
const INSERT_ASYNC_COMMIT = `${INSERT} where set_config('synchronous_commit', 'off', true) = 'off'`;

/** The eleven column arrays of INSERT, in one pass over the batch. */
function insertColumns(rows: readonly PredictionRecord[]): unknown[][] {
  const cols: unknown[][] = Array.from({ length: 11 }, () => new Array<unknown>(rows.length));
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i]!;
    cols[0]![i] = r.id;
    cols[1]![i] = r.model;
    cols[2]![i] = r.modelVersionId;
    cols[3]![i] = JSON.stringify(r.input);
    cols[4]![i] = r.label;
    cols[5]![i] = r.probability;
    cols[6]![i] = JSON.stringify(r.scores);
    cols[7]![i] = r.latencyMs;
    cols[8]![i] = r.createdAt.toISOString();
    cols[9]![i] = r.feedbackRequested ?? false;
    cols[10]![i] = r.source ?? null;
  }
  return cols;
}

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
    private readonly options: { asyncCommit: boolean; prepared?: boolean } = { asyncCommit: false },
  ) {}

  private get db() {
    return this.orm.em.getKysely();
  }

  /**
   * One INSERT for the whole batch: unnest keeps the statement text constant whatever the batch
   * size. With `asyncCommit`, the statement itself turns synchronous_commit off for its own
   * (implicit) transaction — `set_config(…, true)` is `SET LOCAL`, evaluated once as a constant
   * filter — so it stays one round trip instead of BEGIN, SET LOCAL, INSERT, COMMIT.
   *
   * With `prepared`, it is a named prepared statement on each pooled connection: PostgreSQL parses
   * and plans it once per connection instead of once per batch, which was half of the backend's
   * CPU for a batch of one (about 350 against 170 µs, a quarter at 16 rows: bench/README). Only on
   * a direct connection to a real PostgreSQL: a pooler in transaction mode (PgBouncer 1.18) hands
   * a named statement to whichever server connection is next, and the embedded database is one
   * backend under every wire connection, so their names would collide.
   */
  async insertMany(rows: readonly PredictionRecord[]): Promise<void> {
    const values = insertColumns(rows);
    const text = this.options.asyncCommit ? INSERT_ASYNC_COMMIT : INSERT;
    if (this.options.prepared) {
      const pool = await this.orm.em.getConnection().getNativeClient();
      await pool.query({ name: this.options.asyncCommit ? 'relearn_prediction_insert_async' : 'relearn_prediction_insert', text, values });
    } else await this.db.executeQuery(CompiledQuery.raw(text, values));
  }

  /** A stored prediction with the version number that served it; `id` must be a UUID. */
  async get(id: string): Promise<PredictionRecord | null> {
    return (await this.getMany([id]))[0]!;
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

  /**
   * Stored predictions with the version numbers that served them, in the order of `ids` (null
   * where there is none): one statement for a batch of lookups. Every `ids` entry must be a UUID.
   */
  async getMany(ids: readonly string[]): Promise<(PredictionRecord | null)[]> {
    const { rows } =
      await sql<PredictionRow>`select p.id, p.model, p.model_version_id, v.version, p.input, p.label, p.probability, p.scores, p.latency_ms, p.created_at, p.feedback_requested, p.source
       from prediction p join model_version v on v.id = p.model_version_id where p.id = any(${ids}::uuid[])`.execute(this.db);
    const byId = new Map(rows.map((r) => [r.id, r]));
    return ids.map((id) => {
      const r = byId.get(id);
      return r ? predictionFromRow(r) : null;
    });
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
