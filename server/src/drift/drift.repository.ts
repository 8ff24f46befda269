import { sql } from 'kysely';
import type { Orm } from '../database/orm.js';
import type { DriftRow } from './drift-report.js';

/** A sampled input with the version that served it. */
export interface ServedDriftRow extends DriftRow {
  versionId: number;
}

/** The recent inputs drift compares with the training data: the newest predictions of one version. */
export class DriftRepository {
  constructor(private readonly orm: Orm) {}

  /** At most `limit` of the newest predictions of a version (of the last `lastSeconds`, when given), newest first. */
  async recentInputs(model: string, modelVersionId: number, window: { limit: number; lastSeconds?: number | null }): Promise<DriftRow[]> {
    const recent = window.lastSeconds ? sql`and created_at > now() - make_interval(secs => ${window.lastSeconds})` : sql``;
    const { rows } = await sql<{ input: Record<string, unknown>; label: string }>`
      select input, label from prediction where model = ${model} and model_version_id = ${modelVersionId} ${recent}
      order by created_at desc limit ${window.limit}`.execute(this.orm.em.getKysely());
    return rows;
  }

  /**
   * A sample of the predictions made in [from, to), at most `perSlot` from each of the slots
   * `slots` cuts it into (the first of each slot by time): a spread over the bucket at the cost of
   * `slots` short range reads of the (model, created_at) index, however many predictions it holds.
   */
  async sampleInputs(model: string, range: { from: Date; to: Date; slots: number; perSlot: number; modelVersionId: number | null }): Promise<ServedDriftRow[]> {
    const span = range.to.getTime() - range.from.getTime();
    const starts: string[] = [];
    const ends: string[] = [];
    for (let i = 0; i < range.slots; i++) {
      starts.push(new Date(range.from.getTime() + Math.floor((i * span) / range.slots)).toISOString());
      ends.push(new Date(range.from.getTime() + Math.floor(((i + 1) * span) / range.slots)).toISOString());
    }
    const version = range.modelVersionId === null ? sql`` : sql`and p.model_version_id = ${range.modelVersionId}`;
    const { rows } = await sql<{ input: Record<string, unknown>; label: string; version_id: number }>`
      select s.input, s.label, s.model_version_id as version_id
      from unnest(${starts}::timestamptz[], ${ends}::timestamptz[]) as slot(lo, hi)
      cross join lateral (
        select p.input, p.label, p.model_version_id from prediction p
        where p.model = ${model} and p.created_at >= slot.lo and p.created_at < slot.hi ${version}
        order by p.created_at limit ${range.perSlot}) s`.execute(this.orm.em.getKysely());
    return rows.map((r) => ({ input: r.input, label: r.label, versionId: Number(r.version_id) }));
  }
}
