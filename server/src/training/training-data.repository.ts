import { sql, type RawBuilder } from 'kysely';
import type { Orm } from '../database/orm.js';
import type { FeedbackCursor } from '../feedback/learning-cursor.js';

/** One page of labelled feedback as JSON Lines of `[id, label, input]`, built by PostgreSQL. */
export interface FeedbackPage {
  rows: number;
  /** The highest id in the page (the next page starts after it); null when the page is empty. */
  lastId: number | null;
  lines: string;
}

/**
 * The reads of a streamed dataset build. Feedback is read in keyset pages (id order), every page
 * pinned to one snapshot taken first (`pg_visible_in_snapshot`): the pages together are exactly
 * what one statement in that snapshot would have read, without a transaction or a cursor held
 * open, so it works alike on PostgreSQL, on PGlite and through a pooler in transaction mode. Each
 * page arrives as one string (PostgreSQL writes the JSON), so the serving thread parses nothing.
 */
export class TrainingDataRepository {
  constructor(private readonly orm: Orm) {}

  private get db() {
    return this.orm.em.getKysely();
  }

  async snapshot(): Promise<string> {
    const { rows } = await sql<{ snap: string }>`select pg_current_snapshot()::text as snap`.execute(this.db);
    return rows[0]!.snap;
  }

  /**
   * Labelled, unquarantined feedback on stored predictions that `cursor` does not cover and that
   * `snapshot` sees, not retracted as `snapshot` sees it (a retraction without an xid, of a row
   * quarantined then, counts at once, as `retracted_at is null` does), with ids above `afterId`.
   */
  async feedbackPage(model: string, cursor: FeedbackCursor, snapshot: string, afterId: number, limit: number): Promise<FeedbackPage> {
    const { rows } = await sql<{ n: number; last: string | null; lines: string | null }>`
      select count(*)::int as n, max(page.id)::text as last,
        string_agg(json_build_array(page.id, page.actual, p.input)::text, E'\n' order by page.id) as lines
      from (
        select f.id, f.actual, f.prediction_id from feedback f
        where f.model = ${model} and f.prediction_id is not null and f.id > ${afterId} and not f.quarantined
          and ${unseen(cursor)}
          and pg_visible_in_snapshot(f.xid, ${snapshot}::pg_snapshot)
          and (f.retracted_at is null or (f.retracted_xid is not null and not pg_visible_in_snapshot(f.retracted_xid, ${snapshot}::pg_snapshot)))
        order by f.id limit ${limit}
      ) page
      -- One index lookup per row. A join (or a bare lateral, which the planner flattens into one) hashes the whole
      -- prediction table for every page once its statistics say it is large: 16 s for 1M rows against 7 s like
      -- this. LIMIT keeps the subquery from being pulled up.
      left join lateral (select p.input from prediction p where p.id = page.prediction_id limit 1) p on true`.execute(this.db);
    const row = rows[0]!;
    return { rows: Number(row.n), lastId: row.last === null ? null : Number(row.last), lines: row.lines ?? '' };
  }
}

/** The learning cursor's "not yet seen" (as learning-cursor.ts reads it). */
function unseen(cursor: FeedbackCursor): RawBuilder<boolean> {
  if (cursor.kind === 'id') return sql<boolean>`f.id > ${cursor.throughId}`;
  return sql<boolean>`(f.xid >= pg_snapshot_xmin(${cursor.snapshot}::pg_snapshot)
    and not pg_visible_in_snapshot(f.xid, ${cursor.snapshot}::pg_snapshot))`;
}
