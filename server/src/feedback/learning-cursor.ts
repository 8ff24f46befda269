import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { TaskInput } from '../tasks/task.js';

/**
 * Which committed feedback a model has already seen (in its training data or learned online).
 *
 * Feedback ids come from a sequence, and rows do not commit in id order (two group commits in
 * flight, several API processes): "every id up to N" can skip a row with a lower id that commits
 * later. So the cursor is a PostgreSQL snapshot instead: each feedback row records the
 * transaction that wrote it (`xid`, a 64-bit xid8 that never wraps), and a reader that saw the
 * table through snapshot S has seen exactly the rows whose transaction is visible in S. "Not yet
 * seen" is then `not pg_visible_in_snapshot(xid, S)`: a row committing late is still not
 * visible in S, so it is read next time, whatever its id. Rows of transactions below S's xmin
 * are visible in S by definition, which bounds the scan (`xid >= xmin(S)`, indexed).
 *
 * Versions trained before snapshots were recorded carry an id cursor (`kind: 'id'`); the first
 * catch-up after them moves to a snapshot.
 */
export type FeedbackCursor = { kind: 'snapshot'; snapshot: string } | { kind: 'id'; throughId: number };

/** A parsed `pg_snapshot` (`xmin:xmax:xip,…`), to decide visibility without a round trip. */
export interface Snapshot {
  xmin: bigint;
  xmax: bigint;
  inProgress: Set<bigint>;
}

export function parseSnapshot(text: string): Snapshot {
  const [xmin, xmax, xip] = text.split(':');
  if (xmin === undefined || xmax === undefined || xip === undefined) throw new Error(`not a pg_snapshot: ${text}`);
  return { xmin: BigInt(xmin), xmax: BigInt(xmax), inProgress: new Set(xip ? xip.split(',').map((x) => BigInt(x)) : []) };
}

/** PostgreSQL's rule (pg_visible_in_snapshot) for a committed transaction `xid`. */
export function visibleIn(snapshot: Snapshot, xid: bigint): boolean {
  if (xid < snapshot.xmin) return true;
  if (xid >= snapshot.xmax) return false;
  return !snapshot.inProgress.has(xid);
}

/** Whether the feedback row written by `xid` (with `id`) is already covered by `cursor`. */
export function seenBy(cursor: FeedbackCursor, row: { id: number; xid: bigint }, parsed?: Snapshot): boolean {
  if (cursor.kind === 'id') return row.id <= cursor.throughId;
  return visibleIn(parsed ?? parseSnapshot(cursor.snapshot), row.xid);
}

/** SQL: feedback row `f` is not covered by `cursor`. */
function unseen(cursor: FeedbackCursor): RawBuilder<boolean> {
  if (cursor.kind === 'id') return sql<boolean>`f.id > ${cursor.throughId}`;
  return sql<boolean>`(f.xid >= pg_snapshot_xmin(${cursor.snapshot}::pg_snapshot)
    and not pg_visible_in_snapshot(f.xid, ${cursor.snapshot}::pg_snapshot))`;
}

/**
 * The retraction cursor that sees none: versions with an id cursor predate retractions, so every
 * retraction is new to them (xmin 1: no transaction is visible).
 */
export const NO_RETRACTIONS_SEEN = '1:1:';

export interface UnseenRetraction extends LabelledFeedback {
  /** The retracting transaction (feedback.retracted_xid). */
  retractedXid: bigint;
}

/**
 * Retractions work like feedback, in reverse: a retracted row records the transaction that
 * retracted it (`retracted_xid`), and a live model has applied exactly the retractions visible in
 * its retraction snapshot plus those it applied beyond it. One page of those it has not, in id
 * order, with what the row taught (input and label) and `xid` (when it began to teach), so the
 * caller can tell whether its model learned it.
 */
export async function readUnseenRetractions(
  db: Kysely<any>,
  model: string,
  snapshot: string,
  page: { afterId: number; limit: number; exceptIds?: readonly number[] },
): Promise<{ rows: UnseenRetraction[]; snapshot: string }> {
  const read = await readFeedbackPage(
    db,
    model,
    page,
    sql`f.retracted_xid is not null and f.retracted_xid >= pg_snapshot_xmin(${snapshot}::pg_snapshot)
      and not pg_visible_in_snapshot(f.retracted_xid, ${snapshot}::pg_snapshot)`,
  );
  return { snapshot: read.snapshot, rows: read.rows.map((r) => ({ ...labelled(r), retractedXid: BigInt(r.rxid!) })) };
}

export interface LabelledFeedback {
  id: number;
  xid: bigint;
  input: TaskInput;
  label: string;
}

export interface LabelledPage {
  rows: LabelledFeedback[];
  /** The snapshot the page was read through: every row committed in it and not covered by the cursor has an id in this page or a later one. */
  snapshot: string;
}

/**
 * The one query online learning, replay and datasets use: feedback on stored predictions not
 * covered by `cursor`, in id order, one page at a time (so a replay's memory is bounded by the
 * page, not by how much feedback there is).
 */
export async function readUnseenFeedback(
  db: Kysely<any>,
  model: string,
  cursor: FeedbackCursor,
  page: { afterId: number; limit: number; exceptIds?: readonly number[]; withoutRetracted?: boolean },
): Promise<LabelledPage> {
  // Live models learn retracted rows too and unlearn them by their retraction (readUnseenRetractions):
  // skipping them here could not tell "never learned" from "learned, not yet unlearned". Datasets skip them.
  const retracted = page.withoutRetracted ? sql`and f.retracted_at is null` : sql``;
  const read = await readFeedbackPage(db, model, page, sql`not f.quarantined and ${unseen(cursor)} ${retracted}`);
  return { snapshot: read.snapshot, rows: read.rows.map(labelled) };
}

interface FeedbackPageRow {
  id: string;
  xid: string;
  rxid: string | null;
  actual: string;
  input: TaskInput;
}

function labelled(r: FeedbackPageRow): LabelledFeedback {
  return { id: Number(r.id), xid: BigInt(r.xid), input: r.input, label: r.actual };
}

/**
 * One page, in id order, of `model`'s feedback on stored predictions that matches `where`, with
 * each row's input, read together with the current snapshot in one statement: every row that
 * matches and committed in that snapshot has an id in this page or a later one. The lateral join
 * keeps the snapshot's row when no feedback matches.
 */
async function readFeedbackPage(
  db: Kysely<any>,
  model: string,
  page: { afterId: number; limit: number; exceptIds?: readonly number[] },
  where: RawBuilder<unknown>,
): Promise<{ rows: FeedbackPageRow[]; snapshot: string }> {
  // Rows the caller already learned past the cursor are not read again (their inputs may be large).
  const except = page.exceptIds?.length ? sql`and not (f.id = any(${page.exceptIds}::bigint[]))` : sql``;
  const { rows } = await sql<{ id: string | null; xid: string; rxid: string | null; actual: string; input: TaskInput; snap: string }>`
    with s as (select pg_current_snapshot()::text as snap)
    select f.id, f.xid::text as xid, f.retracted_xid::text as rxid, f.actual, p.input, s.snap
    from s left join lateral (
      select f.id, f.xid, f.retracted_xid, f.actual, f.prediction_id from feedback f
      where f.model = ${model} and f.prediction_id is not null and f.id > ${page.afterId} and ${where} ${except}
      order by f.id limit ${page.limit}
    ) f on true
    left join prediction p on p.id = f.prediction_id
    order by f.id`.execute(db);
  const snapshot = rows[0]?.snap;
  if (snapshot === undefined) throw new Error('the snapshot query returned no row');
  return { snapshot, rows: rows.filter((r): r is typeof r & { id: string } => r.id !== null) };
}

/** How many labelled feedback rows of `model` `cursor` does not cover (the retrain trigger's count). */
export async function countUnseenFeedback(db: Kysely<any>, model: string, cursor: FeedbackCursor): Promise<number> {
  const { rows } = await sql<{ n: string }>`
    select count(*) as n from feedback f
    where f.model = ${model} and f.prediction_id is not null and not f.quarantined and f.retracted_at is null and ${unseen(cursor)}`.execute(db);
  return Number(rows[0]!.n);
}

/** The cursor a model version or dataset was stored with. */
export function cursorOf(stored: { snapshot: string | null | undefined; throughId: number }): FeedbackCursor {
  return stored.snapshot ? { kind: 'snapshot', snapshot: stored.snapshot } : { kind: 'id', throughId: stored.throughId };
}
