import { sql, type Kysely } from 'kysely';
import { lockFor } from './advisory-lock.js';
import type { Orm } from './orm.js';

/** One partition of `prediction`: a time partition holds ids (UUIDv7) from `from` to `to`; the default one holds the rest. */
export interface PredictionPartition {
  name: string;
  /** Inclusive lower and exclusive upper id bound (null: the DEFAULT partition). */
  from: string | null;
  to: string | null;
  /** pg_total_relation_size: the table, its indexes and TOAST. */
  bytes: number;
}

export const DEFAULT_PARTITION = 'prediction_default';

/** The one lock partition changes take, in every process (creating, dropping, purging the default partition). */
const LOCK = 'relearn:partition:prediction' as const;

/**
 * SQL: feedback row `f` still needs its prediction's input (a stored prediction is the only place
 * the input of a feedback row lives; learning, replays and datasets read it through the join).
 * It does unless it was rejected in review, and
 *   - it waits in quarantine (a release would make it teach from that input), or
 *   - the newest dataset version of its model, or the model's LIVE version, has not considered it:
 *     the next dataset reads it, and a process loading the live version replays it (learning-cursor.ts:
 *     visible in the cursor's snapshot, or at most its id for cursors from before snapshots), or
 *   - it was retracted and the newest dataset has not seen the retraction yet (processes unlearn it
 *     from its input).
 * Models with no dataset or no live version yet need every row. Conservative on purpose: a row it
 * calls needed when it is not keeps a partition one more round; the reverse would lose data.
 */
const NEEDED = sql<boolean>`(
  f.review is distinct from 'rejected' and (
    (f.quarantined and f.review is null and f.retracted_at is null)
    or (not f.quarantined and not (
      coalesce(case when d.snapshot is not null then pg_visible_in_snapshot(f.xid, d.snapshot::pg_snapshot) else f.id <= d.through end, false)
      and coalesce(case when v.snapshot is not null then pg_visible_in_snapshot(f.xid, v.snapshot::pg_snapshot) else f.id <= v.through end, false)))
    or (f.retracted_xid is not null and not coalesce(pg_visible_in_snapshot(f.retracted_xid, d.snapshot::pg_snapshot), false))
  ))`;

/** The cursors NEEDED compares with: the newest dataset version's and the LIVE version's, per feedback row's model. */
const CURSORS = sql`
  left join lateral (
    select dv.manifest ->> 'feedbackSnapshot' as snapshot, coalesce((dv.manifest ->> 'feedbackThrough')::bigint, 0) as through
    from dataset_version dv where dv.model = f.model order by dv.version desc limit 1
  ) d on true
  left join lateral (
    select mv.trained_feedback_snapshot as snapshot, mv.trained_through_feedback_id as through
    from model_version mv where mv.model = f.model and mv.status = 'LIVE' order by mv.version desc limit 1
  ) v on true`;

/**
 * The SQL of `prediction`'s partitions (the partitioning itself is in the migration
 * Migration20261202060000_prediction_partitions). Every change runs under one advisory lock, so
 * processes starting together create each partition once and never race a drop.
 */
export class PartitionRepository {
  constructor(private readonly orm: Orm) {}

  private get db() {
    return this.orm.em.getKysely();
  }

  /** The partitions of `prediction` with their bounds and sizes. */
  async list(): Promise<PredictionPartition[]> {
    const { rows } = await sql<{ name: string; bound: string; bytes: string }>`
      select c.relname as name, pg_get_expr(c.relpartbound, c.oid) as bound, pg_total_relation_size(c.oid) as bytes
      from pg_inherits i join pg_class c on c.oid = i.inhrelid
      where i.inhparent = 'prediction'::regclass order by c.relname`.execute(this.db);
    return rows.map((r) => {
      const m = /FROM \('([0-9a-f-]{36})'\) TO \('([0-9a-f-]{36})'\)/i.exec(r.bound);
      return { name: r.name, from: m?.[1] ?? null, to: m?.[2] ?? null, bytes: Number(r.bytes) };
    });
  }

  /**
   * Creates the time partition `name` for ids from `from` to `to` (UUIDv7 bounds), unless it exists.
   * Rows the default partition already holds in that range (predictions made while no partition
   * covered their time, or one of the random v4 ids of before that happens to fall there) move
   * into it, with their feedback links: the move is a delete and an insert, so the links are saved
   * first and restored after (the foreign key's `on delete set null` clears them in between, all in
   * one transaction). Built as a plain table and attached, which locks the parent only against
   * schema changes (SHARE UPDATE EXCLUSIVE), not against inserts.
   * Returns whether it created the partition, and how many rows moved.
   */
  create(name: string, from: string, to: string): Promise<{ created: boolean; moved: number }> {
    return this.orm.em.fork().transactional(async (tx) => {
      await lockFor(tx, LOCK);
      const db = tx.getKysely();
      const { rows: exists } = await sql<{ r: string | null }>`select to_regclass(${name})::text as r`.execute(db);
      if (exists[0]?.r) return { created: false, moved: 0 };
      // How long this waits for a lock before giving up until the next round.
      await sql`set local lock_timeout = '5s'`.execute(db);
      // Attaching adds feedback's foreign-key triggers to the new partition, which locks feedback
      // (SHARE ROW EXCLUSIVE). Taken first: a feedback insert holds feedback and then reads
      // prediction's partitions (its key check, the rollup trigger), so taking the new partition
      // first and feedback second deadlocks with it. Feedback writes wait for this transaction.
      await sql`lock table feedback in share row exclusive mode`.execute(db);
      await sql`create table ${sql.id(name)} (like prediction including defaults)`.execute(db);
      const moved = Number(
        (await sql`insert into ${sql.id(name)} select * from ${sql.id(DEFAULT_PARTITION)} where id >= ${from}::uuid and id < ${to}::uuid`.execute(db))
          .numAffectedRows ?? 0,
      );
      if (moved > 0) {
        await sql`create temporary table partition_relink on commit drop as
          select id, prediction_id from feedback where prediction_id >= ${from}::uuid and prediction_id < ${to}::uuid`.execute(db);
        await sql`delete from ${sql.id(DEFAULT_PARTITION)} where id >= ${from}::uuid and id < ${to}::uuid`.execute(db);
      }
      await sql`alter table prediction attach partition ${sql.id(name)} for values from (${sql.lit(from)}) to (${sql.lit(to)})`.execute(db);
      if (moved > 0) await sql`update feedback f set prediction_id = r.prediction_id from partition_relink r where f.id = r.id`.execute(db);
      return { created: true, moved };
    });
  }

  /** How many feedback rows still need a prediction with an id from `from` to `to` (see NEEDED). */
  async neededFeedback(from: string, to: string): Promise<number> {
    return countNeeded(this.db, from, to);
  }

  /**
   * Drops the time partition `name` (ids `from`..`to`) unless feedback still needs one of its
   * predictions. Its feedback rows stay (metrics, audit, datasets by id) and lose their link, as
   * the foreign key's `on delete set null` would do: they are cleared first, since a partition
   * that is still referenced cannot be detached. Detaching takes an ACCESS EXCLUSIVE lock on
   * `prediction` for a moment; it waits at most `lockTimeoutMs` for it (inserts queue behind a
   * waiting detach) and otherwise gives up until the next round.
   */
  drop(
    name: string,
    from: string,
    to: string,
    lockTimeoutMs: number,
  ): Promise<{ dropped: true; bytes: number; rows: number; unlinkedFeedback: number } | { dropped: false; neededFeedback: number }> {
    return this.orm.em.fork().transactional(async (tx) => {
      await lockFor(tx, LOCK);
      const db = tx.getKysely();
      // Checked before the locks (cheap to give up here), and again under them (feedback may arrive meanwhile).
      const early = await countNeeded(db, from, to);
      if (early > 0) return { dropped: false as const, neededFeedback: early };
      // Exact, for the audit entry; outside the table locks (a count of a big partition takes a while).
      const { rows: size } = await sql<{ bytes: string; n: string }>`
        select pg_total_relation_size(${name}::regclass) as bytes, (select count(*) from ${sql.id(name)}) as n`.execute(db);
      await sql`select set_config('lock_timeout', ${`${Math.max(1, Math.round(lockTimeoutMs))}ms`}, true)`.execute(db);
      // feedback before prediction, as in create(): detaching drops feedback's key triggers on the partition.
      await sql`lock table feedback in share row exclusive mode`.execute(db);
      const needed = await countNeeded(db, from, to);
      if (needed > 0) return { dropped: false as const, neededFeedback: needed };
      const unlinked = await sql`update feedback set prediction_id = null where prediction_id >= ${from}::uuid and prediction_id < ${to}::uuid`.execute(db);
      await sql`alter table prediction detach partition ${sql.id(name)}`.execute(db);
      await sql`drop table ${sql.id(name)}`.execute(db);
      return { dropped: true as const, bytes: Number(size[0]!.bytes), rows: Number(size[0]!.n), unlinkedFeedback: Number(unlinked.numAffectedRows ?? 0) };
    });
  }

  /**
   * Deletes up to `limit` predictions of the default partition made before `before` that no
   * feedback needs (the default partition holds the ids of before partitioning, and is never
   * dropped whole: it is the safety net). Row by row, so the foreign key unlinks their feedback.
   */
  purgeDefault(before: Date, limit: number): Promise<number> {
    return this.orm.em.fork().transactional(async (tx) => {
      await lockFor(tx, LOCK);
      const db = tx.getKysely();
      const result = await sql`
        delete from ${sql.id(DEFAULT_PARTITION)} p where p.id in (
          select o.id from ${sql.id(DEFAULT_PARTITION)} o
          where o.created_at < ${before}
            and not exists (select 1 from feedback f ${CURSORS} where f.prediction_id = o.id and ${NEEDED})
          limit ${limit})`.execute(db);
      return Number(result.numAffectedRows ?? 0);
    });
  }
}

async function countNeeded(db: Kysely<any>, from: string, to: string): Promise<number> {
  const { rows } = await sql<{ n: string }>`
    select count(*) as n from feedback f ${CURSORS}
    where f.prediction_id >= ${from}::uuid and f.prediction_id < ${to}::uuid and ${NEEDED}`.execute(db);
  return Number(rows[0]!.n);
}
